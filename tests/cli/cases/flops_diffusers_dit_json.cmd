flops --from-diffusers $DATA/diffusers/dit-xl-2-256 --height 256 --width 256 --steps 250 --format json
