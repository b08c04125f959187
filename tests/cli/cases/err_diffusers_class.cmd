flops --from-diffusers tests/data/bad/diffusers-unknown-class --height 1024 --width 1024
