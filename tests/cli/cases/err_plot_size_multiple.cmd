plot decomposition --sizes 100 -o /nonexistent-dir/f.png
