predict --model sd2 --height 512 --width 512 --zone DE --grid 300
