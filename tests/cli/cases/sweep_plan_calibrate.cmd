sweep plan --csv tests/data/sweep/plan.csv
