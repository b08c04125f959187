flops --model flux-dev --arch data/models/sd2.json --height 512 --width 512
