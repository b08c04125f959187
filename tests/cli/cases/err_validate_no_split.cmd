validate --data data/paper_a100.csv
