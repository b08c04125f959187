bench --model sd2 --height 256 --width 256 --label node=n1 --label node=n2 --dry-run
