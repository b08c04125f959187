/*
 * primitives.c - the FLOP formulas of the paper's Table 4, exactly as printed
 * (Iyengar et al. 2026, Appendix A.1). A multiply-add counts 2 FLOPs.
 *
 * Every product is overflow-checked: the counts are exact int64 values, and
 * a size that would wrap is reported as ESL_ERANGE, never returned wrong.
 */
#include <stdarg.h>

#include "core/internal.h"
#include "esl/flops.h"

/* out = product of n non-negative factors, checked. */
static int product(int64_t *out, const char *what, int n, ...)
{
    va_list ap;
    int64_t acc = 1;
    int rc = ESL_OK;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int64_t f = va_arg(ap, int64_t);
        if (f < 0) {
            rc = esl__fail(ESL_EINVAL, "%s: negative argument %lld", what, (long long)f);
            break;
        }
        if (!esl__mul(&acc, f)) {
            rc = esl__fail(ESL_ERANGE, "%s: FLOP count overflows 64-bit integers", what);
            break;
        }
    }
    va_end(ap);
    if (rc == ESL_OK)
        *out = acc;
    return rc;
}

static int sum(int64_t *acc, int64_t x, const char *what)
{
    if (!esl__add(acc, x))
        return esl__fail(ESL_ERANGE, "%s: FLOP count overflows 64-bit integers", what);
    return ESL_OK;
}

/* Table 4, Convolution: 2 H W k^2 C_in C_out. */
int esl_flops_conv(int64_t *out, int64_t k, int64_t c_in, int64_t c_out,
                   int64_t h, int64_t w)
{
    return product(out, "conv", 7, (int64_t)2, h, w, k, k, c_in, c_out);
}

/* Table 4, ResNetBlock: conv(k, C_in, C_out) + conv(k, C_out, C_out). */
int esl_flops_res(int64_t *out, int64_t k, int64_t c_in, int64_t c_out,
                  int64_t h, int64_t w)
{
    int64_t a, b;
    int rc = esl_flops_conv(&a, k, c_in, c_out, h, w);
    if (rc == ESL_OK)
        rc = esl_flops_conv(&b, k, c_out, c_out, h, w);
    if (rc == ESL_OK)
        rc = sum(&a, b, "res");
    if (rc == ESL_OK)
        *out = a;
    return rc;
}

/* Table 4, Transformer (Kaplan): P = 2 d_model n_layer (2 d_attn + d_ff),
 * c_fwd = 2P + 2 n_layer n_ctx d_attn, FLOPs = n_ctx c_fwd. */
int esl_flops_tr(int64_t *out, int64_t d_model, int64_t d_ff, int64_t d_attn,
                 int64_t n_layer, int64_t n_ctx)
{
    int64_t width, p, attn, c;
    int rc;

    if (d_attn < 0 || d_ff < 0)
        return esl__fail(ESL_EINVAL, "tr: negative attention or feed-forward width");
    width = d_attn;
    if (!esl__mul(&width, 2) || !esl__add(&width, d_ff))
        return esl__fail(ESL_ERANGE, "tr: FLOP count overflows 64-bit integers");
    if ((rc = product(&p, "tr", 4, (int64_t)2, d_model, n_layer, width)) != ESL_OK ||
        (rc = product(&attn, "tr", 4, (int64_t)2, n_layer, n_ctx, d_attn)) != ESL_OK)
        return rc;
    c = p;
    if ((rc = sum(&c, p, "tr")) != ESL_OK || (rc = sum(&c, attn, "tr")) != ESL_OK ||
        (rc = product(out, "tr", 2, n_ctx, c)) != ESL_OK)
        return rc;
    return ESL_OK;
}

/* Table 4, MMDiT: P = 4 d_model n_layer (2 d_attn + d_ff),
 * c_fwd = P + 2 n_layer n_ctx d_attn, FLOPs = n_ctx c_fwd. */
int esl_flops_mmdit(int64_t *out, int64_t d_model, int64_t d_ff, int64_t d_attn,
                    int64_t n_layer, int64_t n_ctx)
{
    int64_t width, p, attn;
    int rc;

    if (d_attn < 0 || d_ff < 0)
        return esl__fail(ESL_EINVAL, "mmdit: negative attention or feed-forward width");
    width = d_attn;
    if (!esl__mul(&width, 2) || !esl__add(&width, d_ff))
        return esl__fail(ESL_ERANGE, "mmdit: FLOP count overflows 64-bit integers");
    if ((rc = product(&p, "mmdit", 4, (int64_t)4, d_model, n_layer, width)) != ESL_OK ||
        (rc = product(&attn, "mmdit", 4, (int64_t)2, n_layer, n_ctx, d_attn)) != ESL_OK ||
        (rc = sum(&p, attn, "mmdit")) != ESL_OK)
        return rc;
    return product(out, "mmdit", 2, n_ctx, p);
}

/* Table 4, Cross-Attn Tr.: P = 2 n_layer [d_q (d_attn + d_ff) + d_k d_attn],
 * c_fwd = 2P + 2 n_layer n_k d_attn, FLOPs = n_q c_fwd. */
int esl_flops_crosstr(int64_t *out, int64_t d_q, int64_t d_k, int64_t d_ff,
                      int64_t d_attn, int64_t n_layer, int64_t n_q, int64_t n_k)
{
    int64_t qside = d_attn, kside, p, attn;
    int rc;

    if (d_attn < 0 || d_ff < 0)
        return esl__fail(ESL_EINVAL, "crosstr: negative attention or feed-forward width");
    if (!esl__add(&qside, d_ff))
        return esl__fail(ESL_ERANGE, "crosstr: FLOP count overflows 64-bit integers");
    if ((rc = product(&qside, "crosstr", 2, d_q, qside)) != ESL_OK ||
        (rc = product(&kside, "crosstr", 2, d_k, d_attn)) != ESL_OK ||
        (rc = sum(&qside, kside, "crosstr")) != ESL_OK ||
        (rc = product(&p, "crosstr", 3, (int64_t)2, n_layer, qside)) != ESL_OK ||
        (rc = product(&attn, "crosstr", 4, (int64_t)2, n_layer, n_k, d_attn)) != ESL_OK)
        return rc;
    int64_t c = p;
    if ((rc = sum(&c, p, "crosstr")) != ESL_OK || (rc = sum(&c, attn, "crosstr")) != ESL_OK)
        return rc;
    return product(out, "crosstr", 2, n_q, c);
}

/* One step of the decoder composition: acc += mult * f(...). */
#define DEC_ADD(mult, call)                                                  \
    do {                                                                     \
        int64_t t_;                                                          \
        int rc_ = (call);                                                    \
        if (rc_ != ESL_OK) return rc_;                                       \
        if (!esl__mul(&t_, (mult)) || !esl__add(&acc, t_))                   \
            return esl__fail(ESL_ERANGE, "decoder: FLOP count overflows 64-bit integers"); \
    } while (0)

/* Table 4, Decoder: the VAE decoder composition, H0 = H/8, W0 = W/8. */
int esl_flops_decoder(int64_t *out, int64_t height, int64_t width, int64_t c_latent)
{
    int64_t acc = 0;
    int64_t h0, w0, h1, w1, h2, w2, h3, w3;

    if (height < 0 || width < 0 || c_latent < 0)
        return esl__fail(ESL_EINVAL, "decoder: negative argument");
    if (height % 8 != 0 || width % 8 != 0)
        return esl__fail(ESL_EINVAL, "decoder: %lldx%lld is not a multiple of 8 pixels",
                         (long long)height, (long long)width);
    h0 = height / 8, w0 = width / 8;
    h1 = 2 * h0, w1 = 2 * w0, h2 = 4 * h0, w2 = 4 * w0, h3 = height, w3 = width;

    DEC_ADD(1, esl_flops_conv(&t_, 3, c_latent, 512, h0, w0));
    DEC_ADD(2, esl_flops_res(&t_, 3, 512, 512, h0, w0));
    int64_t ctx = h0;
    if (!esl__mul(&ctx, w0))
        return esl__fail(ESL_ERANGE, "decoder: FLOP count overflows 64-bit integers");
    DEC_ADD(1, esl_flops_tr(&t_, 512, 256, 512, 1, ctx));
    DEC_ADD(3, esl_flops_res(&t_, 3, 512, 512, h0, w0));
    DEC_ADD(1, esl_flops_conv(&t_, 3, 512, 512, h1, w1));
    DEC_ADD(3, esl_flops_res(&t_, 3, 512, 512, h1, w1));
    DEC_ADD(1, esl_flops_conv(&t_, 3, 512, 512, h2, w2));
    DEC_ADD(1, esl_flops_res(&t_, 3, 512, 256, h2, w2));
    DEC_ADD(2, esl_flops_res(&t_, 3, 256, 256, h2, w2));
    DEC_ADD(1, esl_flops_conv(&t_, 3, 256, 256, h3, w3));
    DEC_ADD(1, esl_flops_res(&t_, 3, 256, 128, h3, w3));
    DEC_ADD(2, esl_flops_res(&t_, 3, 128, 128, h3, w3));
    DEC_ADD(1, esl_flops_conv(&t_, 3, 128, 3, h3, w3));
    *out = acc;
    return ESL_OK;
}
