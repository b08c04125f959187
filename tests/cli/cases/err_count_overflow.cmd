flops --model flux-dev --height 1099511627776 --width 1099511627776
