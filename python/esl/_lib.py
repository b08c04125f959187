"""Loading libesl and declaring the part of its C API the package calls.

The declarations below are written from include/esl/*.h and must follow
them field for field: ctypes has no header parser. Only what the package
uses is declared; structures the package only points at (a law, a model, a
meter, a store) are declared up to the last field it reads. The tests
compare every number with the esl tool's JSON, so a header change that is
not carried over here fails them.
"""

import ctypes
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint, c_void_p)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_REPO_DIR = os.path.dirname(os.path.dirname(_PACKAGE_DIR))


def _candidates():
    """Where libesl may be, in the order tried (docs/python.md)."""
    env = os.environ.get("ESL_LIBRARY")
    if env:
        yield env
        return
    build = os.environ.get("ESL_BUILD_DIR")
    if build:
        yield os.path.join(build, "lib", "libesl.so")
    yield os.path.join(_REPO_DIR, "build", "lib", "libesl.so")
    yield "libesl.so.0"  # installed (cmake --install), on the loader's path


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("esl: cannot load libesl (build it with scripts/bootstrap, or set "
                      "ESL_LIBRARY to the library's path): " + "; ".join(errors))


lib = _load()

# esl/error.h
STATUS_NAMES = {0: "ok", 1: "einval", 2: "enomem", 3: "eio", 4: "eparse", 5: "erange",
                6: "enotfound", 7: "enodev", 8: "enumeric", 9: "eunsupported", 10: "estore",
                11: "edevice"}

# esl/flops.h
CONVENTION_PAPER, CONVENTION_EXACT = 0, 1


class Request(Structure):
    _fields_ = [("height", c_int64), ("width", c_int64), ("steps", c_int64),
                ("prompts", c_int64), ("cfg", c_int), ("text_tokens", c_int64)]


class Flops(Structure):
    _fields_ = [("convention", c_int), ("text_flops", c_int64),
                ("denoise_flops_per_step", c_int64), ("decode_flops", c_int64),
                ("image_flops", c_int64), ("total_flops", c_double), ("flops_cfg", c_double)]


# esl/model.h: the leading fields only (the package reads the name)
class Model(Structure):
    _fields_ = [("name", c_char_p), ("display_name", c_char_p), ("family", c_char_p),
                ("source", c_char_p), ("origin", c_char_p), ("latent_factor", c_int64),
                ("latent_channels", c_int64), ("patch", c_int64), ("text_tokens", c_int64)]


# esl/data.h
ROW_ENERGY = 1 << 0


class Row(Structure):
    _fields_ = [("model", c_char_p), ("gpu", c_char_p), ("dtype", c_char_p), ("cfg", c_int),
                ("height", c_int64), ("width", c_int64), ("steps", c_int64),
                ("prompts", c_int64), ("batch_size", c_int64), ("num_gpus", c_int64),
                ("energy_j", c_double), ("energy_kind", c_int), ("duration_s", c_double),
                ("idle_w", c_double), ("source", c_char_p), ("present", c_uint),
                ("flops_cfg", c_double), ("text_flops", c_double), ("denoise_flops", c_double),
                ("decode_flops", c_double), ("denoise_params", c_double),
                ("denoise_ops", c_double), ("denoise_attn_share", c_double),
                ("cfg_batched", c_int), ("flops_exact", c_int),
                ("plan_linear_flops", c_double), ("plan_attn_flops", c_double),
                ("plan_conv_flops", c_double), ("plan_misc_flops", c_double),
                ("plan_text_flops", c_double), ("plan_decode_flops", c_double),
                ("line", c_int64)]


class DataOpts(Structure):
    _fields_ = [("convention", c_int), ("arch", c_void_p), ("no_energy", c_int)]


class Dataset(Structure):
    _fields_ = [("rows", POINTER(Row)), ("n_rows", c_size_t), ("cap", c_size_t),
                ("origin", c_char_p), ("convention", c_int)]


# esl/law.h: the leading fields of esl_law only
class Law(Structure):
    _fields_ = [("form", c_char_p), ("convention", c_int)]


class FitOpts(Structure):
    _fields_ = [("terms", c_uint), ("method", c_int), ("baseline_gpu", c_char_p),
                ("baseline_dtype", c_char_p), ("form", c_char_p), ("max_iter", c_size_t),
                ("no_between", c_int), ("response", c_int)]


class Prediction(Structure):
    _fields_ = [("energy_j", c_double), ("lo_j", c_double), ("hi_j", c_double),
                ("ln_kwh", c_double), ("se_fit", c_double), ("se_pred", c_double),
                ("extrapolated", c_uint), ("time_s", c_double), ("time_lo_s", c_double),
                ("time_hi_s", c_double), ("idle_w", c_double), ("total_j", c_double),
                ("total_lo_j", c_double), ("total_hi_j", c_double),
                ("time_extrapolated", c_uint)]


# esl/carbon.h
class Grid(Structure):
    _fields_ = [("zone", c_char * 16), ("name", c_char * 64), ("gco2e_per_kwh", c_double),
                ("year", c_int)]


class Footprint(Structure):
    _fields_ = [("facility_energy_j", c_double), ("gco2e", c_double), ("cost", c_double)]


class Provenance(Structure):
    _fields_ = [("esl_version", c_char_p), ("law", c_char_p), ("law_form", c_char_p),
                ("law_hash", c_char * 32), ("law_training_rows", c_size_t), ("zone", c_char_p),
                ("grid_gco2e_per_kwh", c_double), ("grid_year", c_int), ("grid_source", c_char_p),
                ("builtin_name", c_char * 96)]


class Fleet(Structure):
    _fields_ = [("set_images_per_s", c_double), ("sets", c_int64), ("gpus", c_int64),
                ("utilisation", c_double), ("kwh_per_day", c_double),
                ("tco2e_per_year", c_double), ("cost_per_day", c_double)]


# esl/meter.h
METER_KINDS = {"nvml": 0, "rapl": 1, "replay": 2}


class DeviceInfo(Structure):
    _fields_ = [("index", c_int), ("name", c_char * 96), ("uuid", c_char * 96),
                ("pci_bus_id", c_char * 32), ("power_limit_w", c_double),
                ("update_interval_s", c_double), ("counter_period_s", c_double),
                ("caps", c_uint)]


class DeviceRecord(Structure):
    _fields_ = [("info", DeviceInfo), ("energy_j", c_double), ("counter_j", c_double),
                ("integrated_j", c_double), ("idle_w", c_double), ("dynamic_j", c_double),
                ("avg_power_w", c_double), ("peak_power_w", c_double), ("flags", c_uint),
                ("duration_s", c_double)]


class Record(Structure):
    _fields_ = [("meter", c_int), ("driver_version", c_char * 80),
                ("nvml_version", c_char * 80), ("start_unix_s", c_double),
                ("duration_s", c_double), ("energy_j", c_double), ("idle_w", c_double),
                ("dynamic_j", c_double), ("avg_power_w", c_double), ("peak_power_w", c_double),
                ("flags", c_uint), ("n_devices", c_size_t), ("devices", POINTER(DeviceRecord)),
                ("n_samples", c_size_t), ("samples", c_void_p)]


class MeterOpts(Structure):
    _fields_ = [("kind", c_int), ("gpus", c_char_p), ("hz", c_double), ("library", c_char_p),
                ("replay_path", c_char_p), ("powercap_root", c_char_p),
                ("no_align", c_int), ("idle_lenient", c_int)]


# esl/store.h
class Label(Structure):
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class Run(Structure):
    _fields_ = [("id", c_int64), ("started", c_char_p), ("command", c_char_p),
                ("exit_status", c_int), ("n_labels", c_size_t), ("labels", POINTER(Label)),
                ("record", POINTER(Record)), ("uuid", c_char_p)]


def _decl(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_decl("esl_version", c_char_p)
_decl("esl_strerror", c_char_p, c_int)
_decl("esl_error_last", c_char_p)
_decl("esl_error_clear", None)
_decl("esl_convention_parse", c_int, POINTER(c_int), c_char_p)
_decl("esl_catalog_find", c_int, POINTER(POINTER(Model)), c_char_p)
_decl("esl_model_load", c_int, POINTER(POINTER(Model)), c_char_p)
_decl("esl_model_from_diffusers", c_int, POINTER(POINTER(Model)), c_char_p, c_char_p)
_decl("esl_model_free", None, POINTER(Model))
_decl("esl_flops_count", c_int, POINTER(Flops), POINTER(Model), POINTER(Request), c_int)
_decl("esl_row_set_work", c_int, POINTER(Row), POINTER(Model), c_int)
_decl("esl_dataset_load", c_int, POINTER(POINTER(Dataset)), c_char_p, POINTER(DataOpts))
_decl("esl_dataset_append", c_int, POINTER(Dataset), POINTER(Row))
_decl("esl_dataset_where", c_int, POINTER(POINTER(Dataset)), POINTER(Dataset), c_char_p)
_decl("esl_dataset_free", None, POINTER(Dataset))
_decl("esl_law_form_known", c_int, c_char_p)
_decl("esl_law_forms", c_char_p)
_decl("esl_law_fit", c_int, POINTER(POINTER(Law)), POINTER(Dataset), POINTER(FitOpts))
_decl("esl_law_builtin", c_int, POINTER(POINTER(Law)), c_int, c_char_p)
_decl("esl_law_load", c_int, POINTER(POINTER(Law)), c_char_p)
_decl("esl_law_parse", c_int, POINTER(POINTER(Law)), c_char_p, c_size_t, c_char_p)
_decl("esl_law_to_json", c_int, POINTER(c_void_p), POINTER(Law))
_decl("esl_law_free", None, POINTER(Law))
_decl("esl_law_hash", c_int, c_char_p, c_size_t, POINTER(Law))
_decl("esl_extrap_name", c_char_p, c_uint)
_decl("esl_provenance_of", None, POINTER(Provenance), POINTER(Law), c_char_p, POINTER(Grid),
      c_double)
_decl("esl_law_predict", c_int, POINTER(Prediction), POINTER(Law), POINTER(Row), c_void_p)
_decl("esl_grid_find", c_int, POINTER(Grid), c_char_p)
_decl("esl_footprint_of", None, POINTER(Footprint), c_double, c_double, c_double, c_double)
_decl("esl_fleet_plan", c_int, POINTER(Fleet), c_double, c_double, c_double, c_double,
      c_double, c_int64, c_double, c_double, c_double)
_decl("esl_meter_open", c_int, POINTER(c_void_p), POINTER(MeterOpts))
_decl("esl_meter_close", None, c_void_p)
_decl("esl_meter_measure_idle", c_int, c_void_p, c_double)
_decl("esl_meter_set_idle", c_int, c_void_p, c_double)
_decl("esl_window_begin", c_int, c_void_p)
_decl("esl_window_end", c_int, c_void_p, POINTER(POINTER(Record)))
_decl("esl_record_free", None, POINTER(Record))
_decl("esl_flags_string", c_char_p, c_char_p, c_size_t, c_uint)
_decl("esl_store_open", c_int, POINTER(c_void_p), c_char_p)
_decl("esl_store_open_readonly", c_int, POINTER(c_void_p), c_char_p)
_decl("esl_store_close", None, c_void_p)
_decl("esl_store_list", c_int, c_void_p, POINTER(POINTER(Run)), POINTER(c_size_t),
      POINTER(Label), c_size_t)
_decl("esl_runs_free", None, POINTER(Run), c_size_t)
_decl("esl_store_put", c_int, c_void_p, POINTER(c_int64), POINTER(Record), c_char_p, c_int,
      POINTER(Label), c_size_t)

# free() as libesl sees it (the process's own, already loaded), for the
# strings libesl hands over (esl_law_to_json).
free = ctypes.CDLL(None).free
free.restype = None
free.argtypes = [c_void_p]
