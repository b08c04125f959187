bench --arch $DATA/sana-arch-only.json --height 512 --width 512 --steps 20 --cfg --dry-run
