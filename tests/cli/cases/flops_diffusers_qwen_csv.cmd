flops --from-diffusers $DATA/diffusers/qwen-image --height 1024 --width 1024 --format csv
