fit --data tests/data/bad/zero-energy.csv
