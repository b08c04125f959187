predict --model sd2 --height 512 --width 512 --prompts 100 --form per-image --format csv
