validate --data data/paper_a100.csv --split train=flux-dev,sd35-large:test=qwen-image --format csv
