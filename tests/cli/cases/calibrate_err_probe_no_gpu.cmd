calibrate --idle 0 --store "$tmp/runs.db"
