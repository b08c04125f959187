plot trace --help
