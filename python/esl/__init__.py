"""esl from Python: FLOPs, energy predictions, laws and measurement windows.

A thin layer over libesl (the C library of this repository), loaded with
ctypes from the build tree or the system. Every number comes from the
library; the functions return plain dicts whose keys carry their units
(``energy_j``, ``time_s``, ``wh_per_image``), the same keys and numbers as
``esl predict --format json`` and ``esl flops --format json``. A failure of
the library raises :class:`EslError` carrying the library's own message.
See docs/python.md.
"""

import ctypes
import math
import os
import sys
from ctypes import byref, c_int, c_int64, c_void_p

from . import _lib
from ._lib import lib

__all__ = ["EslError", "InputError", "NoDeviceError", "Law", "Window", "flops", "predict",
           "version", "window"]


class EslError(Exception):
    """A libesl call failed. ``status`` is the esl_status code, ``code`` its
    name ("einval", "enotfound", ...), the message the library's detail."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.code = _lib.STATUS_NAMES.get(status, str(status))


class InputError(EslError, ValueError):
    """Bad input: an invalid value, a parse error, an unknown name, out of range."""


class NoDeviceError(EslError):
    """No measuring device (no driver, no GPU)."""


def _raise(status):
    detail = lib.esl_error_last()
    message = detail.decode() if detail else lib.esl_strerror(status).decode()
    cls = EslError
    if status in (1, 4, 5, 6):
        cls = InputError
    elif status == 7:
        cls = NoDeviceError
    raise cls(status, message)


def _check(status):
    if status != 0:
        _raise(status)


def _b(text):
    return None if text is None else str(text).encode()


def version():
    """The library's version string."""
    return lib.esl_version().decode()


def _model(model=None, arch=None, from_diffusers=None):
    """A new esl_model* from exactly one of a catalogue name, a description
    file or a diffusers folder; the caller frees it."""
    if (model is not None) + (arch is not None) + (from_diffusers is not None) != 1:
        raise ValueError("give exactly one of model=, arch= or from_diffusers=")
    m = ctypes.POINTER(_lib.Model)()
    if from_diffusers is not None:
        name = os.path.basename(os.path.normpath(str(from_diffusers)))
        _check(lib.esl_model_from_diffusers(byref(m), _b(from_diffusers), _b(name)))
    elif arch is not None:
        _check(lib.esl_model_load(byref(m), _b(arch)))
    else:
        _check(lib.esl_catalog_find(byref(m), _b(model)))
    return m


def _positive(name, value, limit=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or \
            (limit is not None and value > limit):
        bound = f" and at most {limit}" if limit is not None else ""
        raise ValueError(f"{name}: {value!r} is not an integer of at least 1{bound}")
    return value


def _count(x):
    """A FLOP count as esl flops prints it: an integer when it is one."""
    return int(x) if abs(x) < 9.0e18 and x == math.floor(x) else x


def flops(model=None, *, height, width, steps=50, cfg=False, prompts=1, text_tokens=0,
          convention="paper", arch=None, from_diffusers=None):
    """FLOPs of one request (Eq. 1), as ``esl flops --format json`` without
    its per-component list: plain FLOPs, a multiply-add counting 2.

    Returns a dict: model, height, width, steps, cfg, prompts, convention,
    text_tokens, text_flops (one prompt), denoise_flops_per_step,
    decode_flops (one image), image_flops, total_flops (all prompts) and
    flops_cfg (N T FLOPs_denoise 2^cfg, the law's input).
    """
    conv = c_int()
    _check(lib.esl_convention_parse(byref(conv), _b(convention)))
    for name, value in (("height", height), ("width", width), ("steps", steps),
                        ("prompts", prompts)):
        _positive(name, value)
    m = _model(model, arch, from_diffusers)
    try:
        req = _lib.Request(height, width, steps, prompts, 1 if cfg else 0, text_tokens)
        f = _lib.Flops()
        _check(lib.esl_flops_count(byref(f), m, byref(req), conv.value))
        return {
            "model": m.contents.name.decode(), "height": height, "width": width,
            "steps": steps, "cfg": bool(cfg), "prompts": prompts,
            "convention": "paper" if f.convention == _lib.CONVENTION_PAPER else "exact",
            "text_tokens": text_tokens if text_tokens > 0 else m.contents.text_tokens,
            "text_flops": f.text_flops, "denoise_flops_per_step": f.denoise_flops_per_step,
            "decode_flops": f.decode_flops, "image_flops": f.image_flops,
            "total_flops": _count(f.total_flops), "flops_cfg": _count(f.flops_cfg),
        }
    finally:
        lib.esl_model_free(m)


class Law:
    """An energy law (esl/law.h): built in, read from a file, or fitted."""

    def __init__(self, ptr, origin, builtin=False):
        self._ptr = ptr
        self.origin = origin
        self._builtin = builtin

    def __del__(self):
        ptr = getattr(self, "_ptr", None)
        if ptr:
            lib.esl_law_free(ptr)
            self._ptr = None

    @property
    def form(self):
        """The law's form: "by-kind", "paper", "per-image" or "roofline"."""
        return self._ptr.contents.form.decode()

    @property
    def convention(self):
        return "paper" if self._ptr.contents.convention == _lib.CONVENTION_PAPER else "exact"

    @classmethod
    def builtin(cls, form=None):
        """The law `esl predict` uses without --law: fitted on the shipped
        data, in `form` (None: the default form, by-kind)."""
        ptr = ctypes.POINTER(_lib.Law)()
        _check(lib.esl_law_builtin(byref(ptr), _lib.CONVENTION_PAPER, _b(form)))
        return cls(ptr, None, builtin=True)

    @classmethod
    def load(cls, path):
        """Read a law file written by ``esl fit -o`` or :meth:`save`."""
        ptr = ctypes.POINTER(_lib.Law)()
        _check(lib.esl_law_load(byref(ptr), _b(path)))
        return cls(ptr, str(path))

    @classmethod
    def fit(cls, data, *, form=None, where=None, convention="paper"):
        """Fit a law on one dataset file or a list of them (CSV, docs/data-format.md),
        rows filtered by `where` ("model=flux-dev", as ``esl fit --where``)."""
        paths = [data] if isinstance(data, (str, os.PathLike)) else list(data)
        if not paths:
            raise ValueError("fit: no dataset given")
        if form is not None and not lib.esl_law_form_known(_b(form)):
            raise ValueError(f"fit: unknown form '{form}' (forms: "
                             f"{lib.esl_law_forms().decode()})")
        conv = c_int()
        _check(lib.esl_convention_parse(byref(conv), _b(convention)))
        opts = _lib.DataOpts(conv.value, None, 0)
        ds = ctypes.POINTER(_lib.Dataset)()
        _check(lib.esl_dataset_load(byref(ds), _b(paths[0]), byref(opts)))
        try:
            for path in paths[1:]:
                more = ctypes.POINTER(_lib.Dataset)()
                _check(lib.esl_dataset_load(byref(more), _b(path), byref(opts)))
                try:
                    for i in range(more.contents.n_rows):
                        _check(lib.esl_dataset_append(ds, byref(more.contents.rows[i])))
                finally:
                    lib.esl_dataset_free(more)
            if where is not None:
                kept = ctypes.POINTER(_lib.Dataset)()
                _check(lib.esl_dataset_where(byref(kept), ds, _b(where)))
                lib.esl_dataset_free(ds)
                ds = kept
            fopts = _lib.FitOpts()
            fopts.form = _b(form)
            ptr = ctypes.POINTER(_lib.Law)()
            _check(lib.esl_law_fit(byref(ptr), ds, byref(fopts)))
            return cls(ptr, None)
        finally:
            lib.esl_dataset_free(ds)

    @property
    def hash(self):
        """The law's fingerprint, as ``law_hash`` of ``esl predict --format json``."""
        buf = ctypes.create_string_buffer(32)
        _check(lib.esl_law_hash(buf, len(buf), self._ptr))
        return buf.value.decode()

    @property
    def training_rows(self):
        """How many dataset rows the law was fitted on."""
        if not hasattr(self, "_rows"):
            import json
            self._rows = json.loads(self.to_json())["training"]["rows"]
        return self._rows

    @property
    def description(self):
        """What ``esl predict`` calls this law: its file, or the built-in law's form and data."""
        if self.origin is not None:
            return self.origin
        if self._builtin:  # the library's words for it (esl_provenance_of)
            return _provenance(self, None, None)["law"]
        return f"fitted in Python, {self.form} form"

    def to_json(self):
        """The law file's text (docs/law-format.md): numbers read back bit for bit."""
        text = c_void_p()
        _check(lib.esl_law_to_json(byref(text), self._ptr))
        try:
            return ctypes.string_at(text.value).decode()
        finally:
            _lib.free(text)

    def save(self, path):
        """Write the law file `path` (read back by :meth:`load` and ``esl predict --law``)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json())

    def predict(self, **kwargs):
        """:func:`predict` with this law."""
        return predict(law=self, **kwargs)

    def __repr__(self):
        return f"<esl.Law form={self.form!r} origin={self.origin!r}>"


_builtin_laws = {}

def _extrap_names():
    """The names of the ESL_EXTRAP_* bits, in bit order (esl_extrap_name)."""
    names, bit = [], 1
    while (name := lib.esl_extrap_name(bit)) is not None:
        names.append(name.decode())
        bit <<= 1
    return tuple(names)


_EXTRAP = _extrap_names()


def _finite(x):
    return x if math.isfinite(x) else None


def _provenance(the_law, g, grid):
    """The keys of esl_provenance_of, as ``esl predict --format json`` prints them."""
    pv = _lib.Provenance()
    name = None if the_law._builtin else _b(the_law.description)  # pv.law points into it
    lib.esl_provenance_of(byref(pv), the_law._ptr, name,
                          byref(g) if g is not None else None,
                          float(grid) if grid is not None else math.nan)
    text = (lambda b: b.decode() if b is not None else None)
    return {
        "esl_version": text(pv.esl_version), "law": text(pv.law), "law_form": text(pv.law_form),
        "law_hash": pv.law_hash.decode() or None, "law_training_rows": pv.law_training_rows,
        "zone": text(pv.zone),
        "grid_gco2e_per_kwh": pv.grid_gco2e_per_kwh if math.isfinite(pv.grid_gco2e_per_kwh)
        else None,
        "grid_year": pv.grid_year or None, "grid_source": text(pv.grid_source),
    }


def _law_of(law, form):
    if isinstance(law, Law):
        if form is not None:
            raise ValueError("predict: form= picks the built-in law's form; a law has its own")
        return law
    if law is not None:
        if form is not None:
            raise ValueError("predict: form= picks the built-in law's form; a law file has its own")
        return Law.load(law)
    if form is not None and not lib.esl_law_form_known(_b(form)):
        raise ValueError(f"predict: unknown form '{form}' (forms: {lib.esl_law_forms().decode()})")
    if form not in _builtin_laws:
        _builtin_laws[form] = Law.builtin(form)
    return _builtin_laws[form]


def predict(model=None, *, height, width, steps=50, cfg=False, dtype="fp16", gpu="A100",
            prompts=1, batch=1, gpus=1, law=None, form=None, zone=None, grid=None, pue=1.0,
            price=None, rate=None, arch=None, from_diffusers=None):
    """The energy of generating `prompts` images of one configuration, as
    ``esl predict --format json`` prints it: the same keys in the same order
    and the same numbers.

    law: None (the built-in law, `form` picks its form), a :class:`Law`, or
    a law file's path. zone (a grid zone, ``esl predict --zone list``) or
    grid (gCO2e per kWh) adds ``gco2e``; price (per kWh) adds ``cost``; rate
    (images per second) adds a ``fleet`` dict. Energies are joules of all
    `prompts` images: ``energy_j`` dynamic (above idle), ``total_j`` with
    idle power over the predicted time. Unknown values are None.
    """
    for name, value, limit in (("height", height, None), ("width", width, None),
                               ("steps", steps, None), ("prompts", prompts, None),
                               ("batch", batch, 4096), ("gpus", gpus, 1024)):
        _positive(name, value, limit)
    if zone is not None and grid is not None:
        raise ValueError("predict: give grid= or zone=, not both")
    if not 1.0 <= pue <= 10.0:
        raise ValueError(f"predict: pue {pue!r} is not between 1 and 10")
    grid_g = 0.0 if grid is None else float(grid)
    g = None
    if zone is not None:
        g = _lib.Grid()
        _check(lib.esl_grid_find(byref(g), _b(zone)))
        grid_g = g.gco2e_per_kwh
    the_law = _law_of(law, form)
    m = _model(model, arch, from_diffusers)
    try:
        row = _lib.Row()
        row.model = m.contents.name
        row.gpu = _b(gpu)
        row.dtype = _b(dtype)
        row.cfg = 1 if cfg else 0
        row.height, row.width, row.steps, row.prompts = height, width, steps, prompts
        row.batch_size, row.num_gpus = batch, gpus
        _check(lib.esl_row_set_work(byref(row), m, the_law._ptr.contents.convention))
        p = _lib.Prediction()
        _check(lib.esl_law_predict(byref(p), the_law._ptr, byref(row), None))
        fp = _lib.Footprint()
        paid_j = p.total_j if math.isfinite(p.total_j) else p.energy_j
        price_v = 0.0 if price is None else float(price)
        lib.esl_footprint_of(byref(fp), paid_j, float(pue), grid_g, price_v)
        n = float(prompts)
        out = {
            "model": row.model.decode(), "gpu": gpu, "dtype": dtype, "cfg": bool(cfg),
            "height": height, "width": width, "steps": steps, "prompts": prompts,
            "flops_cfg": row.flops_cfg, "energy_j": p.energy_j, "energy_lo_j": p.lo_j,
            "energy_hi_j": p.hi_j, "interval_pct": 95,
            "wh_per_image": p.energy_j / 3600.0 / n, "kwh_total": p.energy_j / 3.6e6,
            "energy_kind": "dynamic",
            "time_s": _finite(p.time_s), "time_lo_s": _finite(p.time_lo_s),
            "time_hi_s": _finite(p.time_hi_s), "time_per_image_s": _finite(p.time_s / n),
            "images_per_hour_per_gpu": _finite(3600.0 * n / p.time_s) if p.time_s else None,
            "idle_w": _finite(p.idle_w), "total_j": _finite(p.total_j),
            "total_lo_j": _finite(p.total_lo_j), "total_hi_j": _finite(p.total_hi_j),
            "time_extrapolated": [x for i, x in enumerate(_EXTRAP)
                                  if math.isfinite(p.time_s) and p.time_extrapolated & (1 << i)],
            "pue": float(pue),
            "gco2e": fp.gco2e if (grid is not None or zone is not None) else None,
            "cost": fp.cost if price is not None else None,
            "extrapolated": [x for i, x in enumerate(_EXTRAP) if p.extrapolated & (1 << i)],
            # provenance, after the prediction's own keys (esl_provenance_of)
            **_provenance(the_law, g, grid),
        }
        if rate is not None:
            if not math.isfinite(p.time_s):
                raise ValueError("predict: rate= needs a time per image: the law was trained "
                                 "on no row with a duration (docs/law.md)")
            f = _lib.Fleet()
            _check(lib.esl_fleet_plan(byref(f), float(rate), n, p.time_s, p.energy_j,
                                      p.idle_w if math.isfinite(p.idle_w) else 0.0, gpus,
                                      float(pue), grid_g, price_v))
            out["fleet"] = {
                "rate_images_per_s": float(rate), "gpus": f.gpus, "sets": f.sets,
                "set_images_per_s": f.set_images_per_s, "utilisation": f.utilisation,
                "kwh_per_day": f.kwh_per_day,
                "tco2e_per_year": f.tco2e_per_year if (grid is not None or zone is not None)
                else None,
                "cost_per_day": f.cost_per_day if price is not None else None,
            }
        return out
    finally:
        lib.esl_model_free(m)


from ._window import Window, window  # noqa: E402  (needs _raise, defined above)
