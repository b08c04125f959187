predict --model flux-dev --height 1024 --width 1024 --gpu H300
