flops --model flux-dev --height
