calibrate --dry-run --tflops bf16=400 --dtypes bf16 --budget 20s --no-cfg --format json
