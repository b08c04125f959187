bench --model sd2 --height 512 --width 512 --warmup -1 --dry-run
