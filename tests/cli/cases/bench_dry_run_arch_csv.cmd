bench --arch data/models/sd35-large.json --height 768 --width 1344 --steps 28 --cfg --batch 4 --dtype tf32 --dry-run --format csv
