flops --arch tests/data/bad/missing-key.json --height 512 --width 512
