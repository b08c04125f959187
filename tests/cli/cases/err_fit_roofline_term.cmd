fit --data data/paper_a100.csv --form roofline --where model=flux-dev --where dtype=fp16
