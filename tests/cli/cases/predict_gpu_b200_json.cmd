predict --model flux-dev --height 1024 --width 1024 --steps 50 --gpu B200 --dtype bf16 --format json
