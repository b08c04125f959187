calibrate --dry-run --gpu "Some GPU"
