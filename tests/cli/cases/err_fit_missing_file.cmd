fit --data tests/data/none.csv
