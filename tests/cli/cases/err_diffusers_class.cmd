flops --from-diffusers tests/data/bad/diffusers-unknown-denoiser --height 1024 --width 1024
