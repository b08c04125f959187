flops --from-diffusers tests/data/diffusers/sana15-4.8b --height 1024 --width 1024 --steps 20 --cfg --format csv
