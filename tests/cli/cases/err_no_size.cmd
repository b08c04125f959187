flops --model flux-dev
