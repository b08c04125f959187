fit --data data/paper_a100.csv --expand-prompts 25,0
