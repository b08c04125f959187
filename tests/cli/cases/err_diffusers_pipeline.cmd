flops --from-diffusers tests/data/diffusers/sana --height 1024 --width 1024
