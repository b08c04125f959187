predict --law tests/data/law-flux.json --model flux-dev --height 1024 --width 1024 --rate 5
