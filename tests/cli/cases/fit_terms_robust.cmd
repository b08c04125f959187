fit --data data/paper_a100.csv --terms -res --robust --format csv
