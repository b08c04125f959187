flops --model qwen-image --height 1024 --width 1024 --convention exact --format csv
