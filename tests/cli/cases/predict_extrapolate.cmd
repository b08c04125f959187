predict --law tests/data/law-flux.json --model flux-dev --height 2048 --width 2048 --steps 100 --grid 100
