/*
 * test_meter_edges.c - the meter on real machines, without one: the NVML
 * stub fakes several GPUs (PCI ids out of NVML's order, UUIDs, MIG mode,
 * superchip names), a counter that steps every 100 ms at a chosen phase,
 * transient errors and busy idle windows. Device selection must follow
 * CUDA's numbering; windows aligned on counter steps must lose the edge
 * bias that unaligned ones show. Everything runs on the stub's virtual
 * clock, so the energies are checked to the counter's millijoule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "esl/esl.h"
#include "meter/stub_clock.h"

/* Time is the NVML stub's virtual clock (ESL_STUB_CLOCK=virtual, set in
 * main): windows last exactly what the test sleeps on it, whatever the load,
 * and take no real time. The stub is loaded while a meter is open. */
static const esl__stub_clock *stub_clock(void)
{
    void *h = dlopen(ESL_STUB_FULL, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(h);
    esl__stub_clock_fn get;
    *(void **)(&get) = dlsym(h, ESL_STUB_CLOCK_SYMBOL);
    assert_non_null(get);
    const esl__stub_clock *c = get();
    assert_non_null(c);
    dlclose(h);
    return c;
}

static void sleep_s(double s)
{
    stub_clock()->sleep(s);
}

static double now_s(void)
{
    return stub_clock()->now();
}

static void clear_env(void)
{
    static const char *const vars[] = {
        "ESL_STUB_GPUS", "ESL_STUB_POWER_W", "ESL_STUB_SCRIPT", "ESL_STUB_COUNTER",
        "ESL_STUB_ENERGY", "ESL_STUB_LOST_AFTER_S", "ESL_STUB_INIT_ERROR", "ESL_NVML_LIBRARY",
        "ESL_STUB_POWERS", "ESL_STUB_PCI", "ESL_STUB_NAME", "ESL_STUB_MIG",
        "ESL_STUB_COUNTER_PERIOD_S", "ESL_STUB_COUNTER_PHASE_S", "ESL_STUB_FAIL_CALL",
        "ESL_STUB_FAIL_EVERY", "ESL_STUB_UTIL_PCT", "ESL_STUB_PROCS", "CUDA_VISIBLE_DEVICES",
        "CUDA_DEVICE_ORDER"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static int open_opts(esl_meter **m, const char *gpus, int no_align, int lenient)
{
    esl_meter_opts o = {0};
    o.kind = ESL_METER_NVML;
    o.library = ESL_STUB_FULL;
    o.gpus = gpus;
    o.hz = 50;
    o.no_align = no_align;
    o.idle_lenient = lenient;
    return esl_meter_open(m, &o);
}

static esl_meter *open_ok(const char *gpus)
{
    esl_meter *m = NULL;
    if (open_opts(&m, gpus, 0, 0) != ESL_OK)
        fail_msg("esl_meter_open: %s", esl_error_last());
    return m;
}

/* Four GPUs of one model, NVML index i at PCI bus PCI[i], drawing 100 W
 * times (i + 1): CUDA's PCI order is NVML 1 (18), 3 (3b), 2 (86), 0 (af). */
static void four_gpus(void)
{
    clear_env();
    setenv("ESL_STUB_GPUS", "4", 1);
    setenv("ESL_STUB_POWERS", "100,200,300,400", 1);
    setenv("ESL_STUB_PCI", "af,18,86,3b", 1);
    setenv("ESL_STUB_NAME", "NVIDIA H100 80GB HBM3", 1);
}

/* The NVML indices a selection meters. */
static void expect(const char *visible, const char *order, const char *gpus, const char *want)
{
    four_gpus();
    if (visible != NULL)
        setenv("CUDA_VISIBLE_DEVICES", visible, 1);
    if (order != NULL)
        setenv("CUDA_DEVICE_ORDER", order, 1);
    esl_meter *m = open_ok(gpus);
    char got[64] = "";
    for (size_t i = 0; i < esl_meter_device_count(m); i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", i ? "," : "",
                 esl_meter_device(m, i)->index);
    esl_meter_close(m);
    if (strcmp(got, want) != 0)
        fail_msg("CUDA_VISIBLE_DEVICES=%s --gpus %s: metered NVML %s, want %s",
                 visible ? visible : "(unset)", gpus ? gpus : "(default)", got, want);
}

static void mapping_like_cuda(void **state)
{
    (void)state;
    expect(NULL, NULL, NULL, "1,3,2,0");
    expect("2", NULL, NULL, "2");
    expect("1", NULL, NULL, "3");
    expect("1", "PCI_BUS_ID", NULL, "3");
    expect("0,3", NULL, "1", "0");
    expect("GPU-00000000-0000-0000-0000-000000000002,0", NULL, NULL, "2,1");
    expect("GPU-00000000-0000-0000-0000-000000000002,0", NULL, "1", "1");
    /* as CUDA: the list ends at its first invalid entry */
    expect("1,7,0", NULL, NULL, "3");
    expect("2", NULL, "0000:86:00.0", "2");
    expect("2", NULL, "00000000:AF:00.0,GPU-00000000-0000-0000-0000-000000000001", "0,1");
    expect("2", NULL, "all", "1,3,2,0");
    expect(NULL, NULL, "visible", "1,3,2,0");
}

/* The energy is the visible GPU's alone: 400 W for CUDA device 1. */
static void mapping_energy(void **state)
{
    (void)state;
    four_gpus();
    setenv("CUDA_VISIBLE_DEVICES", "1", 1);
    esl_meter *m = open_ok(NULL);
    assert_int_equal(esl_meter_device_count(m), 1);
    assert_string_equal(esl_meter_device(m, 0)->pci_bus_id, "00000000:3B:00.0");
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    sleep_s(0.3);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    /* the counter's energy over the window's duration, to its millijoules */
    assert_true(rec->duration_s >= 0.3);
    if (fabs(rec->energy_j - 400.0 * rec->duration_s) > 0.002)
        fail_msg("%.6f J over %.6f s is not 400 W", rec->energy_j, rec->duration_s);
    esl_record_free(rec);
    esl_meter_close(m);
}

static void expect_refused(const char *visible, const char *gpus, int code, const char *text)
{
    esl_meter *m = NULL;
    if (visible != NULL)
        setenv("CUDA_VISIBLE_DEVICES", visible, 1);
    else
        unsetenv("CUDA_VISIBLE_DEVICES");
    int rc = open_opts(&m, gpus, 0, 0);
    if (rc != code || strstr(esl_error_last(), text) == NULL)
        fail_msg("CUDA_VISIBLE_DEVICES=%s --gpus %s: %d '%s', want %d '...%s...'",
                 visible ? visible : "(unset)", gpus ? gpus : "(default)", rc, esl_error_last(),
                 code, text);
    assert_null(m);
}

static void mapping_refusals(void **state)
{
    (void)state;
    four_gpus();
    setenv("ESL_STUB_MIG", "0,0,1,0", 1);
    expect_refused("2", NULL, ESL_EUNSUPPORTED, "is in MIG mode");
    expect_refused("MIG-6b2a1f3c-0000-0000-0000-000000000000", NULL, ESL_EUNSUPPORTED,
                   "names the MIG instance");
    expect_refused(NULL, "MIG-6b2a1f3c", ESL_EUNSUPPORTED, "is a MIG instance");
    expect_refused("", NULL, ESL_ENODEV, "no GPU is visible");
    expect_refused("1", "1", ESL_EINVAL, "gpu 1 does not exist (1 visible under CUDA_VISIBLE_DEVICES)");
    expect_refused(NULL, "GPU-00000000", ESL_EINVAL, "more than one GPU's UUID");
    expect_refused(NULL, "GPU-ffff", ESL_EINVAL, "no GPU has this UUID");
    expect_refused(NULL, "0000:99:00.0", ESL_EINVAL, "is not 'all', 'visible'");
    /* different models: CUDA's fastest-first order is unknown to NVML */
    unsetenv("ESL_STUB_MIG");
    unsetenv("ESL_STUB_NAME");
    expect_refused("1", NULL, ESL_EINVAL, "set CUDA_DEVICE_ORDER=PCI_BUS_ID");
    expect_refused(NULL, "0", ESL_EINVAL, "set CUDA_DEVICE_ORDER=PCI_BUS_ID");
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);
    esl_meter *m = NULL;
    setenv("CUDA_VISIBLE_DEVICES", "1", 1);
    assert_int_equal(open_opts(&m, NULL, 0, 0), ESL_OK);
    assert_int_equal(esl_meter_device(m, 0)->index, 3);
    esl_meter_close(m);
}

/* A Grace Hopper module's counter covers the module: flagged. */
static void module_scope(void **state)
{
    (void)state;
    clear_env();
    setenv("ESL_STUB_NAME", "NVIDIA GH200 480GB", 1);
    esl_meter *m = open_ok(NULL);
    assert_true(esl_meter_device(m, 0)->caps & ESL_CAP_MODULE_SCOPE);
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->flags & ESL_FLAG_MODULE);
    char buf[256];
    assert_non_null(strstr(esl_flags_string(buf, sizeof buf, rec->flags), "module-scope"));
    esl_record_free(rec);
    esl_meter_close(m);
}

/* The stub's power control, in this process's copy of the stub. */
static void (*set_power)(double w);

static void load_control(void)
{
    void *h = dlopen(ESL_STUB_FULL, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(h);
    *(void **)(&set_power) = dlsym(h, "esl_stub_set_power");
    assert_non_null(set_power);
    dlclose(h);
}

/* One 1 s burst of 300 W over 60 W idle, metered with the counter stepping
 * every 100 ms at `phase`: the relative error of the dynamic energy. */
static double burst_error(double phase, int no_align)
{
    clear_env();
    char text[32];
    setenv("ESL_STUB_POWER_W", "60", 1);
    setenv("ESL_STUB_COUNTER_PERIOD_S", "0.1", 1);
    snprintf(text, sizeof text, "%.6f", phase);
    setenv("ESL_STUB_COUNTER_PHASE_S", text, 1);
    esl_meter *m = NULL;
    if (open_opts(&m, NULL, no_align, 0) != ESL_OK)
        fail_msg("esl_meter_open: %s", esl_error_last());
    load_control();
    assert_int_equal(esl_meter_set_idle(m, 60.0), ESL_OK);
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    double a = now_s();
    set_power(300.0);
    sleep_s(1.0);
    set_power(60.0);
    double b = now_s();
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    double truth = 240.0 * (b - a);
    double err = (rec->dynamic_j - truth) / truth;
    if (!no_align)
        assert_false(rec->flags & ESL_FLAG_UNALIGNED);
    esl_record_free(rec);
    esl_meter_close(m);
    return err;
}

static void aligned_edges_remove_bias(void **state)
{
    (void)state;
    enum { TRIALS = 8 };
    unsigned seed = 16;
    double before_sum = 0, before_max = 0, before_mean = 0, after_max = 0, after_mean = 0;
    double after_sum = 0;
    for (int k = 0; k < TRIALS; k++) {
        double phase = 0.1 * (double)rand_r(&seed) / RAND_MAX;
        double before = burst_error(phase, 1), after = burst_error(phase, 0);
        before_sum += fabs(before);
        after_sum += fabs(after);
        before_mean += before / TRIALS;
        after_mean += after / TRIALS;
        if (fabs(before) > before_max)
            before_max = fabs(before);
        if (fabs(after) > after_max)
            after_max = fabs(after);
        printf("phase %.4f s: error unaligned %+.2f %%, aligned %+.3f %%\n", phase, 100 * before,
               100 * after);
    }
    printf("1 s window, 100 ms counter, %d phases: unaligned mean %+.2f %% (max |%.2f| %%), "
           "aligned mean %+.3f %% (max |%.3f| %%)\n",
           TRIALS, 100 * before_mean, 100 * before_max, 100 * after_mean, 100 * after_max);
    /* unaligned: the burst's last partial period is missed, about -5 %;
     * aligned: what is left is the edges' millisecond polls (a step is seen
     * up to 1 ms late, 240 W x 1 ms of 240 J: 0.1 %) */
    assert_true(before_sum / TRIALS > 0.02);
    assert_true(after_max <= 0.0011);
}

/* The idle baseline measures each counter's period. */
static void period_measured(void **state)
{
    (void)state;
    clear_env();
    setenv("ESL_STUB_COUNTER_PERIOD_S", "0.1", 1);
    setenv("ESL_STUB_COUNTER_PHASE_S", "0.043", 1);
    esl_meter *m = open_ok(NULL);
    assert_true(isnan(esl_meter_device(m, 0)->counter_period_s));
    assert_int_equal(esl_meter_measure_idle(m, 1.0), ESL_OK);
    double p = esl_meter_device(m, 0)->counter_period_s;
    if (fabs(p - 0.1) > 1e-9)
        fail_msg("measured period %.12f s, the stub steps every 0.1 s", p);
    /* half a second is five periods: too short; the period is kept */
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    sleep_s(0.5);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->flags & ESL_FLAG_TOO_SHORT);
    assert_false(rec->flags & ESL_FLAG_UNALIGNED);
    assert_true(fabs(rec->devices[0].info.counter_period_s - p) < 1e-12);
    /* aligned edges: the duration is the time between the counter's two
     * steps, whose energy at 200 W says how long it was, to the 1 ms polls
     * that see each step (and the counter's millijoules) */
    double between_steps = rec->devices[0].counter_j / 200.0;
    if (fabs(rec->duration_s - between_steps) > 0.001 + 1e-5)
        fail_msg("window %.4f s, counter steps %.4f s apart", rec->duration_s, between_steps);
    esl_record_free(rec);
    esl_meter_close(m);
    /* a counter that never steps cannot be aligned */
    setenv("ESL_STUB_COUNTER", "stuck", 1);
    m = open_ok(NULL);
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->flags & ESL_FLAG_UNALIGNED);
    esl_record_free(rec);
    esl_meter_close(m);
}

/* Transient errors: retried, or left out; never the end of the window. */
static void transient_errors(void **state)
{
    (void)state;
    clear_env();
    setenv("ESL_STUB_POWER_W", "250", 1);
    setenv("ESL_STUB_FAIL_CALL", "energy", 1);
    setenv("ESL_STUB_FAIL_EVERY", "3", 1);
    esl_meter *m = open_ok(NULL);
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    sleep_s(0.3);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_false(rec->flags & (ESL_FLAG_DEVICE_LOST | ESL_FLAG_MISSED));
    assert_true(rec->duration_s >= 0.3);
    if (fabs(rec->devices[0].counter_j - 250.0 * rec->duration_s) > 0.002)
        fail_msg("%.6f J over %.6f s is not 250 W", rec->devices[0].counter_j, rec->duration_s);
    esl_record_free(rec);
    esl_meter_close(m);

    /* an optional reading that fails now and then is missing in its samples */
    setenv("ESL_STUB_FAIL_CALL", "clock", 1);
    setenv("ESL_STUB_FAIL_EVERY", "2", 1);
    m = open_ok(NULL);
    assert_true(esl_meter_device(m, 0)->caps & ESL_CAP_SM_CLOCK);
    assert_int_equal(esl_window_begin(m), ESL_OK);
    sleep_s(0.3);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    size_t missing = 0, present = 0;
    for (size_t i = 0; i < rec->n_samples; i++) {
        if (isnan(rec->samples[i].sm_clock_mhz))
            missing++;
        else
            present++;
        assert_false(isnan(rec->samples[i].power_w));
    }
    assert_true(missing > 0 && present > 0);
    assert_false(rec->flags & ESL_FLAG_DEVICE_LOST);
    esl_record_free(rec);
    esl_meter_close(m);

    /* a probe answering an unexpected code leaves its reading out */
    setenv("ESL_STUB_FAIL_CALL", "temperature", 1);
    setenv("ESL_STUB_FAIL_EVERY", "1", 1);
    m = open_ok(NULL);
    assert_false(esl_meter_device(m, 0)->caps & ESL_CAP_TEMPERATURE);
    esl_meter_close(m);

    /* a required reading failing every time: samples left out, flagged */
    setenv("ESL_STUB_FAIL_CALL", "power", 1);
    setenv("ESL_STUB_FAIL_EVERY", "1", 1);
    esl_meter *none = NULL;
    assert_int_equal(open_opts(&none, NULL, 0, 0), ESL_EDEVICE);
}

/* A busy idle window is refused (or flagged); drifting power flagged. */
static void idle_checks(void **state)
{
    (void)state;
    clear_env();
    setenv("ESL_STUB_UTIL_PCT", "35", 1);
    esl_meter *m = open_ok(NULL);
    assert_int_equal(esl_meter_measure_idle(m, 0.2), ESL_EDEVICE);
    assert_non_null(strstr(esl_error_last(), "is not idle: utilisation reached 35 %"));
    esl_meter_close(m);
    assert_int_equal(open_opts(&m, NULL, 0, 1), ESL_OK);
    assert_int_equal(esl_meter_measure_idle(m, 0.2), ESL_OK);
    esl_record *rec = NULL;
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->flags & ESL_FLAG_IDLE_BUSY);
    esl_record_free(rec);
    esl_meter_close(m);

    clear_env();
    setenv("ESL_STUB_PROCS", "2", 1);
    m = open_ok(NULL);
    assert_int_equal(esl_meter_measure_idle(m, 0.2), ESL_EDEVICE);
    assert_non_null(strstr(esl_error_last(), "2 other processes hold it"));
    esl_meter_close(m);

    /* power still falling after a load */
    clear_env();
    char path[] = "/tmp/esl-stub-settle-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "0 150\n0.25 100\n");
    fclose(f);
    setenv("ESL_STUB_SCRIPT", path, 1);
    m = open_ok(NULL);
    assert_int_equal(esl_meter_measure_idle(m, 0.6), ESL_OK);
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->flags & ESL_FLAG_IDLE_UNSETTLED);
    esl_record_free(rec);
    /* a settled baseline clears it */
    assert_int_equal(esl_meter_measure_idle(m, 0.3), ESL_OK);
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_false(rec->flags & (ESL_FLAG_IDLE_UNSETTLED | ESL_FLAG_IDLE_BUSY));
    esl_record_free(rec);
    esl_meter_close(m);
    unlink(path);
}

static void control_lines(void **state)
{
    (void)state;
    esl_control_line c;
    assert_int_equal(esl_control_parse(&c, "begin model=flux-dev steps=50\n"), ESL_OK);
    assert_int_equal(c.kind, ESL_CONTROL_BEGIN);
    assert_int_equal(c.n_labels, 2);
    assert_string_equal(c.keys[1], "steps");
    assert_string_equal(c.values[0], "flux-dev");
    assert_int_equal(esl_control_parse(&c, "  end \n"), ESL_OK);
    assert_int_equal(c.kind, ESL_CONTROL_END);
    assert_int_equal(esl_control_parse(&c, "begin"), ESL_OK);
    assert_int_equal(c.n_labels, 0);
    assert_int_equal(esl_control_parse(&c, "# a comment"), ESL_OK);
    assert_int_equal(c.kind, ESL_CONTROL_NONE);
    assert_int_equal(esl_control_parse(&c, ""), ESL_OK);
    assert_int_equal(c.kind, ESL_CONTROL_NONE);
    static const char *const bad[] = {"start x=1", "begin x", "begin =1", "begin a=1 a=2",
                                      "begin k/y=1", "end now", "begin a=\x01"};
    static const char *const why[] = {"is not 'begin", "is not KEY=VALUE", "is not KEY=VALUE",
                                      "given twice", "may hold only", "takes no labels",
                                      "control character"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(esl_control_parse(&c, bad[i]), ESL_EINVAL);
        if (strstr(esl_error_last(), why[i]) == NULL)
            fail_msg("'%s': %s", bad[i], esl_error_last());
    }
}

/* The meter's clock is the stub's virtual clock: a sleep on it is what the
 * meter's clock sees, to the bit, however long the machine takes. */
/* --control's descriptors: fd:N or fd:N,M, 3 to 1023, not the same. */
static void control_specs(void **state)
{
    (void)state;
    int fd = 0, ack = 0;
    assert_int_equal(esl_control_spec_parse(&fd, &ack, "fd:3"), ESL_OK);
    assert_int_equal(fd, 3);
    assert_int_equal(ack, -1);
    assert_int_equal(esl_control_spec_parse(&fd, &ack, "fd:1023,4"), ESL_OK);
    assert_int_equal(fd, 1023);
    assert_int_equal(ack, 4);
    const char *bad[] = {"3",     "fd:",    "fd:2",  "fd:1024", "fd:5,5",  "fd:5,",
                         "fd:5,2", "fd:5x", "fd:4,6,7", "fd:5,-1", "fd: 5", "fd:+5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd = ack = 0;
        assert_int_equal(esl_control_spec_parse(&fd, &ack, bad[i]), ESL_EINVAL);
        assert_int_equal(fd, -1);
        assert_int_equal(ack, -1);
        assert_non_null(strstr(esl_error_last(), bad[i]));
    }
    assert_int_equal(esl_control_spec_parse(&fd, &ack, NULL), ESL_EINVAL);
}

static void meter_clock(void **state)
{
    (void)state;
    clear_env();
    assert_true(isnan(esl_meter_clock_s(NULL)));
    esl_meter *m = open_ok(NULL);
    double t0 = esl_meter_clock_s(m);
    assert_true(t0 == now_s());
    sleep_s(2.5);
    assert_true(esl_meter_clock_s(m) - t0 == now_s() - t0);
    assert_true(fabs(esl_meter_clock_s(m) - t0 - 2.5) < 1e-12);
    esl_meter_close(m);
}

int main(void)
{
    setenv("ESL_STUB_CLOCK", "virtual", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mapping_like_cuda),  cmocka_unit_test(mapping_energy),
        cmocka_unit_test(mapping_refusals),   cmocka_unit_test(module_scope),
        cmocka_unit_test(period_measured),    cmocka_unit_test(transient_errors),
        cmocka_unit_test(idle_checks),        cmocka_unit_test(control_lines),
        cmocka_unit_test(aligned_edges_remove_bias), cmocka_unit_test(meter_clock),
        cmocka_unit_test(control_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
