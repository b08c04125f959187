calibrate --dry-run --tflops bf16=400
