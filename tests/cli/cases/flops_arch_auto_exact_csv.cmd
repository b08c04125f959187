flops --arch tests/data/sana-arch-only.json --height 1024 --width 1024 --format csv
