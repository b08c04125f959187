predict --model sd2 --from-diffusers tests/data/diffusers/sdxl --height 512 --width 512
