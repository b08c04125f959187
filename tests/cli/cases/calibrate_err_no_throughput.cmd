calibrate --dry-run
