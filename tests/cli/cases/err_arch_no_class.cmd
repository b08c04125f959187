flops --arch tests/data/bad/arch-no-class.json --height 512 --width 512 --convention exact
