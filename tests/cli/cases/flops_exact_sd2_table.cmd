flops --model sd2 --height 768 --width 768 --convention exact
