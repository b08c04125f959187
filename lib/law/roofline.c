/*
 * roofline.c - the roofline form of the energy law: energy per image as the
 * sum of what the hardware does for it, each part with a positive energy per
 * unit of work fitted by nonlinear least squares (GSL gsl_multifit_nlinear):
 *
 *   E/N = s_gpu [ c ((e_flop[dtype] (1 - a) + e_attn[dtype] a) F_denoise
 *                      + (e_byte B P + e_launch K) / b) + e_aux (F_text + F_decode) ]
 *
 * with c = T (1 + cfg) denoiser calls per image, F the FLOPs of one pass and
 * a the share of them in attention products (from the layer plan: attention
 * costs differently per FLOP than a GEMM, and its share grows with the
 * image's tokens), P the denoiser's parameters read at B bytes per element,
 * K the operations (kernels) one pass launches, b the batch size (weights
 * and launches are paid once per call, FLOPs once per image; a pipeline
 * that runs CFG's two passes as one call of batch 2, esl_row.cfg_batched,
 * doubles b), and s_gpu = exp(beta_gpu) for a non-baseline GPU. Small or
 * low-resolution workloads are then not compute-bound: reading the weights
 * and launching kernels cost energy that FLOPs do not see (paper section
 * 5.3), and batching amortises it (5.9).
 *
 * The fit works in log space (residual ln E - ln E-hat, so large
 * configurations do not dominate) and in log-parameters (so every energy
 * stays positive): the law's coefficients are ln e in joules per unit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>

#include "core/internal.h"
#include "esl/law.h"
#include "law/internal.h"

#define MAX_ITER 500
#define RANK_TOL 1e-9

/* Bytes per element of a weight in a precision. */
static int dtype_bytes(double *out, const char *dtype)
{
    static const struct { const char *name; double bytes; } table[] = {
        {"fp32", 4}, {"tf32", 4}, {"fp16", 2}, {"bf16", 2}, {"fp8", 1}, {"int8", 1},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, dtype) == 0) {
            *out = table[i].bytes;
            return ESL_OK;
        }
    return esl__fail(ESL_EINVAL, "dtype '%s': the roofline form knows no bytes per element for it "
                     "(known: fp32, tf32, fp16, bf16, fp8, int8)", dtype);
}

/* The dtype level a row's per-dtype energies read: its own, or the
 * baseline for a level the law has not seen. */
static const char *dtype_level(const esl_law *law, const esl_row *row)
{
    const esl_factor *fa = &law->factors[1];
    for (size_t i = 0; i < fa->n_levels; i++)
        if (strcmp(fa->levels[i], row->dtype) == 0)
            return row->dtype;
    return fa->baseline;
}

/* The work a feature multiplies, per image (basis[j]); for a gpu level, the
 * 0/1 indicator. The by-kind form's work is in kinds.c. */
static int basis(const esl_law *law, const esl_row *row, double *b)
{
    if (esl__form(law)->layer_plan)
        return esl__kinds_basis(law, row, b);
    double bytes = 0;
    int rc = dtype_bytes(&bytes, row->dtype);
    if (rc != ESL_OK)
        return rc;
    if (!(row->denoise_flops > 0))
        return esl__fail(ESL_EINVAL, "model '%s': no per-component FLOPs for the roofline form",
                         row->model);
    double calls = (double)row->steps * (row->cfg ? 2.0 : 1.0);
    double batch = row->batch_size > 0 ? (double)row->batch_size : 1.0;
    if (row->cfg && row->cfg_batched)
        batch *= 2.0; /* CFG's two passes share one call: weights and launches once */
    const char *level = dtype_level(law, row);
    for (size_t j = 0; j < law->n_features; j++) {
        const esl_feature *f = &law->features[j];
        int mine = f->level == NULL || (level != NULL && strcmp(f->level, level) == 0);
        switch (f->kind) {
        case ESL_FEATURE_E_FLOP:
            b[j] = mine ? calls * row->denoise_flops * (1 - row->denoise_attn_share) : 0.0;
            break;
        case ESL_FEATURE_E_ATTN:
            b[j] = mine ? calls * row->denoise_flops * row->denoise_attn_share : 0.0;
            break;
        case ESL_FEATURE_E_AUX: b[j] = mine ? row->text_flops + row->decode_flops : 0.0; break;
        case ESL_FEATURE_E_BYTE: b[j] = calls * row->denoise_params * bytes / batch; break;
        case ESL_FEATURE_E_LAUNCH:
            if (!(row->denoise_ops > 0))
                return esl__fail(ESL_EINVAL, "model '%s' has no layer plan: the roofline form "
                                 "needs the operations of its denoiser (an architecture "
                                 "section, docs/model-format.md)", row->model);
            b[j] = calls * row->denoise_ops / batch;
            break;
        case ESL_FEATURE_LEVEL: b[j] = strcmp(row->gpu, f->level) == 0 ? 1.0 : 0.0; break;
        default: b[j] = 0.0; break;
        }
    }
    if (row->denoise_params <= 0 && esl_law_feature(law, "e_byte") >= 0)
        return esl__fail(ESL_EINVAL, "model '%s': no parameter count for its denoiser (give "
                         "'params' in its description)", row->model);
    return ESL_OK;
}

/* ln E-hat (kWh, per image) and its gradient in the coefficients, from the
 * work `b` of a row. */
static int evaluate(const esl_law *law, const double *b, double *ln_kwh, double *grad)
{
    size_t p = law->n_features;
    double sum = 0, log_scale = 0;
    for (size_t j = 0; j < p; j++) {
        if (law->features[j].kind == ESL_FEATURE_LEVEL)
            log_scale += law->coef[j] * b[j];
        else
            sum += exp(law->coef[j]) * b[j];
    }
    if (!(sum > 0) || !isfinite(sum))
        return esl__fail(ESL_ERANGE, "the %s form's energy is not a positive number", law->form);
    for (size_t j = 0; j < p && grad != NULL; j++)
        grad[j] = law->features[j].kind == ESL_FEATURE_LEVEL ? b[j]
                                                             : exp(law->coef[j]) * b[j] / sum;
    *ln_kwh = log(sum) + log_scale - log(3.6e6); /* joules to kWh, as Eq. 3 */
    return ESL_OK;
}

int esl__roofline_eval(const esl_law *law, const esl_row *row, double *ln_kwh, double *grad)
{
    double b[64];
    if (law->n_features > 64)
        return esl__fail(ESL_EINVAL, "the law has too many features");
    int rc = basis(law, row, b);
    return rc == ESL_OK ? evaluate(law, b, ln_kwh, grad) : rc;
}

/* ---- fitting -------------------------------------------------------------- */

typedef struct problem {
    esl_law *law;
    size_t m;         /* rows of the design: the rows, or their groups */
    const double *b;  /* m x p work */
    const double *y;  /* ln E per image, kWh (of a group: its rows' mean) */
    const double *w;  /* the square root of each group's rows; NULL: a row each */
} problem;

static int residuals(const gsl_vector *theta, void *data, gsl_vector *f)
{
    problem *pr = data;
    size_t p = pr->law->n_features;
    for (size_t j = 0; j < p; j++)
        pr->law->coef[j] = gsl_vector_get(theta, j);
    for (size_t i = 0; i < pr->m; i++) {
        double ln;
        if (evaluate(pr->law, pr->b + i * p, &ln, NULL) != ESL_OK)
            return GSL_EDOM;
        gsl_vector_set(f, i, pr->w != NULL ? pr->w[i] * (ln - pr->y[i]) : ln - pr->y[i]);
    }
    return GSL_SUCCESS;
}

static int jacobian(const gsl_vector *theta, void *data, gsl_matrix *J)
{
    problem *pr = data;
    size_t p = pr->law->n_features;
    for (size_t j = 0; j < p; j++)
        pr->law->coef[j] = gsl_vector_get(theta, j);
    for (size_t i = 0; i < pr->m; i++) {
        double ln, *row = gsl_matrix_ptr(J, i, 0);
        if (evaluate(pr->law, pr->b + i * p, &ln, row) != ESL_OK)
            return GSL_EDOM;
        for (size_t j = 0; pr->w != NULL && j < p; j++)
            row[j] *= pr->w[i];
    }
    return GSL_SUCCESS;
}

/* What a feature's column measures, for messages. */
static const char *work_name(const esl_feature *f)
{
    switch (f->kind) {
    case ESL_FEATURE_E_FLOP: return "denoiser GEMM and other FLOPs per image";
    case ESL_FEATURE_E_ATTN: return "denoiser attention FLOPs per image";
    case ESL_FEATURE_E_CONV: return "denoiser convolution FLOPs per image";
    case ESL_FEATURE_E_BYTE: return "denoiser weight bytes read per image";
    case ESL_FEATURE_E_LAUNCH: return "denoiser operations launched per image";
    case ESL_FEATURE_E_AUX: return "text-encoder and decoder FLOPs per image";
    case ESL_FEATURE_LEVEL: return "the gpu level";
    default: return "?";
    }
}

/* Name the first term whose work is a combination of the others' in the
 * training rows: v (n x p) is the work scaled to the rows' energy, so units
 * do not matter (design_scaled). */
static int identifiable(const esl_law *law, size_t n, const double *v)
{
    size_t p = law->n_features;
    gsl_matrix *A = gsl_matrix_alloc(n, p);
    gsl_vector *s = gsl_vector_alloc(p), *work = gsl_vector_alloc(p);
    gsl_matrix *V = gsl_matrix_alloc(p, p);
    int rc = ESL_OK;
    if (A == NULL || s == NULL || work == NULL || V == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 1; k <= p && rc == ESL_OK; k++) {
        gsl_matrix_view sub = gsl_matrix_submatrix(A, 0, 0, n, k);
        gsl_vector_view sv = gsl_vector_subvector(s, 0, k), wv = gsl_vector_subvector(work, 0, k);
        gsl_matrix_view vv = gsl_matrix_submatrix(V, 0, 0, k, k);
        for (size_t j = 0; j < k; j++) {
            double norm = 0;
            for (size_t i = 0; i < n; i++) {
                gsl_matrix_set(&sub.matrix, i, j, v[i * p + j]);
                norm += v[i * p + j] * v[i * p + j];
            }
            if (norm > 0)
                for (size_t i = 0; i < n; i++)
                    gsl_matrix_set(&sub.matrix, i, j, gsl_matrix_get(&sub.matrix, i, j) / sqrt(norm));
        }
        if (n < k || gsl_linalg_SV_decomp(&sub.matrix, &vv.matrix, &sv.vector, &wv.vector) != GSL_SUCCESS)
            break; /* n <= p is reported by the caller */
        if (gsl_vector_get(s, k - 1) < RANK_TOL * gsl_vector_get(s, 0) ||
            gsl_vector_get(s, 0) == 0) {
            const esl_feature *f = &law->features[k - 1];
            rc = esl__fail(ESL_ENUMERIC, "term '%s' cannot be fitted: its work (%s) is %s in the "
                           "training data (%zu model%s); the data need more distinct values of "
                           "it", f->name, work_name(f),
                           k == 1 ? "zero" : "a combination of the terms before it",
                           law->training.n_models, law->training.n_models == 1 ? "" : "s");
        }
    }
done:
    gsl_matrix_free(A);
    gsl_vector_free(s);
    gsl_vector_free(work);
    gsl_matrix_free(V);
    return rc;
}

/* A start: the linear least-squares fit of sum e_j b_ij / E_i = 1 (relative
 * residuals), with each energy kept positive: v (n x p) is b_ij / E_i
 * (design_scaled), t the right-hand side (NULL: 1). A term that fit leaves
 * unusable starts where it alone explains a tenth of the mean energy
 * mean_e, its work's mean being mean_b[j]. */
static void start(const esl_law *law, size_t n, const double *v, const double *t,
                  const double *mean_b, double mean_e, gsl_vector *theta)
{
    size_t p = law->n_features;
    gsl_matrix *X = gsl_matrix_alloc(n, p);
    gsl_vector *one = gsl_vector_alloc(n), *c = gsl_vector_alloc(p);
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, p);
    int ok = X && one && c && cov && w;
    double chisq;
    size_t rank;
    for (size_t i = 0; ok && i < n; i++) {
        gsl_vector_set(one, i, t != NULL ? t[i] : 1.0);
        for (size_t j = 0; j < p; j++)
            gsl_matrix_set(X, i, j, law->features[j].kind == ESL_FEATURE_LEVEL ? 0.0 : v[i * p + j]);
    }
    ok = ok && gsl_multifit_linear_tsvd(X, one, 1e-12, c, cov, &chisq, &rank, w) == GSL_SUCCESS;
    for (size_t j = 0; j < p; j++) {
        double guess = mean_b[j] > 0 ? 0.1 * mean_e / mean_b[j] : 1.0;
        double cj = ok ? gsl_vector_get(c, j) : 0.0;
        if (law->features[j].kind == ESL_FEATURE_LEVEL)
            gsl_vector_set(theta, j, 0.0);
        else
            gsl_vector_set(theta, j, log(cj > 0.01 * guess && isfinite(cj) ? cj : 0.01 * guess));
    }
    gsl_matrix_free(X);
    gsl_vector_free(one);
    gsl_vector_free(c);
    gsl_matrix_free(cov);
    gsl_multifit_linear_free(w);
}

/*
 * The design of a fit. Rows with the same work (the same basis, bit for
 * bit) have the same fitted value, so least squares over them is least
 * squares over one row per group weighted by its count, plus the sum of
 * squares of their responses about the group's mean, which no parameter
 * changes: a large dataset of a few thousand configurations fits on those
 * (the coefficients, their covariance and the residual variance are the
 * same). A small one keeps a row each.
 */
typedef struct design {
    size_t n, m;    /* rows, groups (m == n with a row each) */
    double *b;      /* m x p work */
    double *y;      /* m: ln E per image, kWh; of a group, its rows' mean */
    double *w;      /* m: sqrt of the group's rows; NULL with a row each */
    double *v;      /* m x p: the work scaled to the energy (identifiable, start) */
    double *t;      /* m: start's right-hand side; NULL with a row each (1) */
    double *mean_b; /* p: the work's mean over the rows */
    double mean_e;  /* the energy's mean over the rows, joules */
    double within;  /* sum of squares of the rows' ln E about their group's mean */
    uint32_t *of;   /* n: each row's group; NULL with a row each */
} design;

#define GROUP_MIN_ROWS 10000 /* rows from which a fit is made on groups */

static void design_free(design *d)
{
    free(d->b);
    free(d->y);
    free(d->w);
    free(d->v);
    free(d->t);
    free(d->mean_b);
    free(d->of);
}

static uint64_t work_hash(const double *b, size_t p)
{
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (size_t j = 0; j < p; j++) {
        uint64_t bits;
        memcpy(&bits, &b[j], sizeof bits);
        h ^= bits;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u; /* splitmix64's finaliser */
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
        h ^= h >> 31;
    }
    return h;
}

static int row_work(const esl_law *law, const esl_dataset *ds, size_t i, double *b)
{
    int rc = basis(law, &ds->rows[i], b);
    return rc == ESL_OK ? rc : esl__fail_prefix(rc, "%s:%lld: ", ds->origin,
                                                (long long)ds->rows[i].line);
}

/* A row each, as the fit always read them. */
static int design_rows(design *d, const esl_law *law, const esl_dataset *ds)
{
    size_t n = ds->n_rows, p = law->n_features;
    *d = (design){.n = n, .m = n};
    d->b = malloc(n * p * sizeof *d->b);
    d->y = malloc(n * sizeof *d->y);
    d->v = malloc(n * p * sizeof *d->v);
    d->mean_b = calloc(p, sizeof *d->mean_b);
    if (d->b == NULL || d->y == NULL || d->v == NULL || d->mean_b == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = ESL_OK;
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        d->y[i] = esl__ln_kwh(esl__law_energy(law, &ds->rows[i]));
        rc = row_work(law, ds, i, d->b + i * p);
    }
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        double e = exp(d->y[i] + log(3.6e6));
        for (size_t j = 0; j < p; j++)
            d->v[i * p + j] = law->features[j].kind == ESL_FEATURE_LEVEL ? d->b[i * p + j]
                                                                        : d->b[i * p + j] / e;
        d->mean_e += e / (double)n;
    }
    for (size_t j = 0; j < p && rc == ESL_OK; j++)
        for (size_t i = 0; i < n; i++)
            d->mean_b[j] += d->b[i * p + j] / (double)n;
    return rc;
}

/* Groups of rows with the same work; d->m == 0 when there are too few of
 * them to fit (they cannot outnumber the parameters: the fit by rows says
 * why). */
static int design_groups(design *d, const esl_law *law, const esl_dataset *ds)
{
    size_t n = ds->n_rows, p = law->n_features, cap = 0, m = 0, slot_cap = 1024;
    *d = (design){.n = n};
    double *work = malloc(p * sizeof *work), *acc = NULL; /* per group: rows, sum ln E,
                                                           * sum 1/E, sum 1/E^2, sum E */
    uint32_t *slots = calloc(slot_cap, sizeof *slots);
    d->of = malloc((n ? n : 1) * sizeof *d->of);
    d->mean_b = calloc(p, sizeof *d->mean_b);
    double *y = malloc((n ? n : 1) * sizeof *y);
    int rc = work && slots && d->of && d->mean_b && y && n < UINT32_MAX
                 ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        double e = esl__law_energy(law, &ds->rows[i]);
        y[i] = esl__ln_kwh(e);
        if ((rc = row_work(law, ds, i, work)) != ESL_OK)
            break;
        uint64_t h = work_hash(work, p);
        size_t at = (size_t)h & (slot_cap - 1);
        while (slots[at] != 0 && memcmp(d->b + (slots[at] - 1) * p, work, p * sizeof *work) != 0)
            at = (at + 1) & (slot_cap - 1);
        if (slots[at] == 0) { /* a new group */
            if (m == cap) {
                cap = cap ? 2 * cap : 256;
                double *b = realloc(d->b, cap * p * sizeof *b);
                if (b != NULL)
                    d->b = b;
                double *a = b != NULL ? realloc(acc, cap * 5 * sizeof *a) : NULL;
                if (a == NULL) {
                    rc = esl__fail(ESL_ENOMEM, "out of memory");
                    break;
                }
                acc = a;
            }
            memcpy(d->b + m * p, work, p * sizeof *work);
            memset(acc + m * 5, 0, 5 * sizeof *acc);
            slots[at] = (uint32_t)++m;
            if (2 * m > slot_cap) { /* rehash at half full */
                uint32_t *bigger = calloc(2 * slot_cap, sizeof *bigger);
                if (bigger == NULL) {
                    rc = esl__fail(ESL_ENOMEM, "out of memory");
                    break;
                }
                slot_cap *= 2;
                for (size_t g = 0; g < m; g++) {
                    size_t to = (size_t)work_hash(d->b + g * p, p) & (slot_cap - 1);
                    while (bigger[to] != 0)
                        to = (to + 1) & (slot_cap - 1);
                    bigger[to] = (uint32_t)(g + 1);
                }
                free(slots);
                slots = bigger;
                at = SIZE_MAX;
            }
        }
        uint32_t g = at != SIZE_MAX ? slots[at] - 1 : (uint32_t)(m - 1);
        double *a = acc + (size_t)g * 5;
        d->of[i] = g;
        a[0] += 1.0;
        a[1] += y[i];
        a[2] += 1.0 / e;
        a[3] += 1.0 / (e * e);
        a[4] += e;
    }
    free(work);
    free(slots);
    d->m = m;
    if (rc == ESL_OK && m > p) {
        d->y = malloc(m * sizeof *d->y);
        d->w = malloc(m * sizeof *d->w);
        d->t = malloc(m * sizeof *d->t);
        d->v = malloc(m * p * sizeof *d->v);
        if (d->y == NULL || d->w == NULL || d->t == NULL || d->v == NULL)
            rc = esl__fail(ESL_ENOMEM, "out of memory");
    } else if (rc == ESL_OK) {
        d->m = 0;
    }
    for (size_t g = 0; g < d->m && rc == ESL_OK; g++) {
        const double *a = acc + g * 5;
        double s = sqrt(a[3]);
        d->y[g] = a[1] / a[0];
        d->w[g] = sqrt(a[0]);
        d->t[g] = a[2] / s;
        for (size_t j = 0; j < p; j++) {
            double bj = d->b[g * p + j];
            d->v[g * p + j] = law->features[j].kind == ESL_FEATURE_LEVEL ? bj * d->w[g] : bj * s;
            d->mean_b[j] += a[0] * bj / (double)n;
        }
        d->mean_e += a[4] / (double)n;
    }
    for (size_t i = 0; i < n && rc == ESL_OK && d->m > 0; i++) {
        double r = y[i] - d->y[d->of[i]];
        d->within += r * r;
    }
    free(acc);
    free(y);
    return rc;
}

int esl__law_add_dtype_features(esl_law *law, esl_feature_kind kind, const char *stem)
{
    const esl_factor *fa = &law->factors[1];
    char name[192];
    if (fa->n_levels == 0)
        return esl__law_add_feature(law, kind, stem, NULL, NULL);
    for (size_t i = 0; i < fa->n_levels; i++) {
        snprintf(name, sizeof name, "%s[%s]", stem, fa->levels[i]);
        int rc = esl__law_add_feature(law, kind, name, "dtype", fa->levels[i]);
        if (rc != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

int esl__roofline_fit(esl_law *law, const esl_dataset *ds, const esl_fit_opts *opts)
{
    size_t max_iter = opts->max_iter ? opts->max_iter : MAX_ITER;
    if (law->method != ESL_FIT_OLS)
        return esl__fail(ESL_EINVAL, "the %s form is fitted by nonlinear least squares in "
                         "log space; --weighted and --robust apply to the paper and per-image forms",
                         law->form);
    int rc = esl__law_summarise(law, ds);
    if (rc != ESL_OK)
        return rc;
    if (esl__form(law)->layer_plan) {
        if ((rc = esl__kinds_features(law, ds)) != ESL_OK)
            return rc;
    } else if ((rc = esl__law_add_dtype_features(law, ESL_FEATURE_E_FLOP, "e_flop")) != ESL_OK ||
               (rc = esl__law_add_dtype_features(law, ESL_FEATURE_E_ATTN, "e_attn")) != ESL_OK ||
               (rc = esl__law_add_feature(law, ESL_FEATURE_E_BYTE, "e_byte", NULL, NULL)) != ESL_OK ||
               (rc = esl__law_add_feature(law, ESL_FEATURE_E_LAUNCH, "e_launch", NULL, NULL)) != ESL_OK ||
               (rc = esl__law_add_feature(law, ESL_FEATURE_E_AUX, "e_aux", NULL, NULL)) != ESL_OK) {
        return rc;
    }
    const esl_factor *gpu = &law->factors[0];
    for (size_t i = 1; i < gpu->n_levels; i++) {
        char name[192];
        snprintf(name, sizeof name, "gpu=%s", gpu->levels[i]);
        if ((rc = esl__law_add_feature(law, ESL_FEATURE_LEVEL, name, "gpu", gpu->levels[i])) != ESL_OK)
            return rc;
    }
    size_t n = ds->n_rows, p = law->n_features;
    if (n <= p) {
        return esl__fail(ESL_EINVAL, "%zu row%s cannot fit the %s form's %zu parameters: at "
                         "least %zu rows are needed", n, n == 1 ? "" : "s", law->form, p, p + 1);
    }
    law->dof = (int64_t)(n - p);
    if ((rc = esl__law_alloc_coef(law)) != ESL_OK)
        return rc;

    design d = {0};
    double *yhat = malloc(n * sizeof *yhat);
    gsl_vector *theta = gsl_vector_alloc(p);
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    gsl_multifit_nlinear_workspace *w = NULL;
    if (yhat == NULL || theta == NULL || cov == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto done;
    }
    if (n >= GROUP_MIN_ROWS && (rc = design_groups(&d, law, ds)) != ESL_OK)
        goto done;
    if (d.m == 0) {
        design_free(&d);
        if ((rc = design_rows(&d, law, ds)) != ESL_OK)
            goto done;
    }
    if ((rc = identifiable(law, d.m, d.v)) != ESL_OK)
        goto done;

    start(law, d.m, d.v, d.t, d.mean_b, d.mean_e, theta);
    problem pr = {law, d.m, d.b, d.y, d.w};
    gsl_multifit_nlinear_fdf fdf = {.f = residuals, .df = jacobian, .n = d.m, .p = p, .params = &pr};
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, d.m, p);
    if (w == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto done;
    }
    int info = 0;
    int g = gsl_multifit_nlinear_init(theta, &fdf, w);
    if (g == GSL_SUCCESS)
        g = gsl_multifit_nlinear_driver(max_iter, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w);
    size_t iters = gsl_multifit_nlinear_niter(w);
    if (g == GSL_EMAXITER || g == GSL_ENOPROG) {
        rc = esl__fail(ESL_ENUMERIC, "the %s fit did not converge after %zu iteration%s (%s)",
                       law->form, iters, iters == 1 ? "" : "s", gsl_strerror(g));
        goto done;
    }
    if (g != GSL_SUCCESS) {
        rc = esl__fail(ESL_ENUMERIC, "the %s fit failed after %zu iterations: %s", law->form, iters,
                       gsl_strerror(g));
        goto done;
    }
    gsl_vector *x = gsl_multifit_nlinear_position(w), *f = gsl_multifit_nlinear_residual(w);
    gsl_matrix *J = gsl_multifit_nlinear_jac(w);
    double chisq;
    gsl_blas_ddot(f, f, &chisq);
    chisq += d.within;
    law->sigma2 = chisq / (double)(n - p);
    if ((g = gsl_multifit_nlinear_covar(J, 0.0, cov)) != GSL_SUCCESS) {
        rc = esl__fail(ESL_ENUMERIC, "the %s fit's covariance failed: %s", law->form,
                       gsl_strerror(g));
        goto done;
    }
    for (size_t j = 0; j < p; j++) {
        law->coef[j] = gsl_vector_get(x, j);
        for (size_t k = 0; k < p; k++)
            law->cov[j * p + k] = gsl_matrix_get(cov, j, k) * law->sigma2;
        law->se[j] = sqrt(fmax(0.0, law->cov[j * p + j]));
        if (!isfinite(law->coef[j]) || !isfinite(law->se[j])) {
            rc = esl__fail(ESL_ENUMERIC, "the %s fit gave a non-finite value for term '%s'", law->form,
                           law->features[j].name);
            goto done;
        }
    }
    if (!isfinite(law->sigma2)) {
        rc = esl__fail(ESL_ENUMERIC, "the %s fit gave a non-finite residual variance", law->form);
        goto done;
    }
    for (size_t i = 0; i < d.m && rc == ESL_OK; i++)
        rc = evaluate(law, d.b + i * p, &yhat[i], NULL);
    for (size_t i = n; i > 0 && rc == ESL_OK && d.of != NULL; i--)
        yhat[i - 1] = yhat[d.of[i - 1]]; /* a group's value: group g's first row is at g or later */
    if (rc == ESL_OK)
        esl__law_measure(law, ds, yhat);
done:
    gsl_multifit_nlinear_free(w);
    gsl_vector_free(theta);
    gsl_matrix_free(cov);
    design_free(&d);
    free(yhat);
    return rc;
}
