report -o report.pdf
