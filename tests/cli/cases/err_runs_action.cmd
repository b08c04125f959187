runs frobnicate
