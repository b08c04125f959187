flops --from-diffusers $DATA/diffusers/flux-dev --height 512 --width 512 --text-tokens 256 --format csv
