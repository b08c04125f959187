flops --arch tests/data/bad/wrong-type.json --height 512 --width 512
