gpus H100 "NVIDIA A100-SXM4-40GB" --format json
