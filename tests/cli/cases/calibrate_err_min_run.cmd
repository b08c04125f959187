calibrate --min-run -1
