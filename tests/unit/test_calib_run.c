/*
 * test_calib_run.c - a measured calibration in one call (esl_calib_measure)
 * through the stand-in CUDA module and NVML library on the stub's virtual
 * clock: the probe reads the stand-in's throughput, every planned point
 * runs, is stored and heard of through the progress events, the law fits;
 * failed runs are reported and skipped; a probe without a GPU fails naming
 * it; and the calibration's tables and document (esl_calib_table,
 * esl_calib_json, esl_calib_sweep_table) carry its numbers; and what a
 * calibration is asked, read from text (budget, models, throughputs).
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
#include "test_io.h"

typedef struct heard {
    size_t progress, notes, unfitted, last_done;
    int ended;
    char last_note[512];
    char first_line[512]; /* the first progress line */
} heard;

static void on_event(void *ctx, const esl_calib_event *ev)
{
    heard *h = ctx;
    switch (ev->kind) {
    case ESL_CALIB_PROGRESS:
        assert_true(ev->done >= h->last_done);
        assert_true(ev->done <= ev->n_points);
        assert_true(ev->left_s >= 0);
        h->last_done = ev->done;
        if (h->progress++ == 0)
            snprintf(h->first_line, sizeof h->first_line, "%s", ev->message);
        h->ended += ev->next == NULL;
        break;
    case ESL_CALIB_NOTE:
        h->notes++;
        snprintf(h->last_note, sizeof h->last_note, "%s", ev->message);
        break;
    case ESL_CALIB_UNFITTED: h->unfitted++; break;
    }
}

static esl_meter *open_stub(void)
{
    esl_meter_opts o = {0};
    o.kind = ESL_METER_NVML;
    o.library = ESL_NVML_STUB;
    o.gpus = "0";
    esl_meter *m = NULL;
    if (esl_meter_open(&m, &o) != ESL_OK)
        fail_msg("esl_meter_open: %s", esl_error_last());
    assert_int_equal(esl_meter_baseline(m, 0.0, 0.0, 50.0), ESL_OK);
    return m;
}

static void stub_env(const char *fail_runs)
{
    /* the stand-in module passes its loop on this library's virtual clock */
    setenv("ESL_NVML_LIBRARY", ESL_NVML_STUB, 1);
    setenv("ESL_STUB_CLOCK", "virtual", 1);
    setenv("ESL_STUB_POWER_W", "250", 1);
    setenv("ESL_GPU_STUB_TFLOPS", "bf16=20000", 1);
    unsetenv("ESL_GPU_STUB_PCI");
    unsetenv("ESL_GPU_STUB_FAIL");
    if (fail_runs != NULL)
        setenv("ESL_GPU_STUB_FAIL_RUNS", fail_runs, 1);
    else
        unsetenv("ESL_GPU_STUB_FAIL_RUNS");
}

static esl_calib_setup sd2_setup(esl_model **m, const esl_dtype *dtype, heard *h)
{
    assert_int_equal(esl_catalog_find(m, "sd2"), ESL_OK);
    esl_calib_setup s = {
        .models = (const esl_model *const *)m, .n_models = 1, .dtypes = dtype, .n_dtypes = 1,
        .budget_s = 4, .min_run_s = 0.11, .order_seed = 1,
        .bench = {.module = ESL_GPU_STUB, .seed = 1, .warmup = 1},
        .on_event = on_event, .ctx = h,
    };
    return s;
}

static void measured_fitted_and_reported(void **state)
{
    (void)state;
    stub_env(NULL);
    esl_model *model;
    esl_dtype bf16 = ESL_DTYPE_BF16;
    heard h = {0};
    esl_calib_setup setup = sd2_setup(&model, &bf16, &h);
    esl_label extra[] = {{"node", "n1"}};
    setup.labels = extra;
    setup.n_labels = 1;
    esl_meter *m = open_stub();
    char path[SCRATCH_PATH_MAX];
    esl_store *store = NULL;
    assert_int_equal(esl_store_open(&store, in_dir(path, "runs.db")), ESL_OK);
    esl_calib *c = NULL;
    if (esl_calib_measure(&c, m, store, &setup) != ESL_OK)
        fail_msg("esl_calib_measure: %s", esl_error_last());
    /* the stand-in runs at exactly the throughput it is given */
    assert_true(fabs(c->probe_tflops[ESL_DTYPE_BF16] - 20000) < 1e-6 * 20000);
    assert_int_equal(c->probe_model, 0);
    assert_true(c->plan.n_points > 3);
    assert_int_equal(c->n_runs, c->plan.n_points);
    assert_int_equal(c->n_failed, 0);
    assert_int_equal(c->n_skipped, 0);
    assert_int_equal(h.progress, c->n_runs + 1);
    assert_int_equal(h.ended, 1);
    assert_int_equal(h.last_done, c->n_runs);
    assert_int_equal(h.notes + h.unfitted, 0);
    char want[128];
    snprintf(want, sizeof want, "[..............................] 0/%zu  sd2 %lldx%lld ",
             c->plan.n_points, (long long)c->plan.points[0].side,
             (long long)c->plan.points[0].side);
    assert_int_equal(strncmp(h.first_line, want, strlen(want)), 0);
    assert_non_null(strstr(h.first_line, " bf16  ETA "));
    for (size_t i = 0; i < c->n_runs; i++) {
        const esl_calib_run *r = &c->runs[i];
        assert_int_equal(r->run_id, (int64_t)i + 1);
        assert_true(r->in_fit);
        assert_true(r->dynamic_j > 0 && r->energy_j > r->dynamic_j);
        /* every run lasts the --min-run asked for */
        assert_true(r->result.duration_s >= 0.11 * 0.999);
    }
    assert_int_equal(c->data->n_rows, c->n_runs);
    esl_run *run = NULL;
    assert_int_equal(esl_store_get(store, &run, 1), ESL_OK);
    assert_string_equal(esl_run_label(run, "node"), "n1");
    assert_string_equal(esl_run_label(run, "model"), "sd2");
    esl_runs_free(run, 1);

    assert_null(c->law);
    assert_int_equal(esl_calib_fit(c), ESL_OK);
    assert_non_null(c->law);
    assert_int_equal(c->law->training.n_rows, c->n_runs);

    char *json = NULL;
    assert_int_equal(esl_calib_json(&json, c, 3.5, "law.json"), ESL_OK);
    assert_non_null(strstr(json, "  \"elapsed_s\": 3.5,\n"));
    assert_non_null(strstr(json, "  \"failed_runs\": 0,\n"));
    assert_non_null(strstr(json, "  \"law_file\": \"law.json\",\n"));
    assert_non_null(strstr(json, "      \"model\": \"sd2\",\n"));
    assert_non_null(strstr(json, "    \"bf16\": 20000"));
    size_t runs = 0;
    for (const char *p = strstr(json, "\"run_id\""); p != NULL; p = strstr(p + 1, "\"run_id\""))
        runs++;
    assert_int_equal(runs, c->n_runs);
    free(json);

    FILE *f = tmpfile();
    assert_int_equal(esl_calib_table(f, c, 3.5), ESL_OK);
    char *table = captured_text(f);
    assert_true(strncmp(table, "gpu        Stub GPU", 19) == 0);
    assert_non_null(strstr(table, "probe      sd2 512x512, 2 steps: bf16 20000.00 TFLOP/s"));
    assert_non_null(strstr(table, "time       3.5 s of a 4 s budget\n"));
    assert_null(strstr(table, "left out"));
    assert_non_null(strstr(table, "  models      sd2  (1 of 1 asked for)\n"));
    free(table);

    /* the law file reads back as the law */
    assert_int_equal(esl_calib_save_law(c, in_dir(path, "law.json")), ESL_OK);
    esl_law *back = NULL;
    assert_int_equal(esl_law_load(&back, path), ESL_OK);
    assert_int_equal(back->n_features, c->law->n_features);
    assert_true(back->coef[0] == c->law->coef[0]);
    esl_law_free(back);
    assert_int_equal(esl_calib_save_law(c, "/nonexistent/dir/law.json"), ESL_EIO);
    assert_int_equal(strncmp(esl_error_last(), "/nonexistent/dir/law.json: ", 27), 0);

    esl_calib_free(c);
    esl_calib_free(NULL);
    esl_store_close(store);
    esl_meter_close(m);
    esl_model_free(model);
}

static void failed_runs_are_skipped(void **state)
{
    (void)state;
    /* the first test: call 1 of the stand-in is the probe, the third and
     * fourth runs fail */
    stub_env("4,5");
    esl_model *model;
    esl_dtype bf16 = ESL_DTYPE_BF16;
    heard h = {0};
    esl_calib_setup setup = sd2_setup(&model, &bf16, &h);
    esl_meter *m = open_stub();
    esl_calib *c = NULL;
    if (esl_calib_measure(&c, m, NULL, &setup) != ESL_OK)
        fail_msg("esl_calib_measure: %s", esl_error_last());
    assert_int_equal(c->n_failed, 2);
    assert_int_equal(c->n_runs + 2, c->plan.n_points);
    assert_int_equal(h.notes, 4); /* the failure and "going on", twice */
    assert_non_null(strstr(h.last_note, "failed; going on"));
    assert_int_equal(strncmp(h.last_note, "calibrate: run of sd2 ", 22), 0);
    assert_int_equal(c->runs[0].run_id, 0); /* no store */
    assert_int_equal(esl_calib_fit(c), ESL_OK);
    esl_calib_free(c);
    esl_meter_close(m);
    esl_model_free(model);
    unsetenv("ESL_GPU_STUB_FAIL_RUNS");
}

static void probe_without_gpu(void **state)
{
    (void)state;
    stub_env(NULL);
    setenv("ESL_GPU_STUB_FAIL", "nodev", 1);
    esl_model *model;
    esl_dtype bf16 = ESL_DTYPE_BF16;
    heard h = {0};
    esl_calib_setup setup = sd2_setup(&model, &bf16, &h);
    esl_meter *m = open_stub();
    esl_calib *c = (esl_calib *)&h; /* overwritten with NULL */
    assert_int_equal(esl_calib_measure(&c, m, NULL, &setup), ESL_ENODEV);
    assert_null(c);
    assert_int_equal(strncmp(esl_error_last(), "calibrate: probe: no GPU", 24), 0);
    assert_int_equal(h.progress, 0);
    setup.n_dtypes = 0;
    assert_int_equal(esl_calib_measure(&c, m, NULL, &setup), ESL_EINVAL);
    assert_int_equal(esl_calib_fit(NULL), ESL_EINVAL);
    unsetenv("ESL_GPU_STUB_FAIL");
    esl_meter_close(m);
    esl_model_free(model);
}

static void planned_sweep_table(void **state)
{
    (void)state;
    esl_model *model;
    assert_int_equal(esl_catalog_find(&model, "sd2"), ESL_OK);
    const esl_model *models[] = {model};
    esl_calib_opts o = {.budget_s = 300, .overhead_s = 2};
    o.s_per_flop[ESL_DTYPE_BF16] = 1.0 / 400e12;
    esl_calib_sweep cp;
    assert_int_equal(esl_calib_sweep_init(&cp, models, 1, &o), ESL_OK);
    FILE *f = tmpfile();
    assert_int_equal(esl_calib_sweep_table(f, &cp, models, 1, 300), ESL_OK);
    char *text = captured_text(f);
    assert_true(strncmp(text, "model        size       steps cfg dtype       executed    est. s\n",
                        65) == 0);
    char want[128];
    snprintf(want, sizeof want, "\n%zu runs, estimated %.0f s of a 300 s budget\n", cp.n_points,
             cp.est_s);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "sd2          256x256       10  no bf16 "));
    assert_non_null(strstr(text, "covers 1 models x "));
    free(text);
    assert_int_equal(esl_calib_sweep_table(NULL, &cp, models, 1, 300), ESL_EINVAL);
    assert_int_equal(esl_calib_sweep_table(stdout, &cp, models, 0, 300), ESL_EINVAL);
    esl_calib_sweep_release(&cp);
    esl_model_free(model);
}

static void read_from_text(void **state)
{
    (void)state;
    double b = 0;
    assert_int_equal(esl_calib_budget_parse(&b, "300"), ESL_OK);
    assert_true(b == 300);
    assert_int_equal(esl_calib_budget_parse(&b, "300s"), ESL_OK);
    assert_true(b == 300);
    assert_int_equal(esl_calib_budget_parse(&b, "5m"), ESL_OK);
    assert_true(b == 300);
    assert_int_equal(esl_calib_budget_parse(&b, "1.5h"), ESL_OK);
    assert_true(b == 5400);
    assert_int_equal(esl_calib_budget_parse(&b, "5x"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'5x' is not a positive time (300, 300s, 5m, 1h)");
    assert_int_equal(esl_calib_budget_parse(&b, "0"), ESL_EINVAL);
    assert_int_equal(esl_calib_budget_parse(&b, "m"), ESL_EINVAL);

    esl_model *m[3];
    size_t n = 9;
    assert_int_equal(esl_calib_models_find(m, 3, &n, "sd2,,flux-dev"), ESL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[1]->name, "flux-dev");
    for (size_t i = 0; i < n; i++)
        esl_model_free(m[i]);
    assert_int_equal(esl_calib_models_find(m, 3, &n, "sd2,sd2,sd2,sd2"), ESL_ERANGE);
    assert_string_equal(esl_error_last(), "at most 3 models");
    assert_int_equal(n, 0);
    assert_int_equal(esl_calib_models_find(m, 3, &n, "sd2,nope"), ESL_ENOTFOUND);
    assert_int_equal(n, 0);

    esl_dtype d[2] = {ESL_DTYPE_BF16, ESL_DTYPE_FP32};
    double spf[4] = {0};
    assert_int_equal(esl_calib_assume(spf, d, 2, "bf16=400,fp32=50", NULL), ESL_OK);
    assert_true(fabs(spf[ESL_DTYPE_BF16] - 1 / 400e12) < 1e-30);
    assert_true(fabs(spf[ESL_DTYPE_FP32] - 1 / 50e12) < 1e-30);
    assert_true(spf[ESL_DTYPE_FP16] == 0);
    assert_int_equal(esl_calib_assume(spf, d, 2, "bf16=400", NULL), ESL_EINVAL);
    assert_int_equal(esl_calib_assume(spf, d, 2, NULL, NULL), ESL_EINVAL);
    esl_bench_peak peak;
    assert_int_equal(esl_bench_peak_find(&peak, "NVIDIA A100-SXM4-80GB", ESL_DTYPE_BF16), ESL_OK);
    assert_int_equal(esl_calib_assume(spf, d, 1, NULL, "NVIDIA A100-SXM4-80GB"), ESL_OK);
    assert_true(fabs(spf[ESL_DTYPE_BF16] * 0.5 * peak.tflops * 1e12 - 1) < 1e-12);
    assert_int_equal(esl_calib_assume(spf, d, 1, NULL, "Some GPU"), ESL_ENOTFOUND);
}

static void module_beside_the_program(void **state)
{
    (void)state;
    char buf[4200];
    setenv("ESL_GPU_MODULE", ESL_GPU_STUB, 1);
    assert_null(esl_bench_module_find(buf, sizeof buf, "lib"));
    unsetenv("ESL_GPU_MODULE");
    /* the test's folder has no libesl_gpu.so; a build with CUDA has one in lib/gpu */
    const char *found = esl_bench_module_find(buf, sizeof buf, "lib");
    if (found != NULL)
        assert_non_null(strstr(found, "/libesl_gpu.so"));
    assert_null(esl_bench_module_find(NULL, 0, "lib"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_runs_are_skipped),
        cmocka_unit_test_setup_teardown(measured_fitted_and_reported, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test(probe_without_gpu),
        cmocka_unit_test(planned_sweep_table),
        cmocka_unit_test(read_from_text),
        cmocka_unit_test(module_beside_the_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
