flops --from-diffusers $DATA/diffusers/pixart-alpha --height 1024 --width 1024 --steps 20 --format csv
