/*
 * test_workload.c - the synthetic workload executes the exact layer plan:
 * its executed FLOPs equal the FLOP engine's exact convention exactly for
 * the four paper models at several sizes, with and without CFG, at batch 1
 * and above; every plan layer that computes maps to one op of the right
 * kernel over the right images; the paper convention's totals (and
 * FLOPs_cfg) ride along unchanged; a few shapes checked by hand.
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

static const char *const models[] = {"flux-dev", "sd35-large", "qwen-image", "sd2"};

static esl_model *load(const char *name)
{
    esl_model *m = NULL;
    if (esl_catalog_find(&m, name) != ESL_OK)
        fail_msg("%s: %s", name, esl_error_last());
    return m;
}

static esl_workload *plan_of(const esl_model *m, int64_t h, int64_t w, int64_t steps, int cfg,
                             int64_t prompts, int64_t batch)
{
    esl_bench_config c = {
        .request = {.height = h, .width = w, .steps = steps, .cfg = cfg, .prompts = prompts},
        .batch = batch, .dtype = ESL_DTYPE_BF16,
    };
    esl_workload *p = NULL;
    if (esl_workload_new(&p, m, &c) != ESL_OK)
        fail_msg("%s %lldx%lld: %s", m->name, (long long)h, (long long)w, esl_error_last());
    return p;
}

/* Executed FLOPs == esl_flops_count(EXACT) for every model at several
 * sizes, CFG on and off, batch 1 and 3, three prompts: per stage and per
 * prompt run exactly (int64), and the run total to the double's precision. */
static void executed_equals_exact_engine(void **state)
{
    static const int64_t sizes[][2] = {{256, 256}, {512, 512}, {768, 768}, {1024, 1024},
                                       {512, 768}, {1024, 512}};
    (void)state;
    for (size_t mi = 0; mi < 4; mi++) {
        esl_model *m = load(models[mi]);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int cfg = 0; cfg < 2; cfg++)
                for (int64_t batch = 1; batch <= 3; batch += 2) {
                    int64_t h = sizes[si][0], w = sizes[si][1], steps = 10 + 20 * cfg, n = 3;
                    esl_workload *p = plan_of(m, h, w, steps, cfg, n, batch);
                    esl_request r = {.height = h, .width = w, .steps = steps, .cfg = cfg,
                                     .prompts = n * batch};
                    esl_flops f;
                    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_EXACT), ESL_OK);
                    assert_int_equal(p->stage_exec_flops[ESL_STAGE_TEXT], f.text_flops * batch);
                    assert_int_equal(p->stage_exec_flops[ESL_STAGE_DENOISE],
                                     f.denoise_flops_per_step * batch * (cfg ? 2 : 1));
                    assert_int_equal(p->stage_exec_flops[ESL_STAGE_DECODE], f.decode_flops * batch);
                    assert_int_equal(p->prompt_exec_flops, f.image_flops * batch);
                    if (fabs(p->exec_flops - f.total_flops) > 1e-15 * f.total_flops)
                        fail_msg("%s %lldx%lld cfg %d batch %lld: executed %.17g, exact %.17g",
                                 m->name, (long long)h, (long long)w, cfg, (long long)batch,
                                 p->exec_flops, f.total_flops);
                    /* Walk the ops as the GPU module does: passes x op FLOPs. */
                    int64_t walked = 0;
                    for (size_t o = 0; o < p->n_ops; o++)
                        walked += p->passes[p->ops[o].stage] * p->ops[o].flops;
                    assert_int_equal(walked, p->prompt_exec_flops);
                    /* The paper convention rides along for the law. */
                    esl_flops paper;
                    assert_int_equal(esl_flops_count(&paper, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
                    assert_true(p->has_paper);
                    assert_true(p->paper_flops == paper.total_flops);
                    assert_true(p->paper_flops_cfg == paper.flops_cfg);
                    esl_workload_free(p);
                }
        esl_model_free(m);
    }
}

/* Every plan layer with FLOPs is one op: its kernel follows the layer's
 * kind, its images are the stage's batch, its FLOPs the layer's times them. */
static void one_op_per_layer(void **state)
{
    (void)state;
    for (size_t mi = 0; mi < 4; mi++) {
        esl_model *m = load(models[mi]);
        esl_workload *p = plan_of(m, 512, 512, 4, 1, 1, 2);
        size_t want = 0, seen[ESL_LAYER_KIND_COUNT] = {0};
        for (size_t c = 0; c < p->layers->n_components; c++)
            for (size_t i = 0; i < p->layers->components[c].n_layers; i++)
                want += p->layers->components[c].layers[i].flops > 0;
        assert_int_equal(p->n_ops, want);
        for (size_t o = 0; o < p->n_ops; o++) {
            const esl_workload_op *op = &p->ops[o];
            const esl_plan_component *pc = &p->layers->components[op->component];
            assert_true(op->layer >= pc->layers && op->layer < pc->layers + pc->n_layers);
            assert_int_equal(op->stage, pc->stage);
            assert_int_equal(op->batch, op->stage == ESL_STAGE_DENOISE ? 4 : 2);
            assert_int_equal(op->flops, op->layer->flops * op->batch);
            esl_workload_kernel k = op->layer->kind == ESL_LAYER_LINEAR      ? ESL_KERNEL_GEMM
                           : op->layer->kind == ESL_LAYER_ATTENTION ? ESL_KERNEL_ATTENTION
                           : op->layer->kind == ESL_LAYER_CONV      ? ESL_KERNEL_CONV
                                                                    : ESL_KERNEL_ELEMENTWISE;
            assert_int_equal(op->kind, k);
            seen[op->layer->kind]++;
        }
        /* Every model has linear, attention, norm, act and other layers;
         * all have convolutions in their VAE decoders. */
        for (int k = 0; k < ESL_LAYER_KIND_COUNT; k++)
            if (seen[k] == 0)
                fail_msg("%s: no %s layer executes", m->name, esl_layer_kind_name((esl_layer_kind)k));
        esl_workload_free(p);
        esl_model_free(m);
    }
}

static const esl_workload_op *find_op(const esl_workload *p, const char *component,
                                      const char *layer)
{
    for (size_t i = 0; i < p->n_ops; i++) {
        const esl_workload_op *o = &p->ops[i];
        if (strcmp(p->layers->components[o->component].name, component) == 0 &&
            strcmp(o->layer->name, layer) == 0)
            return o;
    }
    fail_msg("no op for layer %s of %s", layer, component);
    return NULL;
}

/* FLUX at 1024^2 with CFG: 4096 image + 512 text tokens, a denoiser batch of 2. */
static void flux_shapes_by_hand(void **state)
{
    (void)state;
    esl_model *m = load("flux-dev");
    esl_workload *p = plan_of(m, 1024, 1024, 30, 1, 1, 1);
    const esl_workload_op *o = find_op(p, "transformer", "double.img.attn.q");
    assert_int_equal(o->kind, ESL_KERNEL_GEMM);
    assert_int_equal(o->layer->m, 4096);
    assert_int_equal(o->layer->count, 19);
    assert_int_equal(o->batch, 2);
    assert_int_equal(o->flops, INT64_C(19) * 2 * (2 * 4096 * 3072 * INT64_C(3072) + 4096 * 3072));
    o = find_op(p, "transformer", "single.attention");
    assert_int_equal(o->kind, ESL_KERNEL_ATTENTION);
    assert_int_equal(o->layer->heads, 24);
    assert_int_equal(o->layer->q_len, 4608);
    assert_int_equal(o->layer->head_dim, 128);
    assert_int_equal(o->layer->count, 38);
    /* QK^T and AV, 2 q kv d each, plus the softmax's 5 per score. */
    assert_int_equal(o->flops, INT64_C(2) * 38 * 24 * 4608 * 4608 * (4 * 128 + 5));
    /* The T5 encoder once per prompt, one image. */
    o = find_op(p, "t5-xxl", "layer.ff.wi_0");
    assert_int_equal(o->batch, 1);
    assert_int_equal(o->layer->m, 512);
    assert_int_equal(p->passes[ESL_STAGE_DENOISE], 30);
    assert_int_equal(p->batch[ESL_STAGE_DENOISE], 2);
    esl_workload_free(p);
    esl_model_free(m);
}

/* SD2 at 512^2: convolutions as implicit GEMM, strided downsampling,
 * cross-attention over 77 text tokens. */
static void sd2_shapes_by_hand(void **state)
{
    (void)state;
    esl_model *m = load("sd2");
    esl_workload *p = plan_of(m, 512, 512, 20, 0, 1, 3);
    const esl_workload_op *o = find_op(p, "unet", "conv_in");
    assert_int_equal(o->kind, ESL_KERNEL_CONV);
    assert_int_equal(o->layer->h_out, 64);
    assert_int_equal(o->flops, 3 * (INT64_C(2) * 4 * 9 * 320 * 4096 + 320 * 4096));
    o = find_op(p, "unet", "down0.downsample");
    assert_int_equal(o->layer->stride, 2);
    assert_int_equal(o->layer->h_out, 32);
    o = find_op(p, "unet", "down1.attn0.attn2.attention");
    assert_int_equal(o->layer->q_len, 1024);
    assert_int_equal(o->layer->kv_len, 77);
    assert_int_equal(o->batch, 3);
    o = find_op(p, "vae-decoder", "decoder.up1.upsample.conv");
    assert_int_equal(o->layer->h_out, 256);
    assert_int_equal(o->batch, 3);
    esl_workload_free(p);
    esl_model_free(m);
}

/* A description without paper terms still runs: its exact plan executes,
 * the paper counts are marked absent. */
static void no_paper_terms(void **state)
{
    (void)state;
    esl_model *m = NULL;
    if (esl_model_from_diffusers(&m, ESL_TEST_DATA "/diffusers/sana", "sana") != ESL_OK)
        fail_msg("%s", esl_error_last());
    esl_workload *p = plan_of(m, 1024, 1024, 20, 1, 1, 1);
    esl_request r = {.height = 1024, .width = 1024, .steps = 20, .cfg = 1, .prompts = 1};
    esl_flops f;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_EXACT), ESL_OK);
    assert_int_equal(p->prompt_exec_flops, f.image_flops);
    assert_false(p->has_paper);
    assert_true(p->paper_flops == 0 && p->paper_flops_cfg == 0);
    /* Sana's linear attention maps to the attention kernel. */
    int linear = 0;
    for (size_t o = 0; o < p->n_ops; o++)
        linear += p->ops[o].kind == ESL_KERNEL_ATTENTION && p->ops[o].layer->linear_attention;
    assert_true(linear > 0);
    esl_workload_free(p);
    esl_model_free(m);
}

struct walk {
    size_t n;
    const esl_workload_op *prev;
};

static void count_op(const esl_workload *p, const esl_workload_op *op, void *ctx)
{
    struct walk *w = ctx;
    /* display order: components never go back, kinds ascend inside one */
    if (w->prev != NULL)
        assert_true(w->prev->component < op->component ||
                    (w->prev->component == op->component && w->prev->layer->kind <= op->layer->kind));
    assert_true(op >= p->ops && op < p->ops + p->n_ops);
    w->n++;
    w->prev = op;
}

/* Every op walked once in display order; the CSV has a line for each. */
static void ops_walk_and_csv(void **state)
{
    (void)state;
    esl_model *m = load("sd2");
    esl_workload *p = plan_of(m, 512, 512, 2, 1, 1, 1);
    struct walk w = {0, NULL};
    esl_workload_each_op(p, count_op, &w);
    assert_int_equal(w.n, p->n_ops);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_workload_csv(f, p), ESL_OK);
    rewind(f);
    char line[1024];
    size_t lines = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(strncmp(line, "model,component,stage,kind,layer,kernel,", 40) == 0);
    while (fgets(line, sizeof line, f) != NULL) {
        assert_true(strncmp(line, "sd2,", 4) == 0);
        lines++;
    }
    assert_int_equal(lines, p->n_ops);
    fclose(f);
    esl_workload_free(p);
    esl_model_free(m);
}

static void bad_config(void **state)
{
    (void)state;
    esl_model *m = load("sd2");
    esl_bench_config c = {.request = {.height = 512, .width = 512, .steps = 1, .prompts = 1},
                          .batch = 0};
    esl_workload *p = NULL;
    assert_int_equal(esl_workload_new(&p, m, &c), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "batch 0"));
    c.batch = 1;
    c.request.height = 500;
    assert_int_equal(esl_workload_new(&p, m, &c), ESL_EINVAL);
    assert_null(p);
    esl_dtype d;
    assert_int_equal(esl_dtype_parse(&d, "tf32"), ESL_OK);
    assert_int_equal(d, ESL_DTYPE_TF32);
    assert_int_equal(esl_dtype_parse(&d, "fp8"), ESL_EINVAL);
    /* a list: each dtype once, in order, empty items skipped */
    esl_dtype list[4];
    size_t n = 9;
    assert_int_equal(esl_dtype_list_parse(list, &n, "fp32,,bf16,fp32"), ESL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0], ESL_DTYPE_FP32);
    assert_int_equal(list[1], ESL_DTYPE_BF16);
    assert_int_equal(esl_dtype_list_parse(list, &n, "bf16,fp8"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'fp8' is not one of fp16, bf16, fp32, tf32");
    assert_int_equal(esl_dtype_list_parse(list, &n, "a-very-long-name-indeed"), ESL_EINVAL);
    assert_int_equal(esl_dtype_list_parse(list, &n, ","), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "',' names no precision");
    assert_string_equal(esl_workload_kernel_name(ESL_KERNEL_CONV), "conv");
    assert_string_equal(esl_workload_kernel_name(ESL_KERNEL_ELEMENTWISE), "elementwise");
    esl_workload_free(NULL);
    esl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(executed_equals_exact_engine),
        cmocka_unit_test(one_op_per_layer),
        cmocka_unit_test(flux_shapes_by_hand),
        cmocka_unit_test(sd2_shapes_by_hand),
        cmocka_unit_test(no_paper_terms),
        cmocka_unit_test(ops_walk_and_csv),
        cmocka_unit_test(bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
