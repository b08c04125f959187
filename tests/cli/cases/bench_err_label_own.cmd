bench --model sd2 --height 256 --width 256 --label gpu=A100 --dry-run
