validate --data data/mlenergy_v2.csv --split batch-above:4 --forms by-kind --response time
