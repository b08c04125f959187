predict --model flux-dev --height 1024 --width 1024 --gpus 4 --gpu H100 --dtype bf16 --format json
