bench --model qwen-image --height 256 --width 512 --steps 10 --dtype fp16 --dry-run --format json
