"""python3 -m esl.sweep: the paper's measurement protocol (Section 4.1) on a
diffusers pipeline, one stored run per configuration.

The grid: resolutions 256, 512, 768 and 1024 squared; 10, 20, 30, 40 and 50
denoising steps; fp16 and fp32; classifier-free guidance off and on; N = 25,
50 and 100 prompts: 240 configurations per model and GPU. Each precision
loads the pipeline once and warms it up; idle power is measured once per
precision; each configuration is one window (esl.window) labelled with its
model, size, steps, precision, guidance and prompts, stored in the run store
at once, so a sweep cut short resumes where it stopped: a configuration
already stored (same labels, exit status 0) is skipped. --dry-run prints the
plan and the time the current law predicts for it, and loads nothing.
"""

import argparse
import itertools
import os
import sys
import time

import esl
from esl._window import stored_runs

RESOLUTIONS = (256, 512, 768, 1024)
STEPS = (10, 20, 30, 40, 50)
DTYPES = ("fp16", "fp32")
CFGS = (False, True)
PROMPTS = (25, 50, 100)
GUIDANCE_ON = 7.5  # guidance scale with CFG; 1.0 turns it off in diffusers

CAPTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "captions.txt")


def plan(resolutions=RESOLUTIONS, steps=STEPS, dtypes=DTYPES, cfgs=CFGS, prompts=PROMPTS):
    """The configurations in the order they are run: by precision (one
    pipeline load each), then resolution, steps, guidance, prompts."""
    return [dict(dtype=d, height=r, width=r, steps=t, cfg=c, prompts=n)
            for d, r, t, c, n in itertools.product(dtypes, resolutions, steps, cfgs, prompts)]


def labels_of(model, gpu, config):
    out = {"model": model, "height": str(config["height"]), "width": str(config["width"]),
           "steps": str(config["steps"]), "cfg": "1" if config["cfg"] else "0",
           "dtype": config["dtype"], "prompts": str(config["prompts"]), "protocol": "sweep-4.1"}
    if gpu:
        out["gpu"] = gpu
    return out


def stored(store, model, gpu, config):
    """True when the store holds a successful run with this configuration's labels."""
    return any(status == 0 for _, status in
               stored_runs(store, labels_of(model, gpu, config)))


def read_captions(path, n):
    with open(path, encoding="utf-8") as f:
        lines = [x.strip() for x in f if x.strip() and not x.startswith("#")]
    if len(lines) < n:
        raise ValueError(f"{path}: {len(lines)} captions, {n} needed")
    return lines[:n]


def dry_run(args, configs, out):
    total_s, unknown = 0.0, 0
    print(f"{'dtype':5} {'size':>9} {'steps':>5} {'cfg':>3} {'N':>4} {'predicted_s':>12}",
          file=out)
    for c in configs:
        p = esl.predict(model=args.model, gpu=args.gpu or "A100", **c)
        t = p["time_s"]
        if t is None:
            unknown += 1
        else:
            total_s += t
        size = f"{c['height']}x{c['width']}"
        shown = f"{t:12.1f}" if t is not None else f"{'-':>12}"
        print(f"{c['dtype']:5} {size:>9} {c['steps']:5} {'yes' if c['cfg'] else 'no':>3} "
              f"{c['prompts']:4} {shown}", file=out)
    print(f"{len(configs)} configurations, {total_s / 3600.0:.2f} h of generation predicted "
          f"on {args.gpu or 'A100'} (plus warm-up and {args.idle_s:g} s idle per precision)"
          + (f"; {unknown} without a time prediction" if unknown else ""), file=out)


def load_pipeline(args, dtype):
    """The diffusers pipeline of args.pipeline at `dtype` on the GPU, or the
    object a --factory MODULE:CALLABLE returns for (path, dtype)."""
    if args.factory:
        module, _, name = args.factory.partition(":")
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name)(args.pipeline, dtype)
    import torch  # only for real runs
    from diffusers import DiffusionPipeline
    torch_dtype = torch.float16 if dtype == "fp16" else torch.float32
    return DiffusionPipeline.from_pretrained(args.pipeline, torch_dtype=torch_dtype).to("cuda")


def run(args, configs, out):
    captions = read_captions(args.captions, max(c["prompts"] for c in configs))
    done = skipped = 0
    for dtype in dict.fromkeys(c["dtype"] for c in configs):
        todo = [c for c in configs if c["dtype"] == dtype
                and not stored(args.store, args.model, args.gpu, c)]
        skipped += sum(1 for c in configs if c["dtype"] == dtype) - len(todo)
        if not todo:
            continue
        pipe = load_pipeline(args, dtype)
        pipe(captions[0], height=todo[0]["height"], width=todo[0]["width"],
             num_inference_steps=2, guidance_scale=1.0)  # warm-up
        idle_w = None
        for c in todo:
            kw = dict(meter=args.meter, store=args.store, library=args.nvml_library,
                      labels=labels_of(args.model, args.gpu, c))
            if idle_w is None:
                kw["idle_s"] = args.idle_s
            else:
                kw["idle_w"] = idle_w
            with esl.window(**kw) as w:
                for prompt in captions[:c["prompts"]]:
                    pipe(prompt, height=c["height"], width=c["width"],
                         num_inference_steps=c["steps"],
                         guidance_scale=GUIDANCE_ON if c["cfg"] else 1.0)
            if idle_w is None and w.record["devices"]:
                idle_w = w.record["idle_w"] / len(w.record["devices"])
            done += 1
            print(f"run {w.run_id}: {c['dtype']} {c['height']}x{c['width']} {c['steps']} steps "
                  f"cfg {'on' if c['cfg'] else 'off'} N={c['prompts']}: "
                  f"{w.record['dynamic_j']:.1f} J dynamic", file=out, flush=True)
    print(f"{done} configurations measured, {skipped} already stored", file=out)


def ints(text):
    return tuple(int(x) for x in text.split(","))


def main(argv=None, out=sys.stdout):
    ap = argparse.ArgumentParser(prog="python3 -m esl.sweep", description=__doc__.split("\n\n")[0])
    ap.add_argument("pipeline", help="a diffusers pipeline folder with its weights (or a hub id "
                    "already in the local cache); esl downloads nothing")
    ap.add_argument("--model", required=True, help="esl's name for the model (esl models)")
    ap.add_argument("--gpu", help="the GPU's name for the labels and the prediction (e.g. A100)")
    ap.add_argument("--store", default="esl-runs.db")
    ap.add_argument("--resolutions", type=ints, default=RESOLUTIONS)
    ap.add_argument("--steps", type=ints, default=STEPS)
    ap.add_argument("--dtypes", type=lambda s: tuple(s.split(",")), default=DTYPES)
    ap.add_argument("--prompts", type=ints, default=PROMPTS)
    ap.add_argument("--no-cfg", action="store_true", help="guidance off only")
    ap.add_argument("--captions", default=CAPTIONS)
    ap.add_argument("--idle-s", type=float, default=5.0, help="idle baseline per precision")
    ap.add_argument("--meter", default="nvml")
    ap.add_argument("--nvml-library", help="libnvidia-ml to load (default: the system's)")
    ap.add_argument("--factory", help="MODULE:CALLABLE returning a pipeline for (path, dtype)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and its predicted "
                    "time; load and measure nothing")
    args = ap.parse_args(argv)
    configs = plan(args.resolutions, args.steps, args.dtypes,
                   (False,) if args.no_cfg else CFGS, args.prompts)
    try:
        if args.dry_run:
            dry_run(args, configs, out)
        else:
            run(args, configs, out)
    except (esl.EslError, ValueError, OSError) as e:
        print(f"esl.sweep: {e}", file=sys.stderr)
        return 3 if isinstance(e, esl.NoDeviceError) else 2 if isinstance(e, ValueError) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
