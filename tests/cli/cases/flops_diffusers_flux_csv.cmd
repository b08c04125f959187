flops --from-diffusers $DATA/diffusers/flux-dev --height 1024 --width 1024 --format csv
