bench --model sd2 --height 512 --width 512 --dry-run extra
