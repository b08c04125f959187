fit --data tests/data/bad/negative-steps.csv
