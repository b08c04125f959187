"""python3 -m esl.sweep: the Section 4.1 grid, its dry run, and a resumable run
with a stand-in pipeline metered by the NVML stub."""

import io
import json

import pytest

import esl
import esl.sweep as sweep
import fakepipe


def test_plan_is_the_papers_grid():
    configs = sweep.plan()
    assert len(configs) == 4 * 5 * 2 * 2 * 3 == 240
    assert {c["height"] for c in configs} == {256, 512, 768, 1024}
    assert {c["steps"] for c in configs} == {10, 20, 30, 40, 50}
    assert {c["prompts"] for c in configs} == {25, 50, 100}
    assert configs[0] == dict(dtype="fp16", height=256, width=256, steps=10, cfg=False,
                              prompts=25)


def test_dry_run_sums_the_laws_times():
    out = io.StringIO()
    assert sweep.main(["/nowhere", "--model", "sd2", "--gpu", "H100", "--dry-run",
                       "--resolutions", "512,768", "--steps", "20", "--prompts", "25"],
                      out=out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 2 * 2 * 2 + 1  # header, 2 sizes x 2 dtypes x 2 cfg, total
    want = sum(esl.predict(model="sd2", gpu="H100", **c)["time_s"]
               for c in sweep.plan((512, 768), (20,), prompts=(25,)))
    assert lines[-1].startswith(f"8 configurations, {want / 3600.0:.2f} h of generation")


def test_run_stores_one_window_per_configuration_and_resumes(nvml_stub, tmp_path, esl_tool):
    store = tmp_path / "runs.db"
    args = ["/models/fake", "--model", "sd2", "--gpu", "A100", "--store", str(store),
            "--resolutions", "256", "--steps", "10,20", "--dtypes", "fp16", "--prompts", "2",
            "--idle-s", "0.3", "--factory", "fakepipe:make"]
    fakepipe.CALLS.clear()
    out = io.StringIO()
    assert sweep.main(args, out=out) == 0
    assert out.getvalue().splitlines()[-1] == "4 configurations measured, 0 already stored"
    # a warm-up call, then 2 prompts for each of 4 configurations
    assert len(fakepipe.CALLS) == 1 + 4 * 2
    assert [c[5] for c in fakepipe.CALLS[1:]] == [1.0, 1.0, 7.5, 7.5, 1.0, 1.0, 7.5, 7.5]
    rc, text, err = esl_tool("runs", "list", "--store", store, "--format", "json")
    assert rc == 0, err
    runs = json.loads(text)
    assert len(runs) == 4
    assert {(r["labels"]["steps"], r["labels"]["cfg"]) for r in runs} == \
        {("10", "0"), ("10", "1"), ("20", "0"), ("20", "1")}
    assert all(r["labels"]["protocol"] == "sweep-4.1" for r in runs)
    # resumed: nothing left to do, nothing loaded
    fakepipe.CALLS.clear()
    out = io.StringIO()
    assert sweep.main(args + ["--steps", "10,20,30"], out=out) == 0
    assert out.getvalue().splitlines()[-1] == "2 configurations measured, 4 already stored"
    assert len(fakepipe.CALLS) == 1 + 2 * 2


def test_too_few_captions(tmp_path, nvml_stub):
    short = tmp_path / "captions.txt"
    short.write_text("one caption\n")
    assert sweep.main(["/x", "--model", "sd2", "--captions", str(short), "--prompts", "2",
                       "--factory", "fakepipe:make", "--store", str(tmp_path / "r.db")]) == 2
