"""esl.Law fit/load/save and the library's errors as Python exceptions."""

import json

import pytest

import esl


def test_fit_equals_the_tool_fit(esl_tool, repo, tmp_path):
    out = tmp_path / "flux-cli.json"
    rc, _, err = esl_tool("fit", "--data", f"{repo}/data/paper_a100.csv", "--where",
                          "model=flux-dev", "--form", "paper", "-o", out)
    assert rc == 0, err
    law = esl.Law.fit(f"{repo}/data/paper_a100.csv", where="model=flux-dev", form="paper")
    assert law.form == "paper"
    mine, theirs = json.loads(law.to_json()), json.loads(out.read_text())
    assert mine == theirs


def test_save_load_round_trip(repo, tmp_path):
    law = esl.Law.fit([f"{repo}/data/paper_a100.csv"], where="model=sd2", form="per-image")
    path = tmp_path / "sd2.json"
    law.save(path)
    again = esl.Law.load(path)
    assert again.to_json() == law.to_json()
    a = law.predict(model="sd2", height=512, width=512, steps=30)
    b = again.predict(model="sd2", height=512, width=512, steps=30)
    assert a.pop("law") == "fitted in Python, per-image form"
    assert b.pop("law") == str(path)
    assert a == b and a["energy_j"] > 0 and a["law_hash"] == law.hash == again.hash


def test_fit_on_two_files_counts_both(repo):
    one = esl.Law.fit(f"{repo}/data/paper_a100.csv", form="by-kind")
    two = esl.Law.fit([f"{repo}/data/paper_a100.csv", f"{repo}/data/mlenergy_v2.csv"],
                      form="by-kind")
    n1 = json.loads(one.to_json())["training"]["rows"]
    n2 = json.loads(two.to_json())["training"]["rows"]
    assert n2 > n1


def test_unknown_model_carries_the_library_message(esl_tool):
    rc, _, err = esl_tool("predict", "--model", "no-such-model", "--height", "512",
                          "--width", "512")
    assert rc == 2
    with pytest.raises(esl.InputError) as e:
        esl.predict(model="no-such-model", height=512, width=512)
    assert e.value.code == "enotfound"
    assert f"esl: {e.value}\n" == err


def test_bad_zone_and_missing_law_file(tmp_path):
    with pytest.raises(esl.InputError) as e:
        esl.predict(model="flux-dev", height=512, width=512, zone="NOWHERE")
    assert "NOWHERE" in str(e.value)
    with pytest.raises(esl.EslError) as e:
        esl.Law.load(tmp_path / "missing.json")
    assert e.value.code == "enotfound" and "missing.json" in str(e.value)


def test_bad_law_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"form": "paper", ')
    with pytest.raises(esl.InputError) as e:
        esl.Law.load(bad)
    assert e.value.code == "eparse" and "bad.json" in str(e.value)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="height"):
        esl.predict(model="flux-dev", height=0, width=512)
    with pytest.raises(ValueError, match="unknown form"):
        esl.predict(model="flux-dev", height=512, width=512, form="cubic")
    with pytest.raises(ValueError, match="exactly one"):
        esl.flops(height=512, width=512)
    with pytest.raises(esl.InputError):
        esl.flops("flux-dev", height=512, width=512, convention="approximate")
