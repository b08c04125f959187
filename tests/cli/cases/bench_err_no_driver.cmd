bench --model sd2 --height 256 --width 256 --steps 2 --idle 0 --no-store
