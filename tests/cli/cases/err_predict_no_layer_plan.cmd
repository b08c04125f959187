predict --arch tests/data/terms-only.json --height 512 --width 512
