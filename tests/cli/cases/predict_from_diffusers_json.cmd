predict --from-diffusers tests/data/diffusers/pixart-alpha --height 1024 --width 1024 --steps 20 --cfg --format json
