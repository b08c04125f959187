"""Shared fixtures: the esl tool the package is compared with, the NVML stub."""

import json
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# resolved once, before any test changes directory
TOOL = os.path.abspath(os.environ.get("ESL_TOOL") or os.path.join(REPO, "build", "src", "esl"))


def _tool():
    return TOOL


@pytest.fixture
def esl_tool():
    """Run the esl tool; returns (exit status, stdout, stderr)."""

    def run(*args, stdin=None):
        p = subprocess.run([_tool(), *map(str, args)], capture_output=True, text=True,
                           input=stdin, cwd=REPO)
        return p.returncode, p.stdout, p.stderr

    return run


@pytest.fixture
def esl_json(esl_tool):
    """Run the esl tool, expect success, parse its JSON output."""

    def run(*args):
        rc, out, err = esl_tool(*args)
        assert rc == 0, err
        return json.loads(out)

    return run


@pytest.fixture
def nvml_stub(monkeypatch):
    """The stand-in libnvidia-ml of tests/stubs at a steady 200 W."""
    path = os.environ.get("ESL_NVML_STUB") or os.path.join(REPO, "build", "tests",
                                                             "libnvml_stub_full.so")
    if not os.path.exists(path):
        pytest.skip(f"no NVML stub at {path}")
    monkeypatch.setenv("ESL_NVML_LIBRARY", path)
    monkeypatch.setenv("ESL_STUB_POWER_W", "200")
    return path


@pytest.fixture
def repo():
    return REPO
