flops --arch tests/data/bad/nope.json --height 512 --width 512
