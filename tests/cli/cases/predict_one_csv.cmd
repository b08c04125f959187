predict --model sd2 --height 512 --width 768 --steps 25 --cfg --dtype fp32 --prompts 8 --price 0.25 --format csv
