predict --law tests/data/bad/unknown-key.json --model sd2 --height 512 --width 512
