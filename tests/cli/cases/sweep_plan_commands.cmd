sweep plan --csv tests/data/sweep/commands.csv -- --idle 0
