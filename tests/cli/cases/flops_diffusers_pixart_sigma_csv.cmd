flops --from-diffusers tests/data/diffusers/pixart-sigma --height 1024 --width 1024 --steps 20 --format csv
