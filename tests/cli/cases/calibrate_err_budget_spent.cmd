calibrate --idle 300ms --budget 0.2 --store "$tmp/runs.db"
