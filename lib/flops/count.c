/*
 * count.c - FLOPs of a whole pipeline run from a model description (Eq. 1).
 *
 * A description's terms name their geometry relative to the image: a grid
 * scale for spatial primitives, a context rule for sequence primitives. This
 * file turns a request (H, W, T, N, CFG) into each term's arguments, sums
 * the terms per stage and applies Eq. 1 and the paper's FLOPs_cfg (section
 * 3.3). Exact int64 per image; doubles once N multiplies in.
 */
#include <string.h>

#include "core/internal.h"
#include "esl/flops.h"
#include "esl/plan.h"

const char *esl_convention_name(esl_convention conv)
{
    switch (conv) {
    case ESL_CONVENTION_PAPER: return "paper";
    case ESL_CONVENTION_EXACT: return "exact";
    }
    return "unknown";
}

int esl_convention_parse(esl_convention *out, const char *name)
{
    if (strcmp(name, "paper") == 0)
        *out = ESL_CONVENTION_PAPER;
    else if (strcmp(name, "exact") == 0)
        *out = ESL_CONVENTION_EXACT;
    else
        return esl__fail(ESL_EINVAL, "unknown FLOP convention '%s' (known: paper, exact)", name);
    return ESL_OK;
}

/* Check the request's numbers before any arithmetic. */
static int check_request(const esl_model *m, const esl_request *r)
{
    if (r->height <= 0 || r->width <= 0)
        return esl__fail(ESL_EINVAL, "image size %lldx%lld: height and width must be positive",
                         (long long)r->height, (long long)r->width);
    if (r->height % m->pixel_multiple != 0)
        return esl__fail(ESL_EINVAL,
                         "height %lld is not a multiple of %lld, the pixel granularity of model %s",
                         (long long)r->height, (long long)m->pixel_multiple, m->name);
    if (r->width % m->pixel_multiple != 0)
        return esl__fail(ESL_EINVAL,
                         "width %lld is not a multiple of %lld, the pixel granularity of model %s",
                         (long long)r->width, (long long)m->pixel_multiple, m->name);
    if (r->steps <= 0)
        return esl__fail(ESL_EINVAL, "steps %lld: must be a positive integer", (long long)r->steps);
    if (r->prompts <= 0)
        return esl__fail(ESL_EINVAL, "prompts %lld: must be a positive integer",
                         (long long)r->prompts);
    if (r->text_tokens < 0)
        return esl__fail(ESL_EINVAL, "text tokens %lld: must not be negative",
                         (long long)r->text_tokens);
    return ESL_OK;
}

/* Side of the grid a term runs on: latent side scaled by 2^scale. */
static int grid_side(int64_t *out, const esl_model *m, int64_t pixels, int scale)
{
    int64_t side = pixels / m->latent_factor;
    if (scale < 0) {
        side >>= -scale; /* exact: pixel_multiple guarantees divisibility */
    } else {
        for (int i = 0; i < scale; i++)
            if (!esl__mul(&side, 2))
                return esl__fail(ESL_ERANGE, "image side %lld overflows at grid scale %d",
                                 (long long)pixels, scale);
    }
    *out = side;
    return ESL_OK;
}

/* Length of a term's sequence. */
static int ctx_len(int64_t *out, const esl_model *m, const esl_term *t, const esl_request *r)
{
    int64_t n = t->tokens;
    if (t->ctx == ESL_EXTENT_IMAGE || t->ctx == ESL_EXTENT_IMAGE_TEXT) {
        int64_t h = 0, w = 0;
        int rc;
        if ((rc = grid_side(&h, m, r->height, t->scale)) != ESL_OK ||
            (rc = grid_side(&w, m, r->width, t->scale)) != ESL_OK)
            return rc;
        int64_t cells = h / t->patch;
        if (!esl__mul(&cells, w / t->patch) || !esl__add(&n, cells))
            return esl__fail(ESL_ERANGE, "sequence length overflows at %lldx%lld",
                             (long long)r->height, (long long)r->width);
    }
    if (t->ctx == ESL_EXTENT_IMAGE_TEXT || t->ctx == ESL_EXTENT_TEXT) {
        int64_t text = r->text_tokens > 0 ? r->text_tokens : m->text_tokens;
        if (!esl__add(&n, text))
            return esl__fail(ESL_ERANGE, "sequence length overflows");
    }
    *out = n;
    return ESL_OK;
}

int esl_flops_term(int64_t *out, const esl_model *m, const esl_term *t, const esl_request *r)
{
    int64_t f = 0, h = 0, w = 0, n = 0;
    int rc = ESL_OK;

    if (t->op == ESL_OP_CONV || t->op == ESL_OP_RES) {
        if ((rc = grid_side(&h, m, r->height, t->scale)) != ESL_OK ||
            (rc = grid_side(&w, m, r->width, t->scale)) != ESL_OK)
            return rc;
    } else if (t->op == ESL_OP_TR || t->op == ESL_OP_MMDIT || t->op == ESL_OP_CROSSTR ||
               t->op == ESL_OP_LINEAR) {
        if ((rc = ctx_len(&n, m, t, r)) != ESL_OK)
            return rc;
    }

    switch (t->op) {
    case ESL_OP_CONV:
        rc = esl_flops_conv(&f, t->k, t->c_in, t->c_out, h, w);
        break;
    case ESL_OP_RES:
        rc = esl_flops_res(&f, t->k, t->c_in, t->c_out, h, w);
        break;
    case ESL_OP_TR:
        rc = esl_flops_tr(&f, t->d_model, t->d_ff, t->d_attn, t->n_layer, n);
        break;
    case ESL_OP_MMDIT:
        rc = esl_flops_mmdit(&f, t->d_model, t->d_ff, t->d_attn, t->n_layer, n);
        break;
    case ESL_OP_CROSSTR: {
        int64_t nk = t->n_k_text ? (r->text_tokens > 0 ? r->text_tokens : m->text_tokens) : t->n_k;
        rc = esl_flops_crosstr(&f, t->d_model, t->d_k, t->d_ff, t->d_attn, t->n_layer, n, nk);
        break;
    }
    case ESL_OP_LINEAR:
        /* Table 4's convolution with k = 1 over n positions: 2 n d_in d_out. */
        rc = esl_flops_conv(&f, 1, t->d_in, t->d_out, n, 1);
        break;
    case ESL_OP_DECODER:
        rc = esl_flops_decoder(&f, r->height, r->width, t->latent_channels);
        break;
    case ESL_OP_CONST:
        f = t->value;
        break;
    }
    if (rc != ESL_OK)
        return rc;
    if (!esl__mul(&f, t->count))
        return esl__fail(ESL_ERANGE, "%s term: FLOP count overflows 64-bit integers",
                         esl_op_name(t->op));
    *out = f;
    return ESL_OK;
}

int esl_flops_component(int64_t *out, const esl_model *m, const esl_component *c,
                        const esl_request *r)
{
    int64_t acc = 0;
    int rc = check_request(m, r);
    if (rc != ESL_OK)
        return rc;
    for (size_t i = 0; i < c->n_terms; i++) {
        int64_t f;
        if ((rc = esl_flops_term(&f, m, &c->terms[i], r)) != ESL_OK)
            return esl__fail_prefix(rc, "%s: component %s: ", m->name, c->name);
        if (!esl__add(&acc, f))
            return esl__fail(ESL_ERANGE, "%s: component %s: FLOP count overflows 64-bit integers",
                             m->name, c->name);
    }
    *out = acc;
    return ESL_OK;
}

int esl__flops_image(int64_t *out, const esl_model *m, int64_t text, int64_t denoise,
                     int64_t decode, int64_t steps, int cfg)
{
    /* Eq. 1 for one image: text + T * denoise * (2 with CFG) + decode. */
    int64_t image = denoise;
    if (!esl__mul(&image, steps) || !esl__mul(&image, cfg ? 2 : 1) || !esl__add(&image, text) ||
        !esl__add(&image, decode))
        return esl__fail(ESL_ERANGE, "%s: FLOPs of one image overflow 64-bit integers at %lld steps",
                         m->name, (long long)steps);
    *out = image;
    return ESL_OK;
}

int esl_flops_count(esl_flops *out, const esl_model *m, const esl_request *r,
                    esl_convention conv)
{
    int64_t stage[3] = {0, 0, 0};
    int rc;

    if ((rc = check_request(m, r)) != ESL_OK)
        return rc;
    if (conv == ESL_CONVENTION_EXACT) {
        /* The exact convention is the sum of the layer plan (esl/plan.h). */
        esl_plan *plan;
        if ((rc = esl_plan_build(&plan, m, r)) != ESL_OK)
            return rc;
        for (size_t i = 0; i < plan->n_components; i++)
            if (!esl__add(&stage[plan->components[i].stage], plan->components[i].flops)) {
                esl_plan_free(plan);
                return esl__fail(ESL_ERANGE, "%s: FLOP count overflows 64-bit integers", m->name);
            }
        esl_plan_free(plan);
    }
    for (size_t i = 0; conv == ESL_CONVENTION_PAPER && i < m->n_components; i++) {
        int64_t f;
        if (m->components[i].n_terms == 0)
            return esl__fail(ESL_EUNSUPPORTED, "%s: component %s has no paper-convention terms: "
                             "count it with the exact convention", m->name, m->components[i].name);
        if ((rc = esl_flops_component(&f, m, &m->components[i], r)) != ESL_OK)
            return rc;
        if (!esl__add(&stage[m->components[i].stage], f))
            return esl__fail(ESL_ERANGE, "%s: FLOP count overflows 64-bit integers", m->name);
    }

    int64_t image = 0;
    if ((rc = esl__flops_image(&image, m, stage[ESL_STAGE_TEXT], stage[ESL_STAGE_DENOISE],
                               stage[ESL_STAGE_DECODE], r->steps, r->cfg)) != ESL_OK)
        return rc;

    memset(out, 0, sizeof *out);
    out->convention = conv;
    out->text_flops = stage[ESL_STAGE_TEXT];
    out->denoise_flops_per_step = stage[ESL_STAGE_DENOISE];
    out->decode_flops = stage[ESL_STAGE_DECODE];
    out->image_flops = image;
    out->total_flops = (double)image * (double)r->prompts;
    /* Section 3.3: FLOPs_cfg = N * T * FLOPs_denoise * 2^cfg. */
    out->flops_cfg = (double)r->prompts * (double)r->steps *
                     (double)stage[ESL_STAGE_DENOISE] * (r->cfg ? 2.0 : 1.0);
    return ESL_OK;
}
