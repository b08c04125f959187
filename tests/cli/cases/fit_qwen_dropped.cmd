fit --data data/paper_a100.csv --where model=qwen-image --format csv
