predict --model flux-dev --height 1024 --width 1024 --batch 5000
