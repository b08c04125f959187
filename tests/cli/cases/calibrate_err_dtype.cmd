calibrate --dry-run --tflops bf16=400,fp8=45 --dtypes bf16,fp8
