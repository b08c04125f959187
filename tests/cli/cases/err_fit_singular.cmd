fit --data tests/data/bad/one-resolution.csv
