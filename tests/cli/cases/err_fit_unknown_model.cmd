fit --data tests/data/bad/unknown-model.csv
