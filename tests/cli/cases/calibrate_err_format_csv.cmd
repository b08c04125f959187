calibrate --format csv
