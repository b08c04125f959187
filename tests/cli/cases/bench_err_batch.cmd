bench --model sd35-large --height 512 --width 512 --batch 0 --dry-run
