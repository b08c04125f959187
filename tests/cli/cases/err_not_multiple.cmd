flops --model flux-dev --height 520 --width 512
