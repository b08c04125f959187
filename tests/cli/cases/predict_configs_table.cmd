predict --law tests/data/law-flux.json --configs - < tests/data/configs.csv
