flops --model lumina-image-2 --height 1024 --width 1024 --steps 50 --cfg --format json
