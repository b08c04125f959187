calibrate --dtypes , --idle 0
