flops --from-diffusers tests/data/diffusers/qwen-image --height 1024 --width 1024
