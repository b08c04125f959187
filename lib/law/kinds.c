/*
 * kinds.c - the by-kind form of the energy law: energy per image priced by
 * the kind of work the layer plan says each FLOP is, with the precision the
 * GPU really runs it in.
 *
 *   E/N = s_gpu [ c (e_flop[d] (F_lin + F_attn + F_misc) + e_conv' F_conv)
 *                 + e_launch c K / b + e_aux m (F_text + F_decode) ]
 *
 * c = T (1 + cfg) denoiser passes per image, F_* the FLOPs of one pass by
 * kind (exact convention, from the layer plan), K the layer instances one
 * pass launches, b the batch of one call (doubled where the pipeline runs
 * CFG's two passes as one call), and s_gpu = exp(beta_gpu).
 *
 * Precision follows what PyTorch does by default, not the dtype's name. In
 * fp32, cuDNN convolutions run on TF32 tensor cores
 * (torch.backends.cudnn.allow_tf32 defaults to True) while matmuls stay in
 * true FP32 (torch.backends.cuda.matmul.allow_tf32 defaults to False). So an
 * fp32 row prices its linear and attention FLOPs at e_flop[fp32], but its
 * convolutions, and the conv-heavy decoder, at kappa times the half-precision
 * price: kappa = dense fp16 peak / dense peak of the path fp32 convolutions
 * take (TF32 where the GPU has it, FP32 otherwise), from the GPU table
 * (data/gpu_peaks.csv), not fitted. Half precisions (fp16, bf16) price every
 * kind at their own e_flop; "tf32" (fp32 with TF32 matmuls) prices every kind
 * at kappa times the half-precision price.
 *
 * Optional terms (esl_fit_opts.terms): ESL_TERM_ATTN prices attention FLOPs
 * apart (e_attn[d]), ESL_TERM_CONV gives convolutions their own price
 * e_conv (kappa e_conv in fp32), ESL_TERM_BYTES adds e_byte per weight byte
 * read per call. docs/law.md has the held-out evidence for each.
 *
 * The nonlinear fit itself (log-space residuals, log-parameters) is shared
 * with the roofline form in roofline.c; this file says what the work of a
 * row is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "esl/gpus.h"
#include "esl/law.h"
#include "law/internal.h"

/* How a precision runs on the GPU under PyTorch's defaults. */
typedef enum dtype_class { CLASS_HALF, CLASS_FP32, CLASS_TF32 } dtype_class;

static int classify(dtype_class *out, const char *dtype)
{
    static const struct { const char *name; dtype_class cls; } table[] = {
        {"fp16", CLASS_HALF}, {"bf16", CLASS_HALF}, {"fp8", CLASS_HALF},
        {"fp32", CLASS_FP32}, {"tf32", CLASS_TF32},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, dtype) == 0) {
            *out = table[i].cls;
            return ESL_OK;
        }
    return esl__fail(ESL_EINVAL, "dtype '%s': the by-kind form knows no precision of that name "
                     "(known: fp16, bf16, fp8, fp32, tf32)", dtype);
}

double esl__kappa_of(const char *gpu, int *known)
{
    esl_bench_peak half, conv;
    *known = 0;
    if (gpu == NULL || esl_bench_peak_find(&half, gpu, ESL_DTYPE_FP16) != ESL_OK)
        return ESL_KAPPA_DEFAULT;
    *known = 1;
    /* fp32 convolutions take TF32 tensor cores where the GPU has them. */
    if (esl_bench_peak_find(&conv, gpu, ESL_DTYPE_TF32) != ESL_OK &&
        esl_bench_peak_find(&conv, gpu, ESL_DTYPE_FP32) != ESL_OK)
        return ESL_KAPPA_DEFAULT;
    return half.tflops / conv.tflops;
}

double esl__law_kappa(const esl_law *law, const char *gpu)
{
    for (size_t i = 0; i < law->n_kappa; i++)
        if (strcmp(law->kappa_gpus[i], gpu) == 0)
            return law->kappa[i];
    int known;
    return esl__kappa_of(gpu, &known);
}

/* The feature index of a per-dtype energy of `kind` for `level`, or -1. */
static int level_feature(const esl_law *law, esl_feature_kind kind, const char *level)
{
    for (size_t j = 0; j < law->n_features; j++) {
        const esl_feature *f = &law->features[j];
        if (f->kind == kind && (f->level == NULL || (level && strcmp(f->level, level) == 0)))
            return (int)j;
    }
    return -1;
}

/* The half-precision level whose price an fp32 row's tensor-core work
 * borrows: fp16, else bf16, else none. */
static const char *half_level(const esl_law *law)
{
    const esl_factor *fa = &law->factors[1];
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < fa->n_levels; i++)
            if (strcmp(fa->levels[i], k == 0 ? "fp16" : "bf16") == 0)
                return fa->levels[i];
    return NULL;
}

/* The dtype level a row's per-dtype energies read: its own, or the
 * baseline for a level the law has not seen. */
static const char *row_level(const esl_law *law, const esl_row *row)
{
    const esl_factor *fa = &law->factors[1];
    for (size_t i = 0; i < fa->n_levels; i++)
        if (strcmp(fa->levels[i], row->dtype) == 0)
            return row->dtype;
    return fa->baseline;
}

int esl__kinds_basis(const esl_law *law, const esl_row *row, double *b)
{
    dtype_class cls = CLASS_HALF;
    int rc = classify(&cls, row->dtype);
    if (rc != ESL_OK)
        return rc;
    double pass = row->plan_linear_flops + row->plan_attn_flops + row->plan_conv_flops +
                  row->plan_misc_flops;
    if (!(pass > 0) || !(row->denoise_ops > 0))
        return esl__fail(ESL_EINVAL, "model '%s' has no layer plan: the by-kind form needs the "
                         "FLOPs of its denoiser by kind of operation (an architecture section, "
                         "docs/model-format.md)", row->model);
    size_t p = law->n_features;
    for (size_t j = 0; j < p; j++)
        b[j] = 0.0;
    double calls = (double)row->steps * (row->cfg ? 2.0 : 1.0);
    double batch = row->batch_size > 0 ? (double)row->batch_size : 1.0;
    if (row->cfg && row->cfg_batched)
        batch *= 2.0; /* CFG's two passes share one call: launches once */
    double kappa = esl__law_kappa(law, row->gpu);
    const char *level = row_level(law, row), *half = half_level(law);
    int own = level_feature(law, ESL_FEATURE_E_FLOP, level);
    int tensor = half != NULL ? level_feature(law, ESL_FEATURE_E_FLOP, half) : -1;
    int attn = level_feature(law, ESL_FEATURE_E_ATTN, level);
    int conv = level_feature(law, ESL_FEATURE_E_CONV, NULL);
    /* Where the row's tensor-core work is priced, and at what multiple. */
    int tc = cls == CLASS_HALF || tensor < 0 ? own : tensor;
    double tc_scale = cls == CLASS_HALF || tensor < 0 ? 1.0 : kappa;
    if (own < 0)
        return esl__fail(ESL_EINVAL, "the law has no energy per FLOP for dtype '%s'", row->dtype);

    /* Linear layers and attention: true FP32 in fp32, tensor cores otherwise. */
    int lin_at = cls == CLASS_TF32 ? tc : own;
    double lin_scale = cls == CLASS_TF32 ? tc_scale : 1.0;
    b[lin_at] += calls * lin_scale * (row->plan_linear_flops + row->plan_misc_flops);
    if (attn >= 0)
        b[attn] += calls * row->plan_attn_flops;
    else
        b[lin_at] += calls * lin_scale * row->plan_attn_flops;
    /* Convolutions: TF32 (or half) tensor cores whatever the dtype. */
    if (conv >= 0)
        b[conv] += calls * (cls == CLASS_HALF ? 1.0 : kappa) * row->plan_conv_flops;
    else
        b[tc] += calls * tc_scale * row->plan_conv_flops;
    for (size_t j = 0; j < p; j++) {
        const esl_feature *f = &law->features[j];
        switch (f->kind) {
        case ESL_FEATURE_E_LAUNCH: b[j] = calls * row->denoise_ops / batch; break;
        case ESL_FEATURE_E_AUX:
            /* Text encoders and the decoder, at the tensor-core multiple in fp32. */
            b[j] = (row->plan_text_flops + row->plan_decode_flops) *
                   (cls == CLASS_HALF ? 1.0 : kappa);
            break;
        case ESL_FEATURE_E_BYTE: {
            double bytes = cls == CLASS_HALF ? 2.0 : 4.0;
            if (!(row->denoise_params > 0))
                return esl__fail(ESL_EINVAL, "model '%s': no parameter count for its denoiser "
                                 "(give 'params' in its description)", row->model);
            b[j] = calls * row->denoise_params * bytes / batch;
            break;
        }
        case ESL_FEATURE_LEVEL: b[j] = strcmp(row->gpu, f->level) == 0 ? 1.0 : 0.0; break;
        default: break;
        }
    }
    /* A GPU the law was not trained on: its work priced from the GPU table. */
    if (!esl__law_gpu_known(law, row->gpu)) {
        double ln[2];
        if ((rc = esl__gpu_transfer(ln, law, row->gpu)) != ESL_OK)
            return rc;
        for (size_t j = 0; j < p; j++) {
            esl_feature_kind k = law->features[j].kind;
            if (k == ESL_FEATURE_E_LAUNCH)
                b[j] *= exp(ln[1]);
            else if (k != ESL_FEATURE_LEVEL)
                b[j] *= exp(ln[0]);
        }
    }
    return ESL_OK;
}

int esl__law_gpu_known(const esl_law *law, const char *gpu)
{
    const esl_factor *fa = &law->factors[0];
    for (size_t i = 0; i < fa->n_levels; i++)
        if (strcmp(fa->levels[i], gpu) == 0)
            return 1;
    return fa->n_levels == 0; /* the gpu term off: every GPU reads the same */
}

int esl__kinds_features(esl_law *law, const esl_dataset *ds)
{
    int rc;
    unsigned t = law->terms;
    if ((rc = esl__law_add_dtype_features(law, ESL_FEATURE_E_FLOP, "e_flop")) != ESL_OK ||
        ((t & ESL_TERM_ATTN) &&
         (rc = esl__law_add_dtype_features(law, ESL_FEATURE_E_ATTN, "e_attn")) != ESL_OK) ||
        ((t & ESL_TERM_CONV) &&
         (rc = esl__law_add_feature(law, ESL_FEATURE_E_CONV, "e_conv", NULL, NULL)) != ESL_OK) ||
        ((t & ESL_TERM_BYTES) &&
         (rc = esl__law_add_feature(law, ESL_FEATURE_E_BYTE, "e_byte", NULL, NULL)) != ESL_OK) ||
        (rc = esl__law_add_feature(law, ESL_FEATURE_E_LAUNCH, "e_launch", NULL, NULL)) != ESL_OK ||
        (rc = esl__law_add_feature(law, ESL_FEATURE_E_AUX, "e_aux", NULL, NULL)) != ESL_OK)
        return rc;
    /* kappa of every GPU in the training rows, kept in the law so that a
     * prediction prices fp32 the way the fit did. */
    for (size_t i = 0; i < ds->n_rows; i++) {
        const char *gpu = ds->rows[i].gpu;
        int seen = 0;
        for (size_t k = 0; k < law->n_kappa && !seen; k++)
            seen = strcmp(law->kappa_gpus[k], gpu) == 0;
        if (seen)
            continue;
        int known;
        double kappa = esl__kappa_of(gpu, &known);
        if ((rc = esl__law_add_kappa(law, gpu, kappa)) != ESL_OK)
            return rc;
        if (!known) {
            char note[256];
            snprintf(note, sizeof note, "gpu '%s' is not in the GPU table (data/gpu_peaks.csv): "
                     "kappa = %g assumed", gpu, kappa);
            if ((rc = esl__law_add_note(law, note)) != ESL_OK)
                return rc;
        }
    }
    return ESL_OK;
}

/*
 * Carrying a law to a GPU it was not trained on. Dynamic energy is power
 * over time: the GPU draws about its power limit less its idle power while
 * it computes (diffusion runs near the limit: ML.ENERGY's batched runs sit
 * at 96-97% of it), for a time inversely proportional to its speed. A
 * denoiser pass mixes compute-bound GEMMs and convolutions with
 * memory-bound attention scores, norms and elementwise work, so speed is
 * taken as the geometric mean of the dense fp16 peak ratio and the memory
 * bandwidth ratio. Held out on the GPUs measured, that mean beats either
 * alone (docs/law.md: peak alone misses H100 by 29-35%, bandwidth alone
 * fails between the 40 and 80 GB A100s, which differ in bandwidth only).
 */
int esl__gpu_transfer(double out[2], const esl_law *law, const char *gpu)
{
    const esl_factor *fa = &law->factors[0];
    const char *base = fa->n_levels > 0 ? fa->levels[0] : NULL;
    esl_gpu_spec to, from;
    out[0] = out[1] = 0;
    int rc = esl_gpu_find(&to, gpu);
    if (rc != ESL_OK)
        return rc;
    if (base == NULL)
        return esl__fail(ESL_EINVAL, "the law knows no GPU to carry its prices from");
    if ((rc = esl_gpu_find(&from, base)) != ESL_OK)
        return esl__fail_prefix(rc, "the law's GPU: ");
    if (!(to.mem_bw_gbs > 0) || !(from.mem_bw_gbs > 0) || !(to.tdp_w > to.idle_w) ||
        !(from.tdp_w > from.idle_w))
        return esl__fail(ESL_EINVAL, "GPU '%s' or '%s' lacks the bandwidth or power figures a "
                         "transfer needs (data/gpu_peaks.csv)", to.name, from.name);
    if (!(to.fp16_tflops > 0) || !(from.fp16_tflops > 0))
        return esl__fail(ESL_EINVAL, "GPU '%s' or '%s' has no fp16 peak in the GPU table",
                         to.name, from.name);
    /* Speed: the geometric mean of the dense fp16 peak and bandwidth ratios. */
    double speed = 0.5 * log(to.mem_bw_gbs / from.mem_bw_gbs) +
                   0.5 * log(to.fp16_tflops / from.fp16_tflops);
    double power = log((to.tdp_w - to.idle_w) / (from.tdp_w - from.idle_w));
    /* FLOPs take 1/speed of the time at the new GPU's power; a kernel
     * launch costs what the host makes it cost, on either GPU. */
    out[0] = law->response == ESL_RESPONSE_TIME ? -speed : power - speed;
    out[1] = 0.0;
    return ESL_OK;
}
