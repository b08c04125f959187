"""Measurement windows in-process: the energy of a block of Python code.

``with esl.window(model="flux-dev", steps=50, height=1024, width=1024):
pipe(prompt)`` opens a meter (NVML unless told otherwise), measures idle
power, meters the block, and stores the run in the same run store as
``esl measure`` (esl-runs.db unless ``store=``), its labels the request's
so that ``esl runs export`` turns it into a dataset row.
"""

import ctypes
import sys
from ctypes import byref, c_int64, c_void_p

from . import _lib
from ._lib import lib


def _b(text):
    return None if text is None else str(text).encode()


def _raise(status):
    from . import _raise as raise_
    raise_(status)


def _check(status):
    if status != 0:
        _raise(status)


class Window:
    """A measurement window; use it with ``with``. After the block,
    ``run_id`` is the stored run's id (None with ``store=None``) and
    ``record`` a dict of what was measured: duration_s, energy_j (total),
    idle_w, dynamic_j (energy above idle), avg_power_w, peak_power_w, flags
    and devices (a list of per-device dicts)."""

    def __init__(self, *, model=None, steps=None, height=None, width=None, prompts=None,
                 cfg=None, dtype=None, gpu=None, labels=None, store="esl-runs.db",
                 meter="nvml", gpus=None, hz=0.0, library=None, replay=None, idle_s=5.0,
                 idle_w=None, command=None):
        if meter not in _lib.METER_KINDS:
            raise ValueError(f"window: unknown meter '{meter}' (nvml, rapl or replay)")
        if (meter == "replay") != (replay is not None):
            raise ValueError("window: meter='replay' and replay= go together")
        pairs = {}
        for key, value in (("model", model), ("steps", steps), ("height", height),
                           ("width", width), ("prompts", prompts), ("dtype", dtype),
                           ("gpu", gpu)):
            if value is not None:
                pairs[key] = str(value)
        if cfg is not None:
            pairs["cfg"] = "1" if cfg else "0"
        for key, value in (labels or {}).items():
            key = str(key)
            if not key or any(c.isspace() or c == "=" for c in key):
                raise ValueError(f"window: label key '{key}' is empty or holds a space or '='")
            pairs[key] = str(value)
        self.labels = dict(sorted(pairs.items()))
        self.store = store
        self.command = command if command is not None else " ".join(
            ["python3"] + [str(a) for a in sys.argv])
        self._opts = _lib.MeterOpts(_lib.METER_KINDS[meter], _b(gpus), float(hz), _b(library),
                                    _b(replay), None)
        self._idle_s = idle_s
        self._idle_w = idle_w
        self._meter = None
        self.run_id = None
        self.record = None

    def __enter__(self):
        m = c_void_p()
        _check(lib.esl_meter_open(byref(m), byref(self._opts)))
        self._meter = m
        try:
            if self._idle_w is not None:
                _check(lib.esl_meter_set_idle(m, float(self._idle_w)))
            elif self._idle_s > 0:
                _check(lib.esl_meter_measure_idle(m, float(self._idle_s)))
            _check(lib.esl_window_begin(m))
        except BaseException:
            lib.esl_meter_close(m)
            self._meter = None
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        m, self._meter = self._meter, None
        rec = ctypes.POINTER(_lib.Record)()
        try:
            _check(lib.esl_window_end(m, byref(rec)))
        finally:
            lib.esl_meter_close(m)
        try:
            self.record = _record_dict(rec.contents)
            if self.store is not None:
                # a block that raised is stored as a failed run (exit status 1),
                # which `esl runs export` skips, as it skips failed commands
                self.run_id = _put(self.store, rec, self.command, 1 if exc_type else 0,
                                   self.labels)
        finally:
            lib.esl_record_free(rec)
        return False


def _record_dict(r):
    buf = ctypes.create_string_buffer(256)

    def flags(x):
        return lib.esl_flags_string(buf, len(buf), x).decode()

    devices = []
    for i in range(r.n_devices):
        d = r.devices[i]
        devices.append({"index": d.info.index, "name": d.info.name.decode(),
                        "uuid": d.info.uuid.decode(), "energy_j": d.energy_j,
                        "idle_w": d.idle_w, "dynamic_j": d.dynamic_j,
                        "avg_power_w": d.avg_power_w, "peak_power_w": d.peak_power_w,
                        "flags": flags(d.flags)})
    return {"duration_s": r.duration_s, "energy_j": r.energy_j, "idle_w": r.idle_w,
            "dynamic_j": r.dynamic_j, "avg_power_w": r.avg_power_w,
            "peak_power_w": r.peak_power_w, "flags": flags(r.flags), "devices": devices}


def _labels(labels):
    """A C array of esl_label from a dict, and the bytes it points into
    (keep them alive while the array is used)."""
    arr = (_lib.Label * max(1, len(labels)))()
    keep = []
    for i, (k, v) in enumerate(labels.items()):
        keep.append((_b(k), _b(v)))
        arr[i].key, arr[i].value = keep[-1]
    return arr, keep


def _put(path, rec, command, status, labels):
    s = c_void_p()
    _check(lib.esl_store_open(byref(s), _b(path)))
    try:
        arr, keep = _labels(labels)
        run_id = c_int64()
        _check(lib.esl_store_put(s, byref(run_id), rec, _b(command), status, arr, len(labels)))
        return run_id.value
    finally:
        lib.esl_store_close(s)


def stored_runs(path, labels):
    """[(id, exit_status)] of the runs of store `path` whose labels include
    all of `labels` (a dict), as ``esl runs list --where``; [] when there is
    no store at `path`."""
    import os
    if not os.path.exists(path):
        return []
    s = c_void_p()
    _check(lib.esl_store_open_readonly(byref(s), _b(path)))
    try:
        arr, keep = _labels(labels)
        runs = ctypes.POINTER(_lib.Run)()
        n = ctypes.c_size_t()
        _check(lib.esl_store_list(s, byref(runs), byref(n), arr, len(labels)))
        try:
            return [(runs[i].id, runs[i].exit_status) for i in range(n.value)]
        finally:
            lib.esl_runs_free(runs, n.value)
    finally:
        lib.esl_store_close(s)


def window(**kwargs):
    """A :class:`Window`: ``with esl.window(model="flux-dev", steps=50) as w: ...``.

    Labels: model, steps, height, width, prompts, cfg, dtype, gpu when given,
    and any more in ``labels={...}`` (``esl runs export`` needs model, dtype,
    cfg, height, width, steps and prompts). Meter: ``meter="nvml"`` (default;
    ``library=`` names libnvidia-ml, ``gpus="0,1"``), "rapl" or "replay"
    (``replay=`` a trace CSV). Idle: ``idle_s`` seconds measured before the
    window (default 5, 0 skips) or ``idle_w`` watts per device given.
    ``store=None`` keeps the run out of the store.
    """
    return Window(**kwargs)
