report -o /nonexistent-dir/r.html
