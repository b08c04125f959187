flops --model flux-dev --sweep --steps 20
