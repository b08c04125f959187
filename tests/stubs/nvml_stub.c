/*
 * nvml_stub.c - a stand-in libnvidia-ml for tests: it exports the NVML
 * symbols esl uses, with power and energy scripted by environment variables,
 * so that the real NVML code path (dlopen, symbols, capabilities, sampler,
 * counter arithmetic, lost GPUs, device mapping, window edges, transient
 * errors, busy idle windows) runs on machines without a GPU.
 *
 *   ESL_STUB_GPUS=N            devices (default 1, at most 8)
 *   ESL_STUB_POWER_W=W         constant power of every device (default 200)
 *   ESL_STUB_POWERS=W,W,...    constant power per NVML index instead (a device not
 *                              listed keeps ESL_STUB_POWER_W)
 *   ESL_STUB_SCRIPT=FILE       piecewise-constant power instead: lines "t_s power_w",
 *                              each holding from t_s (since nvmlInit_v2) to the next
 *   ESL_STUB_PCI=HH,HH,...     PCI bus number (hex) per NVML index (default 18, 19, ...):
 *                              NVML's order need not be the bus order
 *   ESL_STUB_NAME=NAME         every device's name (default "Stub GPU <index>")
 *   ESL_STUB_MIG=0,1,...       MIG mode per NVML index (default off)
 *   ESL_STUB_COUNTER=stuck     the energy counter never moves
 *   ESL_STUB_COUNTER_PERIOD_S=P  the counter steps every P seconds (default 0: it is
 *                              the exact integral at every read)
 *   ESL_STUB_COUNTER_PHASE_S=F   ... at F + k P seconds after nvmlInit_v2
 *   ESL_STUB_ENERGY=unsupported  the counter reports NVML_ERROR_NOT_SUPPORTED (pre-Volta)
 *   ESL_STUB_FAIL_CALL=NAME    one reading fails now and then with NVML_ERROR_UNKNOWN:
 *                              energy, power, clock, temperature or utilization ...
 *   ESL_STUB_FAIL_EVERY=N      ... on every Nth call of it (default 1: every call)
 *   ESL_STUB_UTIL_PCT=U        the GPU utilisation every device reports (default 0)
 *   ESL_STUB_PROCS=N           N other processes hold a context on every device
 *   ESL_STUB_LOST_AFTER_S=T    from T seconds after init every device call fails
 *                              with NVML_ERROR_GPU_IS_LOST
 *   ESL_STUB_INIT_ERROR=CODE   nvmlInit_v2 returns CODE
 *   ESL_STUB_CLOCK=virtual     time is the stub's own virtual clock, not CLOCK_MONOTONIC
 *
 * The virtual clock. With ESL_STUB_CLOCK=virtual (read when the library is
 * loaded) the stub's time stands still until someone sleeps on it: the
 * exported esl_stub_clock() returns the table of lib/meter/stub_clock.h
 * (now, sleep, every), the NVML meter finds it with dlsym on the handle it
 * loaded and then reads this clock, sleeps on it (edge polling, idle
 * windows) and samples from its every() callback instead of a thread; the
 * GPU-module stub (gpu_stub.c) passes a run's loop time with sleep()
 * instead of sleeping. Every window then has the same samples, edges and
 * energy on every run, however loaded the machine, and takes no real time.
 * Without the variable esl_stub_clock() returns NULL and the stub keeps
 * CLOCK_MONOTONIC, as libnvidia-ml (which has no such symbol) does: tests
 * that meter a real child process (esl measure -- sleep 0.3) need that.
 * Nothing in the tool sets the variable; a library that is not this stub
 * cannot reach the meter's clock except by exporting the symbol itself.
 * The clock counts whole nanoseconds (no rounding drift over many sleeps),
 * is advanced by one thread at a time, and runs callbacks on that thread.
 *
 * A test that loads the stub in its own process can also change the power
 * of every device while it runs: esl_stub_set_power(W) holds W from now on.
 *
 * The counter is the integral of the power (plus an offset, as real counters
 * start at boot), taken at the last step when it steps, so a test can
 * compare esl's energy with the scripted energy. Built three times:
 * complete; without the optional symbols (STUB_NO_OPTIONAL); without
 * nvmlDeviceGetPowerUsage (STUB_NO_POWER).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <unistd.h>

#include "meter/nvml_api.h"
#include "meter/stub_clock.h"

#define STUB_API __attribute__((visibility("default")))
#define MAX_STEPS 4096
#define MAX_GPUS 8
#define COUNTER_OFFSET_MJ 1000000000ULL

STUB_API nvmlReturn_t nvmlInit_v2(void);
STUB_API nvmlReturn_t nvmlShutdown(void);
STUB_API const char *nvmlErrorString(nvmlReturn_t r);
STUB_API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
STUB_API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
STUB_API nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length);
STUB_API nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *mw);
STUB_API nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *mj);
STUB_API nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int n, nvmlFieldValue_t *values);
STUB_API nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int *mhz);
STUB_API nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *c);
STUB_API nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *u);
STUB_API nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length);
STUB_API nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci);
STUB_API nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *mw);
STUB_API nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current,
                                           unsigned int *pending);
STUB_API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                              unsigned int *count,
                                                              nvmlProcessInfo_t *infos);
STUB_API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
STUB_API nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length);
STUB_API void esl_stub_set_power(double w);
STUB_API const esl__stub_clock *esl_stub_clock(void);

enum { CALL_ENERGY, CALL_POWER, CALL_CLOCK, CALL_TEMPERATURE, CALL_UTILIZATION, N_CALLS };
static const char *const call_names[N_CALLS] = {"energy", "power", "clock", "temperature",
                                                "utilization"};

static struct {
    int initialised;
    double t0;
    unsigned gpus;
    size_t n_steps;
    double step_t[MAX_STEPS], step_w[MAX_STEPS];
    double powers[MAX_GPUS]; /* NaN: follow the steps */
    unsigned pci_bus[MAX_GPUS];
    int mig[MAX_GPUS];
    int stuck, energy_unsupported;
    double period, phase;
    int fail_call;            /* CALL_*, or -1 */
    unsigned long fail_every, calls;
    double util_pct;
    unsigned procs;
    double lost_after;
} stub;

/* Handles are small integers disguised as pointers: index + 1. */
static nvmlDevice_t handle_of(unsigned i) { return (nvmlDevice_t)(size_t)(i + 1); }

/* The virtual clock: whole nanoseconds, from 1000 s so that no reading is
 * ever zero. `vclock_on` is set once, when the library is loaded. */
static int vclock_on;
static long long vclock_ns = 1000LL * 1000000000LL;
static struct {
    long long period_ns, next_ns;
    void (*fn)(void *ctx);
    void *ctx;
} vtick;

static double vclock_now(void)
{
    return (double)__atomic_load_n(&vclock_ns, __ATOMIC_ACQUIRE) * 1e-9;
}

static void vclock_sleep(double s)
{
    long long target = __atomic_load_n(&vclock_ns, __ATOMIC_ACQUIRE) +
                       (s > 0 ? (long long)llround(s * 1e9) : 0);
    while (vtick.fn != NULL && vtick.next_ns <= target) {
        __atomic_store_n(&vclock_ns, vtick.next_ns, __ATOMIC_RELEASE);
        vtick.next_ns += vtick.period_ns;
        vtick.fn(vtick.ctx);
    }
    __atomic_store_n(&vclock_ns, target, __ATOMIC_RELEASE);
}

static void vclock_every(double period_s, void (*fn)(void *ctx), void *ctx)
{
    long long period = (long long)llround(period_s * 1e9);
    vtick.fn = fn != NULL && period > 0 ? fn : NULL;
    vtick.ctx = ctx;
    vtick.period_ns = period;
    vtick.next_ns = __atomic_load_n(&vclock_ns, __ATOMIC_ACQUIRE) + period;
}

static const esl__stub_clock vclock = {vclock_now, vclock_sleep, vclock_every};

__attribute__((constructor)) static void vclock_init(void)
{
    const char *v = getenv("ESL_STUB_CLOCK");
    vclock_on = v != NULL && strcmp(v, "virtual") == 0;
}

const esl__stub_clock *esl_stub_clock(void)
{
    return vclock_on ? &vclock : NULL;
}

static double now(void)
{
    if (vclock_on)
        return vclock_now();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double env_double(const char *name, double fallback)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? strtod(v, NULL) : fallback;
}

/* Parse "a,b,c" into out[0..MAX_GPUS) with strtod/strtoul in `base` (0: a
 * double). Entries not given are left alone. */
static void env_list(const char *name, double *out_d, unsigned *out_u, int *out_i, int base)
{
    const char *v = getenv(name);
    for (size_t i = 0; v != NULL && *v != '\0' && i < MAX_GPUS; i++) {
        char *end;
        if (out_d != NULL)
            out_d[i] = strtod(v, &end);
        else if (out_u != NULL)
            out_u[i] = (unsigned)strtoul(v, &end, base);
        else
            out_i[i] = (int)strtol(v, &end, base);
        if (end == v)
            break;
        v = *end == ',' ? end + 1 : end;
    }
}

/* Power of every scripted device at t seconds after init, in W. */
static double power_at(double t)
{
    double w = stub.step_w[0];
    for (size_t i = 0; i < stub.n_steps && stub.step_t[i] <= t; i++)
        w = stub.step_w[i];
    return w;
}

static double device_power(size_t h, double t)
{
    return isnan(stub.powers[h - 1]) ? power_at(t) : stub.powers[h - 1];
}

/* Energy from 0 to t, in J. */
__attribute__((unused)) static double energy_to(size_t h, double t)
{
    if (!isnan(stub.powers[h - 1]))
        return stub.powers[h - 1] * (t > 0 ? t : 0);
    double j = 0.0;
    for (size_t i = 0; i < stub.n_steps; i++) {
        double a = stub.step_t[i], b = i + 1 < stub.n_steps ? stub.step_t[i + 1] : t;
        if (b > t)
            b = t;
        if (b > a)
            j += stub.step_w[i] * (b - a);
    }
    return j;
}

/* The time of the counter's last step at or before t. */
__attribute__((unused)) static double counter_time(double t)
{
    if (!(stub.period > 0) || t < stub.phase)
        return stub.period > 0 && t < stub.phase ? 0.0 : t;
    return stub.phase + floor((t - stub.phase) / stub.period) * stub.period;
}

/* A transient failure of reading `call`, as scripted. */
__attribute__((unused)) static int fails(int call)
{
    if (stub.fail_call != call)
        return 0;
    unsigned long n = __atomic_add_fetch(&stub.calls, 1, __ATOMIC_RELAXED);
    return n % stub.fail_every == 0;
}

/* Validate a handle and the lost-GPU script. */
static nvmlReturn_t check(nvmlDevice_t device, double *t)
{
    if (!stub.initialised)
        return NVML_ERROR_UNINITIALIZED;
    size_t h = (size_t)device;
    if (h < 1 || h > stub.gpus)
        return NVML_ERROR_INVALID_ARGUMENT;
    *t = now() - stub.t0;
    if (stub.lost_after > 0.0 && *t >= stub.lost_after)
        return NVML_ERROR_GPU_IS_LOST;
    return NVML_SUCCESS;
}

void esl_stub_set_power(double w)
{
    if (stub.n_steps < MAX_STEPS) {
        stub.step_t[stub.n_steps] = now() - stub.t0;
        stub.step_w[stub.n_steps] = w;
        stub.n_steps++;
    }
}

nvmlReturn_t nvmlInit_v2(void)
{
    const char *err = getenv("ESL_STUB_INIT_ERROR");
    if (err != NULL && err[0] != '\0')
        return (nvmlReturn_t)atoi(err);
    memset(&stub, 0, sizeof stub);
    vclock_init(); /* a test process may set ESL_STUB_CLOCK after loading the stub */
    stub.t0 = now();
    stub.gpus = (unsigned)env_double("ESL_STUB_GPUS", 1);
    if (stub.gpus > MAX_GPUS)
        stub.gpus = MAX_GPUS;
    for (unsigned i = 0; i < MAX_GPUS; i++) {
        stub.powers[i] = NAN;
        stub.pci_bus[i] = 0x18 + i;
    }
    if (getenv("ESL_STUB_POWERS") != NULL) {
        double base = env_double("ESL_STUB_POWER_W", 200.0);
        for (unsigned i = 0; i < MAX_GPUS; i++)
            stub.powers[i] = base;
        env_list("ESL_STUB_POWERS", stub.powers, NULL, NULL, 0);
    }
    env_list("ESL_STUB_PCI", NULL, stub.pci_bus, NULL, 16);
    env_list("ESL_STUB_MIG", NULL, NULL, stub.mig, 10);
    const char *counter = getenv("ESL_STUB_COUNTER");
    stub.stuck = counter != NULL && strcmp(counter, "stuck") == 0;
    const char *energy = getenv("ESL_STUB_ENERGY");
    stub.energy_unsupported = energy != NULL && strcmp(energy, "unsupported") == 0;
    stub.period = env_double("ESL_STUB_COUNTER_PERIOD_S", 0.0);
    stub.phase = env_double("ESL_STUB_COUNTER_PHASE_S", 0.0);
    stub.fail_call = -1;
    const char *fail = getenv("ESL_STUB_FAIL_CALL");
    for (int c = 0; fail != NULL && c < N_CALLS; c++)
        if (strcmp(fail, call_names[c]) == 0)
            stub.fail_call = c;
    stub.fail_every = (unsigned long)env_double("ESL_STUB_FAIL_EVERY", 1);
    if (stub.fail_every == 0)
        stub.fail_every = 1;
    stub.util_pct = env_double("ESL_STUB_UTIL_PCT", 0.0);
    stub.procs = (unsigned)env_double("ESL_STUB_PROCS", 0);
    stub.lost_after = env_double("ESL_STUB_LOST_AFTER_S", 0.0);
    const char *script = getenv("ESL_STUB_SCRIPT");
    FILE *f = script != NULL ? fopen(script, "r") : NULL;
    if (script != NULL && f == NULL)
        return NVML_ERROR_UNKNOWN;
    if (f != NULL) {
        while (stub.n_steps < MAX_STEPS &&
               fscanf(f, "%lf %lf", &stub.step_t[stub.n_steps], &stub.step_w[stub.n_steps]) == 2)
            stub.n_steps++;
        fclose(f);
    }
    if (stub.n_steps == 0) {
        stub.step_t[0] = 0.0;
        stub.step_w[0] = env_double("ESL_STUB_POWER_W", 200.0);
        stub.n_steps = 1;
    }
    stub.initialised = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
    if (!stub.initialised)
        return NVML_ERROR_UNINITIALIZED;
    stub.initialised = 0;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!stub.initialised)
        return NVML_ERROR_UNINITIALIZED;
    *count = stub.gpus;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (!stub.initialised)
        return NVML_ERROR_UNINITIALIZED;
    if (index >= stub.gpus)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = handle_of(index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    const char *fixed = getenv("ESL_STUB_NAME");
    if (r == NVML_SUCCESS && fixed != NULL && fixed[0] != '\0')
        snprintf(name, length, "%s", fixed);
    else if (r == NVML_SUCCESS)
        snprintf(name, length, "Stub GPU %zu", (size_t)device - 1);
    return r;
}

#ifndef STUB_NO_POWER
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *mw)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS && fails(CALL_POWER))
        return NVML_ERROR_UNKNOWN;
    if (r == NVML_SUCCESS)
        *mw = (unsigned int)(device_power((size_t)device, t) * 1000.0 + 0.5);
    return r;
}
#endif

#ifndef STUB_NO_OPTIONAL
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *mj)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r != NVML_SUCCESS)
        return r;
    if (stub.energy_unsupported)
        return NVML_ERROR_NOT_SUPPORTED;
    if (fails(CALL_ENERGY))
        return NVML_ERROR_UNKNOWN;
    *mj = COUNTER_OFFSET_MJ +
          (stub.stuck ? 0ULL
                      : (unsigned long long)(energy_to((size_t)device, counter_time(t)) * 1000.0));
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int n, nvmlFieldValue_t *values)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r != NVML_SUCCESS)
        return r;
    for (int i = 0; i < n; i++) {
        if (values[i].fieldId != NVML_FI_DEV_POWER_INSTANT) {
            values[i].nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        values[i].nvmlReturn = NVML_SUCCESS;
        values[i].valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        values[i].value.uiVal = (unsigned int)(device_power((size_t)device, t) * 1000.0 + 0.5);
    }
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int *mhz)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS && fails(CALL_CLOCK))
        return NVML_ERROR_UNKNOWN;
    if (r == NVML_SUCCESS)
        *mhz = type == NVML_CLOCK_SM ? 1980 : 0;
    return r;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *c)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS && fails(CALL_TEMPERATURE))
        return NVML_ERROR_UNKNOWN;
    if (r == NVML_SUCCESS)
        *c = sensor == NVML_TEMPERATURE_GPU ? 41 : 0;
    return r;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *u)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS && fails(CALL_UTILIZATION))
        return NVML_ERROR_UNKNOWN;
    if (r == NVML_SUCCESS) {
        u->gpu = (unsigned int)stub.util_pct;
        u->memory = 30;
    }
    return r;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS)
        snprintf(uuid, length, "GPU-00000000-0000-0000-0000-00000000000%zu", (size_t)device - 1);
    return r;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS)
        snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:00.0", stub.pci_bus[(size_t)device - 1]);
    return r;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *mw)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS)
        *mw = 700000;
    return r;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r == NVML_SUCCESS)
        *current = *pending = stub.mig[(size_t)device - 1] ? 1u : 0u;
    return r;
}

/* ESL_STUB_PROCS processes other than the caller's. */
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos)
{
    double t;
    nvmlReturn_t r = check(device, &t);
    if (r != NVML_SUCCESS)
        return r;
    unsigned n = stub.procs;
    if (*count < n || infos == NULL) {
        *count = n;
        return n == 0 ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned i = 0; i < n; i++) {
        memset(&infos[i], 0, sizeof infos[i]);
        infos[i].pid = (unsigned)getpid() + 1000u + i;
        infos[i].usedGpuMemory = 512ULL << 20;
    }
    *count = n;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    snprintf(version, length, "550.54.15");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
    snprintf(version, length, "12.550.54.15");
    return NVML_SUCCESS;
}
#endif
