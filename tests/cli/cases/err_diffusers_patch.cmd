flops --from-diffusers tests/data/diffusers/flux-dev --height 1032 --width 1024
