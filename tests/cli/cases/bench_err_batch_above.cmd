bench --model sd35-large --height 512 --width 512 --batch 2000000 --dry-run
