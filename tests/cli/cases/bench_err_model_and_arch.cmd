bench --model sd35-large --arch $DATA/none.json --height 512 --width 512 --dry-run
