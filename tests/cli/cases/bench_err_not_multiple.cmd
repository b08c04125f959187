bench --model sd2 --height 500 --width 512 --dry-run
