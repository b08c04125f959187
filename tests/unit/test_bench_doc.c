/*
 * test_bench_doc.c - a workload and its measured run written out
 * (esl_workload_table, esl_workload_json, esl_bench_measured_json, _csv,
 * _table) and the measuring session that makes such runs
 * (esl_bench_session_*), through the stand-in CUDA module and NVML library
 * on the stub's virtual clock: the documents carry the workload's own
 * numbers, --label's rules hold, and a stored run names its id and store;
 * and rows of the GPU table written out (esl_gpu_table, _csv, _json).
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
#include <jansson.h>

#include "esl/esl.h"

#include "scratch_dir.h"

/* sd2 at 256x256, 2 steps, 3 prompt runs of batch 2, fp16. */
static esl_workload *sd2_plan(esl_model **m)
{
    esl_workload *p = NULL;
    esl_bench_config c = {.request = {.height = 256, .width = 256, .steps = 2, .prompts = 3},
                          .batch = 2, .dtype = ESL_DTYPE_FP16};
    assert_int_equal(esl_catalog_find(m, "sd2"), ESL_OK);
    assert_int_equal(esl_workload_new(&p, *m, &c), ESL_OK);
    return p;
}

/* What `f` holds from the start, NUL-terminated (at most size - 1 bytes). */
static const char *read_back(char *buf, size_t size, FILE *f)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    return buf;
}

static void workload_table_and_json(void **state)
{
    (void)state;
    esl_model *m;
    esl_workload *p = sd2_plan(&m);
    static char text[1 << 20];
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_workload_table(f, p), ESL_OK);
    read_back(text, sizeof text, f);
    fclose(f);
    assert_true(strncmp(text, "sd2 (Stable Diffusion 2), 256x256, 2 steps, no CFG, fp16, "
                              "3 prompt runs x batch 2\n", 82) == 0);
    char want[128];
    snprintf(want, sizeof want, "executed / paper: %.4f\n", p->exec_flops / p->paper_flops);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "denoise        2       2"));
    assert_int_equal(esl_workload_table(NULL, p), ESL_EINVAL);

    char *doc = NULL;
    assert_int_equal(esl_workload_json(&doc, p), ESL_OK);
    json_t *o = json_loads(doc, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "convention")), "exact");
    assert_int_equal(json_integer_value(json_object_get(o, "batch")), 2);
    assert_true((double)json_integer_value(json_object_get(o, "exec_flops")) == p->exec_flops);
    assert_int_equal(json_array_size(json_object_get(o, "layers")), p->n_ops);
    json_t *denoise = json_array_get(json_object_get(o, "stages"), 1);
    assert_int_equal(json_integer_value(json_object_get(denoise, "passes")), 2);
    assert_int_equal(json_integer_value(json_object_get(denoise, "exec_flops_per_pass")),
                     p->stage_exec_flops[1]);
    json_decref(o);
    free(doc);
    assert_int_equal(esl_workload_json(&doc, NULL), ESL_EINVAL);
    assert_null(doc);
    esl_workload_free(p);
    esl_model_free(m);
}

static void labels_checked(void **state)
{
    (void)state;
    esl_bench_session_opts o;
    memset(&o, 0, sizeof o);
    assert_int_equal(esl_bench_session_label(&o, "node=n1"), ESL_OK);
    assert_int_equal(o.n_labels, 1);
    assert_string_equal(o.labels[0].key, "node");
    assert_string_equal(o.labels[0].value, "n1");
    assert_int_equal(esl_bench_session_label(&o, "node=n2"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'node' is given twice");
    assert_int_equal(esl_bench_session_label(&o, "steps=3"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'steps' is a label esl sets itself");
    assert_int_equal(esl_bench_session_label(&o, "a b=1"), ESL_EINVAL);
    assert_int_equal(esl_bench_session_label(&o, "=1"), ESL_EINVAL);
    assert_int_equal(esl_bench_session_label(&o, "novalue"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'novalue' is not KEY=VALUE (a key without spaces)");
    char kv[ESL_BENCH_MAX_EXTRA_LABELS][16];
    for (int i = 1; i < ESL_BENCH_MAX_EXTRA_LABELS; i++) {
        snprintf(kv[i], sizeof kv[i], "k%d=v", i);
        assert_int_equal(esl_bench_session_label(&o, kv[i]), ESL_OK);
    }
    assert_int_equal(esl_bench_session_label(&o, "one=more"), ESL_EINVAL);
    assert_int_equal(o.n_labels, ESL_BENCH_MAX_EXTRA_LABELS);
}

static void session_runs_and_prints(void **state)
{
    (void)state;
    setenv("ESL_STUB_CLOCK", "virtual", 1);
    setenv("ESL_STUB_POWER_W", "300", 1);
    setenv("ESL_GPU_STUB_NAME", "NVIDIA H100 80GB HBM3", 1);
    setenv("ESL_GPU_STUB_TFLOPS", "fp16=500", 1);
    unsetenv("ESL_GPU_STUB_PCI");
    esl_model *m;
    esl_workload *p = sd2_plan(&m);
    char path[SCRATCH_PATH_MAX];
    esl_bench_session_opts o;
    memset(&o, 0, sizeof o);
    o.meter.kind = ESL_METER_NVML;
    o.meter.library = ESL_NVML_STUB;
    o.meter.gpus = "0";
    o.meter.hz = 50;
    o.have_idle_w = 1;
    o.idle_w = 100;
    o.store = in_dir(path, "runs.db");
    o.module = ESL_GPU_STUB;
    o.seed = 1;
    assert_int_equal(esl_bench_session_label(&o, "node=n1"), ESL_OK);
    esl_bench_session s;
    int rc = esl_bench_session_open(&s, &o);
    if (rc != ESL_OK)
        fail_msg("esl_bench_session_open: %s", esl_error_last());

    esl_bench_result r;
    double wall_s = -1;
    assert_int_equal(esl_bench_session_probe(&r, &wall_s, &s, p), ESL_OK);
    assert_true(fabs(r.exec_flops - p->exec_flops) <= 1e-9 * p->exec_flops);
    assert_true(wall_s >= 0);

    esl_bench_measured run;
    if ((rc = esl_bench_session_run(&run, &s, p)) != ESL_OK)
        fail_msg("esl_bench_session_run: %s", esl_error_last());
    assert_true(run.run_id > 0);
    assert_true(fabs(run.total.achieved_tflops - 500) < 1e-9);

    char *doc = NULL;
    assert_int_equal(esl_bench_measured_json(&doc, p, &run), ESL_OK);
    json_t *j = json_loads(doc, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "device")), "NVIDIA H100 80GB HBM3");
    /* H100 SXM dense fp16: 989.4 TFLOP/s (data/gpu_peaks.csv) */
    assert_true(fabs(json_real_value(json_object_get(j, "peak_tflops")) - 989.4) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(j, "run_id")), run.run_id);
    assert_true(json_real_value(json_object_get(j, "energy_j")) == run.record->energy_j);
    json_decref(j);
    free(doc);

    static char text[1 << 14];
    char want[512];
    FILE *f = tmpfile();
    assert_int_equal(esl_bench_measured_csv(f, p, &run), ESL_OK);
    read_back(text, sizeof text, f);
    fclose(f);
    assert_true(strncmp(text, "model,height,width,steps,cfg,dtype,prompts,batch,device,", 56) == 0);
    assert_non_null(strstr(text, "\nsd2,256,256,2,0,fp16,3,2,\"NVIDIA H100 80GB HBM3\","));
    snprintf(want, sizeof want, ",%lld\n", (long long)run.run_id);
    assert_non_null(strstr(text, want));

    f = tmpfile();
    assert_int_equal(esl_bench_measured_table(f, p, &run, o.store), ESL_OK);
    read_back(text, sizeof text, f);
    fclose(f);
    assert_non_null(strstr(text, "of the 989.4 TFLOP/s dense fp16 peak of H100 SXM5 80GB\n"));
    snprintf(want, sizeof want, "stored     run %lld in %s\n", (long long)run.run_id, o.store);
    assert_non_null(strstr(text, want));
    assert_int_equal(esl_bench_measured_table(stdout, p, &run, NULL), ESL_EINVAL);

    esl_run *stored = NULL;
    assert_int_equal(esl_store_get(s.store, &stored, run.run_id), ESL_OK);
    assert_string_equal(esl_run_label(stored, "node"), "n1");
    assert_string_equal(esl_run_label(stored, "batch_size"), "2");
    esl_runs_free(stored, 1);
    esl_bench_measured_release(&run);
    esl_bench_session_close(&s);
    assert_null(s.meter);
    esl_bench_session_close(&s); /* closed twice: a no-op */
    esl_workload_free(p);
    esl_model_free(m);
}

static void gpu_rows(void **state)
{
    (void)state;
    esl_gpu_spec *g = NULL;
    size_t n = 0;
    const char *names[] = {"H100", "NVIDIA A100-SXM4-40GB"};
    assert_int_equal(esl_gpu_select(&g, &n, names, 2), ESL_OK);
    assert_int_equal(n, 2);
    static char text[1 << 14];
    FILE *f = tmpfile();
    assert_int_equal(esl_gpu_table(f, g, n), ESL_OK);
    read_back(text, sizeof text, f);
    fclose(f);
    assert_string_equal(text,
                        "gpu                         fp32    tf32    fp16    bf16     fp8    GB/s"
                        "    GB  TDP_W idle_W\n"
                        "H100 SXM5 80GB                67   494.7   989.4   989.4  1978.9    3350"
                        "    80    700    140\n"
                        "A100 SXM4 40GB              19.5     156     312     312       -    1555"
                        "    40    400     85\n");
    f = tmpfile();
    assert_int_equal(esl_gpu_csv(f, g, n), ESL_OK);
    read_back(text, sizeof text, f);
    fclose(f);
    assert_true(strncmp(text, "gpu,fp32_tflops,tf32_tflops,fp16_tflops,bf16_tflops,fp8_tflops,"
                              "mem_bw_gbs,mem_gb,tdp_w,idle_w,device_names,idle_status,source\n"
                              "H100 SXM5 80GB,67,494.7,989.4,989.4,1978.9,3350,80,700,140,"
                              "NVIDIA H100 80GB HBM3,", 185) == 0);
    assert_non_null(strstr(text, "\nA100 SXM4 40GB,19.5,156,312,312,0,1555,40,400,85,"));

    char *doc = NULL;
    assert_int_equal(esl_gpu_json(&doc, g, n), ESL_OK);
    json_t *rows = json_loads(doc, 0, NULL);
    assert_int_equal(json_array_size(rows), 2);
    json_t *a100 = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(a100, "gpu")), "A100 SXM4 40GB");
    assert_true(json_is_null(json_object_get(a100, "fp8_tflops")));
    assert_true(json_real_value(json_object_get(a100, "fp16_tflops")) == 312.0);
    json_decref(rows);
    free(doc);
    assert_int_equal(esl_gpu_json(&doc, NULL, 1), ESL_EINVAL);
    assert_null(doc);
    assert_int_equal(esl_gpu_table(NULL, g, n), ESL_EINVAL);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(workload_table_and_json),
        cmocka_unit_test(labels_checked),
        cmocka_unit_test(gpu_rows),
        cmocka_unit_test_setup_teardown(session_runs_and_prints, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
