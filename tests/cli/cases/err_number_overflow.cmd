flops --model flux-dev --height 99999999999999999999999 --width 512
