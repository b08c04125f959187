calibrate --models sd2,sd35-large --dtypes bf16 --no-cfg --min-run 0.11 --idle-w 50 --budget 4 --store "$tmp/runs.db" -o /nonexistent/dir/law.json
