flops --from-diffusers tests/data/diffusers/stable-cascade --height 1000 --width 1000
