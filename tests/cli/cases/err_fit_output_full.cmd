fit --data data/paper_a100.csv -o /dev/full
