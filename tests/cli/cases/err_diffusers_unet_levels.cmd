flops --from-diffusers tests/data/diffusers/sd15 --height 520 --width 512
