bench --model sd2 --height 256 --width 256 --idle 5x
