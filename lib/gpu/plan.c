/*
 * plan.c - the layer plan: each paper-convention term of a model description
 * expanded into the GPU operations it stands for, with real shapes.
 *
 * The paper (Table 4) counts each primitive with one closed formula; a GPU
 * executes projections and feed-forward layers as GEMMs over the real token
 * counts, attention as two batched products around a softmax, convolutions
 * as implicit GEMMs, plus norms and activations. This file writes down that
 * expansion, term by term, and counts the FLOPs each operation executes
 * (2 per multiply-add of a GEMM or convolution; softmax, norms and
 * activations count 0, see docs/calibration.md). Every term also keeps its
 * paper FLOPs (esl_flops_term), so the plan's paper total equals
 * esl_flops_count exactly and the two conventions can be compared term by
 * term. Plain C: the plan is built and tested without a GPU.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/bench.h"

const char *esl_dtype_name(esl_dtype dtype)
{
    switch (dtype) {
    case ESL_DTYPE_FP16: return "fp16";
    case ESL_DTYPE_BF16: return "bf16";
    case ESL_DTYPE_FP32: return "fp32";
    case ESL_DTYPE_TF32: return "tf32";
    }
    return "unknown";
}

int esl_dtype_parse(esl_dtype *out, const char *name)
{
    static const esl_dtype all[] = {ESL_DTYPE_FP16, ESL_DTYPE_BF16, ESL_DTYPE_FP32, ESL_DTYPE_TF32};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, esl_dtype_name(all[i])) == 0) {
            *out = all[i];
            return ESL_OK;
        }
    return esl__fail(ESL_EINVAL, "unknown dtype '%s' (known: fp16, bf16, fp32, tf32)", name);
}

size_t esl_dtype_bytes(esl_dtype dtype)
{
    return dtype == ESL_DTYPE_FP16 || dtype == ESL_DTYPE_BF16 ? 2 : 4;
}

const char *esl_kernel_name(esl_kernel kind)
{
    switch (kind) {
    case ESL_KERNEL_GEMM: return "gemm";
    case ESL_KERNEL_CONV: return "conv";
    case ESL_KERNEL_SOFTMAX: return "softmax";
    case ESL_KERNEL_NORM: return "norm";
    case ESL_KERNEL_ACT: return "act";
    }
    return "unknown";
}

/* The plan under construction. */
typedef struct builder {
    esl_workload *plan;
    size_t cap_ops, cap_terms;
    size_t term;      /* index of the term being expanded */
    int64_t batch;    /* images per pass of the current stage */
} builder;

static int overflow(void)
{
    return esl__fail(ESL_ERANGE, "layer plan: a shape or FLOP count overflows 64-bit integers");
}

/* Checked product of up to five non-negative factors. */
static int mul(int64_t *out, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e)
{
    int64_t acc = a;
    *out = 0;
    if (!esl__mul(&acc, b) || !esl__mul(&acc, c) || !esl__mul(&acc, d) || !esl__mul(&acc, e))
        return overflow();
    *out = acc;
    return ESL_OK;
}

static int push(builder *b, const esl_workload_op *op)
{
    esl_workload *p = b->plan;
    if (op->count == 0)
        return ESL_OK;
    if (p->n_ops == b->cap_ops) {
        size_t cap = b->cap_ops ? 2 * b->cap_ops : 64;
        esl_workload_op *ops = realloc(p->ops, cap * sizeof *ops);
        if (ops == NULL)
            return esl__fail(ESL_ENOMEM, "layer plan: out of memory");
        p->ops = ops;
        b->cap_ops = cap;
    }
    esl_workload_term *t = &p->terms[b->term];
    int64_t total = op->flops;
    if (!esl__mul(&total, op->count) || !esl__add(&t->exec_flops, total))
        return overflow();
    p->ops[p->n_ops++] = *op;
    t->n_ops++;
    return ESL_OK;
}

/* A GEMM C[m,n] = A[m,k] B[k,n], `batch` of them, `count` times per pass. */
static int gemm(builder *b, esl_role role, int stream, int64_t m, int64_t n, int64_t k,
                int64_t batch, int64_t count)
{
    esl_workload_op op = {.term = b->term, .kind = ESL_KERNEL_GEMM, .role = role, .stream = stream,
                      .m = m, .n = n, .k = k, .batch = batch, .count = count};
    int rc;
    if (m == 0 || n == 0 || k == 0)
        return ESL_OK;
    if ((rc = mul(&op.flops, 2, m, n, k, batch)) != ESL_OK)
        return rc;
    return push(b, &op);
}

/* A softmax, norm or activation sweep over rows x cols (0 FLOPs counted). */
static int sweep(builder *b, esl_kernel kind, int stream, int64_t rows, int64_t cols, int64_t count)
{
    esl_workload_op op = {.term = b->term, .kind = kind, .role = ESL_ROLE_MISC, .stream = stream,
                      .rows = rows, .cols = cols, .batch = 1, .count = count};
    if (rows == 0 || cols == 0)
        return ESL_OK;
    return push(b, &op);
}

/* Table 4 Convolution as implicit GEMM: M = B H W, N = c_out, K = c_in k^2. */
static int conv(builder *b, int64_t k, int64_t c_in, int64_t c_out, int64_t h, int64_t w,
                int64_t count)
{
    esl_workload_op op = {.term = b->term, .kind = ESL_KERNEL_CONV, .role = ESL_ROLE_CONV,
                      .n = c_out, .batch = 1, .conv_k = k, .conv_c_in = c_in, .conv_h = h,
                      .conv_w = w, .count = count};
    int rc;
    if ((rc = mul(&op.m, b->batch, h, w, 1, 1)) != ESL_OK ||
        (rc = mul(&op.k, c_in, k, k, 1, 1)) != ESL_OK ||
        (rc = mul(&op.flops, 2, op.m, op.n, op.k, 1)) != ESL_OK)
        return rc;
    return push(b, &op);
}

/* Table 4 ResNetBlock: norm, SiLU, conv(c_in -> c_out), norm, SiLU,
 * conv(c_out -> c_out). Group norms run as per-position row norms over the
 * channels (same bytes read and written). */
static int res(builder *b, int64_t k, int64_t c_in, int64_t c_out, int64_t h, int64_t w,
               int64_t count)
{
    int64_t pos;
    int rc;
    if ((rc = mul(&pos, b->batch, h, w, 1, 1)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_NORM, 0, pos, c_in, count)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_ACT, 0, pos, c_in, count)) != ESL_OK ||
        (rc = conv(b, k, c_in, c_out, h, w, count)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_NORM, 0, pos, c_out, count)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_ACT, 0, pos, c_out, count)) != ESL_OK)
        return rc;
    return conv(b, k, c_out, c_out, h, w, count);
}

/* Width of one attention head: 128 for d_attn >= 1536, else 64, falling
 * back to the largest of 32, 16, 8 that divides d_attn, else one head. */
static int64_t head_dim(int64_t d_attn)
{
    static const int64_t widths[] = {128, 64, 32, 16, 8};
    for (size_t i = d_attn >= 1536 ? 0 : 1; i < sizeof widths / sizeof widths[0]; i++)
        if (d_attn % widths[i] == 0)
            return widths[i];
    return d_attn;
}

/* Attention core over n_q queries and n_k keys: Q K^T and softmax(.) V as
 * batched GEMMs over images x heads, with the softmax between them. */
static int attention(builder *b, int64_t d_attn, int64_t n_q, int64_t n_k, int64_t count)
{
    int64_t dh = head_dim(d_attn), heads = d_attn / dh, bh, rows;
    int rc;
    if ((rc = mul(&bh, b->batch, heads, 1, 1, 1)) != ESL_OK ||
        (rc = mul(&rows, bh, n_q, 1, 1, 1)) != ESL_OK ||
        (rc = gemm(b, ESL_ROLE_SCORES, 0, n_q, n_k, dh, bh, count)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_SOFTMAX, 0, rows, n_k, count)) != ESL_OK)
        return rc;
    return gemm(b, ESL_ROLE_VALUES, 0, n_q, dh, n_k, bh, count);
}

/* Norm, up-projection, activation, down-projection over `tokens` rows. */
static int feed_forward(builder *b, int stream, int64_t tokens, int64_t d, int64_t d_ff,
                        int64_t count)
{
    int rc;
    if (d_ff == 0)
        return ESL_OK;
    if ((rc = sweep(b, ESL_KERNEL_NORM, stream, tokens, d, count)) != ESL_OK ||
        (rc = gemm(b, ESL_ROLE_FF, stream, tokens, d_ff, d, 1, count)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_ACT, stream, tokens, d_ff, count)) != ESL_OK)
        return rc;
    return gemm(b, ESL_ROLE_FF, stream, tokens, d, d_ff, 1, count);
}

/*
 * Table 4 Transformer and MMDiT blocks. A transformer runs every token
 * through one set of weights; MMDiT keeps per-stream weights (image tokens
 * through one set, text tokens through the other) and attends jointly over
 * both. n[0] and n[1] are the two streams' token counts (n[1] = 0 for Tr).
 */
static int blocks(builder *b, const esl_term *t, const int64_t n[2], int64_t count)
{
    int64_t reps, all = n[0] + n[1], tok[2];
    int rc;
    if ((rc = mul(&reps, t->n_layer, count, 1, 1, 1)) != ESL_OK ||
        (rc = mul(&tok[0], b->batch, n[0], 1, 1, 1)) != ESL_OK ||
        (rc = mul(&tok[1], b->batch, n[1], 1, 1, 1)) != ESL_OK)
        return rc;
    for (int s = 0; s < 2; s++)
        if ((rc = sweep(b, ESL_KERNEL_NORM, s, tok[s], t->d_model, reps)) != ESL_OK ||
            (rc = gemm(b, ESL_ROLE_PROJ, s, tok[s], 3 * t->d_attn, t->d_model, 1, reps)) != ESL_OK)
            return rc;
    if ((rc = attention(b, t->d_attn, all, all, reps)) != ESL_OK)
        return rc;
    for (int s = 0; s < 2; s++)
        if ((rc = gemm(b, ESL_ROLE_PROJ, s, tok[s], t->d_model, t->d_attn, 1, reps)) != ESL_OK ||
            (rc = feed_forward(b, s, tok[s], t->d_model, t->d_ff, reps)) != ESL_OK)
            return rc;
    return ESL_OK;
}

/* Table 4 Cross-Attn Tr.: queries over n_q positions of width d_q, keys and
 * values projected from the n_k key tokens of width d_k. */
static int cross_blocks(builder *b, const esl_term *t, int64_t n_q, int64_t n_k, int64_t count)
{
    int64_t reps, q, kv;
    int rc;
    if ((rc = mul(&reps, t->n_layer, count, 1, 1, 1)) != ESL_OK ||
        (rc = mul(&q, b->batch, n_q, 1, 1, 1)) != ESL_OK ||
        (rc = mul(&kv, b->batch, n_k, 1, 1, 1)) != ESL_OK ||
        (rc = sweep(b, ESL_KERNEL_NORM, 0, q, t->d_model, reps)) != ESL_OK ||
        (rc = gemm(b, ESL_ROLE_PROJ, 0, q, t->d_attn, t->d_model, 1, reps)) != ESL_OK ||
        (rc = gemm(b, ESL_ROLE_PROJ, 0, kv, 2 * t->d_attn, t->d_k, 1, reps)) != ESL_OK ||
        (rc = attention(b, t->d_attn, n_q, n_k, reps)) != ESL_OK ||
        (rc = gemm(b, ESL_ROLE_PROJ, 0, q, t->d_model, t->d_attn, 1, reps)) != ESL_OK)
        return rc;
    return feed_forward(b, 0, q, t->d_model, t->d_ff, reps);
}

/* Table 4 Decoder composition at H x W pixels (H0 = H/8), layer by layer. */
static int decoder(builder *b, const esl_request *r, int64_t c_latent, int64_t count)
{
    int64_t h0 = r->height / 8, w0 = r->width / 8;
    int64_t h1 = 2 * h0, w1 = 2 * w0, h2 = 4 * h0, w2 = 4 * w0, h3 = r->height, w3 = r->width;
    esl_term mid = {.op = ESL_OP_TR, .d_model = 512, .d_ff = 256, .d_attn = 512, .n_layer = 1};
    int64_t n[2] = {h0 * w0, 0};
    int rc;
    if (r->height % 8 != 0 || r->width % 8 != 0)
        return esl__fail(ESL_EINVAL, "decoder: %lldx%lld is not a multiple of 8 pixels",
                         (long long)r->height, (long long)r->width);
    if ((rc = conv(b, 3, c_latent, 512, h0, w0, count)) != ESL_OK ||
        (rc = res(b, 3, 512, 512, h0, w0, 2 * count)) != ESL_OK ||
        (rc = blocks(b, &mid, n, count)) != ESL_OK ||
        (rc = res(b, 3, 512, 512, h0, w0, 3 * count)) != ESL_OK ||
        (rc = conv(b, 3, 512, 512, h1, w1, count)) != ESL_OK ||
        (rc = res(b, 3, 512, 512, h1, w1, 3 * count)) != ESL_OK ||
        (rc = conv(b, 3, 512, 512, h2, w2, count)) != ESL_OK ||
        (rc = res(b, 3, 512, 256, h2, w2, count)) != ESL_OK ||
        (rc = res(b, 3, 256, 256, h2, w2, 2 * count)) != ESL_OK ||
        (rc = conv(b, 3, 256, 256, h3, w3, count)) != ESL_OK ||
        (rc = res(b, 3, 256, 128, h3, w3, count)) != ESL_OK ||
        (rc = res(b, 3, 128, 128, h3, w3, 2 * count)) != ESL_OK)
        return rc;
    return conv(b, 3, 128, 3, h3, w3, count);
}

/* Side of the grid a term runs on: latent side scaled by 2^scale. */
static int grid_side(int64_t *out, const esl_model *m, int64_t pixels, int scale)
{
    int64_t side = pixels / m->latent_factor;
    if (scale < 0)
        side >>= -scale;
    for (int i = 0; i < scale; i++)
        if (!esl__mul(&side, 2))
            return overflow();
    *out = side;
    return ESL_OK;
}

/* Token counts of a sequence term, split as count.c's context rule reads
 * them: n[0] the image tokens (plus fixed tokens when there is no text
 * part), n[1] the text tokens (plus fixed tokens). */
static int streams(int64_t n[2], const esl_model *m, const esl_term *t, const esl_request *r)
{
    int64_t text = r->text_tokens > 0 ? r->text_tokens : m->text_tokens;
    int rc;
    n[0] = n[1] = 0;
    if (t->ctx == ESL_EXTENT_IMAGE || t->ctx == ESL_EXTENT_IMAGE_TEXT) {
        int64_t h = 0, w = 0;
        if ((rc = grid_side(&h, m, r->height, t->scale)) != ESL_OK ||
            (rc = grid_side(&w, m, r->width, t->scale)) != ESL_OK ||
            (rc = mul(&n[0], h / t->patch, w / t->patch, 1, 1, 1)) != ESL_OK)
            return rc;
    }
    if (t->ctx == ESL_EXTENT_IMAGE_TEXT || t->ctx == ESL_EXTENT_TEXT)
        n[1] = text;
    if (t->ctx == ESL_EXTENT_IMAGE)
        n[0] += t->tokens;
    else
        n[1] += t->tokens;
    if (t->ctx == ESL_EXTENT_TEXT || t->ctx == ESL_EXTENT_FIXED) {
        n[0] = n[1]; /* one stream: all tokens through the first weights */
        n[1] = 0;
    }
    return ESL_OK;
}

/* Expand one term into operations. */
static int expand(builder *b, const esl_model *m, const esl_term *t, const esl_request *r)
{
    int64_t n[2], h = 0, w = 0, tok;
    int rc;

    if (t->op == ESL_OP_CONV || t->op == ESL_OP_RES)
        if ((rc = grid_side(&h, m, r->height, t->scale)) != ESL_OK ||
            (rc = grid_side(&w, m, r->width, t->scale)) != ESL_OK)
            return rc;
    if ((rc = streams(n, m, t, r)) != ESL_OK)
        return rc;
    switch (t->op) {
    case ESL_OP_CONV:
        return conv(b, t->k, t->c_in, t->c_out, h, w, t->count);
    case ESL_OP_RES:
        return res(b, t->k, t->c_in, t->c_out, h, w, t->count);
    case ESL_OP_TR: {
        int64_t one[2] = {n[0] + n[1], 0};
        return blocks(b, t, one, t->count);
    }
    case ESL_OP_MMDIT:
        return blocks(b, t, n, t->count);
    case ESL_OP_CROSSTR: {
        int64_t nk = t->n_k_text ? (r->text_tokens > 0 ? r->text_tokens : m->text_tokens) : t->n_k;
        return cross_blocks(b, t, n[0] + n[1], nk, t->count);
    }
    case ESL_OP_LINEAR:
        if ((rc = mul(&tok, b->batch, n[0] + n[1], 1, 1, 1)) != ESL_OK)
            return rc;
        return gemm(b, ESL_ROLE_PROJ, 0, tok, t->d_out, t->d_in, 1, t->count);
    case ESL_OP_DECODER:
        return decoder(b, r, t->latent_channels, t->count);
    case ESL_OP_CONST:
        return ESL_OK; /* a fixed count or correction: nothing to execute */
    }
    return esl__fail(ESL_EINVAL, "layer plan: unknown primitive %d", (int)t->op);
}

static int add_term(builder *b, const esl_model *m, size_t ci, size_t ti)
{
    esl_workload *p = b->plan;
    const esl_component *c = &m->components[ci];
    const esl_term *t = &c->terms[ti];
    int64_t paper;
    int rc;

    if (p->n_terms == b->cap_terms) {
        size_t cap = b->cap_terms ? 2 * b->cap_terms : 16;
        esl_workload_term *terms = realloc(p->terms, cap * sizeof *terms);
        if (terms == NULL)
            return esl__fail(ESL_ENOMEM, "layer plan: out of memory");
        p->terms = terms;
        b->cap_terms = cap;
    }
    b->term = p->n_terms++;
    b->batch = p->config.batch * (c->stage == ESL_STAGE_DENOISE && p->config.request.cfg ? 2 : 1);
    if ((rc = esl_flops_term(&paper, m, t, &p->config.request)) != ESL_OK)
        return rc;
    if (!esl__mul(&paper, b->batch))
        return overflow();
    p->terms[b->term] = (esl_workload_term){
        .component = ci, .term = ti, .stage = c->stage, .op = t->op,
        .label = t->label ? t->label : esl_op_name(t->op), .batch = b->batch,
        .paper_flops = paper, .first_op = p->n_ops,
    };
    if ((rc = expand(b, m, t, &p->config.request)) != ESL_OK)
        return rc;
    if (!esl__add(&p->stage_paper_flops[c->stage], paper) ||
        !esl__add(&p->stage_exec_flops[c->stage], p->terms[b->term].exec_flops))
        return overflow();
    return ESL_OK;
}

int esl_workload_new(esl_workload **out, const esl_model *m, const esl_bench_config *config)
{
    esl_flops check;
    int rc;

    if (config->batch <= 0)
        return esl__fail(ESL_EINVAL, "batch %lld: must be a positive integer",
                         (long long)config->batch);
    /* Validates the request with the FLOP engine's own rules. */
    if ((rc = esl_flops_count(&check, m, &config->request, ESL_CONVENTION_PAPER)) != ESL_OK)
        return rc;

    esl_workload *p = calloc(1, sizeof *p);
    if (p == NULL)
        return esl__fail(ESL_ENOMEM, "layer plan: out of memory");
    p->model = m;
    p->config = *config;
    builder b = {.plan = p};
    for (size_t ci = 0; ci < m->n_components && rc == ESL_OK; ci++)
        for (size_t ti = 0; ti < m->components[ci].n_terms && rc == ESL_OK; ti++)
            if ((rc = add_term(&b, m, ci, ti)) != ESL_OK)
                rc = esl__fail_prefix(rc, "%s: component %s: ", m->name, m->components[ci].name);
    if (rc != ESL_OK) {
        esl_workload_free(p);
        return rc;
    }

    /* Eq. 1 per prompt run: text once, the denoiser T times, decoding once;
     * N runs one after another. */
    p->passes[ESL_STAGE_TEXT] = 1;
    p->passes[ESL_STAGE_DENOISE] = config->request.steps;
    p->passes[ESL_STAGE_DECODE] = 1;
    for (int s = 0; s < 3; s++) {
        int64_t e = p->stage_exec_flops[s], f = p->stage_paper_flops[s];
        if (!esl__mul(&e, p->passes[s]) || !esl__add(&p->prompt_exec_flops, e) ||
            !esl__mul(&f, p->passes[s]) || !esl__add(&p->prompt_paper_flops, f)) {
            esl_workload_free(p);
            return esl__fail(ESL_ERANGE, "%s: FLOPs of one prompt run overflow 64-bit integers",
                             m->name);
        }
    }
    p->exec_flops = (double)p->prompt_exec_flops * (double)config->request.prompts;
    p->paper_flops = (double)p->prompt_paper_flops * (double)config->request.prompts;
    *out = p;
    return ESL_OK;
}

void esl_workload_free(esl_workload *plan)
{
    if (plan == NULL)
        return;
    free(plan->terms);
    free(plan->ops);
    free(plan);
}
