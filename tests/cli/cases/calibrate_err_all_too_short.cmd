calibrate --models sd2 --dtypes bf16 --no-cfg --min-run 0 --idle-w 50 --budget 1h --store "$tmp/runs.db"
