/*
 * nvml.c - the NVML meter: NVIDIA GPUs through libnvidia-ml loaded with
 * dlopen at run time, so that esl builds and runs where no driver exists.
 *
 * Symbols are split in two. Required ones (init, count, handle, name, power
 * usage, error strings) must all be present or the meter refuses to open,
 * naming the missing symbol. Optional ones become capability bits, probed
 * per device (any failure of a probe means "not available", never a refusal
 * to open), and the meter falls back in a fixed order: energy from the
 * total-energy counter (Volta and newer), else the trapezoid of the power
 * trace, which uses the instantaneous power field where the driver has it,
 * else nvmlDeviceGetPowerUsage. The `_v2` entry points are used where NVML
 * has them. Which devices are metered is resolved as CUDA numbers them
 * (visible.c), by PCI bus id and UUID. Every failing call is reported with
 * its name and nvmlErrorString's text; NVML_ERROR_GPU_IS_LOST and
 * NVML_ERROR_UNINITIALIZED end the window, flagged; an optional reading that
 * fails is left NaN. NVML's mW and mJ become W and J here and nowhere else.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "meter/meter_internal.h"
#include "meter/nvml_api.h"
#include "meter/stub_clock.h"

/* How often the energy counter and power readings advance. NVIDIA documents
 * no figure; about 100 ms is what the counter shows on Volta to Hopper, so a
 * shorter window is flagged too-short rather than trusted. */
#define NVML_UPDATE_INTERVAL_S 0.1

typedef struct nvml_lib {
    void *handle;
    /* required */
    nvmlInit_v2_fn init;
    nvmlShutdown_fn shutdown;
    nvmlErrorString_fn error_string;
    nvmlDeviceGetCount_v2_fn get_count;
    nvmlDeviceGetHandleByIndex_v2_fn get_handle;
    nvmlDeviceGetName_fn get_name;
    nvmlDeviceGetPowerUsage_fn get_power;
    /* optional */
    nvmlDeviceGetTotalEnergyConsumption_fn get_energy;
    nvmlDeviceGetFieldValues_fn get_fields;
    nvmlDeviceGetClockInfo_fn get_clock;
    nvmlDeviceGetTemperature_fn get_temperature;
    nvmlDeviceGetUtilizationRates_fn get_utilization;
    nvmlDeviceGetUUID_fn get_uuid;
    nvmlDeviceGetPciInfo_v3_fn get_pci;
    nvmlDeviceGetPowerManagementLimit_fn get_power_limit;
    nvmlDeviceGetMigMode_fn get_mig_mode;
    nvmlDeviceGetComputeRunningProcesses_v3_fn get_processes;
    nvmlSystemGetDriverVersion_fn get_driver_version;
    nvmlSystemGetNVMLVersion_fn get_nvml_version;
    bool initialised;
    nvmlDevice_t *devices; /* one handle per measured device */
} nvml_lib;

/* The single place where NVML's units become esl's. */
static double mw_to_w(double mw) { return mw * 1e-3; }
static double mj_to_j(double mj) { return mj * 1e-3; }

/* Report a failed NVML call: its name, NVML's text, and which device. */
static int nvml_fail(const nvml_lib *lib, int status, const char *call, int device, nvmlReturn_t r)
{
    const char *text = lib->error_string != NULL ? lib->error_string(r) : NULL;
    if (device >= 0)
        return esl__fail(status, "gpu %d: %s failed: %s (NVML error %d)", device, call,
                         text ? text : "unknown error", (int)r);
    return esl__fail(status, "%s failed: %s (NVML error %d)", call, text ? text : "unknown error",
                     (int)r);
}

/* Resolve a symbol; required ones that are missing fail with their name. */
#define NVML_SYM(lib, field, name, required, path)                                           \
    do {                                                                                     \
        *(void **)(&(lib)->field) = dlsym((lib)->handle, name);                              \
        if ((required) && (lib)->field == NULL)                                              \
            return esl__fail(ESL_EUNSUPPORTED, "%s: required NVML symbol '%s' is missing",   \
                             path, name);                                                    \
    } while (0)

static int load_symbols(nvml_lib *lib, const char *path)
{
    NVML_SYM(lib, error_string, "nvmlErrorString", true, path);
    NVML_SYM(lib, init, "nvmlInit_v2", true, path);
    NVML_SYM(lib, shutdown, "nvmlShutdown", true, path);
    NVML_SYM(lib, get_count, "nvmlDeviceGetCount_v2", true, path);
    NVML_SYM(lib, get_handle, "nvmlDeviceGetHandleByIndex_v2", true, path);
    NVML_SYM(lib, get_name, "nvmlDeviceGetName", true, path);
    NVML_SYM(lib, get_power, "nvmlDeviceGetPowerUsage", true, path);
    NVML_SYM(lib, get_energy, "nvmlDeviceGetTotalEnergyConsumption", false, path);
    NVML_SYM(lib, get_fields, "nvmlDeviceGetFieldValues", false, path);
    NVML_SYM(lib, get_clock, "nvmlDeviceGetClockInfo", false, path);
    NVML_SYM(lib, get_temperature, "nvmlDeviceGetTemperature", false, path);
    NVML_SYM(lib, get_utilization, "nvmlDeviceGetUtilizationRates", false, path);
    NVML_SYM(lib, get_uuid, "nvmlDeviceGetUUID", false, path);
    NVML_SYM(lib, get_pci, "nvmlDeviceGetPciInfo_v3", false, path);
    NVML_SYM(lib, get_power_limit, "nvmlDeviceGetPowerManagementLimit", false, path);
    NVML_SYM(lib, get_mig_mode, "nvmlDeviceGetMigMode", false, path);
    NVML_SYM(lib, get_processes, "nvmlDeviceGetComputeRunningProcesses_v3", false, path);
    NVML_SYM(lib, get_driver_version, "nvmlSystemGetDriverVersion", false, path);
    NVML_SYM(lib, get_nvml_version, "nvmlSystemGetNVMLVersion", false, path);
    return ESL_OK;
}

static int load_library(nvml_lib *lib, const esl_meter_opts *opts, const char **used)
{
    const char *path = opts->library;
    if (path == NULL || path[0] == '\0')
        path = getenv("ESL_NVML_LIBRARY");
    if (path != NULL && path[0] != '\0') {
        lib->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (lib->handle == NULL)
            return esl__fail(ESL_ENODEV, "no NVIDIA driver: cannot load '%s': %s", path, dlerror());
        *used = path;
        return load_symbols(lib, path);
    }
    static const char *const names[] = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
    for (size_t i = 0; i < 2; i++) {
        lib->handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib->handle != NULL) {
            *used = names[i];
            return load_symbols(lib, names[i]);
        }
    }
    return esl__fail(ESL_ENODEV, "no NVIDIA driver: neither libnvidia-ml.so.1 nor libnvidia-ml.so "
                                 "can be loaded");
}

/* The instantaneous power field as watts, or NaN. */
static double field_power_w(const nvmlFieldValue_t *f)
{
    if (f->nvmlReturn != NVML_SUCCESS)
        return NAN;
    switch (f->valueType) {
    case NVML_VALUE_TYPE_DOUBLE: return mw_to_w(f->value.dVal);
    case NVML_VALUE_TYPE_UNSIGNED_INT: return mw_to_w((double)f->value.uiVal);
    case NVML_VALUE_TYPE_UNSIGNED_LONG: return mw_to_w((double)f->value.ulVal);
    case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: return mw_to_w((double)f->value.ullVal);
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG: return mw_to_w((double)f->value.sllVal);
    case NVML_VALUE_TYPE_SIGNED_INT: return mw_to_w((double)f->value.siVal);
    }
    return NAN;
}

/* Probe one optional reading: it is available only when it answers. Any
 * other answer (not supported, no permission, or a code this driver should
 * not give) leaves it out rather than refusing to meter the device; a lost
 * GPU still fails. */
static int probe(const nvml_lib *lib, nvmlReturn_t r, const char *call, int index, unsigned cap,
                 unsigned *caps)
{
    if (r == NVML_SUCCESS)
        *caps |= cap;
    if (r == NVML_ERROR_GPU_IS_LOST)
        return nvml_fail(lib, ESL_EDEVICE, call, index, r);
    return ESL_OK;
}

static int describe(nvml_lib *lib, nvmlDevice_t dev, unsigned index, esl_device_info *d)
{
    nvmlReturn_t r;
    int rc;
    d->index = (int)index;
    d->update_interval_s = NVML_UPDATE_INTERVAL_S;
    d->counter_period_s = NAN;
    if ((r = lib->get_name(dev, d->name, sizeof d->name)) != NVML_SUCCESS)
        return nvml_fail(lib, ESL_EDEVICE, "nvmlDeviceGetName", (int)index, r);
    unsigned int mw;
    if ((r = lib->get_power(dev, &mw)) != NVML_SUCCESS)
        return nvml_fail(lib, ESL_EDEVICE, "nvmlDeviceGetPowerUsage", (int)index, r);
    d->caps |= ESL_CAP_POWER;
    if (lib->get_energy != NULL) {
        unsigned long long mj;
        if ((rc = probe(lib, lib->get_energy(dev, &mj), "nvmlDeviceGetTotalEnergyConsumption",
                        (int)index, ESL_CAP_ENERGY_COUNTER, &d->caps)) != ESL_OK)
            return rc;
    }
    if (lib->get_fields != NULL) {
        nvmlFieldValue_t f = {0};
        f.fieldId = NVML_FI_DEV_POWER_INSTANT;
        if ((rc = probe(lib, lib->get_fields(dev, 1, &f), "nvmlDeviceGetFieldValues", (int)index,
                        0, &d->caps)) != ESL_OK)
            return rc;
        if (!isnan(field_power_w(&f)))
            d->caps |= ESL_CAP_POWER_INSTANT;
    }
    unsigned int u;
    if (lib->get_clock != NULL &&
        (rc = probe(lib, lib->get_clock(dev, NVML_CLOCK_SM, &u), "nvmlDeviceGetClockInfo",
                    (int)index, ESL_CAP_SM_CLOCK, &d->caps)) != ESL_OK)
        return rc;
    if (lib->get_temperature != NULL &&
        (rc = probe(lib, lib->get_temperature(dev, NVML_TEMPERATURE_GPU, &u),
                    "nvmlDeviceGetTemperature", (int)index, ESL_CAP_TEMPERATURE, &d->caps)) != ESL_OK)
        return rc;
    nvmlUtilization_t util;
    if (lib->get_utilization != NULL &&
        (rc = probe(lib, lib->get_utilization(dev, &util), "nvmlDeviceGetUtilizationRates",
                    (int)index, ESL_CAP_UTILIZATION, &d->caps)) != ESL_OK)
        return rc;
    if (lib->get_uuid != NULL &&
        (rc = probe(lib, lib->get_uuid(dev, d->uuid, sizeof d->uuid), "nvmlDeviceGetUUID",
                    (int)index, ESL_CAP_UUID, &d->caps)) != ESL_OK)
        return rc;
    nvmlPciInfo_t pci;
    if (lib->get_pci != NULL) {
        memset(&pci, 0, sizeof pci);
        if ((rc = probe(lib, lib->get_pci(dev, &pci), "nvmlDeviceGetPciInfo_v3", (int)index,
                        ESL_CAP_PCI, &d->caps)) != ESL_OK)
            return rc;
        if (d->caps & ESL_CAP_PCI)
            snprintf(d->pci_bus_id, sizeof d->pci_bus_id, "%.*s", (int)sizeof pci.busId, pci.busId);
    }
    if (esl__module_scope(d->name))
        d->caps |= ESL_CAP_MODULE_SCOPE;
    if (lib->get_processes != NULL) {
        unsigned int count = 0;
        nvmlReturn_t pr = lib->get_processes(dev, &count, NULL);
        if (pr == NVML_SUCCESS || pr == NVML_ERROR_INSUFFICIENT_SIZE)
            d->caps |= ESL_CAP_PROCESSES;
    }
    if (lib->get_power_limit != NULL) {
        if ((rc = probe(lib, lib->get_power_limit(dev, &u), "nvmlDeviceGetPowerManagementLimit",
                        (int)index, ESL_CAP_POWER_LIMIT, &d->caps)) != ESL_OK)
            return rc;
        if (d->caps & ESL_CAP_POWER_LIMIT)
            d->power_limit_w = mw_to_w((double)u);
    }
    return ESL_OK;
}

/* The end of a device: lost, or NVML itself gone. */
static bool is_lost(nvmlReturn_t r)
{
    return r == NVML_ERROR_GPU_IS_LOST || r == NVML_ERROR_UNINITIALIZED;
}

static int nvml_read(esl_meter *m, size_t i, esl_sample *out, bool *lost)
{
    nvml_lib *lib = m->backend;
    nvmlDevice_t dev = lib->devices[i];
    const esl_device_info *d = &m->devices[i];
    nvmlReturn_t r;
    unsigned int u;

/* A required reading: its failure fails the read (tried again by the
 * caller), a lost GPU ends the window. */
#define NVML_CHECK(call_name, expr)                                             \
    do {                                                                        \
        if ((r = (expr)) != NVML_SUCCESS) {                                     \
            *lost = is_lost(r);                                                 \
            return nvml_fail(lib, ESL_EDEVICE, call_name, d->index, r);         \
        }                                                                       \
    } while (0)
/* An optional reading: left NaN when it fails, unless the GPU is lost. */
#define NVML_OPTIONAL(call_name, expr, on_success)                              \
    do {                                                                        \
        if ((r = (expr)) == NVML_SUCCESS) {                                     \
            on_success;                                                         \
        } else if (is_lost(r)) {                                                \
            *lost = true;                                                       \
            return nvml_fail(lib, ESL_EDEVICE, call_name, d->index, r);         \
        }                                                                       \
    } while (0)

    if (d->caps & ESL_CAP_ENERGY_COUNTER) {
        unsigned long long mj;
        NVML_CHECK("nvmlDeviceGetTotalEnergyConsumption", lib->get_energy(dev, &mj));
        out->energy_j = mj_to_j((double)mj);
    }
    NVML_CHECK("nvmlDeviceGetPowerUsage", lib->get_power(dev, &u));
    out->power_w = mw_to_w((double)u);
    if (d->caps & ESL_CAP_POWER_INSTANT) {
        nvmlFieldValue_t f = {0};
        f.fieldId = NVML_FI_DEV_POWER_INSTANT;
        NVML_OPTIONAL("nvmlDeviceGetFieldValues", lib->get_fields(dev, 1, &f),
                      out->power_instant_w = field_power_w(&f));
        if (f.nvmlReturn == NVML_ERROR_GPU_IS_LOST)
            NVML_CHECK("nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_INSTANT)", f.nvmlReturn);
    }
    if (d->caps & ESL_CAP_SM_CLOCK)
        NVML_OPTIONAL("nvmlDeviceGetClockInfo", lib->get_clock(dev, NVML_CLOCK_SM, &u),
                      out->sm_clock_mhz = (double)u);
    if (d->caps & ESL_CAP_TEMPERATURE)
        NVML_OPTIONAL("nvmlDeviceGetTemperature",
                      lib->get_temperature(dev, NVML_TEMPERATURE_GPU, &u),
                      out->temperature_c = (double)u);
    if (d->caps & ESL_CAP_UTILIZATION) {
        nvmlUtilization_t util;
        NVML_OPTIONAL("nvmlDeviceGetUtilizationRates", lib->get_utilization(dev, &util),
                      out->utilization_pct = (double)util.gpu);
    }
#undef NVML_CHECK
#undef NVML_OPTIONAL
    return ESL_OK;
}

static int nvml_read_energy(esl_meter *m, size_t i, double *joules, bool *lost)
{
    nvml_lib *lib = m->backend;
    unsigned long long mj;
    nvmlReturn_t r = lib->get_energy(lib->devices[i], &mj);
    if (r != NVML_SUCCESS) {
        *lost = is_lost(r);
        return nvml_fail(lib, ESL_EDEVICE, "nvmlDeviceGetTotalEnergyConsumption",
                         m->devices[i].index, r);
    }
    *joules = mj_to_j((double)mj);
    return ESL_OK;
}

/* Processes other than this one with a context on the device. */
static int nvml_others(esl_meter *m, size_t i, int *count)
{
    nvml_lib *lib = m->backend;
    *count = -1;
    if (!(m->devices[i].caps & ESL_CAP_PROCESSES))
        return ESL_OK;
    nvmlProcessInfo_t infos[64];
    unsigned int n = 64;
    nvmlReturn_t r = lib->get_processes(lib->devices[i], &n, infos);
    if (r == NVML_ERROR_INSUFFICIENT_SIZE) { /* more than 64: surely busy */
        *count = (int)n;
        return ESL_OK;
    }
    if (r != NVML_SUCCESS)
        return ESL_OK;
    int others = 0;
    for (unsigned int k = 0; k < n && k < 64; k++)
        if (infos[k].pid != (unsigned int)getpid())
            others++;
    *count = others;
    return ESL_OK;
}

static void nvml_close(esl_meter *m)
{
    nvml_lib *lib = m->backend;
    if (lib == NULL)
        return;
    if (lib->initialised)
        lib->shutdown();
    if (lib->handle != NULL)
        dlclose(lib->handle);
    free(lib->devices);
    free(lib);
    m->backend = NULL;
}

static const esl__meter_ops nvml_ops = {nvml_read, nvml_read_energy, nvml_others, NULL, NULL,
                                        nvml_close};

/* What NVML says of every GPU: enough to resolve a selection. A GPU that
 * does not answer keeps empty ids here; should it be selected, describing
 * it names the failing call. */
static int enumerate(nvml_lib *lib, unsigned count, esl__gpu_id *ids)
{
    for (unsigned i = 0; i < count; i++) {
        nvmlDevice_t dev;
        esl__gpu_id *g = &ids[i];
        g->nvml_index = i;
        if (lib->get_handle(i, &dev) != NVML_SUCCESS)
            continue;
        if (lib->get_name(dev, g->name, sizeof g->name) != NVML_SUCCESS)
            g->name[0] = '\0';
        if (lib->get_uuid != NULL && lib->get_uuid(dev, g->uuid, sizeof g->uuid) != NVML_SUCCESS)
            g->uuid[0] = '\0';
        nvmlPciInfo_t pci;
        memset(&pci, 0, sizeof pci);
        if (lib->get_pci != NULL && lib->get_pci(dev, &pci) == NVML_SUCCESS)
            snprintf(g->pci_bus_id, sizeof g->pci_bus_id, "%.*s", (int)sizeof pci.busId, pci.busId);
        unsigned int current = 0, pending = 0;
        if (lib->get_mig_mode != NULL && lib->get_mig_mode(dev, &current, &pending) == NVML_SUCCESS)
            g->mig = current == NVML_DEVICE_MIG_ENABLE;
    }
    return ESL_OK;
}

int esl__nvml_open(esl_meter *m, const esl_meter_opts *opts)
{
    nvml_lib *lib = calloc(1, sizeof *lib);
    if (lib == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory opening NVML");
    m->ops = &nvml_ops;
    m->backend = lib;
    const char *path = NULL;
    int rc = load_library(lib, opts, &path);
    if (rc != ESL_OK)
        return rc;
    nvmlReturn_t r = lib->init();
    if (r != NVML_SUCCESS)
        return nvml_fail(lib, ESL_ENODEV, "nvmlInit_v2", -1, r);
    lib->initialised = true;
    /* only tests' stand-in exports a clock (stub_clock.h); NVML has none */
    esl__stub_clock_fn clock_of;
    *(void **)(&clock_of) = dlsym(lib->handle, ESL_STUB_CLOCK_SYMBOL);
    m->clock = clock_of != NULL ? clock_of() : NULL;
    unsigned count = 0;
    if ((r = lib->get_count(&count)) != NVML_SUCCESS)
        return nvml_fail(lib, ESL_ENODEV, "nvmlDeviceGetCount_v2", -1, r);
    if (count == 0)
        return esl__fail(ESL_ENODEV, "no NVIDIA GPU found (%s loaded, 0 devices)", path);
    esl__gpu_id *ids = calloc(count, sizeof *ids);
    size_t *list = calloc(count, sizeof *list);
    size_t n = 0;
    if (ids == NULL || list == NULL) {
        free(ids);
        free(list);
        return esl__fail(ESL_ENOMEM, "out of memory opening NVML");
    }
    if ((rc = enumerate(lib, count, ids)) == ESL_OK)
        rc = esl__gpu_select(ids, count, getenv("CUDA_VISIBLE_DEVICES"),
                             getenv("CUDA_DEVICE_ORDER"), opts->gpus, list, &n);
    if (rc == ESL_OK) {
        lib->devices = calloc(n ? n : 1, sizeof *lib->devices);
        m->devices = calloc(n ? n : 1, sizeof *m->devices);
        if (lib->devices == NULL || m->devices == NULL)
            rc = esl__fail(ESL_ENOMEM, "out of memory opening NVML");
    }
    for (size_t i = 0; rc == ESL_OK && i < n; i++) {
        unsigned index = ids[list[i]].nvml_index;
        if ((r = lib->get_handle(index, &lib->devices[i])) != NVML_SUCCESS) {
            rc = nvml_fail(lib, ESL_EDEVICE, "nvmlDeviceGetHandleByIndex_v2", (int)index, r);
            break;
        }
        if ((rc = describe(lib, lib->devices[i], index, &m->devices[i])) != ESL_OK)
            break;
        m->n_devices = i + 1;
    }
    free(ids);
    free(list);
    if (rc != ESL_OK)
        return rc;
    if (lib->get_driver_version != NULL &&
        (r = lib->get_driver_version(m->driver_version, sizeof m->driver_version)) != NVML_SUCCESS)
        return nvml_fail(lib, ESL_EDEVICE, "nvmlSystemGetDriverVersion", -1, r);
    if (lib->get_nvml_version != NULL &&
        (r = lib->get_nvml_version(m->nvml_version, sizeof m->nvml_version)) != NVML_SUCCESS)
        return nvml_fail(lib, ESL_EDEVICE, "nvmlSystemGetNVMLVersion", -1, r);
    return ESL_OK;
}
