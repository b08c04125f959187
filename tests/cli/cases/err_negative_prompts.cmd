flops --model flux-dev --height 512 --width 512 --prompts -3
