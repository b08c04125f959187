fit --data tests/data/my-unet.csv --arch tests/data/my-unet.json --format csv
