flops --from-diffusers tests/data/bad/diffusers-missing-key --height 512 --width 512
