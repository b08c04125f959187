fit --data tests/data/per-image-one-flops.csv --form per-image --terms -res
