fit --data tests/data/bad/unknown-column.csv
