flops --from-diffusers tests/data/diffusers/stable-cascade --height 768 --width 1344 --steps 12 --format table
