validate --data data/paper_a100.csv --split kfold:5 --forms paper,linear
