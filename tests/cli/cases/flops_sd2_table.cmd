flops --model sd2 --height 512 --width 768 --steps 25 --cfg
