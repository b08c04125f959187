flops --from-diffusers $DATA/diffusers/sd35-large --height 1024 --width 1024 --steps 28 --cfg --format csv
