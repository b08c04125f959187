fit --data data/paper_a100.csv --form linear
