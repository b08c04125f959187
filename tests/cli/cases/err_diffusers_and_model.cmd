flops --from-diffusers tests/data/diffusers/sd15 --model sd2 --height 512 --width 512
