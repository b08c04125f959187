calibrate --tflops bf16=400,fp32=45
