flops --from-diffusers tests/data/bad/diffusers-pipeline --height 1024 --width 1024
