fit --data data/paper_a100.csv --baseline colour=red
