flops --from-diffusers tests/data/bad/diffusers-not-json --height 512 --width 512
