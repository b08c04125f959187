plot decomposition -o /nonexistent-dir/f.png
