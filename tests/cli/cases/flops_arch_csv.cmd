flops --arch data/models/qwen-image.json --height 768 --width 1344 --steps 30 --prompts 100 --format csv
