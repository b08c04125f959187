plot decomposition --sizes 512,x -o /nonexistent-dir/f.png
