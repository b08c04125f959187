flops --model flux-dev --height 1024 --width 1024 --convention exact --format json
