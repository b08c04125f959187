flops --from-diffusers tests/data/diffusers/cogview4-6b --height 768 --width 1344 --steps 50 --cfg --format csv
