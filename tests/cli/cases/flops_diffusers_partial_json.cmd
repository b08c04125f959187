flops --from-diffusers tests/data/bad/diffusers-partial --height 1024 --width 1024 --format json
