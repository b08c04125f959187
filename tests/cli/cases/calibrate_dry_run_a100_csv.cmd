calibrate --dry-run --gpu "NVIDIA A100-SXM4-80GB" --budget 1h --models sd2,sd35-large,flux-dev,qwen-image --format csv
