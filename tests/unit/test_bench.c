/*
 * test_bench.c - what the synthetic workload computes without a GPU: the
 * peak table and efficiency figures, the no-module path of esl_bench_run,
 * and the calibration planner's choices under different budgets.
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

static void peaks_by_device_name(void **state)
{
    esl_bench_peak p;
    (void)state;
    assert_int_equal(esl_bench_peak_find(&p, "NVIDIA H100 80GB HBM3", ESL_DTYPE_BF16), ESL_OK);
    assert_string_equal(p.gpu, "H100 SXM5 80GB");
    assert_true(p.tflops == 989.4);
    assert_non_null(strstr(p.source, "datasheet"));
    assert_int_equal(esl_bench_peak_find(&p, "NVIDIA H100 80GB HBM3", ESL_DTYPE_TF32), ESL_OK);
    assert_true(p.tflops == 494.7);
    assert_int_equal(esl_bench_peak_find(&p, "NVIDIA H100 80GB HBM3", ESL_DTYPE_FP32), ESL_OK);
    assert_true(p.tflops == 67);
    /* Case-insensitive, aliases of one card. */
    assert_int_equal(esl_bench_peak_find(&p, "nvidia a100-sxm4-40gb", ESL_DTYPE_FP16), ESL_OK);
    assert_true(p.tflops == 312);
    assert_int_equal(esl_bench_peak_find(&p, "NVIDIA A100 80GB PCIe", ESL_DTYPE_FP32), ESL_OK);
    assert_true(p.tflops == 19.5);
    /* A precision the GPU lacks, and unknown GPUs: no peak. */
    assert_int_equal(esl_bench_peak_find(&p, "Tesla V100-SXM2-16GB", ESL_DTYPE_BF16), ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "no dense bf16 peak"));
    assert_int_equal(esl_bench_peak_find(&p, "NVIDIA H100", ESL_DTYPE_BF16), ESL_ENOTFOUND);
    assert_int_equal(esl_bench_peak_find(&p, "Radeon RX 7900", ESL_DTYPE_FP32), ESL_ENOTFOUND);
    /* Forgiving names: the start of a table name, or whole words inside one
     * (the paper's "A6000"), asked twice (the second from the lookup memo). */
    esl_gpu_spec g;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(esl_gpu_find(&g, "A6000"), ESL_OK);
        assert_string_equal(g.name, "RTX A6000");
        assert_true(g.tdp_w == 300 && g.mem_bw_gbs == 768);
        assert_int_equal(esl_gpu_find(&g, "h100"), ESL_OK);
        assert_string_equal(g.name, "H100 SXM5 80GB");
        assert_int_equal(esl_gpu_find(&g, "A60000"), ESL_ENOTFOUND);
        assert_non_null(strstr(esl_error_last(), "closest: 'RTX A6000'"));
    }
}

/* A selection keeps the order asked for; one unknown name fails it all. */
static void gpu_selection(void **state)
{
    (void)state;
    esl_gpu_spec *rows = NULL;
    size_t n = 0;
    const char *names[] = {"A6000", "h100", "A60000"};
    assert_int_equal(esl_gpu_select(&rows, &n, names, 2), ESL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "RTX A6000");
    assert_non_null(strstr(rows[1].name, "H100"));
    free(rows);
    assert_int_equal(esl_gpu_select(&rows, &n, names, 3), ESL_ENOTFOUND);
    assert_null(rows);
    assert_int_equal(n, 0);
    assert_int_equal(esl_gpu_select(&rows, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, esl_gpu_count());
    assert_true(n > 2);
    free(rows);
}

static void efficiency_figures(void **state)
{
    esl_bench_result r = {.duration_s = 2.0, .exec_flops = 1e15};
    esl_bench_efficiency e;
    (void)state;
    snprintf(r.device, sizeof r.device, "NVIDIA H100 80GB HBM3");
    assert_int_equal(esl_bench_efficiency_compute(&e, &r, ESL_DTYPE_BF16, 1500.0), ESL_OK);
    assert_true(e.achieved_tflops == 500.0);
    assert_true(e.peak_tflops == 989.4);
    assert_true(fabs(e.peak_fraction - 500.0 / 989.4) < 1e-15);
    assert_true(e.joules_per_tflop == 1.5);
    /* No energy: no J/TFLOP; unknown GPU: no ratio, and no error left behind. */
    snprintf(r.device, sizeof r.device, "Some Future GPU");
    assert_int_equal(esl_bench_efficiency_compute(&e, &r, ESL_DTYPE_BF16, 0.0), ESL_OK);
    assert_true(e.peak_tflops == 0 && e.peak_fraction == 0 && e.joules_per_tflop == 0);
    assert_string_equal(esl_error_last(), "");
    r.duration_s = 0;
    assert_int_equal(esl_bench_efficiency_compute(&e, &r, ESL_DTYPE_BF16, 0.0), ESL_EINVAL);
}

static void run_without_module(void **state)
{
    (void)state;
    esl_model *m = NULL;
    esl_workload *p = NULL;
    assert_int_equal(esl_catalog_find(&m, "sd2"), ESL_OK);
    esl_bench_config c = {.request = {.height = 256, .width = 256, .steps = 1, .prompts = 1},
                          .batch = 1};
    assert_int_equal(esl_workload_new(&p, m, &c), ESL_OK);
    esl_bench_opts o = {.module = "/nonexistent/libesl_gpu.so", .seed = 1};
    esl_bench_result r;
    assert_int_equal(esl_bench_run(&r, p, &o), ESL_ENODEV);
    assert_non_null(strstr(esl_error_last(), "no GPU workload: cannot load /nonexistent"));
    o.warmup = -1;
    assert_int_equal(esl_bench_run(&r, p, &o), ESL_EINVAL);
    esl_workload_free(p);
    esl_model_free(m);
}

/* ---- planner ---- */

static esl_model *models[4];

static int load_models(void **state)
{
    static const char *names[] = {"sd2", "sd35-large", "flux-dev", "qwen-image"};
    (void)state;
    for (int i = 0; i < 4; i++)
        if (esl_catalog_find(&models[i], names[i]) != ESL_OK)
            return -1;
    return 0;
}

static int free_models(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++)
        esl_model_free(models[i]);
    return 0;
}

/* H100-like probe: 400 TFLOP/s in bf16, 45 in fp32 (seconds per FLOP). */
static esl_calib_opts h100_like(double budget_s)
{
    esl_calib_opts o = {.budget_s = budget_s, .overhead_s = 1.0, .cfg_both = 1};
    o.s_per_flop[ESL_DTYPE_BF16] = 1.0 / 400e12;
    o.s_per_flop[ESL_DTYPE_FP32] = 1.0 / 45e12;
    return o;
}

/* Every point's estimate equals its plan's executed FLOPs times the probe,
 * points are cheapest first, and the total is their sum. */
static void check_points(const esl_calib_sweep *cp, const esl_calib_opts *o)
{
    double sum = 0, prev = 0;
    for (size_t i = 0; i < cp->n_points; i++) {
        const esl_calib_point *pt = &cp->points[i];
        esl_bench_config c = {.request = {.height = pt->side, .width = pt->side,
                                          .steps = pt->steps, .cfg = pt->cfg, .prompts = 1},
                              .batch = 1, .dtype = pt->dtype};
        esl_workload *p = NULL;
        assert_int_equal(esl_workload_new(&p, models[pt->model], &c), ESL_OK);
        assert_true(p->exec_flops == pt->exec_flops);
        double want = p->exec_flops * o->s_per_flop[pt->dtype] + o->overhead_s;
        assert_true(fabs(pt->est_s - want) <= 1e-12 * want);
        assert_true(pt->est_s >= prev);
        prev = pt->est_s;
        sum += pt->est_s;
        esl_workload_free(p);
    }
    assert_true(fabs(sum - cp->est_s) <= 1e-9 * sum);
}

static void plan_whole_grid(void **state)
{
    esl_calib_opts o = h100_like(1e9);
    esl_calib_sweep cp;
    (void)state;
    assert_int_equal(esl_calib_sweep_init(&cp, (const esl_model *const *)models, 4, &o), ESL_OK);
    assert_int_equal(cp.n_points, 4 * 4 * 5 * 2 * 2);
    assert_int_equal(cp.n_cfg, 2);
    assert_true(cp.full);
    check_points(&cp, &o);
    esl_calib_sweep_release(&cp);
}

/* A budget that fits the target but not the whole grid: full coverage,
 * within budget, extremes of resolution and steps kept where possible. */
static void plan_fits_target(void **state)
{
    esl_calib_opts o = h100_like(900);
    esl_calib_sweep cp;
    (void)state;
    assert_int_equal(esl_calib_sweep_init(&cp, (const esl_model *const *)models, 4, &o), ESL_OK);
    assert_true(cp.est_s <= 900);
    assert_true(cp.full);
    assert_true(cp.n_points < 320);
    assert_true(cp.n_models >= 3 && cp.n_sides >= 3 && cp.n_steps >= 2 && cp.n_dtypes == 2);
    int small = 0;
    for (size_t i = 0; i < cp.n_points; i++)
        small |= cp.points[i].side == 256 && cp.points[i].steps == 10;
    assert_true(small);
    assert_true(cp.log10_flops_max - cp.log10_flops_min > 1.5);
    check_points(&cp, &o);
    esl_calib_sweep_release(&cp);
}

/* A budget too small for the target: partial coverage, still within budget. */
static void plan_partial(void **state)
{
    esl_calib_opts o = h100_like(12);
    esl_calib_sweep cp;
    (void)state;
    assert_int_equal(esl_calib_sweep_init(&cp, (const esl_model *const *)models, 4, &o), ESL_OK);
    assert_true(cp.est_s <= 12);
    assert_false(cp.full);
    assert_true(cp.n_points >= 1);
    check_points(&cp, &o);
    esl_calib_sweep_release(&cp);
}

static void plan_errors(void **state)
{
    esl_calib_opts o = h100_like(0.5); /* less than one run's overhead */
    esl_calib_sweep cp;
    const esl_model *const *ms = (const esl_model *const *)models;
    (void)state;
    assert_int_equal(esl_calib_sweep_init(&cp, ms, 4, &o), ESL_ERANGE);
    assert_non_null(strstr(esl_error_last(), "no calibration fits in 0 s"));
    o.budget_s = 0;
    assert_int_equal(esl_calib_sweep_init(&cp, ms, 4, &o), ESL_EINVAL);
    o = h100_like(100);
    o.s_per_flop[ESL_DTYPE_BF16] = o.s_per_flop[ESL_DTYPE_FP32] = 0;
    assert_int_equal(esl_calib_sweep_init(&cp, ms, 4, &o), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "no dtype has a probe"));
    o = h100_like(100);
    static const int64_t bad_sides[] = {512, 256};
    o.sides = bad_sides;
    o.n_sides = 2;
    assert_int_equal(esl_calib_sweep_init(&cp, ms, 4, &o), ESL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peaks_by_device_name),
        cmocka_unit_test(gpu_selection),
        cmocka_unit_test(efficiency_figures),
        cmocka_unit_test(run_without_module),
        cmocka_unit_test(plan_whole_grid),
        cmocka_unit_test(plan_fits_target),
        cmocka_unit_test(plan_partial),
        cmocka_unit_test(plan_errors),
    };
    return cmocka_run_group_tests(tests, load_models, free_models);
}
