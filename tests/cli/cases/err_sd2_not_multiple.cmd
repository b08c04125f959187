flops --model sd2 --height 512 --width 544
