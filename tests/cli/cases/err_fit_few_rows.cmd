fit --data tests/data/bad/two-rows.csv
