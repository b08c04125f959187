predict --model sd2 --height 512 --width 512 --pue 0.5
