fit --data tests/data/bad/non-numeric.csv
