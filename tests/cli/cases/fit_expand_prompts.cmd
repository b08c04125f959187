fit --data data/paper_a100.csv --where model=flux-dev --expand-prompts 25,50,100
