/*
 * fit.c - the paper form of the energy law (Eq. 3/4): its features, the
 * least-squares fit through GSL (ordinary, weighted or robust), the training
 * summary and metrics, and releasing a law.
 *
 * The features of a row are computed in one place, law_features(), which is
 * also the only place where plain FLOPs become GFLOPs and joules become kWh,
 * so fitting and predicting can never disagree on units.
 *
 * Ordinary and weighted fits stream: each row's features (levels read as
 * small integer ids) are rotated into a p x p triangular factor R by Givens
 * rotations, so no n x p matrix is held. The singular values of R are those
 * of the design: the rank test, coefficients and covariance come from the
 * SVD of R as they came from GSL's SVD of the whole design, and a second
 * pass over the rows gives the residuals. Small designs and the robust fit
 * keep the matrix (see STREAM_MIN_ROWS).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multifit.h>

#include "core/internal.h"
#include "esl/gpus.h"
#include "esl/law.h"
#include "law/internal.h"

#define RANK_TOL 1e-10
#define BETWEEN_MAX_ROWS 20000 /* rows the hold-out refits of between() use at most */

const char *esl_fit_method_name(esl_fit_method method)
{
    switch (method) {
    case ESL_FIT_OLS: return "ols";
    case ESL_FIT_WEIGHTED: return "weighted";
    case ESL_FIT_ROBUST: return "robust";
    }
    return "ols";
}

static const struct { const char *name; unsigned bit; } term_names[] = {
    {"flops", ESL_TERM_FLOPS}, {"dtype", ESL_TERM_DTYPE}, {"gpu", ESL_TERM_GPU}, {"res", ESL_TERM_RES},
    {"attn", ESL_TERM_ATTN}, {"conv", ESL_TERM_CONV}, {"bytes", ESL_TERM_BYTES},
};
#define N_TERMS (sizeof term_names / sizeof term_names[0])

const char *esl__term_name(unsigned bit)
{
    for (size_t i = 0; i < N_TERMS; i++)
        if (term_names[i].bit == bit)
            return term_names[i].name;
    return "?";
}

int esl__term_bit(unsigned *out, const char *name)
{
    *out = 0; /* set on failure too: callers read it after a failed parse at -O3 */
    for (size_t i = 0; i < N_TERMS; i++)
        if (strcmp(term_names[i].name, name) == 0) {
            *out = term_names[i].bit;
            return ESL_OK;
        }
    return esl__fail(ESL_EINVAL, "unknown term '%s' (terms: flops, dtype, gpu, res; by-kind "
                     "form: attn, conv, bytes)", name);
}

int esl_law_terms_parse(unsigned *inout, const char *spec)
{
    unsigned terms = *inout ? *inout : ESL_TERM_ALL;
    char *copy = esl__strdup(spec);
    int rc = copy ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
    for (char *save = NULL, *t = copy ? strtok_r(copy, ",", &save) : NULL; t && rc == ESL_OK;
         t = strtok_r(NULL, ",", &save)) {
        unsigned bit = 0;
        if (t[0] != '-' && t[0] != '+')
            rc = esl__fail(ESL_EINVAL, "term switch '%s' is not -TERM or +TERM", t);
        else if ((rc = esl__term_bit(&bit, t + 1)) == ESL_OK)
            terms = t[0] == '-' ? terms & ~bit : terms | bit;
    }
    free(copy);
    if (rc == ESL_OK)
        *inout = terms;
    return rc;
}

/* ---- features ---------------------------------------------------------- */

double esl__ln_res(const esl_row *row)
{
    /* Eq. 3: the resolution bias term reads ln(H x W / 256). */
    return log((double)row->height * (double)row->width / 256.0);
}

int esl__law_features(const esl_law *law, const esl_row *row, double *x, unsigned *unseen)
{
    *unseen = 0;
    for (size_t j = 0; j < law->n_features; j++) {
        const esl_feature *f = &law->features[j];
        switch (f->kind) {
        case ESL_FEATURE_CONST: x[j] = 1.0; break;
        case ESL_FEATURE_LN_FLOPS: /* GFLOPs, Eq. 3; per image in the per-image form */
            x[j] = log(esl__law_flops(law, row) / 1e9);
            break;
        case ESL_FEATURE_LN_RES: x[j] = esl__ln_res(row); break;
        case ESL_FEATURE_E_FLOP: case ESL_FEATURE_E_BYTE: case ESL_FEATURE_E_LAUNCH:
        case ESL_FEATURE_E_AUX: case ESL_FEATURE_E_ATTN: case ESL_FEATURE_E_CONV:
            x[j] = 0.0; /* roofline, by-kind: not a linear feature */
            break;
        case ESL_FEATURE_LEVEL: {
            const char *v = strcmp(f->column, "gpu") == 0 ? row->gpu : row->dtype;
            x[j] = strcmp(v, f->level) == 0 ? 1.0 : 0.0;
            break;
        }
        }
    }
    for (size_t k = 0; k < 2; k++) {
        const esl_factor *fa = &law->factors[k];
        if (fa->n_levels == 0)
            continue; /* term switched off: any level reads the same */
        const char *v = k == 0 ? row->gpu : row->dtype;
        int known = 0;
        for (size_t i = 0; i < fa->n_levels && !known; i++)
            known = strcmp(fa->levels[i], v) == 0;
        if (!known)
            *unseen |= 1u << k;
    }
    return ESL_OK;
}

double esl__law_flops(const esl_law *law, const esl_row *row)
{
    if (esl__form(law)->layer_plan) /* one image, from the layer plan */
        return (double)row->steps * (row->cfg ? 2.0 : 1.0) *
               (row->plan_linear_flops + row->plan_attn_flops + row->plan_conv_flops +
                row->plan_misc_flops);
    /* The per-image forms count one image: T FLOPs_denoise 2^cfg. */
    return esl__law_per_image(law) ? row->flops_cfg / (double)row->prompts : row->flops_cfg;
}

double esl__row_idle_w(const esl_row *row)
{
    if (row->present & ESL_ROW_IDLE)
        return row->idle_w;
    esl_gpu_spec g;
    return esl_gpu_find(&g, row->gpu) == ESL_OK ? g.idle_w : NAN;
}

int esl__row_total(const esl_row *row)
{
    return (row->present & ESL_ROW_KIND) && row->energy_kind == ESL_ENERGY_TOTAL &&
           (row->present & ESL_ROW_DURATION) && row->duration_s > 0 &&
           isfinite(esl__row_idle_w(row));
}

int64_t esl__row_gpus(const esl_row *row)
{
    return row->num_gpus > 1 ? row->num_gpus : 1;
}

double esl__gpus_overhead(int64_t gpus)
{
    return 1.0 + ESL_COMM_PER_GPU * (double)(gpus - 1);
}

double esl__law_observed(const esl_law *law, const esl_row *row)
{
    /* Rows run on K GPUs together are read as one GPU would have run them
     * (the derived model of docs/law.md: K GPUs take (1 + c (K-1)) / K of the
     * time and (1 + c (K-1)) times the dynamic energy). */
    int64_t k = esl__row_gpus(row);
    double over = esl__gpus_overhead(k);
    if (law->response == ESL_RESPONSE_TIME)
        return row->duration_s * (double)k / over;
    /* A total energy becomes dynamic: the idle power over the run's wall
     * time is what the GPUs draw whatever they compute (docs/law.md). A total
     * row without a duration or a known idle power is taken as it is. */
    double e = row->energy_j;
    if (esl__row_total(row))
        e -= (double)k * esl__row_idle_w(row) * row->duration_s;
    return e / over;
}

double esl__law_energy(const esl_law *law, const esl_row *row)
{
    double e = esl__law_observed(law, row);
    return esl__law_per_image(law) ? e / (double)row->prompts : e;
}

double esl__ln_kwh(double energy_j)
{
    return log(energy_j / 3.6e6); /* Eq. 3 is written in kWh */
}

/* ---- building a law ----------------------------------------------------- */

static int add_string(char ***list, size_t *n, const char *s)
{
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    *list = grown;
    if ((grown[*n] = esl__strdup(s)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    (*n)++;
    return ESL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The rows a fit reads: all of a dataset's, or those at idx[0..n) (a
 * validation fold's training rows, esl__law_fit_rows), in that order. A fold
 * is fitted through its row indices, never through a copy of its rows.
 */
typedef struct rowset {
    const esl_dataset *ds;
    const size_t *idx; /* NULL: every row of ds */
    size_t n;
    const esl__law_inputs *in; /* what the linear forms read of each row of ds; may be NULL */
} rowset;

static inline size_t rs_index(const rowset *rs, size_t i)
{
    return rs->idx != NULL ? rs->idx[i] : i;
}

/* Row i of the rowset; of packed rows (esl__law_inputs.packed), its cell's
 * row: the same but for energy_j and line (rs_copy gives those too). */
static inline const esl_row *rs_row(const rowset *rs, size_t i)
{
    if (rs->in != NULL && rs->in->packed != NULL)
        return &rs->ds->rows[rs->in->cell[rs_index(rs, i)]];
    return &rs->ds->rows[rs_index(rs, i)];
}

/* Row i of the rowset whole, in *tmp when the rows are packed. */
static const esl_row *rs_copy(const rowset *rs, size_t i, esl_row *tmp)
{
    if (rs->in == NULL || rs->in->packed == NULL)
        return rs_row(rs, i);
    esl__packed_row(rs->in->packed, rs_index(rs, i), tmp);
    return tmp;
}

static rowset rs_all(const esl_dataset *ds)
{
    return (rowset){ds, NULL, ds->n_rows, NULL};
}

/* The rows of a rowset as a dataset of their own (the forms and the failure
 * paths that read a dataset): a copy when the rowset is a selection. */
static int rs_dataset(const rowset *rs, const esl_dataset **out, esl_dataset **owned)
{
    *owned = NULL;
    *out = rs->ds;
    if (rs->idx == NULL && (rs->in == NULL || rs->in->packed == NULL))
        return ESL_OK;
    int rc = esl_dataset_new(owned, rs->ds->origin, rs->ds->convention);
    esl_row tmp;
    for (size_t i = 0; i < rs->n && rc == ESL_OK; i++)
        rc = esl_dataset_append(*owned, rs_copy(rs, i, &tmp));
    if (rc != ESL_OK) {
        esl_dataset_free(*owned);
        *owned = NULL;
        return rc;
    }
    *out = *owned;
    return ESL_OK;
}

#define SEEN_MAX 64

/* The distinct pointers of the gpu (0), dtype (1) and model (2) columns,
 * gathered in one pass over the rows (a dataset's strings are interned: equal
 * values share one pointer). A column with more than SEEN_MAX pointers is
 * marked full and read again by distinct(). */
typedef struct seen_values {
    const char *ptr[3][SEEN_MAX];
    size_t n[3];
    int full[3];
} seen_values;

static inline void seen_add(seen_values *sv, const esl_row *r)
{
    const char *v[3] = {r->gpu, r->dtype, r->model};
    for (int c = 0; c < 3; c++) {
        if (sv->full[c])
            continue;
        int known = 0;
        for (size_t k = sv->n[c]; k > 0 && !known; k--)
            known = sv->ptr[c][k - 1] == v[c];
        if (known)
            continue;
        if (sv->n[c] == SEEN_MAX)
            sv->full[c] = 1;
        else
            sv->ptr[c][sv->n[c]++] = v[c];
    }
}

/* The sorted distinct values of a column (0 gpu, 1 dtype, 2 model), from the
 * pointers `sv` gathered when it has them all (NULL: read the rows). */
static int distinct(char ***out, size_t *n, const rowset *rs, const seen_values *sv, int column)
{
    *out = NULL;
    *n = 0;
    if (sv != NULL && !sv->full[column]) {
        for (size_t i = 0; i < sv->n[column]; i++) {
            const char *v = sv->ptr[column][i];
            int seen = 0;
            for (size_t k = *n; k > 0 && !seen; k--)
                seen = strcmp((*out)[k - 1], v) == 0;
            int rc = seen ? ESL_OK : add_string(out, n, v);
            if (rc != ESL_OK)
                return rc;
        }
        qsort(*out, *n, sizeof **out, cmp_str);
        return ESL_OK;
    }
    /* Values whose pointer was already seen need no comparison. */
    const char *memo[32];
    size_t n_memo = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const esl_row *r = rs_row(rs, i);
        const char *v = column == 0 ? r->gpu : column == 1 ? r->dtype : r->model;
        int seen = 0;
        for (size_t k = 0; k < n_memo && !seen; k++)
            seen = memo[k] == v;
        if (seen)
            continue;
        if (n_memo < sizeof memo / sizeof *memo)
            memo[n_memo++] = v;
        for (size_t k = *n; k > 0 && !seen; k--)
            seen = strcmp((*out)[k - 1], v) == 0;
        if (!seen) {
            int rc = add_string(out, n, v);
            if (rc != ESL_OK)
                return rc;
        }
    }
    qsort(*out, *n, sizeof **out, cmp_str);
    return ESL_OK;
}

int esl__law_add_note(esl_law *law, const char *note)
{
    return add_string(&law->dropped, &law->n_dropped, note);
}

int esl__law_add_kappa(esl_law *law, const char *gpu, double kappa)
{
    double *k = realloc(law->kappa, (law->n_kappa + 1) * sizeof *k);
    if (k == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    law->kappa = k;
    k[law->n_kappa] = kappa;
    size_t n = law->n_kappa;
    int rc = add_string(&law->kappa_gpus, &n, gpu);
    if (rc == ESL_OK)
        law->n_kappa = n;
    return rc;
}

int esl__law_add_feature(esl_law *law, esl_feature_kind kind, const char *name,
                         const char *column, const char *level)
{
    esl_feature *grown = realloc(law->features, (law->n_features + 1) * sizeof *grown);
    if (grown == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    law->features = grown;
    esl_feature *f = &grown[law->n_features];
    *f = (esl_feature){kind, esl__strdup(name), esl__strdup(column), esl__strdup(level)};
    law->n_features++;
    if (f->name == NULL || (column && f->column == NULL) || (level && f->level == NULL))
        return esl__fail(ESL_ENOMEM, "out of memory");
    return ESL_OK;
}

/* Levels of one factor, baseline first, and its one-hot features. */
static int build_factor(esl_law *law, const rowset *rs, const seen_values *sv, size_t k,
                        const char *wanted, const char *fallback, int on)
{
    static const char *const columns[2] = {"gpu", "dtype"};
    esl_factor *fa = &law->factors[k];
    int rc;
    if ((fa->column = esl__strdup(columns[k])) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    if (!on)
        return ESL_OK;
    if ((rc = distinct(&fa->levels, &fa->n_levels, rs, sv, (int)k)) != ESL_OK)
        return rc;
    size_t base = 0;
    const char *want = wanted ? wanted : fallback;
    int found = 0;
    for (size_t i = 0; i < fa->n_levels && !found; i++)
        if (strcmp(fa->levels[i], want) == 0)
            base = i, found = 1;
    if (!found && wanted != NULL) {
        char known[256] = "";
        for (size_t i = 0; i < fa->n_levels; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     fa->levels[i]);
        return esl__fail(ESL_EINVAL, "baseline %s '%s' is not in the training data (levels: %s)",
                         columns[k], wanted, known);
    }
    /* Baseline first, the others in sorted order. */
    char *b = fa->levels[base];
    memmove(&fa->levels[1], &fa->levels[0], base * sizeof *fa->levels);
    fa->levels[0] = b;
    if ((fa->baseline = esl__strdup(b)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    if (fa->n_levels == 1) {
        char note[256];
        snprintf(note, sizeof note, "%s: one level in the training data (%s): beta_%s dropped",
                 columns[k], b, columns[k]);
        return add_string(&law->dropped, &law->n_dropped, note);
    }
    return ESL_OK;
}

static int add_level_features(esl_law *law, size_t k)
{
    const esl_factor *fa = &law->factors[k];
    for (size_t i = 1; i < fa->n_levels; i++) {
        char name[192];
        snprintf(name, sizeof name, "%s=%s", fa->column, fa->levels[i]);
        int rc = esl__law_add_feature(law, ESL_FEATURE_LEVEL, name, fa->column, fa->levels[i]);
        if (rc != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

/* Rank of the first k columns of X. */
static size_t prefix_rank(const gsl_matrix *X, size_t k)
{
    gsl_matrix_const_view sub = gsl_matrix_const_submatrix(X, 0, 0, X->size1, k);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(X->size1, k);
    size_t rank = 0;
    if (w != NULL && gsl_multifit_linear_svd(&sub.matrix, w) == GSL_SUCCESS)
        rank = gsl_multifit_linear_rank(RANK_TOL, w);
    gsl_multifit_linear_free(w);
    return rank;
}

/* Name the first term that makes the design singular. */
static int singular(const esl_law *law, const esl_row *row0, const gsl_matrix *X)
{
    for (size_t j = 1; j < law->n_features; j++) {
        const esl_feature *f = &law->features[j];
        double first = gsl_matrix_get(X, 0, j);
        int constant = 1;
        for (size_t i = 1; i < X->size1 && constant; i++)
            constant = gsl_matrix_get(X, i, j) == first;
        if (constant && f->kind == ESL_FEATURE_LN_RES)
            return esl__fail(ESL_ENUMERIC, "the design is singular: term 'res' is constant in the "
                             "training data (every row is %lldx%lld); fit without it (terms '-res')",
                             (long long)row0->height, (long long)row0->width);
        if (constant && f->kind == ESL_FEATURE_LN_FLOPS)
            return esl__fail(ESL_ENUMERIC, "the design is singular: term 'flops' is constant in "
                             "the training data (every row has the same FLOPs_cfg%s)",
                             esl__law_per_image(law) ? " per image" : "");
        if (prefix_rank(X, j + 1) < j + 1)
            return esl__fail(ESL_ENUMERIC, "the design is singular: term '%s' is a linear "
                             "combination of the terms before it in the training data", f->name);
    }
    return esl__fail(ESL_ENUMERIC, "the design is singular");
}

/* The training summary's models and allocations, its ranges empty. */
static int summary_start(esl_law *law, const rowset *rs, const seen_values *sv)
{
    esl_law_training *t = &law->training;
    t->n_rows = rs->n;
    int rc = distinct(&t->models, &t->n_models, rs, sv, 2);
    if (rc != ESL_OK)
        return rc;
    size_t m = t->n_models ? t->n_models : 1;
    t->model_rows = calloc(m, sizeof *t->model_rows);
    t->model_sigma2 = calloc(m, sizeof *t->model_sigma2);
    t->model_bias = malloc(m * sizeof *t->model_bias);
    if (t->model_rows == NULL || t->model_sigma2 == NULL || t->model_bias == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t k = 0; k < t->n_models; k++)
        t->model_bias[k] = NAN;
    t->flops_min = t->pixels_min = t->steps_min = t->energy_min_j = INFINITY;
    t->flops_max = t->pixels_max = t->steps_max = t->energy_max_j = -INFINITY;
    return ESL_OK;
}

/* A row's configuration into the summary's ranges: FLOPs, pixels, steps. */
static inline void summary_add_config(esl_law_training *t, const esl_law *law, const esl_row *r)
{
    double px = (double)r->height * (double)r->width, st = (double)r->steps;
    double flops = esl__law_flops(law, r);
    t->flops_min = fmin(t->flops_min, flops);
    t->flops_max = fmax(t->flops_max, flops);
    t->pixels_min = fmin(t->pixels_min, px);
    t->pixels_max = fmax(t->pixels_max, px);
    t->steps_min = fmin(t->steps_min, st);
    t->steps_max = fmax(t->steps_max, st);
}

/* One row into the summary's ranges. */
static inline void summary_add(esl_law_training *t, const esl_law *law, const esl_row *r)
{
    summary_add_config(t, law, r);
    t->energy_min_j = fmin(t->energy_min_j, r->energy_j);
    t->energy_max_j = fmax(t->energy_max_j, r->energy_j);
}

int esl__law_summarise(esl_law *law, const esl_dataset *ds)
{
    rowset rs = rs_all(ds);
    int rc = summary_start(law, &rs, NULL);
    for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++)
        summary_add(&law->training, law, &ds->rows[i]);
    return rc;
}

int esl__law_model_index(const esl_law *law, const char *model)
{
    for (size_t k = 0; k < law->training.n_models; k++)
        if (strcmp(law->training.models[k], model) == 0)
            return (int)k;
    return -1;
}

/* A row's model as an index into law->training.models, looked up by
 * pointer first (interned strings) among those already resolved. */
typedef struct model_ids {
    const char *ptr[SEEN_MAX];
    int id[SEEN_MAX];
    size_t n;
} model_ids;

static int model_id(model_ids *mi, const esl_law *law, const char *model)
{
    for (size_t i = 0; i < mi->n; i++)
        if (mi->ptr[i] == model)
            return mi->id[i];
    int k = esl__law_model_index(law, model);
    if (mi->n < SEEN_MAX)
        mi->ptr[mi->n] = model, mi->id[mi->n++] = k;
    return k;
}

/*
 * In-sample metrics: R^2 of ln E and of E, RMSE of ln E, MAPE; and each
 * model's residual variance, on its share of the residual degrees of
 * freedom. y[i] and e[i], when given, are row i's ln E and E in the law's
 * response as esl__ln_kwh(esl__law_energy()) and esl__law_energy() give
 * them (NULL: computed here); with `summary` set the rows also go into the
 * training summary's ranges (summary_add), in the same pass.
 */
/* The end of a measuring pass: each model's residual variance from its
 * sum of squares, and the law's metrics from the pass's sums ss[0..4]:
 * residual and total squares of ln E, the same of E, and the sum of
 * absolute percentage errors, over n rows. */
static void measure_finish(esl_law *law, size_t n, const double ss[5])
{
    esl_law_training *t = &law->training;
    size_t p = law->n_features;
    for (size_t k = 0; k < t->n_models && t->model_rows != NULL; k++) {
        double dof = (double)t->model_rows[k] * (double)(n - p) / (double)n;
        t->model_sigma2[k] = dof > 0 ? t->model_sigma2[k] / dof : law->sigma2;
    }
    esl_law_metrics *m = &law->metrics;
    m->r2_log = ss[1] > 0 ? 1.0 - ss[0] / ss[1] : 1.0;
    m->r2_adj_log = 1.0 - (1.0 - m->r2_log) * (double)(n - 1) / (double)(n - p);
    m->r2_lin = ss[3] > 0 ? 1.0 - ss[2] / ss[3] : 1.0;
    m->rmse_log = sqrt(ss[0] / (double)n);
    m->mape_pct = 100.0 * ss[4] / (double)n;
}

static void measure_rows(esl_law *law, const rowset *rs, const double *yhat, const double *y,
                         const double *e, int summary)
{
    esl_law_training *t = &law->training;
    size_t n = rs->n;
    double mean_ln = 0, mean_j = 0, ss_res = 0, ss_tot = 0, ss_res_j = 0, ss_tot_j = 0, ape = 0;
    model_ids mi = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        double ej = e != NULL ? e[i] : esl__law_energy(law, rs_row(rs, i));
        mean_ln += (y != NULL ? y[i] : esl__ln_kwh(ej)) / (double)n;
        mean_j += ej / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        const esl_row *r = rs_row(rs, i);
        double ej = e != NULL ? e[i] : esl__law_energy(law, r);
        double yi = y != NULL ? y[i] : esl__ln_kwh(ej), fit = yhat[i];
        double pj = exp(fit) * 3.6e6;
        ss_res += (yi - fit) * (yi - fit);
        ss_tot += (yi - mean_ln) * (yi - mean_ln);
        ss_res_j += (ej - pj) * (ej - pj);
        ss_tot_j += (ej - mean_j) * (ej - mean_j);
        ape += fabs(pj - ej) / ej;
        int k = t->model_rows != NULL ? model_id(&mi, law, r->model) : -1;
        if (k >= 0) {
            t->model_rows[k]++;
            t->model_sigma2[k] += (yi - fit) * (yi - fit);
        }
        if (summary)
            summary_add(t, law, r);
    }
    measure_finish(law, n, (double[5]){ss_res, ss_tot, ss_res_j, ss_tot_j, ape});
}

void esl__law_measure(esl_law *law, const esl_dataset *ds, const double *yhat)
{
    rowset rs = rs_all(ds);
    measure_rows(law, &rs, yhat, NULL, NULL, 0);
}

static int solve(esl_law *law, const rowset *rs, const gsl_matrix *X, const gsl_vector *y)
{
    size_t n = X->size1, p = X->size2;
    gsl_vector *c = gsl_vector_alloc(p);
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    int rc = ESL_OK, g = GSL_SUCCESS;
    double chisq = 0;
    if (c == NULL || cov == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto done;
    }
    if (law->method == ESL_FIT_ROBUST) {
        gsl_multifit_robust_workspace *w = gsl_multifit_robust_alloc(gsl_multifit_robust_bisquare, n, p);
        if (w == NULL) {
            rc = esl__fail(ESL_ENOMEM, "out of memory");
            goto done;
        }
        g = gsl_multifit_robust(X, y, c, cov, w);
        gsl_multifit_robust_stats st = gsl_multifit_robust_statistics(w);
        law->sigma2 = st.sigma * st.sigma;
        gsl_multifit_robust_free(w);
    } else {
        gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, p);
        gsl_vector *wt = law->method == ESL_FIT_WEIGHTED ? gsl_vector_alloc(n) : NULL;
        if (w == NULL || (law->method == ESL_FIT_WEIGHTED && wt == NULL)) {
            gsl_multifit_linear_free(w);
            gsl_vector_free(wt);
            rc = esl__fail(ESL_ENOMEM, "out of memory");
            goto done;
        }
        size_t rank = p;
        if (wt != NULL) {
            for (size_t i = 0; i < n; i++)
                gsl_vector_set(wt, i, (double)rs_row(rs, i)->prompts);
            g = gsl_multifit_wlinear_tsvd(X, wt, y, RANK_TOL, c, cov, &chisq, &rank, w);
            /* wlinear's covariance assumes weights of 1/sigma_i^2; ours are
             * relative (var ~ sigma^2 / N), so scale by the fitted sigma^2. */
            if (g == GSL_SUCCESS)
                gsl_matrix_scale(cov, chisq / (double)(n - p));
        } else {
            /* gsl_multifit_linear with the rank reported: one SVD both fits and
             * detects a singular design. */
            g = gsl_multifit_linear_tsvd(X, y, RANK_TOL, c, cov, &chisq, &rank, w);
        }
        if (g == GSL_SUCCESS && rank < p) {
            gsl_vector_free(wt);
            gsl_multifit_linear_free(w);
            rc = singular(law, rs_row(rs, 0), X);
            goto done;
        }
        law->sigma2 = chisq / (double)(n - p); /* per unit weight when weighted */
        gsl_vector_free(wt);
        gsl_multifit_linear_free(w);
    }
    if (g != GSL_SUCCESS) {
        rc = esl__fail(ESL_ENUMERIC, "%s fit failed: %s", esl_fit_method_name(law->method),
                       gsl_strerror(g));
        goto done;
    }
    for (size_t j = 0; j < p; j++) {
        law->coef[j] = gsl_vector_get(c, j);
        for (size_t k = 0; k < p; k++)
            law->cov[j * p + k] = gsl_matrix_get(cov, j, k);
        law->se[j] = sqrt(fmax(0.0, law->cov[j * p + j]));
        if (!isfinite(law->coef[j]) || !isfinite(law->se[j]))
            rc = esl__fail(ESL_ENUMERIC, "the fit gave a non-finite coefficient for term '%s'",
                           law->features[j].name);
    }
    if (rc == ESL_OK && !isfinite(law->sigma2))
        rc = esl__fail(ESL_ENUMERIC, "the fit gave a non-finite residual variance");
done:
    gsl_vector_free(c);
    gsl_matrix_free(cov);
    return rc;
}

/* ---- the streaming fit (ordinary and weighted) --------------------------- */

/* Designs of fewer rows go through GSL's SVD of the whole design, so fits of
 * measured datasets (tens to thousands of rows) give the same bits as they
 * always have; larger ones stream, and agree with the SVD to ~1e-11. */
#define STREAM_MIN_ROWS 10000
#define LEVEL_MEMO 16
#define MAX_LINEAR 256 /* features of a streamed fit */

/* Which level of each factor a row has, as an index into the factor's
 * levels (-1: unseen). Dataset strings are interned, so a row's value is
 * first looked up by pointer among those already resolved. */
typedef struct level_ids {
    const esl_law *law;
    struct { const char *ptr; int id; } memo[2][LEVEL_MEMO];
    size_t n_memo[2];
    int factor_of[MAX_LINEAR], level_of[MAX_LINEAR]; /* per feature; -1 when not a level */
} level_ids;

static void level_ids_init(level_ids *li, const esl_law *law)
{
    memset(li, 0, sizeof *li);
    li->law = law;
    for (size_t j = 0; j < law->n_features && j < MAX_LINEAR; j++) {
        const esl_feature *f = &law->features[j];
        li->factor_of[j] = li->level_of[j] = -1;
        if (f->kind != ESL_FEATURE_LEVEL)
            continue;
        int k = strcmp(f->column, "gpu") == 0 ? 0 : 1;
        const esl_factor *fa = &law->factors[k];
        for (size_t i = 0; i < fa->n_levels; i++)
            if (strcmp(fa->levels[i], f->level) == 0)
                li->factor_of[j] = k, li->level_of[j] = (int)i;
    }
}

static int level_id(level_ids *li, int k, const char *v)
{
    for (size_t i = 0; i < li->n_memo[k]; i++)
        if (li->memo[k][i].ptr == v)
            return li->memo[k][i].id;
    const esl_factor *fa = &li->law->factors[k];
    int id = -1;
    for (size_t i = 0; i < fa->n_levels && id < 0; i++)
        if (strcmp(fa->levels[i], v) == 0)
            id = (int)i;
    if (li->n_memo[k] < LEVEL_MEMO) {
        li->memo[k][li->n_memo[k]].ptr = v;
        li->memo[k][li->n_memo[k]++].id = id;
    }
    return id;
}

/* The features of the linear forms, as esl__law_features gives them; the
 * logarithms from `in` (those of cell `cell`) when given. */
static void linear_features(level_ids *li, const esl_row *row, const esl__law_inputs *in,
                            size_t cell, double *x)
{
    const esl_law *law = li->law;
    int id[2] = {level_id(li, 0, row->gpu), level_id(li, 1, row->dtype)};
    for (size_t j = 0; j < law->n_features; j++) {
        switch (law->features[j].kind) {
        case ESL_FEATURE_CONST: x[j] = 1.0; break;
        case ESL_FEATURE_LN_FLOPS:
            x[j] = in != NULL ? in->ln_flops[cell] : log(esl__law_flops(law, row) / 1e9);
            break;
        case ESL_FEATURE_LN_RES:
            x[j] = in != NULL ? in->ln_res[cell] : esl__ln_res(row);
            break;
        case ESL_FEATURE_LEVEL: x[j] = id[li->factor_of[j]] == li->level_of[j] ? 1.0 : 0.0; break;
        default: x[j] = 0.0; break;
        }
    }
}

/* Rotate the row (x, y) into the upper triangle R (p x p, row-major) and
 * z = Q^T y, one Givens rotation per non-zero entry. */
static void givens_add(double *R, double *z, double *x, double y, size_t p)
{
    for (size_t j = 0; j < p; j++) {
        double xj = x[j];
        if (xj == 0.0)
            continue;
        double *Rj = &R[j * p], d = Rj[j], r = sqrt(d * d + xj * xj), c = d / r, s = xj / r;
        Rj[j] = r;
        for (size_t k = j + 1; k < p; k++) {
            double t = Rj[k];
            Rj[k] = c * t + s * x[k];
            x[k] = c * x[k] - s * t;
        }
        double t = z[j];
        z[j] = c * t + s * y;
        y = c * y - s * t;
    }
}

/* Build the whole design (failure path only: naming a singular term). */
static int design_matrix(const esl_law *law, const rowset *rs, gsl_matrix **out)
{
    *out = gsl_matrix_alloc(rs->n, law->n_features);
    if (*out == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; i < rs->n; i++) {
        unsigned unseen;
        esl__law_features(law, rs_row(rs, i), gsl_matrix_ptr(*out, i, 0), &unseen);
    }
    return ESL_OK;
}

/* A fit's rows gathered by cell (esl__law_inputs): how many rows of each
 * cell it has and the sum of their responses; after the solve, each cell's
 * fitted ln E. */
typedef struct cell_sums {
    double *count, *sum, *fit;
} cell_sums;

static void cells_free(cell_sums *cs)
{
    if (cs != NULL)
        free(cs->count);
    free(cs);
}

/* Gather the rows of `rs` by cell, and the values of the cells it has. */
static int cells_gather(cell_sums **out, const rowset *rs, seen_values *sv)
{
    const esl__law_inputs *in = rs->in;
    size_t m = in->n_cells ? in->n_cells : 1;
    cell_sums *cs = malloc(sizeof *cs);
    double *a = calloc(3 * m, sizeof *a);
    *out = NULL;
    if (cs == NULL || a == NULL) {
        free(cs);
        free(a);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    *cs = (cell_sums){a, a + m, a + 2 * m};
    for (size_t i = 0; i < rs->n; i++) {
        size_t at = rs_index(rs, i);
        uint32_t g = in->cell[at];
        cs->count[g] += 1.0;
        cs->sum[g] += in->y[at];
    }
    for (size_t g = 0; g < in->n_cells; g++)
        if (cs->count[g] > 0)
            seen_add(sv, &rs->ds->rows[in->cell_row[g]]);
    *out = cs;
    return ESL_OK;
}

/* measure_rows with the training summary, for a fit by cells: each row's
 * fitted value is its cell's. */
static void measure_cells(esl_law *law, const rowset *rs, const cell_sums *cs)
{
    esl_law_training *t = &law->training;
    const esl__law_inputs *in = rs->in;
    size_t n = rs->n;
    double mean_ln = 0, mean_j = 0, ss_res = 0, ss_tot = 0, ss_res_j = 0, ss_tot_j = 0, ape = 0;
    model_ids mi = {.n = 0};
    /* per cell: the fitted energy in joules and the model's index */
    double *pj_of = malloc((in->n_cells ? in->n_cells : 1) * sizeof *pj_of);
    int *model_of = malloc((in->n_cells ? in->n_cells : 1) * sizeof *model_of);
    if (pj_of == NULL || model_of == NULL) {
        /* no room for the per-cell values: the same numbers, row by row */
        free(pj_of);
        free(model_of);
        double *yhat = malloc((n ? n : 1) * sizeof *yhat);
        if (yhat != NULL) {
            for (size_t i = 0; i < n; i++)
                yhat[i] = cs->fit[in->cell[rs_index(rs, i)]];
            measure_rows(law, rs, yhat, NULL, NULL, 1);
        }
        free(yhat);
        return;
    }
    for (size_t g = 0; g < in->n_cells; g++) {
        if (cs->count[g] == 0)
            continue;
        const esl_row *r = &rs->ds->rows[in->cell_row[g]];
        pj_of[g] = exp(cs->fit[g]) * 3.6e6;
        model_of[g] = t->model_rows != NULL ? model_id(&mi, law, r->model) : -1;
        /* the summary's ranges: all but the energy are the cell's */
        summary_add_config(t, law, r);
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = rs_index(rs, i);
        mean_ln += in->y[at] / (double)n;
        mean_j += in->e[at] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = rs_index(rs, i);
        uint32_t g = in->cell[at];
        double ej = in->e[at], yi = in->y[at], fit = cs->fit[g], pj = pj_of[g];
        ss_res += (yi - fit) * (yi - fit);
        ss_tot += (yi - mean_ln) * (yi - mean_ln);
        ss_res_j += (ej - pj) * (ej - pj);
        ss_tot_j += (ej - mean_j) * (ej - mean_j);
        ape += fabs(pj - ej) / ej;
        int k = model_of[g];
        if (k >= 0) {
            t->model_rows[k]++;
            t->model_sigma2[k] += (yi - fit) * (yi - fit);
        }
        t->energy_min_j = fmin(t->energy_min_j, in->energy_j[at]);
        t->energy_max_j = fmax(t->energy_max_j, in->energy_j[at]);
    }
    free(pj_of);
    free(model_of);
    measure_finish(law, n, (double[5]){ss_res, ss_tot, ss_res_j, ss_tot_j, ape});
}

/*
 * Ordinary or weighted least squares by an accumulated R factor. yhat[i]
 * receives the fitted ln E of row i, y[i] and e[i] its ln E and E in the
 * law's response (for measure_rows). Weights are the rows' prompts, relative
 * (var ~ sigma^2 / N): the covariance is sigma^2 (X^T W X)^-1 either way.
 */
static int stream_solve(esl_law *law, const rowset *rs, double *yhat, double *ys, double *es,
                        cell_sums *cs)
{
    size_t n = rs->n, p = law->n_features;
    int weighted = law->method == ESL_FIT_WEIGHTED, rc = ESL_OK;
    double x[MAX_LINEAR], z[MAX_LINEAR] = {0}, c[MAX_LINEAR] = {0};
    if (p > MAX_LINEAR)
        return esl__fail(ESL_EINVAL, "%zu features: at most %d can be fitted", p, MAX_LINEAR);
    gsl_matrix *R = gsl_matrix_calloc(p, p), *V = gsl_matrix_alloc(p, p);
    gsl_vector *S = gsl_vector_alloc(p), *work = gsl_vector_alloc(p);
    gsl_matrix *X = NULL;
    if (R == NULL || V == NULL || S == NULL || work == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto done;
    }
    level_ids li;
    level_ids_init(&li, law);
    const esl__law_inputs *in = rs->in;
    /* By cells: one row per cell, its features weighted by the cell's rows
     * (times their prompts when weighted), its response their mean. */
    for (size_t cell = 0; cs != NULL && cell < in->n_cells; cell++) {
        if (cs->count[cell] == 0)
            continue;
        size_t at = in->cell_row[cell];
        const esl_row *row = &rs->ds->rows[at];
        double w = cs->count[cell] * (weighted ? (double)row->prompts : 1.0), sw = sqrt(w);
        double y = cs->sum[cell] / cs->count[cell] * sw;
        linear_features(&li, row, in, cell, x);
        for (size_t j = 0; j < p; j++)
            x[j] *= sw;
        givens_add(R->data, z, x, y, p);
    }
    for (size_t i = 0; cs == NULL && i < n; i++) {
        size_t at = rs_index(rs, i);
        const esl_row *row = &rs->ds->rows[at];
        double e = in != NULL ? in->e[at] : esl__law_energy(law, row);
        double y = in != NULL ? in->y[at] : esl__ln_kwh(e);
        es[i] = e;
        ys[i] = y; /* the response, kept for the residual pass */
        linear_features(&li, row, in, in != NULL ? in->cell[at] : 0, x);
        if (weighted) {
            double sw = sqrt((double)row->prompts);
            for (size_t j = 0; j < p; j++)
                x[j] *= sw;
            y *= sw;
        }
        givens_add(R->data, z, x, y, p);
    }
    /* R = U S V^T: the singular values of the design. */
    int g = gsl_linalg_SV_decomp(R, V, S, work);
    if (g != GSL_SUCCESS) {
        rc = esl__fail(ESL_ENUMERIC, "%s fit failed: %s", esl_fit_method_name(law->method),
                       gsl_strerror(g));
        goto done;
    }
    size_t rank = 0;
    for (size_t j = 0; j < p; j++)
        rank += gsl_vector_get(S, j) > RANK_TOL * gsl_vector_get(S, 0);
    if (rank < p) {
        if ((rc = design_matrix(law, rs, &X)) == ESL_OK)
            rc = singular(law, rs_row(rs, 0), X);
        goto done;
    }
    /* c = V S^-1 U^T z */
    for (size_t k = 0; k < p; k++) {
        double uz = 0;
        for (size_t i = 0; i < p; i++)
            uz += gsl_matrix_get(R, i, k) * z[i];
        uz /= gsl_vector_get(S, k);
        for (size_t j = 0; j < p; j++)
            c[j] += gsl_matrix_get(V, j, k) * uz;
    }
    double chisq = 0;
    for (size_t cell = 0; cs != NULL && cell < in->n_cells; cell++) {
        if (cs->count[cell] == 0)
            continue;
        linear_features(&li, &rs->ds->rows[in->cell_row[cell]], in, cell, x);
        double fit = 0;
        for (size_t j = 0; j < p; j++)
            fit += x[j] * c[j];
        cs->fit[cell] = fit;
    }
    for (size_t i = 0; cs != NULL && i < n; i++) {
        size_t at = rs_index(rs, i);
        uint32_t cell = in->cell[at];
        double r = in->y[at] - cs->fit[cell];
        chisq += weighted ? (double)rs->ds->rows[in->cell_row[cell]].prompts * r * r : r * r;
    }
    for (size_t i = 0; cs == NULL && i < n; i++) {
        size_t at = rs_index(rs, i);
        const esl_row *row = &rs->ds->rows[at];
        linear_features(&li, row, in, in != NULL ? in->cell[at] : 0, x);
        double fit = 0;
        for (size_t j = 0; j < p; j++)
            fit += x[j] * c[j];
        double r = ys[i] - fit;
        chisq += weighted ? (double)row->prompts * r * r : r * r;
        yhat[i] = fit;
    }
    law->sigma2 = chisq / (double)(n - p); /* per unit weight when weighted */
    for (size_t j = 0; j < p; j++) {
        law->coef[j] = c[j];
        for (size_t k = 0; k < p; k++) {
            double v = 0; /* (X^T W X)^-1 = V S^-2 V^T */
            for (size_t m = 0; m < p; m++) {
                double s = gsl_vector_get(S, m);
                v += gsl_matrix_get(V, j, m) * gsl_matrix_get(V, k, m) / (s * s);
            }
            law->cov[j * p + k] = law->sigma2 * v;
        }
        law->se[j] = sqrt(fmax(0.0, law->cov[j * p + j]));
        if (rc == ESL_OK && (!isfinite(law->coef[j]) || !isfinite(law->se[j])))
            rc = esl__fail(ESL_ENUMERIC, "the fit gave a non-finite coefficient for term '%s'",
                           law->features[j].name);
    }
    if (rc == ESL_OK && !isfinite(law->sigma2))
        rc = esl__fail(ESL_ENUMERIC, "the fit gave a non-finite residual variance");
done:
    gsl_matrix_free(R);
    gsl_matrix_free(V);
    gsl_vector_free(S);
    gsl_vector_free(work);
    gsl_matrix_free(X);
    return rc;
}

int esl__law_alloc_coef(esl_law *law)
{
    size_t p = law->n_features;
    law->coef = calloc(p, sizeof *law->coef);
    law->se = calloc(p, sizeof *law->se);
    law->cov = calloc(p * p, sizeof *law->cov);
    if (law->coef == NULL || law->se == NULL || law->cov == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    return ESL_OK;
}

static int fit_once(esl_law **out, const rowset *rs, const esl_fit_opts *opts)
{
    const esl_dataset *ds = rs->ds;
    seen_values sv = {.n = {0}};
    cell_sums *cs = NULL;
    gsl_matrix *X = NULL;
    gsl_vector *y = NULL;
    int rc;

    *out = NULL;
    unsigned terms = opts->terms ? opts->terms : ESL_TERM_ALL;
    esl_law_form form = ESL_FORM_PAPER;
    if (opts->form != NULL && (rc = esl_law_form_parse(&form, opts->form)) != ESL_OK)
        return rc;
    esl_law *law = calloc(1, sizeof *law);
    if (law == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    law->form_id = form;
    law->form = esl_law_form_get(form)->name;
    law->convention = ds->convention;
    law->method = opts->method;
    law->terms = terms;
    if (rs->n == 0) {
        rc = esl__fail(ESL_EINVAL, "%s: no rows to fit", ds->origin);
        goto fail;
    }
    law->response = opts->response;
    int bykind = esl__form(law)->layer_plan;
    /* Rows already known to pass the checks below, of a form that can fit by
     * cells, are gathered by cell instead. */
    if (rs->in != NULL && rs->in->usable && rs->in->cell != NULL && !esl__law_nls(law) &&
        law->method != ESL_FIT_ROBUST && rs->n >= STREAM_MIN_ROWS &&
        (rc = cells_gather(&cs, rs, &sv)) != ESL_OK)
        goto fail;
    for (size_t i = 0; cs == NULL && i < rs->n; i++) {
        const esl_row *r = rs_row(rs, i);
        seen_add(&sv, r);
        if (law->response == ESL_RESPONSE_TIME && !(r->duration_s > 0)) {
            rc = esl__fail(ESL_EINVAL, "%s:%lld: no duration_s to fit a time law", ds->origin,
                           (long long)r->line);
            goto fail;
        }
        if (r->flops_exact && !bykind) {
            rc = esl__fail(ESL_EINVAL, "%s:%lld: model '%s' has no paper-convention terms: the %s "
                           "form cannot use it (fit --form by-kind, or read the data with "
                           "--convention exact)", ds->origin, (long long)r->line, r->model,
                           law->form);
            goto fail;
        }
        if (law->response == ESL_RESPONSE_TIME)
            continue;
        if (!(r->present & ESL_ROW_ENERGY)) {
            rc = esl__fail(ESL_EINVAL, "%s:%lld: no energy_j to fit", ds->origin,
                           (long long)r->line);
            goto fail;
        }
        if (!(esl__law_observed(law, r) > 0)) {
            rc = esl__fail(ESL_EINVAL, "%s:%lld: total energy %g J less idle power %g W over "
                           "%g s leaves no dynamic energy (check idle_w and duration_s)",
                           ds->origin, (long long)r->line, r->energy_j, esl__row_idle_w(r),
                           r->duration_s);
            goto fail;
        }
    }
    if ((rc = build_factor(law, rs, &sv, 0, opts->baseline_gpu, "A100", terms & ESL_TERM_GPU)) !=
            ESL_OK ||
        (rc = build_factor(law, rs, &sv, 1, opts->baseline_dtype, "fp16", terms & ESL_TERM_DTYPE)) !=
            ESL_OK)
        goto fail;
    /* The by-kind form prices the layer plan's FLOPs, whatever convention
     * the dataset's FLOPs_cfg was counted in: its law counts in the exact one. */
    if (esl__form(law)->layer_plan)
        law->convention = ESL_CONVENTION_EXACT;
    if (esl__law_nls(law)) {
        const esl_dataset *rows;
        esl_dataset *copy;
        if ((rc = rs_dataset(rs, &rows, &copy)) == ESL_OK)
            rc = esl__roofline_fit(law, rows, opts);
        esl_dataset_free(copy);
        if (rc != ESL_OK)
            goto fail;
        *out = law;
        return ESL_OK;
    }
    /* Feature order of Eq. 4: 1, ln FLOPs_cfg, I_fp32, I_gpu..., ln(HW/256). */
    if ((rc = esl__law_add_feature(law, ESL_FEATURE_CONST, "ln_A", NULL, NULL)) != ESL_OK ||
        ((terms & ESL_TERM_FLOPS) &&
         (rc = esl__law_add_feature(law, ESL_FEATURE_LN_FLOPS, "alpha", NULL, NULL)) != ESL_OK) ||
        (rc = add_level_features(law, 1)) != ESL_OK || (rc = add_level_features(law, 0)) != ESL_OK ||
        ((terms & ESL_TERM_RES) &&
         (rc = esl__law_add_feature(law, ESL_FEATURE_LN_RES, "res", NULL, NULL)) != ESL_OK))
        goto fail;

    size_t n = rs->n, p = law->n_features;
    if (n <= p) {
        char names[512] = "";
        for (size_t j = 0; j < p; j++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "",
                     law->features[j].name);
        rc = esl__fail(ESL_EINVAL, "%zu row%s cannot fit %zu features (%s): at least %zu rows "
                       "are needed", n, n == 1 ? "" : "s", p, names, p + 1);
        goto fail;
    }
    law->dof = (int64_t)(n - p);
    if ((rc = esl__law_alloc_coef(law)) != ESL_OK)
        goto fail;
    if (law->method != ESL_FIT_ROBUST && n >= STREAM_MIN_ROWS) {
        if (cs != NULL) {
            if ((rc = stream_solve(law, rs, NULL, NULL, NULL, cs)) == ESL_OK &&
                (rc = summary_start(law, rs, &sv)) == ESL_OK)
                measure_cells(law, rs, cs);
            cells_free(cs);
            cs = NULL;
            if (rc != ESL_OK)
                goto fail;
            *out = law;
            return ESL_OK;
        }
        /* fitted values, responses and energies of the rows */
        double *yhat = malloc(3 * n * sizeof *yhat);
        if (yhat == NULL) {
            rc = esl__fail(ESL_ENOMEM, "out of memory");
            goto fail;
        }
        if ((rc = stream_solve(law, rs, yhat, yhat + n, yhat + 2 * n, NULL)) == ESL_OK &&
            (rc = summary_start(law, rs, &sv)) == ESL_OK)
            measure_rows(law, rs, yhat, yhat + n, yhat + 2 * n, 1);
        free(yhat);
        if (rc != ESL_OK)
            goto fail;
        *out = law;
        return ESL_OK;
    }
    X = gsl_matrix_alloc(n, p);
    y = gsl_vector_alloc(n);
    if (X == NULL || y == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned unseen;
        esl__law_features(law, rs_row(rs, i), gsl_matrix_ptr(X, i, 0), &unseen);
        gsl_vector_set(y, i, esl__ln_kwh(esl__law_energy(law, rs_row(rs, i))));
    }
    if (law->method == ESL_FIT_ROBUST && prefix_rank(X, p) < p) {
        rc = singular(law, rs_row(rs, 0), X);
        goto fail;
    }
    if ((rc = solve(law, rs, X, y)) != ESL_OK || (rc = summary_start(law, rs, &sv)) != ESL_OK)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        double fit = 0;
        for (size_t j = 0; j < p; j++)
            fit += gsl_matrix_get(X, i, j) * law->coef[j];
        gsl_vector_set(y, i, fit); /* y now holds the fitted values */
    }
    measure_rows(law, rs, y->data, NULL, NULL, 1);
    gsl_matrix_free(X);
    gsl_vector_free(y);
    *out = law;
    return ESL_OK;
fail:
    cells_free(cs);
    gsl_matrix_free(X);
    gsl_vector_free(y);
    esl_law_free(law);
    return rc;
}

/* The rows of `ds` whose model (column 2) or gpu (column 0) is, or is not,
 * `value`. */
static int subset(esl_dataset **out, const esl_dataset *ds, int column, const char *value,
                  int keep)
{
    int rc = esl_dataset_new(out, ds->origin, ds->convention);
    for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++) {
        const char *v = column == 0 ? ds->rows[i].gpu : ds->rows[i].model;
        if ((strcmp(v, value) == 0) == keep)
            rc = esl_dataset_append(*out, &ds->rows[i]);
    }
    if (rc != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

/*
 * Hold `value` of a column (a model, or a GPU) out: refit the law on the
 * other rows and predict the held-out ones. *bias gets the mean of ln y -
 * ln y-hat over them and *mse its mean square. Returns 0 when the refit or a
 * prediction is impossible (a term the other rows leave unidentified).
 */
/* The distinct (model, dtype) pairs of a dataset, at most `cap` (its strings
 * are interned: a pair is two pointers). */
typedef struct pair_set {
    const char *pair[128][2];
    size_t n;
} pair_set;

static void pairs_of(pair_set *ps, const esl_dataset *ds)
{
    ps->n = 0;
    for (size_t j = 0; j < ds->n_rows && ps->n < 128; j++) {
        int known = 0;
        for (size_t k = 0; k < ps->n && !known; k++)
            known = ps->pair[k][0] == ds->rows[j].model && ps->pair[k][1] == ds->rows[j].dtype;
        if (!known)
            ps->pair[ps->n][0] = ds->rows[j].model, ps->pair[ps->n++][1] = ds->rows[j].dtype;
    }
}

static int pair_known(const pair_set *ps, const esl_row *row)
{
    for (size_t k = 0; k < ps->n; k++)
        if (strcmp(ps->pair[k][0], row->model) == 0 && strcmp(ps->pair[k][1], row->dtype) == 0)
            return 1;
    return 0;
}

static int hold_out(const esl_law *law, const esl_dataset *ds, const esl_fit_opts *inner,
                    int column, const char *value, double *bias, double *mse)
{
    esl_dataset *train = NULL, *test = NULL;
    esl_law *fold = NULL;
    int rc = subset(&train, ds, column, value, 0);
    if (rc == ESL_OK)
        rc = subset(&test, ds, column, value, 1);
    if (rc == ESL_ENOMEM) {
        esl_dataset_free(train);
        return -rc;
    }
    rowset train_rows = rc == ESL_OK ? rs_all(train) : (rowset){0};
    int ok = rc == ESL_OK && test->n_rows > 0 && fit_once(&fold, &train_rows, inner) == ESL_OK;
    esl_predict_opts po = {.level = 0.95, .unseen_as_baseline = 1};
    *bias = *mse = 0;
    size_t used = 0;
    pair_set trained = {.n = 0};
    if (ok && column == 0)
        pairs_of(&trained, train);
    for (size_t i = 0; ok && i < test->n_rows; i++) {
        const esl_row *row = &test->rows[i];
        /* A GPU held out is judged on the rows whose model and precision the
         * other GPUs' rows have: what is measured is the GPU's transfer,
         * not a model or precision nobody trained. */
        if (column == 0 && !pair_known(&trained, row))
            continue;
        esl_prediction pr;
        ok = esl_law_predict(&pr, fold, row, &po) == ESL_OK;
        double r = log(esl__law_observed(law, row)) - log(pr.energy_j);
        *bias += r;
        *mse += r * r;
        used++;
    }
    ok = ok && used > 0;
    if (ok) {
        *bias /= (double)used;
        *mse /= (double)used;
    }
    ok = ok && isfinite(*bias) && isfinite(*mse);
    esl_law_free(fold);
    esl_dataset_free(train);
    esl_dataset_free(test);
    return ok;
}

/*
 * The between-model variance: each training model held out in turn, the law
 * refitted on the others, and its rows predicted. The held-out model's mean
 * square error of ln E, less its own residual variance, is what being unseen
 * added; the mean of that over the models is what a model the law has not
 * seen adds to the error. Its bias (mean ln E - ln E-hat) is kept for
 * people. A refit the other models cannot support (a term they leave
 * unidentified) leaves that model out (bias NaN); two models at least are
 * needed. The between-GPU variance is the same with GPUs held out and priced
 * from the GPU table (by-kind form).
 */
static int between(esl_law *law, const esl_dataset *ds, const esl_fit_opts *opts)
{
    esl_law_training *t = &law->training;
    esl_fit_opts inner = *opts;
    inner.no_between = 1;
    double sum = 0;
    size_t used = 0;
    for (size_t k = 0; k < t->n_models && t->n_models >= 3; k++) {
        double bias, mse;
        int ok = hold_out(law, ds, &inner, 2, t->models[k], &bias, &mse);
        if (ok < 0)
            return -ok;
        if (ok) {
            t->model_bias[k] = bias;
            sum += fmax(0.0, mse - t->model_sigma2[k]); /* what being unseen added */
            used++;
        }
    }
    if (used >= 2) {
        law->tau2 = sum / (double)used;
        law->tau2_models = used;
    }
    const esl_factor *gpu = &law->factors[0];
    sum = 0;
    used = 0;
    for (size_t k = 0; esl__form(law)->layer_plan && k < gpu->n_levels && gpu->n_levels >= 2;
         k++) {
        double bias, mse;
        int ok = hold_out(law, ds, &inner, 0, gpu->levels[k], &bias, &mse);
        if (ok < 0)
            return -ok;
        if (ok) {
            sum += fmax(0.0, mse - law->sigma2);
            used++;
        }
    }
    if (used >= 1) {
        law->tau2_gpu = sum / (double)used;
        law->tau2_gpus = used;
    }
    return ESL_OK;
}

/*
 * The time law of a by-kind energy law: the same form fitted on the wall
 * time of the rows that carry a duration (one GPU each), so that a
 * prediction can say how long, and what the idle power costs meanwhile. Too
 * few such rows, or rows that cannot support it, leave no time law and a
 * note saying why; that is not an error of the energy law.
 */
static int fit_time(esl_law *law, const rowset *rs, const esl_fit_opts *opts)
{
    esl_dataset *timed = NULL;
    int rc = esl_dataset_new(&timed, rs->ds->origin, rs->ds->convention);
    esl_row tmp;
    for (size_t i = 0; i < rs->n && rc == ESL_OK; i++)
        if ((rs_row(rs, i)->present & ESL_ROW_DURATION) && rs_row(rs, i)->duration_s > 0)
            rc = esl_dataset_append(timed, rs_copy(rs, i, &tmp));
    if (rc != ESL_OK) {
        esl_dataset_free(timed);
        return rc;
    }
    if (timed->n_rows == 0) {
        esl_dataset_free(timed);
        return esl__law_add_note(law, "time: no row carries duration_s: no time law (time and "
                                      "total energy are not predicted)");
    }
    esl_fit_opts topts = *opts;
    topts.response = ESL_RESPONSE_TIME;
    esl_law *time = NULL;
    rc = esl_law_fit(&time, timed, &topts);
    esl_dataset_free(timed);
    if (rc == ESL_ENOMEM)
        return rc;
    if (rc != ESL_OK) {
        char note[768];
        snprintf(note, sizeof note, "time: no time law: %s", esl_error_last());
        return esl__law_add_note(law, note);
    }
    law->time = time;
    return ESL_OK;
}

static int fit_rows(esl_law **out, const rowset *rs, const esl_fit_opts *opts)
{
    static const esl_fit_opts defaults = {ESL_TERM_ALL, ESL_FIT_OLS, NULL, NULL, NULL, 0, 0,
                                          ESL_RESPONSE_ENERGY};
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    int rc = fit_once(out, rs, opts);
    if (rc == ESL_OK && !opts->no_between) {
        /* The hold-out refits estimate two variances, not the coefficients:
         * on a large dataset every k-th row serves as well and keeps a fit of
         * 10^6 rows at a few refits of BETWEEN_MAX_ROWS. */
        const esl_dataset *rows = rs->ds;
        esl_dataset *thin = NULL;
        size_t step = (rs->n + BETWEEN_MAX_ROWS - 1) / BETWEEN_MAX_ROWS;
        if (step > 1) {
            rc = esl_dataset_new(&thin, rs->ds->origin, rs->ds->convention);
            esl_row tmp;
            for (size_t i = 0; i < rs->n && rc == ESL_OK; i += step)
                rc = esl_dataset_append(thin, rs_copy(rs, i, &tmp));
            rows = thin;
        } else {
            rc = rs_dataset(rs, &rows, &thin);
        }
        if (rc == ESL_OK)
            rc = between(*out, rows, opts);
        esl_dataset_free(thin);
    }
    if (rc == ESL_OK && opts->response == ESL_RESPONSE_ENERGY && esl__form(*out)->layer_plan)
        rc = fit_time(*out, rs, opts);
    if (rc != ESL_OK) {
        esl_law_free(*out);
        *out = NULL;
    }
    return rc;
}

int esl_law_fit(esl_law **out, const esl_dataset *ds, const esl_fit_opts *opts)
{
    rowset rs = rs_all(ds);
    esl__law_inputs *in = NULL;
    /* A large dataset of a linear form fits by cells (esl__law_inputs). */
    if (ds->n_rows >= STREAM_MIN_ROWS && (opts == NULL || opts->method != ESL_FIT_ROBUST)) {
        int rc = esl__law_inputs_new(&in, ds, opts);
        if (rc != ESL_OK)
            return rc;
        rs.in = in;
    }
    int rc = fit_rows(out, &rs, opts);
    esl__law_inputs_free(in);
    return rc;
}

int esl__law_fit_rows(esl_law **out, const esl_dataset *ds, const size_t *idx, size_t n,
                      const esl__law_inputs *in, const esl_fit_opts *opts)
{
    rowset rs = {ds, idx, n, in};
    return fit_rows(out, &rs, opts);
}

/* 1 when fit_once's checks pass for the row (the messages are fit_once's). */
static int row_usable(const esl_law *law, int bykind, const esl_row *r)
{
    if (law->response == ESL_RESPONSE_TIME)
        return r->duration_s > 0 && (!r->flops_exact || bykind);
    return (!r->flops_exact || bykind) && (r->present & ESL_ROW_ENERGY) &&
           esl__law_observed(law, r) > 0;
}

typedef struct cell_key {
    double flops;
    int64_t height, width, steps, prompts;
    const char *gpu, *dtype, *model;
} cell_key;

static cell_key key_of(const esl_law *law, const esl_row *r)
{
    return (cell_key){esl__law_flops(law, r), r->height, r->width, r->steps, r->prompts,
                      r->gpu, r->dtype, r->model};
}

static int key_equal(const cell_key *a, const cell_key *b)
{
    return memcmp(&a->flops, &b->flops, sizeof a->flops) == 0 && a->height == b->height &&
           a->width == b->width && a->steps == b->steps && a->prompts == b->prompts &&
           a->gpu == b->gpu && a->dtype == b->dtype && a->model == b->model;
}

static uint64_t key_hash(const cell_key *k)
{
    uint64_t bits, h = 0x9e3779b97f4a7c15u;
    memcpy(&bits, &k->flops, sizeof bits);
    const uint64_t parts[8] = {bits, (uint64_t)k->height, (uint64_t)k->width, (uint64_t)k->steps,
                               (uint64_t)k->prompts, (uint64_t)(uintptr_t)k->gpu,
                               (uint64_t)(uintptr_t)k->dtype, (uint64_t)(uintptr_t)k->model};
    for (size_t i = 0; i < 8; i++) {
        /* splitmix64's finaliser: every input bit reaches every output bit */
        h ^= parts[i];
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
        h ^= h >> 31;
    }
    return h;
}

#define CELL_AHEAD 16 /* rows whose slot and key are fetched ahead */
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Each row's cell: an open-addressing table of the cells' keys that grows
 * with the cells (a large dataset has far fewer cells than rows). Rows come
 * in any order, so each lookup would wait on memory twice (its slot, then
 * its cell's key): the hashes are computed first, into in->cell, and the
 * slots and keys of rows a little ahead are fetched while a row is placed. */
static int assign_cells(esl__law_inputs *in, const esl_law *law, const esl_dataset *ds)
{
    size_t n = ds->n_rows, cap = 1024, cap_keys = 256;
    uint32_t *slots = calloc(cap, sizeof *slots); /* cell + 1, 0 empty */
    cell_key *keys = malloc(cap_keys * sizeof *keys);
    in->cell = malloc((n ? n : 1) * sizeof *in->cell);
    in->n_cells = 0;
    int rc = slots == NULL || keys == NULL || in->cell == NULL || n >= UINT32_MAX
                 ? esl__fail(ESL_ENOMEM, "out of memory")
                 : ESL_OK;
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        cell_key k = key_of(law, &ds->rows[i]);
        in->cell[i] = (uint32_t)key_hash(&k); /* its low 32 bits, replaced by the cell below */
    }
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        if (i + CELL_AHEAD < n)
            PREFETCH(&slots[in->cell[i + CELL_AHEAD] & (cap - 1)]);
        if (i + CELL_AHEAD / 2 < n) {
            uint32_t ahead = slots[in->cell[i + CELL_AHEAD / 2] & (cap - 1)];
            if (ahead != 0)
                PREFETCH(&keys[ahead - 1]);
        }
        cell_key k = key_of(law, &ds->rows[i]);
        size_t at = (size_t)in->cell[i] & (cap - 1);
        while (slots[at] != 0 && !key_equal(&k, &keys[slots[at] - 1]))
            at = (at + 1) & (cap - 1);
        if (slots[at] == 0) { /* a new cell */
            if (in->n_cells == cap_keys) {
                cell_key *grown = realloc(keys, 2 * cap_keys * sizeof *keys);
                if (grown == NULL) {
                    rc = esl__fail(ESL_ENOMEM, "out of memory");
                    break;
                }
                keys = grown;
                cap_keys *= 2;
            }
            keys[in->n_cells] = k;
            slots[at] = (uint32_t)++in->n_cells;
            if (2 * in->n_cells > cap) { /* rehash at half full */
                uint32_t *bigger = calloc(2 * cap, sizeof *bigger);
                if (bigger == NULL) {
                    rc = esl__fail(ESL_ENOMEM, "out of memory");
                    break;
                }
                cap *= 2;
                for (size_t c = 0; c < in->n_cells; c++) {
                    size_t to = (size_t)(uint32_t)key_hash(&keys[c]) & (cap - 1);
                    while (bigger[to] != 0)
                        to = (to + 1) & (cap - 1);
                    bigger[to] = (uint32_t)(c + 1);
                }
                free(slots);
                slots = bigger;
                in->cell[i] = (uint32_t)(in->n_cells - 1);
                continue;
            }
        }
        in->cell[i] = slots[at] - 1;
    }
    free(slots);
    free(keys);
    /* each cell's first row, and its features' logarithms: the expressions
     * linear_features evaluates for a row without inputs */
    size_t m = in->n_cells ? in->n_cells : 1;
    in->cell_row = rc == ESL_OK ? malloc(m * sizeof *in->cell_row) : NULL;
    in->ln_flops = rc == ESL_OK ? malloc(2 * m * sizeof *in->ln_flops) : NULL;
    if (rc == ESL_OK && (in->cell_row == NULL || in->ln_flops == NULL))
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    if (rc == ESL_OK)
        in->ln_res = in->ln_flops + m;
    for (size_t i = n; rc == ESL_OK && i > 0; i--)
        in->cell_row[in->cell[i - 1]] = i - 1;
    for (size_t c = 0; rc == ESL_OK && c < in->n_cells; c++) {
        const esl_row *row = &ds->rows[in->cell_row[c]];
        in->ln_flops[c] = log(esl__law_flops(law, row) / 1e9);
        in->ln_res[c] = esl__ln_res(row);
    }
    return rc;
}

int esl__law_inputs_new(esl__law_inputs **out, const esl_dataset *ds, const esl_fit_opts *opts)
{
    *out = NULL;
    const char *form = opts != NULL && opts->form != NULL ? opts->form : "paper";
    esl_law_form id;
    if (esl_law_form_parse(&id, form) != ESL_OK) {
        esl_error_clear(); /* the fit itself says what is wrong with the form */
        return ESL_OK;
    }
    esl_law law = {.form = esl_law_form_get(id)->name, .form_id = id,
                   .response = opts != NULL ? opts->response : ESL_RESPONSE_ENERGY};
    if (esl__law_nls(&law))
        return ESL_OK; /* the nonlinear forms read the rows themselves */
    size_t n = ds->n_rows;
    esl__law_inputs *in = calloc(1, sizeof *in);
    double *a = malloc((3 * n + 1) * sizeof *a);
    if (in == NULL || a == NULL) {
        free(in);
        free(a);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    esl__advise_huge(a, (3 * n + 1) * sizeof *a);
    *in = (esl__law_inputs){.e = a, .y = a + n, .energy_j = a + 2 * n, .usable = 1};
    int bykind = esl__form(&law)->layer_plan;
    for (size_t i = 0; i < n; i++) {
        const esl_row *row = &ds->rows[i];
        in->e[i] = esl__law_energy(&law, row);
        in->y[i] = esl__ln_kwh(in->e[i]);
        in->energy_j[i] = row->energy_j;
        in->usable = in->usable && row_usable(&law, bykind, row);
    }
    int rc = assign_cells(in, &law, ds);
    if (rc != ESL_OK) {
        esl__law_inputs_free(in);
        return rc;
    }
    *out = in;
    return ESL_OK;
}

int esl__law_fit_packed(esl_law **out, const esl__packed *p, const esl_fit_opts *opts)
{
    *out = NULL;
    size_t n = esl__packed_rows(p);
    const esl_dataset *cells = esl__packed_cells(p);
    const char *form = opts != NULL && opts->form != NULL ? opts->form : "paper";
    esl_law_form id;
    if (n < STREAM_MIN_ROWS || (opts != NULL && opts->method == ESL_FIT_ROBUST) ||
        esl_law_form_parse(&id, form) != ESL_OK) {
        esl_error_clear(); /* esl_law_fit says what is wrong with the form */
        return ESL_OK;
    }
    esl_law law = {.form = esl_law_form_get(id)->name, .form_id = id,
                   .response = opts != NULL ? opts->response : ESL_RESPONSE_ENERGY};
    if (esl__law_nls(&law))
        return ESL_OK;
    size_t m = cells->n_rows ? cells->n_rows : 1;
    esl__law_inputs *in = calloc(1, sizeof *in);
    double *a = malloc((2 * n + 1) * sizeof *a);
    esl__advise_huge(a, (2 * n + 1) * sizeof *a);
    /* per cell: the logarithms of the features; what esl__law_energy
     * subtracts from energy_j and divides it by; a time law's response */
    double *c = malloc(6 * m * sizeof *c);
    size_t *cell_row = malloc(m * sizeof *cell_row);
    int *cell_ok = malloc(m * sizeof *cell_ok);
    if (in == NULL || a == NULL || c == NULL || cell_row == NULL || cell_ok == NULL) {
        free(in);
        free(a);
        free(c);
        free(cell_row);
        free(cell_ok);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    *in = (esl__law_inputs){.e = a, .y = a + n, .energy_j = (double *)esl__packed_energy(p),
                            .cell = (uint32_t *)esl__packed_cell(p), .cell_row = cell_row,
                            .ln_flops = c, .ln_res = c + m, .n_cells = cells->n_rows, .usable = 1,
                            .packed = p};
    double *sub = c + 2 * m, *over = c + 3 * m, *per = c + 4 * m, *fixed = c + 5 * m;
    int bykind = esl__form(&law)->layer_plan, time = law.response == ESL_RESPONSE_TIME;
    int per_image = esl__law_per_image(&law);
    for (size_t g = 0; g < cells->n_rows; g++) {
        const esl_row *row = &cells->rows[g];
        int64_t k = esl__row_gpus(row);
        cell_row[g] = g;
        in->ln_flops[g] = log(esl__law_flops(&law, row) / 1e9);
        in->ln_res[g] = esl__ln_res(row);
        /* esl__law_observed and esl__law_energy, in the same steps */
        sub[g] = esl__row_total(row) ? (double)k * esl__row_idle_w(row) * row->duration_s : 0.0;
        over[g] = esl__gpus_overhead(k);
        per[g] = per_image ? (double)row->prompts : 1.0;
        fixed[g] = time ? esl__law_energy(&law, row) : 0.0;
        cell_ok[g] = time ? row_usable(&law, bykind, row)
                          : (!row->flops_exact || bykind) && (row->present & ESL_ROW_ENERGY);
    }
    const uint32_t *cell = in->cell;
    for (size_t i = 0; i < n && in->usable; i++) {
        uint32_t g = cell[i];
        double e = fixed[g];
        if (!time) {
            double obs = (in->energy_j[i] - sub[g]) / over[g];
            in->usable = obs > 0;
            e = per_image ? obs / per[g] : obs;
        }
        in->usable = in->usable && cell_ok[g];
        in->e[i] = e;
        in->y[i] = esl__ln_kwh(e);
    }
    free(cell_ok);
    int rc = ESL_OK;
    if (in->usable) {
        rowset rs = {cells, NULL, n, in};
        rc = fit_rows(out, &rs, opts);
    }
    esl__law_inputs_free(in);
    return rc;
}

void esl__law_inputs_free(esl__law_inputs *in)
{
    if (in != NULL) {
        free(in->e);
        if (in->packed == NULL)
            free(in->cell);
        free(in->cell_row);
        free(in->ln_flops);
    }
    free(in);
}

int esl_law_builtin(esl_law **out, esl_convention convention, const char *form)
{
    esl_dataset *ds = NULL;
    esl_fit_opts opts = {.form = form ? form : ESL_LAW_DEFAULT_FORM};
    *out = NULL;
    esl_law_form f;
    int rc = esl_law_form_parse(&f, opts.form);
    if (rc != ESL_OK)
        return rc;
    int bykind = esl_law_form_get(f)->layer_plan;
    if (bykind)
        convention = ESL_CONVENTION_EXACT; /* the form prices the layer plan */
    rc = esl_dataset_builtin(&ds, convention);
    /* The by-kind form also learns from ML.ENERGY's runs: a second GPU, batch
     * sweeps, and the durations its time law needs. */
    if (rc == ESL_OK && bykind) {
        esl_dataset *more = NULL;
        rc = esl_dataset_builtin_mlenergy(&more, convention);
        for (size_t i = 0; rc == ESL_OK && i < more->n_rows; i++)
            rc = esl_dataset_append(ds, &more->rows[i]);
        esl_dataset_free(more);
    }
    if (rc == ESL_OK)
        rc = esl_law_fit(out, ds, &opts);
    esl_dataset_free(ds);
    return rc;
}

int esl_law_default(esl_law **out, esl_convention convention)
{
    return esl_law_builtin(out, convention, NULL);
}

int esl_law_feature(const esl_law *law, const char *name)
{
    for (size_t j = 0; j < law->n_features; j++)
        if (strcmp(law->features[j].name, name) == 0)
            return (int)j;
    return -1;
}

static void free_strings(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void esl_law_free(esl_law *law)
{
    if (law == NULL)
        return;
    for (size_t k = 0; k < 2; k++) {
        free(law->factors[k].column);
        free(law->factors[k].baseline);
        free_strings(law->factors[k].levels, law->factors[k].n_levels);
    }
    free_strings(law->dropped, law->n_dropped);
    for (size_t j = 0; j < law->n_features; j++) {
        free(law->features[j].name);
        free(law->features[j].column);
        free(law->features[j].level);
    }
    free(law->features);
    free(law->coef);
    free(law->se);
    free(law->cov);
    free_strings(law->training.models, law->training.n_models);
    free(law->training.model_rows);
    free(law->training.model_sigma2);
    free(law->training.model_bias);
    free_strings(law->kappa_gpus, law->n_kappa);
    free(law->kappa);
    esl_law_free(law->time);
    free(law);
}
