flops --from-diffusers tests/data/diffusers/sd35-medium --height 1024 --width 1024 --steps 40 --format json
