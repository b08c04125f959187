help models
