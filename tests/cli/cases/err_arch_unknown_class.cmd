flops --arch tests/data/bad/arch-unknown-class.json --height 512 --width 512 --convention exact
