fit --data data/paper_a100.csv --where model=flux-dev
