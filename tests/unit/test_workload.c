/*
 * test_plan.c - the layer plan of the synthetic workload: its paper-term
 * FLOPs equal the FLOP engine's count exactly, its executed FLOPs equal an
 * independent closed form (paper count plus the documented differences of
 * docs/calibration.md), and a few shapes checked by hand.
 */
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

/* Sequence length of a term, written from docs/model-format.md. */
static int64_t seq_len(const esl_model *m, const esl_term *t, int64_t h, int64_t w)
{
    int64_t n = t->tokens;
    int64_t gh = h / m->latent_factor, gw = w / m->latent_factor;
    if (t->scale < 0)
        gh >>= -t->scale, gw >>= -t->scale;
    else
        gh <<= t->scale, gw <<= t->scale;
    if (t->ctx == ESL_EXTENT_IMAGE || t->ctx == ESL_EXTENT_IMAGE_TEXT)
        n += (gh / t->patch) * (gw / t->patch);
    if (t->ctx == ESL_EXTENT_IMAGE_TEXT || t->ctx == ESL_EXTENT_TEXT)
        n += m->text_tokens;
    return n;
}

/*
 * Executed minus paper FLOPs of one term for one image, closed form:
 *  Tr, MMDiT: the paper counts one attention product (2 n^2 d_attn), a GPU
 *             runs two (Q K^T and A V): + 2 n^2 d_attn per layer;
 *  CrossTr:   K and V are projected over n_k key tokens, not n_q:
 *             + 4 (n_k - n_q) d_k d_attn, and the second product
 *             + 2 n_q n_k d_attn, per layer;
 *  Decoder:   its mid-block transformer over h0 w0 tokens: + 2 (h0 w0)^2 512;
 *  const:     nothing executes: - the term.
 */
static int64_t delta(const esl_model *m, const esl_term *t, int64_t h, int64_t w, int64_t paper)
{
    int64_t n = seq_len(m, t, h, w), reps = t->n_layer * t->count;
    switch (t->op) {
    case ESL_OP_TR:
    case ESL_OP_MMDIT: return reps * 2 * n * n * t->d_attn;
    case ESL_OP_CROSSTR: {
        int64_t nk = t->n_k_text ? m->text_tokens : t->n_k;
        return reps * (4 * (nk - n) * t->d_k * t->d_attn + 2 * n * nk * t->d_attn);
    }
    case ESL_OP_DECODER: {
        int64_t n0 = (h / 8) * (w / 8);
        return t->count * 2 * n0 * n0 * 512;
    }
    case ESL_OP_CONST: return -paper;
    default: return 0;
    }
}

/* Sum of paper-term FLOPs == esl_flops_count for every model at several
 * sizes, steps, CFG, batch and prompt counts, exactly (int64). */
static void paper_terms_sum_to_engine(void **state)
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
                    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
                    assert_int_equal(p->prompt_paper_flops, f.image_flops * batch);
                    assert_true(p->paper_flops == f.total_flops);
                    assert_int_equal(p->stage_paper_flops[ESL_STAGE_DENOISE],
                                     f.denoise_flops_per_step * batch * (cfg ? 2 : 1));
                    int64_t sum = 0;
                    for (size_t i = 0; i < p->n_terms; i++)
                        sum += p->terms[i].paper_flops *
                               (p->terms[i].stage == ESL_STAGE_DENOISE ? steps : 1);
                    assert_int_equal(sum, p->prompt_paper_flops);
                    esl_workload_free(p);
                }
        esl_model_free(m);
    }
}

/* Executed FLOPs == paper + the closed-form differences, term by term, and
 * every term's executed count == the sum of its operations. */
static void executed_matches_closed_form(void **state)
{
    static const int64_t sides[] = {256, 512, 1024};
    (void)state;
    for (size_t mi = 0; mi < 4; mi++) {
        esl_model *m = load(models[mi]);
        for (size_t si = 0; si < 3; si++)
            for (int cfg = 0; cfg < 2; cfg++) {
                int64_t s = sides[si], batch = 2;
                esl_workload *p = plan_of(m, s, s, 20, cfg, 1, batch);
                int64_t run = 0;
                for (size_t i = 0; i < p->n_terms; i++) {
                    const esl_workload_term *pt = &p->terms[i];
                    const esl_term *t = &m->components[pt->component].terms[pt->term];
                    int64_t per_image = pt->paper_flops / pt->batch;
                    int64_t want = pt->batch * (per_image + delta(m, t, s, s, per_image));
                    int64_t ops = 0;
                    for (size_t o = pt->first_op; o < pt->first_op + pt->n_ops; o++) {
                        assert_int_equal(p->ops[o].term, i);
                        ops += p->ops[o].flops * p->ops[o].count;
                    }
                    if (pt->exec_flops != want)
                        fail_msg("%s %lld: term %zu (%s): executed %lld, closed form %lld",
                                 m->name, (long long)s, i, pt->label, (long long)pt->exec_flops,
                                 (long long)want);
                    assert_int_equal(ops, pt->exec_flops);
                    run += pt->exec_flops * (pt->stage == ESL_STAGE_DENOISE ? 20 : 1);
                }
                assert_int_equal(run, p->prompt_exec_flops);
                assert_true(p->exec_flops == (double)run);
                esl_workload_free(p);
            }
        esl_model_free(m);
    }
}

static const esl_workload_op *find_op(const esl_workload *p, const char *label, esl_kernel kind,
                                  int64_t m, int64_t n, int64_t k)
{
    for (size_t i = 0; i < p->n_ops; i++) {
        const esl_workload_op *o = &p->ops[i];
        if (strcmp(p->terms[o->term].label, label) == 0 && o->kind == kind && o->m == m &&
            o->n == n && o->k == k)
            return o;
    }
    fail_msg("no %s %lldx%lldx%lld op in term '%s'", esl_kernel_name(kind), (long long)m,
             (long long)n, (long long)k, label);
    return NULL;
}

/* FLUX at 1024^2 with CFG: 4096 image + 512 text tokens, batch 2. */
static void flux_shapes_by_hand(void **state)
{
    (void)state;
    esl_model *m = load("flux-dev");
    esl_workload *p = plan_of(m, 1024, 1024, 30, 1, 1, 1);
    /* Per-stream QKV: image tokens and text tokens through their own weights. */
    const esl_workload_op *o = find_op(p, "double-stream blocks", ESL_KERNEL_GEMM, 2 * 4096, 9216, 3072);
    assert_int_equal(o->count, 19);
    assert_int_equal(o->stream, 0);
    o = find_op(p, "double-stream blocks", ESL_KERNEL_GEMM, 2 * 512, 9216, 3072);
    assert_int_equal(o->stream, 1);
    /* Joint attention over 4608 tokens, 24 heads of 128, two images. */
    o = find_op(p, "double-stream blocks", ESL_KERNEL_GEMM, 4608, 4608, 128);
    assert_int_equal(o->batch, 48);
    assert_int_equal(o->role, ESL_ROLE_SCORES);
    assert_int_equal(o->flops, INT64_C(2) * 4608 * 4608 * 128 * 48);
    o = find_op(p, "single-stream blocks", ESL_KERNEL_GEMM, 2 * 4608, 12288, 3072);
    assert_int_equal(o->count, 38);
    /* T5 encoder once, batch 1, 32 heads of 128 over 512 tokens. */
    o = find_op(p, "tr", ESL_KERNEL_GEMM, 512, 512, 128);
    assert_int_equal(o->batch, 32);
    assert_int_equal(p->passes[ESL_STAGE_DENOISE], 30);
    /* The T5 GLU bias term is a constant: no operations, its FLOPs only. */
    int seen = 0;
    for (size_t i = 0; i < p->n_terms; i++)
        if (p->terms[i].op == ESL_OP_CONST) {
            seen = 1;
            assert_int_equal(p->terms[i].n_ops, 0);
            assert_int_equal(p->terms[i].exec_flops, 0);
            assert_int_equal(p->terms[i].paper_flops, INT64_C(24) * 10240 * 4097);
        }
    assert_true(seen);
    esl_workload_free(p);
    esl_model_free(m);
}

/* SD2 at 512^2: implicit-GEMM convs and cross-attention over 77 tokens. */
static void sd2_shapes_by_hand(void **state)
{
    (void)state;
    esl_model *m = load("sd2");
    esl_workload *p = plan_of(m, 512, 512, 20, 0, 1, 1);
    const esl_workload_op *o = find_op(p, "conv_in", ESL_KERNEL_CONV, 64 * 64, 320, 4 * 9);
    assert_int_equal(o->conv_h, 64);
    assert_int_equal(o->flops, INT64_C(2) * 4096 * 320 * 36);
    /* K/V over the 77 text tokens of width 1024; Q over 4096 positions. */
    o = find_op(p, "down1 cross-attention + GEGLU feed-forward", ESL_KERNEL_GEMM, 77, 640, 1024);
    assert_int_equal(o->count, 2);
    o = find_op(p, "down1 cross-attention + GEGLU feed-forward", ESL_KERNEL_GEMM, 4096, 77, 64);
    assert_int_equal(o->batch, 5);
    /* The decoder's 3x3 conv at full resolution: M = 512*512, K = 128*9. */
    find_op(p, "decoder", ESL_KERNEL_CONV, 512 * 512, 128, 128 * 9);
    esl_workload_free(p);
    esl_model_free(m);
}

/* MMDiT streams: image-only context keeps one stream; a text-token
 * override sizes the text stream; executed = paper + 2 n^2 a per layer. */
static void mmdit_streams(void **state)
{
    static const char json[] =
        "{\"format\": \"esl-model/1\", \"name\": \"tiny\", \"latent\": {\"factor\": 8, "
        "\"channels\": 16}, \"patch\": 2, \"text_tokens\": 40, \"components\": [{\"name\": "
        "\"dit\", \"stage\": \"denoise\", \"terms\": [{\"op\": \"mmdit\", \"d_model\": 256, "
        "\"d_ff\": 1024, \"d_attn\": 256, \"n_layer\": 3, \"ctx\": \"image\", \"label\": \"img\"}, "
        "{\"op\": \"mmdit\", \"d_model\": 256, \"d_ff\": 1024, \"d_attn\": 256, \"n_layer\": 2, "
        "\"ctx\": \"image+text\", \"label\": \"joint\"}]}]}";
    esl_model *m = NULL;
    (void)state;
    if (esl_model_parse(&m, json, sizeof json - 1, "tiny.json") != ESL_OK)
        fail_msg("%s", esl_error_last());
    esl_bench_config c = {.request = {.height = 256, .width = 256, .steps = 1, .prompts = 1,
                                      .text_tokens = 100},
                          .batch = 1};
    esl_workload *p = NULL;
    assert_int_equal(esl_workload_new(&p, m, &c), ESL_OK);
    int64_t n_img = 16 * 16; /* 256 px / 8 / patch 2 */
    for (size_t o = 0; o < p->n_ops; o++) {
        const esl_workload_op *op = &p->ops[o];
        if (p->terms[op->term].term == 0)
            assert_int_equal(op->stream, 0);
        if (op->stream == 1 && op->kind == ESL_KERNEL_GEMM)
            assert_int_equal(op->m, 100);
    }
    find_op(p, "joint", ESL_KERNEL_GEMM, n_img, 3 * 256, 256);
    find_op(p, "joint", ESL_KERNEL_GEMM, 100, 3 * 256, 256);
    find_op(p, "joint", ESL_KERNEL_GEMM, n_img + 100, n_img + 100, 64);
    find_op(p, "img", ESL_KERNEL_GEMM, n_img, n_img, 64);
    int64_t n = n_img + 100;
    assert_int_equal(p->terms[1].exec_flops, p->terms[1].paper_flops + 2 * 2 * n * n * 256);
    assert_int_equal(p->terms[0].exec_flops,
                     p->terms[0].paper_flops + 3 * 2 * n_img * n_img * 256);
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
    esl_workload_free(NULL);
    esl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paper_terms_sum_to_engine),
        cmocka_unit_test(executed_matches_closed_form),
        cmocka_unit_test(flux_shapes_by_hand),
        cmocka_unit_test(sd2_shapes_by_hand),
        cmocka_unit_test(mmdit_streams),
        cmocka_unit_test(bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
