sweep plan --csv tests/data/sweep/bad.txt
