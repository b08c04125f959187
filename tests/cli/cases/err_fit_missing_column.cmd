fit --data tests/data/bad/missing-column.csv
