flops --arch tests/data/bad/unknown-key.json --height 512 --width 512
