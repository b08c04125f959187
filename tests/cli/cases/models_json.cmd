models --format json
