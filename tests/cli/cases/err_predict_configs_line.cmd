predict --configs tests/data/bad/configs-unseen-gpu.csv
