bench --model flux-dev --height 1024 --width 1024 --steps 2 --idle 0 --no-store
