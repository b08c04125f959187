predict --model sd2
