bench --model sd2 --height 256 --width 256 --steps 10 --batch 2 --prompts 3 --dtype fp32 --dry-run --format csv
