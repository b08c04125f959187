runs merge --where model=sd2 tests/data/sweep/not-a-store.db -o $tmp/m.db
