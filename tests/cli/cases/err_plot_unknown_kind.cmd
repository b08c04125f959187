plot bogus -o x.png
