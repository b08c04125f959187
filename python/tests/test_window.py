"""esl.window around a diffusers-like pipeline, metered with the NVML stub
(a steady 200 W), stored in the run store that `esl runs` reads."""

import csv
import io
import json
import time

import pytest

import esl


class FakePipeline:
    """Stands in for a diffusers pipeline: __call__(prompt, height, width,
    num_inference_steps, guidance_scale, callback_on_step_end) sleeping a
    little per step, calling the callback after each step as diffusers does."""

    def __init__(self, step_s=0.02):
        self.step_s = step_s
        self.steps_seen = []

    def __call__(self, prompt, height=1024, width=1024, num_inference_steps=50,
                 guidance_scale=3.5, callback_on_step_end=None):
        kwargs = {}
        for i in range(num_inference_steps):
            time.sleep(self.step_s)
            if callback_on_step_end is not None:
                kwargs = callback_on_step_end(self, i, i, kwargs) or kwargs
        time.sleep(self.step_s)  # decoding
        return {"images": [f"{prompt}:{height}x{width}"]}


def test_window_stores_a_run_export_reads(nvml_stub, tmp_path, esl_tool):
    store = tmp_path / "runs.db"
    pipe = FakePipeline()
    steps = 10
    with esl.window(model="flux-dev", steps=steps, height=512, width=512, prompts=1,
                    cfg=False, dtype="fp16", store=store, idle_w=50.0,
                    labels={"campaign": "test"}) as w:
        pipe("a red fox", height=512, width=512, num_inference_steps=steps,
             callback_on_step_end=lambda p, i, t, kw: pipe.steps_seen.append(i) or kw)
    assert pipe.steps_seen == list(range(steps))
    rec = w.record
    assert w.run_id == 1
    # 200 W over the window, 50 W of it idle: 150 W dynamic
    assert rec["duration_s"] >= steps * 0.02
    assert rec["energy_j"] == pytest.approx(200.0 * rec["duration_s"], rel=0.1)
    assert rec["dynamic_j"] == pytest.approx(150.0 * rec["duration_s"], rel=0.1)
    assert rec["devices"][0]["name"].startswith("Stub GPU")

    rc, out, err = esl_tool("runs", "list", "--store", store, "--format", "json")
    assert rc == 0, err
    runs = json.loads(out)
    assert len(runs) == 1
    assert runs[0]["labels"]["campaign"] == "test"
    assert runs[0]["labels"]["model"] == "flux-dev"
    assert runs[0]["exit_status"] == 0

    rc, out, err = esl_tool("runs", "export", "--store", store)
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    assert rows[0]["model"] == "flux-dev" and rows[0]["steps"] == str(steps)
    assert float(rows[0]["energy_j"]) == pytest.approx(rec["dynamic_j"], rel=1e-6)


def test_a_block_that_raises_is_stored_as_failed(nvml_stub, tmp_path, esl_tool):
    store = tmp_path / "runs.db"
    with pytest.raises(RuntimeError):
        with esl.window(model="sd2", steps=5, store=store, idle_s=0):
            raise RuntimeError("out of memory")
    rc, out, _ = esl_tool("runs", "list", "--store", store, "--format", "json")
    assert rc == 0 and json.loads(out)[0]["exit_status"] == 1


def test_no_driver_is_no_device_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ESL_NVML_LIBRARY", str(tmp_path / "libnvidia-ml-missing.so"))
    with pytest.raises(esl.NoDeviceError) as e:
        with esl.window(model="flux-dev", steps=50, store=None, idle_s=0):
            pass
    assert e.value.code == "enodev" and "libnvidia-ml-missing.so" in str(e.value)
    assert not (tmp_path / "esl-runs.db").exists()


def test_bad_label_and_meter():
    with pytest.raises(ValueError, match="label key"):
        esl.window(labels={"bad key": 1})
    with pytest.raises(ValueError, match="unknown meter"):
        esl.window(meter="wattmeter")
