flops --model stable-cascade --height 1024 --width 1024 --steps 12 --format json
