measure --replay x.csv --idle 0 -- true
