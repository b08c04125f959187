report --law missing.json -o /nonexistent-dir/r.html
