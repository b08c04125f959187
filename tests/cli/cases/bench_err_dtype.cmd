bench --model sd35-large --height 1024 --width 1024 --dtype fp8 --dry-run
