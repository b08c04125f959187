predict --from-diffusers tests/data/diffusers/sdxl --height 1024 --width 1024 --steps 30 --cfg
