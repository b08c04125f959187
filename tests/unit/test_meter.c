/*
 * test_meter.c - the meters without a GPU: the NVML code path driven by the
 * stub libnvidia-ml (tests/stubs), replayed traces with known integrals, and
 * RAPL counters (wraparound included) in a fake powercap tree. The NVML
 * windows run on the stub's virtual clock (ESL_STUB_CLOCK=virtual, set in
 * main): they last exactly what the test sleeps, so energies are checked to
 * the counter's millijoule, and take no real time.
 */
#include <setjmp.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "esl/esl.h"
#include "meter/stub_clock.h"

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Pass s seconds on the virtual clock of whichever NVML stub is loaded. */
static void stub_sleep(double s)
{
    static const char *const stubs[] = {ESL_STUB_FULL, ESL_STUB_NOOPT};
    for (size_t i = 0; i < 2; i++) {
        void *h = dlopen(stubs[i], RTLD_NOW | RTLD_NOLOAD);
        if (h == NULL)
            continue;
        esl__stub_clock_fn get;
        *(void **)(&get) = dlsym(h, ESL_STUB_CLOCK_SYMBOL);
        const esl__stub_clock *c = get != NULL ? get() : NULL;
        dlclose(h);
        if (c != NULL) {
            c->sleep(s);
            return;
        }
    }
    fail_msg("no NVML stub with a virtual clock is loaded");
}

static void clear_stub_env(void)
{
    static const char *const vars[] = {"ESL_STUB_GPUS", "ESL_STUB_POWER_W", "ESL_STUB_SCRIPT",
                                       "ESL_STUB_COUNTER", "ESL_STUB_ENERGY",
                                       "ESL_STUB_LOST_AFTER_S", "ESL_STUB_INIT_ERROR",
                                       "ESL_NVML_LIBRARY", "ESL_STUB_POWERS", "ESL_STUB_PCI",
                                       "ESL_STUB_NAME", "ESL_STUB_MIG", "ESL_STUB_COUNTER_PERIOD_S",
                                       "ESL_STUB_COUNTER_PHASE_S", "ESL_STUB_FAIL_CALL",
                                       "ESL_STUB_FAIL_EVERY", "ESL_STUB_UTIL_PCT", "ESL_STUB_PROCS",
                                       "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static esl_meter *open_stub(const char *library, const char *gpus)
{
    esl_meter_opts o = {0};
    o.kind = ESL_METER_NVML;
    o.library = library;
    o.gpus = gpus;
    o.hz = 50;
    esl_meter *m = NULL;
    int rc = esl_meter_open(&m, &o);
    if (rc != ESL_OK)
        fail_msg("esl_meter_open: %s", esl_error_last());
    return m;
}

static esl_record *window(esl_meter *m, double seconds)
{
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    stub_sleep(seconds);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    return rec;
}

/* The counter's energy is the scripted power times the window. */
static void nvml_counter_energy(void **state)
{
    (void)state;
    clear_stub_env();
    setenv("ESL_STUB_POWER_W", "250", 1);
    setenv("ESL_STUB_UTIL_PCT", "97", 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, NULL);
    assert_int_equal(esl_meter_device_count(m), 1);
    const esl_device_info *d = esl_meter_device(m, 0);
    assert_string_equal(d->name, "Stub GPU 0");
    assert_string_equal(d->uuid, "GPU-00000000-0000-0000-0000-000000000000");
    assert_string_equal(d->pci_bus_id, "00000000:18:00.0");
    assert_true(fabs(d->power_limit_w - 700.0) < 1e-9);
    unsigned all = ESL_CAP_ENERGY_COUNTER | ESL_CAP_POWER | ESL_CAP_POWER_INSTANT |
                   ESL_CAP_SM_CLOCK | ESL_CAP_TEMPERATURE | ESL_CAP_UTILIZATION | ESL_CAP_UUID |
                   ESL_CAP_PCI | ESL_CAP_POWER_LIMIT | ESL_CAP_PROCESSES;
    assert_int_equal(d->caps, all);

    esl_record *rec = window(m, 0.3);
    assert_string_equal(rec->driver_version, "550.54.15");
    assert_string_equal(rec->nvml_version, "12.550.54.15");
    const esl_device_record *r = &rec->devices[0];
    double expected = 250.0 * rec->duration_s;
    /* the window: the 0.3 s slept and the edges' 1 ms polls */
    assert_true(rec->duration_s >= 0.3 && rec->duration_s <= 0.302);
    /* the counter's whole millijoules */
    if (fabs(r->counter_j - expected) > 0.002)
        fail_msg("counter %.6f J over %.6f s, want %.6f J", r->counter_j, rec->duration_s, expected);
    assert_true(r->energy_j == r->counter_j);
    assert_true(fabs(r->integrated_j - expected) < 1e-9 * expected);
    assert_true(fabs(r->peak_power_w - 250.0) < 1e-9);
    /* the stub's counter moves at every read: its period, measured at the
     * window's end, is a millisecond or so, and 0.3 s is long enough */
    assert_int_equal(r->flags, ESL_FLAG_NO_IDLE);
    assert_true(r->info.counter_period_s < 0.01);
    /* 50 Hz over 0.3 s: 15 sampler readings, and the two edges */
    if (rec->n_samples != 17)
        fail_msg("%zu samples in 0.3 s at 50 Hz, want 15 and 2 edges", rec->n_samples);
    for (size_t i = 0; i < rec->n_samples; i++) {
        assert_true(fabs(rec->samples[i].sm_clock_mhz - 1980.0) < 1e-9);
        assert_true(fabs(rec->samples[i].temperature_c - 41.0) < 1e-9);
        assert_true(fabs(rec->samples[i].utilization_pct - 97.0) < 1e-9);
        assert_true(fabs(rec->samples[i].power_instant_w - 250.0) < 1e-9);
    }
    esl_record_free(rec);
    esl_meter_close(m);
}

/* A power step from the script: energy is its integral, peak its top. */
static void nvml_scripted_steps(void **state)
{
    (void)state;
    clear_stub_env();
    char path[] = "/tmp/esl-stub-script-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "0 100\n0.25 400\n");
    fclose(f);
    setenv("ESL_STUB_SCRIPT", path, 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, NULL);
    esl_record *rec = window(m, 0.45);
    /* Power 100 W until t=0.25 after init, then 400 W. The window starts
     * at init, but for the edge's polls (a, at most 2 ms): its energy is
     * 100 (0.25 - a) + 400 (a + d - 0.25) = 400 d - 75 + 300 a. */
    const esl_device_record *r = &rec->devices[0];
    double d = rec->duration_s, low = 400.0 * d - 75.0;
    assert_true(d >= 0.45 && d <= 0.452);
    if (r->counter_j < low - 0.002 || r->counter_j > low + 300.0 * 0.002 + 0.002)
        fail_msg("counter %.6f J over %.6f s, want %.6f J to %.6f J", r->counter_j, d, low,
                 low + 0.6);
    assert_true(fabs(r->peak_power_w - 400.0) < 1e-9);
    esl_record_free(rec);
    esl_meter_close(m);
    unlink(path);
}

/* Without the optional symbols: no counter, energy from the power trace. */
static void nvml_optional_missing(void **state)
{
    (void)state;
    clear_stub_env();
    setenv("ESL_STUB_POWER_W", "120", 1);
    esl_meter *m = open_stub(ESL_STUB_NOOPT, NULL);
    const esl_device_info *d = esl_meter_device(m, 0);
    assert_int_equal(d->caps, ESL_CAP_POWER);
    assert_string_equal(d->uuid, "");
    esl_record *rec = window(m, 0.3);
    const esl_device_record *r = &rec->devices[0];
    assert_true(isnan(r->counter_j));
    assert_true(r->flags & ESL_FLAG_INTEGRATED);
    assert_false(r->flags & ESL_FLAG_NO_CHANGE);
    assert_true(fabs(r->energy_j - 120.0 * rec->duration_s) < 1e-6 * 120.0);
    assert_string_equal(rec->driver_version, "");
    esl_record_free(rec);
    esl_meter_close(m);

    /* A driver that has the symbol but not the counter (pre-Volta) falls back the same way. */
    setenv("ESL_STUB_ENERGY", "unsupported", 1);
    m = open_stub(ESL_STUB_FULL, NULL);
    assert_false(esl_meter_device(m, 0)->caps & ESL_CAP_ENERGY_COUNTER);
    assert_true(esl_meter_device(m, 0)->caps & ESL_CAP_POWER_INSTANT);
    rec = window(m, 0.2);
    assert_true(rec->devices[0].flags & ESL_FLAG_INTEGRATED);
    assert_true(fabs(rec->energy_j - 120.0 * rec->duration_s) < 1e-6 * 120.0);
    esl_record_free(rec);
    esl_meter_close(m);
}

static void nvml_required_missing(void **state)
{
    (void)state;
    clear_stub_env();
    esl_meter_opts o = {0};
    o.library = ESL_STUB_NOREQ;
    esl_meter *m = (esl_meter *)1;
    assert_int_equal(esl_meter_open(&m, &o), ESL_EUNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(esl_error_last(), "required NVML symbol 'nvmlDeviceGetPowerUsage' is missing"));
}

static void nvml_no_driver(void **state)
{
    (void)state;
    clear_stub_env();
    esl_meter_opts o = {0};
    o.library = "/nonexistent/libnvidia-ml.so.1";
    esl_meter *m;
    assert_int_equal(esl_meter_open(&m, &o), ESL_ENODEV);
    assert_non_null(strstr(esl_error_last(), "no NVIDIA driver: cannot load '/nonexistent/libnvidia-ml.so.1'"));

    setenv("ESL_STUB_INIT_ERROR", "9", 1);
    o.library = ESL_STUB_FULL;
    assert_int_equal(esl_meter_open(&m, &o), ESL_ENODEV);
    assert_string_equal(esl_error_last(), "nvmlInit_v2 failed: Driver Not Loaded (NVML error 9)");

    /* ESL_NVML_LIBRARY is used when the options name no library. */
    clear_stub_env();
    setenv("ESL_NVML_LIBRARY", ESL_STUB_FULL, 1);
    o.library = NULL;
    assert_int_equal(esl_meter_open(&m, &o), ESL_OK);
    esl_meter_close(m);
    unsetenv("ESL_NVML_LIBRARY");
}

static void nvml_counter_stuck(void **state)
{
    (void)state;
    clear_stub_env();
    setenv("ESL_STUB_COUNTER", "stuck", 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, NULL);
    esl_record *rec = window(m, 0.2);
    assert_true(rec->devices[0].flags & ESL_FLAG_NO_CHANGE);
    assert_true(rec->flags & ESL_FLAG_NO_CHANGE);
    assert_true(rec->devices[0].energy_j == 0.0);
    /* the power trace says otherwise, and is kept for comparison */
    assert_true(rec->devices[0].integrated_j > 0.0);
    esl_record_free(rec);
    /* and such an idle window is refused, never a 0 W baseline */
    assert_int_equal(esl_meter_measure_idle(m, 0.15), ESL_EDEVICE);
    assert_non_null(strstr(esl_error_last(), "is unusable (no-change"));
    esl_meter_close(m);
}

static void nvml_window_too_short(void **state)
{
    (void)state;
    clear_stub_env();
    /* a counter stepping every 100 ms: the shortest window is one step to
     * the next, far under 10 periods */
    setenv("ESL_STUB_COUNTER_PERIOD_S", "0.1", 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, NULL);
    esl_record *rec = window(m, 0.0);
    assert_true(rec->duration_s < 0.15);
    assert_true(rec->flags & ESL_FLAG_TOO_SHORT);
    esl_record_free(rec);
    esl_meter_close(m);
}

static void nvml_gpu_lost(void **state)
{
    (void)state;
    clear_stub_env();
    setenv("ESL_STUB_POWER_W", "300", 1);
    setenv("ESL_STUB_LOST_AFTER_S", "0.2", 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, NULL);
    esl_record *rec = window(m, 0.5);
    assert_true(rec->flags & ESL_FLAG_DEVICE_LOST);
    /* ends at the last reading before the loss, with what was measured */
    assert_true(rec->duration_s < 0.2 && rec->duration_s > 0.1);
    assert_true(rec->energy_j > 300.0 * 0.1 && rec->energy_j < 300.0 * 0.2);
    /* the opening edge is stamped between the polls around its step (1 ms),
     * the last reading where it was taken */
    assert_true(fabs(rec->energy_j - 300.0 * rec->duration_s) <= 300.0 * 0.001 + 0.002);
    esl_record_free(rec);
    esl_meter_close(m);
}

static void nvml_gpu_selection(void **state)
{
    (void)state;
    clear_stub_env();
    setenv("ESL_STUB_GPUS", "3", 1);
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, "0,2");
    assert_int_equal(esl_meter_device_count(m), 2);
    assert_int_equal(esl_meter_device(m, 0)->index, 0);
    assert_int_equal(esl_meter_device(m, 1)->index, 2);
    assert_string_equal(esl_meter_device(m, 1)->name, "Stub GPU 2");
    esl_record *rec = window(m, 0.15);
    assert_int_equal(rec->n_devices, 2);
    assert_true(fabs(rec->energy_j - rec->devices[0].energy_j - rec->devices[1].energy_j) < 1e-9);
    esl_record_free(rec);
    esl_meter_close(m);

    esl_meter_opts o = {0};
    o.library = ESL_STUB_FULL;
    static const char *const bad[] = {"3", "0,0", "x", "1,", "-1"};
    static const char *const why[] = {"gpu 3 does not exist (3 visible)", "gpu '0' is listed twice in '0,0'",
                                      "gpu 'x' is not 'all', 'visible', an index, a GPU UUID or a PCI bus id (like 0,2 or GPU-8f2c... or 0000:3b:00.0)",
                                      "gpu list '1,' ends with a comma",
                                      "gpu '-1' is not 'all', 'visible', an index, a GPU UUID or a PCI bus id (like 0,2 or GPU-8f2c... or 0000:3b:00.0)"};
    for (size_t i = 0; i < 5; i++) {
        o.gpus = bad[i];
        assert_int_equal(esl_meter_open(&m, &o), ESL_EINVAL);
        assert_string_equal(esl_error_last(), why[i]);
    }
}

static void nvml_idle_baseline(void **state)
{
    (void)state;
    clear_stub_env();
    setenv("ESL_STUB_POWER_W", "80", 1);
    esl_meter *m = open_stub(ESL_STUB_FULL, NULL);
    assert_int_equal(esl_meter_measure_idle(m, 0.2), ESL_OK);
    esl_record *rec = window(m, 0.2);
    /* the counter's millijoules over a 0.2 s baseline */
    if (fabs(rec->idle_w - 80.0) > 0.02)
        fail_msg("idle %.6f W of the 80 W stub", rec->idle_w);
    /* nothing but idle power: no dynamic energy but the counter's rounding */
    assert_true(fabs(rec->dynamic_j) <= 0.006);
    assert_false(rec->flags & ESL_FLAG_NO_IDLE);
    esl_record_free(rec);
    assert_int_equal(esl_meter_set_idle(m, 30.0), ESL_OK);
    rec = window(m, 0.15);
    assert_true(rec->flags & ESL_FLAG_IDLE_STORED);
    assert_true(fabs(rec->dynamic_j - (rec->energy_j - 30.0 * rec->duration_s)) < 1e-9);
    esl_record_free(rec);
    assert_int_equal(esl_meter_set_idle(m, -1.0), ESL_EINVAL);
    esl_meter_close(m);
}

static esl_meter *open_replay(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/meter/%s", ESL_TEST_DATA, name);
    esl_meter_opts o = {0};
    o.kind = ESL_METER_REPLAY;
    o.replay_path = path;
    esl_meter *m = NULL;
    if (esl_meter_open(&m, &o) != ESL_OK)
        fail_msg("%s", esl_error_last());
    return m;
}

/* Replayed traces integrate to values worked out by hand. */
static void replay_known_integrals(void **state)
{
    (void)state;
    esl_meter *m = open_replay("idle_then_load.csv");
    /* idle over [0, 2]: the counter rises 100 J, so 50 W */
    assert_int_equal(esl_meter_measure_idle(m, 2.0), ESL_OK);
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->duration_s == 4.0);
    assert_true(rec->energy_j == 800.0);              /* 900 - 100 */
    assert_true(rec->idle_w == 50.0);
    assert_true(rec->dynamic_j == 800.0 - 50.0 * 4.0);
    assert_true(rec->peak_power_w == 250.0);
    /* the trapezoid of the same trace: 1*(50+250)/2 + 2*250 + (250+50)/2 */
    assert_true(rec->devices[0].integrated_j == 150.0 + 500.0 + 150.0);
    assert_int_equal(rec->flags, 0);
    esl_record_free(rec);
    esl_meter_close(m);

    m = open_replay("power_only.csv");
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    /* 0.5*(100+200)/2 + 1*200 + 0.5*(200+100)/2 */
    assert_true(rec->energy_j == 350.0);
    assert_int_equal(rec->flags, ESL_FLAG_INTEGRATED | ESL_FLAG_NO_IDLE);
    esl_record_free(rec);
    /* the trace is spent: a second window has no time left */
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->flags & ESL_FLAG_NO_CHANGE);
    assert_true(rec->flags & ESL_FLAG_TOO_SHORT);
    esl_record_free(rec);
    esl_meter_close(m);
}

static void replay_bad_traces(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"time_s,power_w\n0,1\n0,2\n", ":3: column 'time_s': '0' does not increase"},
        {"time,power_w\n0,1\n1,2\n", ":1: the header needs columns 'time_s' and 'power_w'"},
        {"time_s,power_w\n0,1\n1,abc\n", ":3: column 'power_w': 'abc' is not a non-negative number"},
        {"time_s,power_w\n0,1\n", ": a trace needs at least two rows, found 1"},
        {"time_s,power_w,energy_j\n0,1,5\n1,1,4\n", ":3: column 'energy_j': '4' decreases"},
        {"time_s,power_w\n0,1\n1\n", ":3: 1 fields, the header has more"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[] = "/tmp/esl-replay-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        fputs(cases[i].text, f);
        fclose(f);
        esl_meter_opts o = {0};
        o.kind = ESL_METER_REPLAY;
        o.replay_path = path;
        esl_meter *m;
        assert_int_equal(esl_meter_open(&m, &o), ESL_EPARSE);
        char expected[256];
        snprintf(expected, sizeof expected, "%s%s", path, cases[i].why);
        assert_string_equal(esl_error_last(), expected);
        unlink(path);
    }
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0); /* atomic: the sampler never reads half a file */
}

static void make_zone(const char *root, const char *zone, const char *name, const char *energy,
                      const char *range)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, zone);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(dir, "name", name);
    write_file(dir, "energy_uj", energy);
    write_file(dir, "max_energy_range_uj", range);
}

/* A fake powercap tree: package and dram measured, nothing counted twice,
 * and a counter that wraps at max_energy_range_uj. */
static void rapl_wraparound(void **state)
{
    (void)state;
    char root[] = "/tmp/esl-powercap-XXXXXX";
    assert_non_null(mkdtemp(root));
    make_zone(root, "intel-rapl:0", "package-0\n", "999000000\n", "1000000000\n");
    make_zone(root, "intel-rapl:0:0", "core\n", "5\n", "1000000000\n");
    make_zone(root, "intel-rapl:0:1", "dram\n", "5000000\n", "65532610987\n");
    make_zone(root, "intel-rapl:1", "psys\n", "5\n", "1000000000\n");
    make_zone(root, "intel-rapl-mmio:0", "package-0\n", "5\n", "1000000000\n");

    esl_meter_opts o = {0};
    o.kind = ESL_METER_RAPL;
    o.powercap_root = root;
    o.hz = 0.1; /* the sampler stays asleep: only the two edges are read */
    esl_meter *m;
    assert_int_equal(esl_meter_open(&m, &o), ESL_OK);
    assert_int_equal(esl_meter_device_count(m), 2);
    assert_string_equal(esl_meter_device(m, 0)->name, "package-0");
    assert_string_equal(esl_meter_device(m, 1)->name, "dram-0");

    assert_int_equal(esl_window_begin(m), ESL_OK);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/intel-rapl:0", root);
    write_file(dir, "energy_uj", "2000000\n"); /* wrapped: 1 J to the top, then 2 J */
    snprintf(dir, sizeof dir, "%s/intel-rapl:0:1", root);
    write_file(dir, "energy_uj", "7500000\n");
    sleep_s(0.01);
    esl_record *rec;
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(fabs(rec->devices[0].energy_j - 3.0) < 1e-9);
    assert_true(fabs(rec->devices[1].energy_j - 2.5) < 1e-9);
    assert_true(fabs(rec->energy_j - 5.5) < 1e-9);
    esl_record_free(rec);
    esl_meter_close(m);

    /* energy_uj readable by root only: the error says so */
    snprintf(dir, sizeof dir, "%s/intel-rapl:0/energy_uj", root);
    if (geteuid() != 0) {
        chmod(dir, 0);
        assert_int_equal(esl_meter_open(&m, &o), ESL_ENODEV);
        assert_non_null(strstr(esl_error_last(), "Permission denied (root-only since Linux 5.10"));
        chmod(dir, 0644);
    }
    o.powercap_root = "/nonexistent-powercap";
    assert_int_equal(esl_meter_open(&m, &o), ESL_ENODEV);
    assert_string_equal(esl_error_last(), "rapl: cannot open /nonexistent-powercap: No such file or directory");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void flags_and_kinds(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(esl_flags_string(buf, sizeof buf, 0), "");
    assert_string_equal(esl_flags_string(buf, sizeof buf, ESL_FLAG_INTEGRATED | ESL_FLAG_DEVICE_LOST),
                        "integrated,device-lost");
    esl_meter_kind k;
    assert_int_equal(esl_meter_kind_parse(&k, "rapl"), ESL_OK);
    assert_int_equal(k, ESL_METER_RAPL);
    assert_int_equal(esl_meter_kind_parse(&k, "zeus"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "unknown meter 'zeus' (known: nvml, rapl, replay)");
    esl_meter_opts o = {0};
    o.kind = ESL_METER_REPLAY;
    o.hz = 5000;
    esl_meter *m;
    assert_int_equal(esl_meter_open(&m, &o), ESL_EINVAL);
}

int main(void)
{
    setenv("ESL_STUB_CLOCK", "virtual", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nvml_counter_energy),  cmocka_unit_test(nvml_scripted_steps),
        cmocka_unit_test(nvml_optional_missing), cmocka_unit_test(nvml_required_missing),
        cmocka_unit_test(nvml_no_driver),       cmocka_unit_test(nvml_counter_stuck),
        cmocka_unit_test(nvml_window_too_short), cmocka_unit_test(nvml_gpu_lost),
        cmocka_unit_test(nvml_gpu_selection),   cmocka_unit_test(nvml_idle_baseline),
        cmocka_unit_test(replay_known_integrals), cmocka_unit_test(replay_bad_traces),
        cmocka_unit_test(rapl_wraparound),      cmocka_unit_test(flags_and_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
