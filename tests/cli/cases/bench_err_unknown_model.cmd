bench --model nope --height 512 --width 512 --dry-run
