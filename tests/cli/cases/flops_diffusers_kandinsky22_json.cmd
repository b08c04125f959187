flops --from-diffusers tests/data/diffusers/kandinsky-2-2 --height 512 --width 512 --steps 25 --cfg --format json
