predict --model sd2 --height 512 --width 512 --prompts 4 --batch 64 --form roofline
