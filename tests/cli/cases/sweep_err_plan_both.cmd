sweep plan --models sd2 --csv tests/data/sweep/plan.csv
