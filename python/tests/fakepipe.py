"""A stand-in diffusers pipeline for the sweep's tests: records its calls."""

import time

CALLS = []


class FakePipeline:
    def __init__(self, path, dtype):
        self.path, self.dtype = path, dtype

    def __call__(self, prompt, height, width, num_inference_steps, guidance_scale=1.0):
        CALLS.append((self.dtype, prompt, height, width, num_inference_steps, guidance_scale))
        time.sleep(0.001 * num_inference_steps)
        return {"images": [None]}


def make(path, dtype):
    return FakePipeline(path, dtype)
