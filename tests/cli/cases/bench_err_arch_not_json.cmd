bench --arch tests/data/bad/not-json.json --height 512 --width 512 --dry-run
