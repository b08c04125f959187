flops --model flux --height 512 --width 512
