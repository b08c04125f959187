/*
 * test_bench_run.c - esl_bench_run through the stand-in CUDA module
 * (tests/stubs/gpu_stub.c): the loop hook brackets the loop exactly once
 * each way, its failure is returned with its own detail, the module's
 * failures keep theirs, and a library that is not a module is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"
#include "esl/esl.h"

typedef struct hook {
    int calls[2];     /* begin, end */
    int fail_on;      /* -1: never; 0: begin; 1: end */
} hook;

static int on_loop(void *ctx, int end)
{
    hook *h = ctx;
    h->calls[end]++;
    if (h->fail_on == end)
        return esl__fail(ESL_EDEVICE, "hook failed at %s", end ? "end" : "begin");
    return ESL_OK;
}

static esl_workload *sd2_plan(esl_model **m, int64_t prompts)
{
    esl_workload *p = NULL;
    esl_bench_config c = {.request = {.height = 256, .width = 256, .steps = 3, .prompts = prompts},
                          .batch = 1, .dtype = ESL_DTYPE_BF16};
    assert_int_equal(esl_catalog_find(m, "sd2"), ESL_OK);
    assert_int_equal(esl_workload_new(&p, *m, &c), ESL_OK);
    return p;
}

static void hook_brackets_the_loop(void **state)
{
    (void)state;
    esl_model *m;
    esl_workload *p = sd2_plan(&m, 2);
    hook h = {{0, 0}, -1};
    esl_bench_opts o = {.module = ESL_GPU_STUB, .seed = 1, .on_loop = on_loop, .loop_ctx = &h};
    esl_bench_result r;
    setenv("ESL_GPU_STUB_TFLOPS", "bf16=1000", 1);
    assert_int_equal(esl_bench_run(&r, p, &o), ESL_OK);
    assert_int_equal(h.calls[0], 1);
    assert_int_equal(h.calls[1], 1);
    assert_true(r.exec_flops == p->exec_flops);
    assert_true(r.paper_flops == p->paper_flops);
    assert_true(r.duration_s == p->exec_flops / 1e15);
    assert_string_equal(r.device, "Stub GPU 0");
    esl_workload_free(p);
    esl_model_free(m);
}

static void hook_failure_keeps_its_detail(void **state)
{
    (void)state;
    esl_model *m;
    esl_workload *p = sd2_plan(&m, 1);
    esl_bench_result r;
    for (int at = 0; at < 2; at++) {
        hook h = {{0, 0}, at};
        esl_bench_opts o = {.module = ESL_GPU_STUB, .on_loop = on_loop, .loop_ctx = &h};
        assert_int_equal(esl_bench_run(&r, p, &o), ESL_EDEVICE);
        assert_string_equal(esl_error_last(), at ? "hook failed at end" : "hook failed at begin");
        assert_int_equal(h.calls[0], 1);
        assert_int_equal(h.calls[1], at); /* no end call after a failed begin */
    }
    esl_workload_free(p);
    esl_model_free(m);
}

static void module_failures(void **state)
{
    (void)state;
    esl_model *m;
    esl_workload *p = sd2_plan(&m, 1);
    esl_bench_result r;
    esl_bench_opts o = {.module = ESL_GPU_STUB};
    setenv("ESL_GPU_STUB_FAIL", "nodev", 1);
    assert_int_equal(esl_bench_run(&r, p, &o), ESL_ENODEV);
    assert_non_null(strstr(esl_error_last(), "no GPU: cudaGetDeviceCount"));
    setenv("ESL_GPU_STUB_FAIL", "nomem", 1);
    assert_int_equal(esl_bench_run(&r, p, &o), ESL_ENOMEM);
    unsetenv("ESL_GPU_STUB_FAIL");
    /* a shared library that is not the module */
    o.module = ESL_NVML_STUB;
    assert_int_equal(esl_bench_run(&r, p, &o), ESL_ENODEV);
    assert_non_null(strstr(esl_error_last(), "lacks esl_gpu_module_abi"));
    esl_workload_free(p);
    esl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hook_brackets_the_loop),
        cmocka_unit_test(hook_failure_keeps_its_detail),
        cmocka_unit_test(module_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
