flops --from-diffusers tests/data/diffusers/nowhere --height 512 --width 512
