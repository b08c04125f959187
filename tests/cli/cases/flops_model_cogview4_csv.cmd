flops --model cogview4-6b --height 1024 --width 1024 --steps 50 --cfg --format csv
