flops --from-diffusers $DATA/diffusers/sana --height 1024 --width 1024 --steps 20 --cfg --format json
