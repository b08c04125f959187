flops --model sd2 --height 1073741824 --width 1073741824 --format csv
