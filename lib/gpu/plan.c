/*
 * plan.c - the workload: the exact-convention layer plan of a model mapped to
 * the GPU operations that execute it, and the run's FLOP totals.
 *
 * There is one layer list in esl: esl_plan_build reads the model
 * description's architecture section and lists every layer with its real
 * shape; the exact FLOP convention is its sum. The workload does not build
 * layers of its own: it maps each plan layer to a kernel (linear -> GEMM,
 * attention -> batched GEMMs around a softmax, conv -> implicit GEMM,
 * norm/act/other -> an element kernel), runs the denoiser's layers over 2B
 * images with CFG and the rest over B, and counts as executed exactly the
 * plan's FLOPs times the images. For GEMMs and convolutions that is what the
 * GPU multiplies and adds; for softmax, norms, activations and the other
 * element passes it is the plan's per-element count by definition
 * (docs/flops.md), whatever instructions the element kernels take. The
 * paper convention's totals are computed beside them for the law.
 * Its ops are walked in display order and written as CSV here too.
 * Plain C: the workload is built and tested without a GPU.
 */
#include <stdio.h>
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

int esl_dtype_list_parse(esl_dtype out[4], size_t *n, const char *list)
{
    *n = 0;
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char name[16];
        esl_dtype d;
        if (len >= sizeof name) /* longer than any dtype's name */
            return esl__fail(ESL_EINVAL, "'%.*s' is not one of fp16, bf16, fp32, tf32",
                             (int)len, p);
        memcpy(name, p, len);
        name[len] = '\0';
        if (len > 0 && esl_dtype_parse(&d, name) != ESL_OK)
            return esl__fail(ESL_EINVAL, "'%s' is not one of fp16, bf16, fp32, tf32", name);
        int seen = len == 0;
        for (size_t i = 0; i < *n && !seen; i++)
            seen = out[i] == d;
        if (!seen)
            out[(*n)++] = d;
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (*n == 0)
        return esl__fail(ESL_EINVAL, "'%s' names no precision", list ? list : "");
    return ESL_OK;
}

size_t esl_dtype_bytes(esl_dtype dtype)
{
    return dtype == ESL_DTYPE_FP16 || dtype == ESL_DTYPE_BF16 ? 2 : 4;
}

const char *esl_workload_kernel_name(esl_workload_kernel kind)
{
    switch (kind) {
    case ESL_KERNEL_GEMM: return "gemm";
    case ESL_KERNEL_ATTENTION: return "attention";
    case ESL_KERNEL_CONV: return "conv";
    case ESL_KERNEL_ELEMENTWISE: return "elementwise";
    }
    return "unknown";
}

static esl_workload_kernel kernel_of(esl_layer_kind kind)
{
    switch (kind) {
    case ESL_LAYER_LINEAR: return ESL_KERNEL_GEMM;
    case ESL_LAYER_ATTENTION: return ESL_KERNEL_ATTENTION;
    case ESL_LAYER_CONV: return ESL_KERNEL_CONV;
    case ESL_LAYER_NORM:
    case ESL_LAYER_ACT:
    case ESL_LAYER_OTHER: break;
    }
    return ESL_KERNEL_ELEMENTWISE;
}

static int overflow(const esl_model *m)
{
    return esl__fail(ESL_ERANGE, "%s: workload FLOPs overflow 64-bit integers", m->name);
}

/* One op per plan layer that executes anything, in the plan's order. */
static int map_layers(esl_workload *p)
{
    const esl_plan *plan = p->layers;
    size_t n = 0;
    for (size_t c = 0; c < plan->n_components; c++)
        n += plan->components[c].n_layers;
    p->ops = calloc(n ? n : 1, sizeof *p->ops);
    if (p->ops == NULL)
        return esl__fail(ESL_ENOMEM, "workload: out of memory");
    for (size_t c = 0; c < plan->n_components; c++) {
        const esl_plan_component *pc = &plan->components[c];
        int64_t batch = p->batch[pc->stage];
        for (size_t i = 0; i < pc->n_layers; i++) {
            const esl_layer *l = &pc->layers[i];
            int64_t f = l->flops;
            if (l->flops == 0 || l->count == 0)
                continue; /* embedding tables: parameters, nothing to execute */
            if (!esl__mul(&f, batch) || !esl__add(&p->stage_exec_flops[pc->stage], f))
                return overflow(p->model);
            p->ops[p->n_ops++] = (esl_workload_op){
                .component = c, .stage = pc->stage, .layer = l, .kind = kernel_of(l->kind),
                .batch = batch, .flops = f,
            };
        }
    }
    return ESL_OK;
}

int esl_workload_new(esl_workload **out, const esl_model *m, const esl_bench_config *config)
{
    const esl_request *r = &config->request;
    int rc;

    *out = NULL;
    if (config->batch <= 0)
        return esl__fail(ESL_EINVAL, "batch %lld: must be a positive integer",
                         (long long)config->batch);
    esl_workload *p = calloc(1, sizeof *p);
    if (p == NULL)
        return esl__fail(ESL_ENOMEM, "workload: out of memory");
    p->model = m;
    p->config = *config;
    /* Eq. 1 per prompt run: text once, the denoiser T times (over 2B
     * images with CFG: the conditional and unconditional halves in one
     * batch), decoding once; N runs one after another. */
    p->batch[ESL_STAGE_TEXT] = p->batch[ESL_STAGE_DECODE] = config->batch;
    p->batch[ESL_STAGE_DENOISE] = config->batch * (r->cfg ? 2 : 1);
    p->passes[ESL_STAGE_TEXT] = p->passes[ESL_STAGE_DECODE] = 1;
    p->passes[ESL_STAGE_DENOISE] = r->steps;

    /* The FLOP engine validates the request; its paper convention gives the
     * law's counts where the model has paper terms. */
    esl_request all = *r;
    esl_flops paper;
    if (!esl__mul(&all.prompts, config->batch)) {
        esl_workload_free(p);
        return overflow(m);
    }
    rc = esl_flops_count(&paper, m, &all, ESL_CONVENTION_PAPER);
    if (rc == ESL_OK) {
        p->has_paper = 1;
        p->paper_flops = paper.total_flops;
        p->paper_flops_cfg = paper.flops_cfg;
    } else if (rc != ESL_EUNSUPPORTED) {
        esl_workload_free(p);
        return rc;
    }
    if ((rc = esl_plan_build(&p->layers, m, r)) != ESL_OK || (rc = map_layers(p)) != ESL_OK) {
        esl_workload_free(p);
        return rc;
    }
    for (int s = 0; s < 3; s++) {
        int64_t e = p->stage_exec_flops[s];
        if (!esl__mul(&e, p->passes[s]) || !esl__add(&p->prompt_exec_flops, e)) {
            esl_workload_free(p);
            return overflow(m);
        }
    }
    p->exec_flops = (double)p->prompt_exec_flops * (double)r->prompts;
    *out = p;
    return ESL_OK;
}

void esl_workload_free(esl_workload *workload)
{
    if (workload == NULL)
        return;
    esl_plan_free(workload->layers);
    free(workload->ops);
    free(workload);
}

void esl_workload_each_op(const esl_workload *p,
                          void (*fn)(const esl_workload *, const esl_workload_op *, void *), void *ctx)
{
    for (size_t c = 0; c < p->layers->n_components; c++)
        for (int k = 0; k < ESL_LAYER_KIND_COUNT; k++)
            for (size_t i = 0; i < p->n_ops; i++)
                if (p->ops[i].component == c && (int)p->ops[i].layer->kind == k)
                    fn(p, &p->ops[i], ctx);
}

static void csv_row(const esl_workload *p, const esl_workload_op *op, void *ctx)
{
    const esl_layer *l = op->layer;
    fprintf(ctx,
            "%s,%s,%s,%s,%s,%s,%lld,%lld,%lld,%lld,%lld,%d,%lld,%lld,%lld,%lld,%d,%lld,%lld,%lld,%lld,"
            "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld\n",
            p->model->name, p->layers->components[op->component].name, esl_stage_name(op->stage),
            esl_layer_kind_name(l->kind), l->name, esl_workload_kernel_name(op->kind), (long long)l->count,
            (long long)op->batch, (long long)l->m, (long long)l->n, (long long)l->k, l->bias,
            (long long)l->heads, (long long)l->q_len, (long long)l->kv_len, (long long)l->head_dim,
            l->linear_attention, (long long)l->c_in, (long long)l->c_out, (long long)l->kh,
            (long long)l->kw, (long long)l->stride, (long long)l->groups, (long long)l->kt,
            (long long)l->h_out, (long long)l->w_out, (long long)l->elements,
            (long long)l->flops_per_element, (long long)p->passes[op->stage], (long long)op->flops);
}

int esl_workload_csv(FILE *out, const esl_workload *p)
{
    fputs("model,component,stage,kind,layer,kernel,count,batch,m,n,k,bias,heads,q_len,kv_len,"
          "head_dim,linear_attention,c_in,c_out,kh,kw,stride,groups,kt,h_out,w_out,elements,"
          "flops_per_element,passes,exec_flops_per_pass\n",
          out);
    esl_workload_each_op(p, csv_row, out);
    return ferror(out) ? esl__fail(ESL_EIO, "workload CSV: cannot write") : ESL_OK;
}
