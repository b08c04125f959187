flops --model flux-dev --height 1e3 --width 512
