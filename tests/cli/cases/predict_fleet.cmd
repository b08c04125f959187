predict --model sdxl --height 1024 --width 1024 --steps 30 --cfg --gpu H100 --batch 8 --prompts 8 --rate 20 --zone US --price 0.12
