flops --from-diffusers tests/data/bad/diffusers-no-vae --height 512 --width 512
