fit --data tests/data/my-unet.csv --format csv
