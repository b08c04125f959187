predict --law tests/data/law-flux.json --form paper --model flux-dev --height 512 --width 512
