flops --arch tests/data/bad/arch-bad-field.json --height 512 --width 512 --convention paper
