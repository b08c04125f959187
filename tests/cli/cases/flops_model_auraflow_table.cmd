flops --model auraflow --height 1024 --width 1024 --steps 28 --cfg
