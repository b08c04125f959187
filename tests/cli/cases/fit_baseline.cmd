fit --data data/paper_a100.csv --where model=sd2 --baseline dtype=fp32 --format csv
