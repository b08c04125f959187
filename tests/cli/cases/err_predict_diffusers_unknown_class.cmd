predict --from-diffusers tests/data/bad/diffusers-unknown-class --height 512 --width 512
