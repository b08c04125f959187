flops --model all --sweep --format csv
