bench --model flux-dev --height 512 --width 512 --steps 20 --cfg --dry-run
