flops --from-diffusers tests/data/diffusers/sd3-medium --height 1024 --width 1024 --steps 28 --format csv
