predict --configs tests/data/configs.csv --format csv --zone world
