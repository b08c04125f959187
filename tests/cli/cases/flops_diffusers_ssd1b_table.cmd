flops --from-diffusers tests/data/diffusers/ssd-1b --height 1024 --width 1024 --format table
