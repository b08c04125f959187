validate --data data/paper_a100.csv --where model=sd2 --split kfold:3 --seed 5 --format json
