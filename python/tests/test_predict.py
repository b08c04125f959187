"""esl.predict and esl.flops give the tool's keys, in its order, and its numbers bit for bit."""

import math

import pytest

import esl

CASES = [
    dict(model="flux-dev", height=1024, width=1024, steps=50),
    dict(model="sd2", height=512, width=768, steps=25, cfg=True, gpu="H100", dtype="bf16",
         prompts=4, batch=2, zone="DE", price=0.3, pue=1.2),
    dict(model="sd35-large", height=768, width=768, steps=28, cfg=True, gpus=2, grid=400.0,
         rate=5.0),
    dict(model="qwen-image", height=1024, width=1024, steps=50, form="paper"),
    dict(model="flux-dev", height=512, width=512, steps=20, law="tests/data/law-flux.json"),
    dict(model="flux-dev", height=1024, width=768, steps=30, zone="us-east-1", price=0.12),
]


def cli_args(case):
    args = ["predict", "--format", "json"]
    flags = {"batch": "--batch", "gpus": "--gpus", "pue": "--pue", "price": "--price",
             "zone": "--zone", "grid": "--grid", "rate": "--rate", "form": "--form",
             "law": "--law", "gpu": "--gpu", "dtype": "--dtype", "prompts": "--prompts",
             "model": "--model", "height": "--height", "width": "--width", "steps": "--steps"}
    for key, value in case.items():
        if key == "cfg":
            args.append("--cfg")
        else:
            args += [flags[key], str(value)]
    return args


def same(a, b, path="$"):
    """Equal as JSON values, floats bit for bit (the tool prints 17 digits)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert float(a) == float(b) and type(a) is type(b), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['model']}-{c['height']}x{c['width']}")
def test_predict_matches_the_tool(case, esl_json, repo, monkeypatch):
    monkeypatch.chdir(repo)
    expected = esl_json(*cli_args(case))
    same(esl.predict(**case), expected)


def test_predict_readme_call_is_the_default_law():
    p = esl.predict(model="flux-dev", height=1024, width=1024, steps=50)
    assert p["energy_kind"] == "dynamic"
    assert p["energy_lo_j"] < p["energy_j"] < p["energy_hi_j"]
    assert p["total_j"] > p["energy_j"]
    # the time law is in the default law: total = dynamic + idle x time
    assert math.isclose(p["total_j"], p["energy_j"] + p["idle_w"] * p["time_s"], rel_tol=1e-12)
    assert math.isclose(p["wh_per_image"] * 3600.0, p["energy_j"], rel_tol=1e-12)


def test_predict_with_a_law_object_equals_the_law_file(repo):
    law = esl.Law.load(f"{repo}/tests/data/law-flux.json")
    a = law.predict(model="flux-dev", height=512, width=512, steps=20)
    b = esl.predict(model="flux-dev", height=512, width=512, steps=20,
                    law=f"{repo}/tests/data/law-flux.json")
    assert a == b


@pytest.mark.parametrize("model,h,w,t,cfg,n,conv", [
    ("flux-dev", 1024, 1024, 50, False, 1, "paper"),
    ("sd2", 512, 768, 25, True, 3, "paper"),
    ("qwen-image", 1328, 1328, 30, True, 1, "exact"),
])
def test_flops_matches_the_tool(model, h, w, t, cfg, n, conv, esl_json):
    args = ["flops", "--model", model, "--height", h, "--width", w, "--steps", t,
            "--prompts", n, "--convention", conv, "--format", "json"]
    if cfg:
        args.append("--cfg")
    expected = esl_json(*args)
    expected.pop("components")
    got = esl.flops(model, height=h, width=w, steps=t, cfg=cfg, prompts=n, convention=conv)
    same(got, expected)
    # Eq. 1: image = text + T (1 + cfg) denoise + decode
    assert got["image_flops"] == got["text_flops"] + t * (1 + cfg) * \
        got["denoise_flops_per_step"] + got["decode_flops"]


def test_provenance_names_the_law_and_the_grid():
    p = esl.predict(model="sd2", height=512, width=512, zone="DEU")
    law = esl.Law.builtin()
    assert p["esl_version"] == esl.version()
    assert p["law_form"] == "by-kind" and p["law_hash"] == law.hash
    assert p["law_hash"].startswith("fnv1a64:") and len(p["law_hash"]) == 8 + 16
    assert p["zone"] == "DE" and p["grid_year"] == 2024
    assert p["gco2e"] == pytest.approx(p["total_j"] / 3.6e6 * p["grid_gco2e_per_kwh"])
    other = esl.Law.fit(f"{esl._lib._REPO_DIR}/data/paper_a100.csv", form="per-image")
    assert other.hash != law.hash
