/*
 * test_bench_measure.c - a workload measured and stored in one call
 * (esl_bench_measure) through the stand-in CUDA module and NVML library:
 * the stored run carries the dataset labels and the caller's, its energy
 * gives joules per TFLOP, a meter that read another GPU is refused naming
 * both; and the idle baseline (esl_meter_baseline) is given, measured or
 * skipped as asked.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

#include "scratch_dir.h"

static esl_workload *sd2_plan(esl_model **m)
{
    esl_workload *p = NULL;
    esl_bench_config c = {.request = {.height = 256, .width = 256, .steps = 3, .prompts = 2},
                          .batch = 1, .dtype = ESL_DTYPE_BF16};
    assert_int_equal(esl_catalog_find(m, "sd2"), ESL_OK);
    assert_int_equal(esl_workload_new(&p, *m, &c), ESL_OK);
    return p;
}

static esl_meter *open_stub(void)
{
    esl_meter_opts o = {0};
    o.kind = ESL_METER_NVML;
    o.library = ESL_NVML_STUB;
    o.gpus = "0";
    o.hz = 50;
    esl_meter *m = NULL;
    if (esl_meter_open(&m, &o) != ESL_OK)
        fail_msg("esl_meter_open: %s", esl_error_last());
    assert_int_equal(esl_meter_baseline(m, 0.0, 0.0, 20.0), ESL_OK);
    return m;
}

static void measured_and_stored(void **state)
{
    (void)state;
    setenv("ESL_STUB_POWER_W", "300", 1);
    setenv("ESL_GPU_STUB_TFLOPS", "bf16=4", 1); /* a loop of about half a second */
    unsetenv("ESL_GPU_STUB_PCI");
    esl_model *model;
    esl_workload *p = sd2_plan(&model);
    esl_meter *m = open_stub();
    char path[SCRATCH_PATH_MAX];
    esl_store *store = NULL;
    assert_int_equal(esl_store_open(&store, in_dir(path, "runs.db")), ESL_OK);
    esl_label extra[] = {{"node", "n1"}, {"sweep_task", "t7"}};
    esl_bench_opts o = {.module = ESL_GPU_STUB, .seed = 5, .warmup = 1};
    esl_bench_measured r;
    int rc = esl_bench_measure(&r, p, &o, m, store, extra, 2);
    if (rc != ESL_OK)
        fail_msg("esl_bench_measure: %s", esl_error_last());
    assert_true(r.run_id > 0);
    assert_non_null(r.record);
    assert_true(r.record->energy_j > 0);
    assert_true(fabs(r.total.joules_per_tflop - r.record->energy_j / (p->exec_flops / 1e12)) <
                1e-9 * r.total.joules_per_tflop);
    assert_true(r.dynamic.joules_per_tflop < r.total.joules_per_tflop); /* 20 W idle taken off */
    assert_non_null(strstr(r.command, "esl bench --model sd2 --height 256 --width 256 --steps 3"));
    assert_non_null(strstr(r.command, "--seed 5 --warmup 1"));

    esl_run *runs = NULL;
    assert_int_equal(esl_store_get(store, &runs, r.run_id), ESL_OK);
    assert_string_equal(esl_run_label(runs, "node"), "n1");
    assert_string_equal(esl_run_label(runs, "sweep_task"), "t7");
    assert_string_equal(esl_run_label(runs, "model"), "sd2");
    assert_string_equal(esl_run_label(runs, "steps"), "3");
    esl_runs_free(runs, 1);

    /* without a store nothing is stored, the figures are the same kind */
    esl_bench_measured_release(&r);
    assert_null(r.record);
    assert_int_equal(esl_bench_measure(&r, p, &o, m, NULL, NULL, 0), ESL_OK);
    assert_int_equal(r.run_id, 0);
    assert_true(r.total.joules_per_tflop > 0);
    esl_bench_measured_release(&r);

    /* too many extra labels */
    esl_label many[ESL_BENCH_MAX_EXTRA_LABELS + 1];
    for (size_t i = 0; i < ESL_BENCH_MAX_EXTRA_LABELS + 1; i++)
        many[i] = (esl_label){"k", "v"};
    assert_int_equal(esl_bench_measure(&r, p, &o, m, store, many, ESL_BENCH_MAX_EXTRA_LABELS + 1),
                     ESL_EINVAL);
    esl_bench_measured_release(&r);
    esl_store_close(store);
    esl_meter_close(m);
    esl_workload_free(p);
    esl_model_free(model);
}

static void another_gpu_is_refused(void **state)
{
    (void)state;
    setenv("ESL_GPU_STUB_TFLOPS", "bf16=1000", 1);
    setenv("ESL_GPU_STUB_PCI", "0000:33:00.0", 1);
    esl_model *model;
    esl_workload *p = sd2_plan(&model);
    esl_meter *m = open_stub();
    esl_bench_opts o = {.module = ESL_GPU_STUB};
    esl_bench_measured r;
    assert_int_equal(esl_bench_measure(&r, p, &o, m, NULL, NULL, 0), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "the workload ran on"));
    assert_non_null(strstr(esl_error_last(), "PCI 0000:33:00.0"));
    esl_bench_measured_release(&r);
    unsetenv("ESL_GPU_STUB_PCI");
    esl_meter_close(m);
    esl_workload_free(p);
    esl_model_free(model);
}

static void baseline_given_measured_or_skipped(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/meter/idle_then_load.csv", ESL_TEST_DATA);
    esl_meter_opts o = {0};
    o.kind = ESL_METER_REPLAY;
    o.replay_path = path;
    esl_meter *m = NULL;
    esl_record *rec = NULL;
    assert_int_equal(esl_meter_open(&m, &o), ESL_OK);
    /* measured over [0, 2] of the trace: 50 W */
    assert_int_equal(esl_meter_baseline(m, 0.0, 2.0, NAN), ESL_OK);
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->idle_w == 50.0);
    assert_false(rec->flags & ESL_FLAG_IDLE_STORED);
    esl_record_free(rec);
    /* given: used as it is, whatever idle_s says */
    assert_int_equal(esl_meter_baseline(m, 0.0, 2.0, 42.0), ESL_OK);
    assert_int_equal(esl_window_begin(m), ESL_OK);
    assert_int_equal(esl_window_end(m, &rec), ESL_OK);
    assert_true(rec->idle_w == 42.0);
    assert_true(rec->flags & ESL_FLAG_IDLE_STORED);
    esl_record_free(rec);
    assert_int_equal(esl_meter_baseline(m, 0.0, 0.0, -1.0), ESL_EINVAL);
    esl_meter_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(measured_and_stored, scratch_setup, scratch_teardown),
        cmocka_unit_test(another_gpu_is_refused),
        cmocka_unit_test(baseline_given_measured_or_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
