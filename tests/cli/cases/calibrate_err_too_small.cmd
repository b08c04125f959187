calibrate --dry-run --tflops bf16=400,fp32=45 --budget 1s
