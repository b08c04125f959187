flops --model flux-dev,sd35-large --height 512 --width 512 --steps 20
