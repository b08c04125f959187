fit --data - --where model=sd35-large --format json < data/paper_a100.csv
