predict --law tests/data/law-flux.json --model flux-dev --height 768 --width 768 --steps 30 --cfg --prompts 4 --zone DE --pue 1.2 --price 0.3 --format json
