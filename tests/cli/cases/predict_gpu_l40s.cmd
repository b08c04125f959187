predict --model flux-dev --height 1024 --width 1024 --steps 50 --gpu L40S --dtype bf16
