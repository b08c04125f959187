plot diagnostic --data missing.csv -o /nonexistent-dir/f.png
