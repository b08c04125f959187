flops --from-diffusers tests/data/diffusers/kandinsky-3 --height 1024 --width 1024 --steps 25 --cfg
