"""Measure a real diffusers pipeline with esl and store each batch as a run.

    python3 examples/diffusers_window.py /path/to/FLUX.1-dev --model flux-dev

Needs a GPU, PyTorch, diffusers and weights already on disk: esl downloads
nothing, and this file is not run by the tests (python/tests drives the same
calls with a stand-in pipeline and the NVML stub). Each configuration is one
window: idle power measured first, the pipeline called once per prompt, the
run stored in esl-runs.db with the labels `esl runs export` needs, so that
`esl runs export | esl fit --data -` fits a law to what was measured.

`callback_on_step_end` records when the last denoising step ends, so the
time of decoding (VAE) is printed apart from denoising.
"""

import argparse
import time

import esl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", help="a diffusers pipeline folder with its weights")
    ap.add_argument("--model", required=True, help="esl's name for it (esl models)")
    ap.add_argument("--height", type=int, default=1024)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--prompts", type=int, default=25)
    ap.add_argument("--cfg", action="store_true", help="guidance scale 7.5 instead of 1")
    args = ap.parse_args()

    import torch  # imported here so that --help works without them
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(args.folder, torch_dtype=torch.float16).to("cuda")
    prompts = [f"a photograph of a lighthouse at dusk, number {i}" for i in range(args.prompts)]
    pipe(prompts[0], height=args.height, width=args.width, num_inference_steps=2)  # warm-up

    print(esl.predict(model=args.model, height=args.height, width=args.width,
                      steps=args.steps, cfg=args.cfg, prompts=args.prompts))
    denoise_end = []

    def on_step_end(pipeline, step, timestep, kwargs):
        if step == args.steps - 1:
            torch.cuda.synchronize()
            denoise_end.append(time.monotonic())
        return kwargs

    decode_s = 0.0
    with esl.window(model=args.model, height=args.height, width=args.width, steps=args.steps,
                    prompts=args.prompts, cfg=args.cfg, dtype="fp16") as w:
        for prompt in prompts:
            pipe(prompt, height=args.height, width=args.width, num_inference_steps=args.steps,
                 guidance_scale=7.5 if args.cfg else 1.0, callback_on_step_end=on_step_end)
            torch.cuda.synchronize()
            decode_s += time.monotonic() - denoise_end[-1]
    r = w.record
    print(f"run {w.run_id}: {r['dynamic_j']:.1f} J dynamic, {r['energy_j']:.1f} J total over "
          f"{r['duration_s']:.1f} s ({decode_s:.1f} s of it decoding)")


if __name__ == "__main__":
    main()
