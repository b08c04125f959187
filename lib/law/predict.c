/*
 * predict.c - applying a law: the energy of a configuration with its
 * prediction interval, and the accuracy of a law on measured rows.
 *
 * The interval is the classical one for a new observation of a linear
 * model: ln E-hat +- t(dof) * sqrt(x' C x + sigma^2), with C the coefficient
 * covariance and sigma^2 the residual variance (divided by the prompts N of
 * the row for a paper-form law fitted with prompt weights), taken back to
 * joules. The per-image forms predict ln(E/N) and add ln N; the roofline
 * form, nonlinear, uses the delta method: x is then the gradient of ln E-hat
 * in its log-parameters and C their covariance from the Jacobian.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "core/internal.h"
#include "esl/gpus.h"
#include "esl/law.h"
#include "law/internal.h"

#define MAX_FEATURES 64
#define MIN_MODEL_ROWS 10 /* rows a model needs for a residual variance of its own */
/* Variance of ln E a spec-priced GPU adds when the law cannot measure it:
 * RMSE(ln E) 0.18 of the transfer held out between ML.ENERGY's A100 and H100
 * (docs/law.md), squared. */
#define ESL_TAU2_GPU_PRIOR 0.0324

/*
 * The t quantile of a prediction interval depends only on the level and
 * the law's degrees of freedom; inverting the t distribution costs more
 * than the rest of a prediction, so the last one is kept per thread (a run
 * of predictions asks for the same one every time).
 */
static double t_quantile(double level, int64_t dof)
{
    static _Thread_local struct { double level; int64_t dof; double t; int valid; } memo;
    if (!memo.valid || memo.level != level || memo.dof != dof) {
        memo.t = gsl_cdf_tdist_Pinv(0.5 + level / 2.0, (double)dof);
        memo.level = level;
        memo.dof = dof;
        memo.valid = 1;
    }
    return memo.t;
}

static int unknown_level(const esl_factor *fa, const char *value)
{
    char known[256] = "";
    for (size_t i = 0; i < fa->n_levels; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 fa->levels[i]);
    return esl__fail(ESL_ENOTFOUND, "the law knows no %s '%s' (known: %s)", fa->column, value,
                     known);
}

/* Time and total energy, from the law's time law (NaN without one): total =
 * dynamic + idle power x time, the interval's ends taken together. */
static int predict_time(esl_prediction *out, const esl_law *law, const esl_row *row,
                        const esl_predict_opts *opts)
{
    out->time_s = out->time_lo_s = out->time_hi_s = NAN;
    out->total_j = out->total_lo_j = out->total_hi_j = NAN;
    out->idle_w = NAN;
    if (law->time == NULL)
        return ESL_OK;
    out->idle_w = esl__row_idle_w(row);
    esl_prediction t;
    int rc = esl_law_predict(&t, law->time, row, opts);
    if (rc != ESL_OK)
        return esl__fail_prefix(rc, "time law: ");
    out->time_s = t.energy_j; /* a time law's "energy" is seconds */
    out->time_extrapolated = t.extrapolated;
    out->time_lo_s = t.lo_j;
    out->time_hi_s = t.hi_j;
    if (isfinite(out->idle_w)) {
        /* every GPU of the row draws its idle power for the whole time */
        double idle = out->idle_w * (double)esl__row_gpus(row);
        out->total_j = out->energy_j + idle * out->time_s;
        out->total_lo_j = out->lo_j + idle * out->time_lo_s;
        out->total_hi_j = out->hi_j + idle * out->time_hi_s;
    }
    return ESL_OK;
}

/* The gpu level a row's GPU is, when named another way: "H100" and "NVIDIA
 * H100 80GB HBM3" are the level "H100 SXM5 80GB" (one row of the GPU
 * table); NULL when it is no level of the law. */
static const char *same_gpu_level(const esl_law *law, const char *gpu)
{
    const esl_factor *fa = &law->factors[0];
    esl_gpu_spec want, have;
    for (size_t i = 0; i < fa->n_levels; i++)
        if (strcmp(fa->levels[i], gpu) == 0)
            return NULL; /* already the level's own name */
    if (esl_gpu_find(&want, gpu) != ESL_OK)
        return NULL;
    for (size_t i = 0; i < fa->n_levels; i++)
        if (esl_gpu_find(&have, fa->levels[i]) == ESL_OK && strcmp(have.name, want.name) == 0)
            return fa->levels[i];
    return NULL;
}

int esl_law_predict(esl_prediction *out, const esl_law *law, const esl_row *row,
                    const esl_predict_opts *opts)
{
    const char *as_level = same_gpu_level(law, row->gpu);
    if (as_level != NULL) {
        esl_row named = *row;
        named.gpu = (char *)as_level;
        return esl_law_predict(out, law, &named, opts);
    }
    double x[MAX_FEATURES];
    unsigned unseen;
    size_t p = law->n_features;
    double level = opts && opts->level > 0 ? opts->level : 0.95;

    *out = (esl_prediction){0};
    if (p > MAX_FEATURES)
        return esl__fail(ESL_EINVAL, "the law has %zu features, at most %d are supported", p,
                         MAX_FEATURES);
    if (law->dof < 1)
        return esl__fail(ESL_EINVAL, "the law has no residual degrees of freedom");
    if (!(row->flops_cfg > 0))
        return esl__fail(ESL_EINVAL, "FLOPs_cfg must be positive");
    if (row->flops_exact && law->convention == ESL_CONVENTION_PAPER)
        return esl__fail(ESL_EINVAL, "model '%s' has no paper-convention terms: a %s-form law in "
                         "the paper convention cannot predict it", row->model, law->form);
    esl__law_features(law, row, x, &unseen);
    /* The by-kind form carries the law to a GPU it was not trained on from
     * the GPU table, and prices a precision by its class (bf16 as fp16). */
    int bykind = esl__form(law)->layer_plan;
    if (bykind && (unseen & 1u)) {
        out->extrapolated |= ESL_EXTRAP_GPU; /* priced in kinds.c from the GPU table */
        unseen &= ~1u;
    }
    if (unseen && !bykind && !(opts && opts->unseen_as_baseline))
        return unknown_level(&law->factors[unseen & 1u ? 0 : 1],
                             unseen & 1u ? row->gpu : row->dtype);
    if (unseen)
        out->extrapolated |= ESL_EXTRAP_LEVEL;

    double ln = 0, var_fit = 0;
    if (esl__law_nls(law)) {
        /* Delta method: x is the gradient of ln E-hat in the log-parameters. */
        int rc = esl__roofline_eval(law, row, &ln, x);
        if (rc != ESL_OK)
            return rc;
    } else {
        for (size_t j = 0; j < p; j++)
            ln += law->coef[j] * x[j];
    }
    for (size_t j = 0; j < p; j++)
        for (size_t k = 0; k < p; k++)
            var_fit += x[j] * law->cov[j * p + k] * x[k];
    /* The per-image forms predict one image; N images cost N times as much,
     * and the interval scales with it (so N = 1 and N = 100 / 100 agree). */
    if (esl__law_per_image(law))
        ln += log((double)row->prompts);
    /* K GPUs together: the derived model of esl__law_observed, forwards. */
    int64_t gpus = esl__row_gpus(row);
    if (gpus > 1) {
        ln += log(esl__gpus_overhead(gpus)) -
              (law->response == ESL_RESPONSE_TIME ? log((double)gpus) : 0.0);
        out->extrapolated |= ESL_EXTRAP_GPUS;
    }
    /* The noise of a new ln E: a trained model's own residual variance where
     * its rows support one (MIN_MODEL_ROWS), else the pooled one; a model the
     * law has not seen adds the between-model variance. */
    int k = esl__law_model_index(law, row->model);
    const esl_law_training *tr = &law->training;
    double within = k >= 0 && tr->model_sigma2 != NULL && tr->model_rows[k] >= MIN_MODEL_ROWS
                        ? tr->model_sigma2[k]
                        : law->sigma2;
    double noise = law->method == ESL_FIT_WEIGHTED && !esl__law_per_image(law)
                       ? within / (double)row->prompts
                       : within;
    if (k < 0)
        noise += law->tau2;
    /* A GPU priced from its specifications: the error measured when each
     * training GPU was held out, or, for a law trained on one GPU, the error
     * of that transfer held out on the GPUs esl has data for (docs/law.md). */
    if (out->extrapolated & ESL_EXTRAP_GPU)
        noise += law->tau2_gpus > 0 ? law->tau2_gpu : ESL_TAU2_GPU_PRIOR;
    double var_pred = fmax(0.0, var_fit) + noise;
    double t = t_quantile(level, law->dof);
    out->ln_kwh = ln;
    out->se_fit = sqrt(fmax(0.0, var_fit));
    out->se_pred = sqrt(var_pred);
    out->energy_j = exp(ln) * 3.6e6; /* kWh back to joules */
    out->lo_j = exp(ln - t * out->se_pred) * 3.6e6;
    out->hi_j = exp(ln + t * out->se_pred) * 3.6e6;
    if (!isfinite(out->energy_j) || !isfinite(out->lo_j) || !isfinite(out->hi_j) ||
        out->energy_j <= 0)
        return esl__fail(ESL_ERANGE, "the predicted energy is out of range (ln E = %g kWh)", ln);

    double px = (double)row->height * (double)row->width, st = (double)row->steps;
    double flops = esl__law_flops(law, row);
    if (flops < tr->flops_min || flops > tr->flops_max)
        out->extrapolated |= ESL_EXTRAP_FLOPS;
    if (px < tr->pixels_min || px > tr->pixels_max)
        out->extrapolated |= ESL_EXTRAP_RES;
    if (st < tr->steps_min || st > tr->steps_max)
        out->extrapolated |= ESL_EXTRAP_STEPS;
    if (k < 0)
        out->extrapolated |= ESL_EXTRAP_MODEL;
    return predict_time(out, law, row, opts);
}

/* Spearman's rho from GSL's definition (gsl_stats_spearman: ranks from 1,
 * ties given the mean of their positions, then the Pearson correlation of
 * the ranks), with the ranks found by qsort rather than GSL's heap sort:
 * the same ranks, a correlation summed in another order. Scores of many
 * rows (SPEARMAN_QSORT_ROWS and more) use it; smaller ones keep GSL's,
 * bit for bit. */
#define SPEARMAN_QSORT_ROWS 10000

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return (x > y) - (x < y);
}

/* rank[i] of v[i] among v[0..n), as GSL's compute_rank gives it. */
static void ranks_of(double *rank, const double *v, size_t n, ranked *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (ranked){v[i], i};
    qsort(tmp, n, sizeof *tmp, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && tmp[j].v == tmp[i].v)
            j++;
        double r = (double)i + 1.0;
        if (j - i > 1) { /* a tie: the mean of positions i+1..j, summed as GSL does */
            r = 0.0;
            for (size_t k = i; k < j; k++)
                r += (double)k + 1.0;
            r /= (double)(j - i);
        }
        for (size_t k = i; k < j; k++)
            rank[tmp[k].i] = r;
        i = j;
    }
}

static double spearman(const double *a, const double *b, size_t n, double *work)
{
    if (n < SPEARMAN_QSORT_ROWS)
        return gsl_stats_spearman(a, 1, b, 1, n, work);
    ranked *tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL)
        return gsl_stats_spearman(a, 1, b, 1, n, work);
    ranks_of(work, a, n, tmp);
    ranks_of(work + n, b, n, tmp);
    free(tmp);
    return gsl_stats_correlation(work, 1, work + n, 1, n);
}

int esl_law_score(esl_score *out, const esl_law *law, const esl_dataset *ds)
{
    return esl__law_score_rows(out, law, ds, NULL, ds->n_rows);
}

int esl__law_score_rows(esl_score *out, const esl_law *law, const esl_dataset *ds,
                        const size_t *idx, size_t n)
{
    *out = (esl_score){.n = n};
    double *meas = malloc((n ? n : 1) * sizeof *meas);
    double *pred = malloc((n ? n : 1) * sizeof *pred);
    double *work = malloc((n ? 2 * n : 1) * sizeof *work);
    int rc = ESL_OK;
    if (meas == NULL || pred == NULL || work == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto done;
    }
    esl_predict_opts po = {.level = 0.95, .unseen_as_baseline = 1};
    double mean_ln = 0, mean_j = 0;
    size_t inside = 0;
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        const esl_row *row = &ds->rows[idx != NULL ? idx[i] : i];
        esl_prediction p;
        if ((rc = esl_law_predict(&p, law, row, &po)) != ESL_OK)
            break;
        /* what the law predicts: dynamic energy (a total row less its idle
         * power over its duration), or the duration for a time law */
        double y = esl__law_observed(law, row);
        if (!(y > 0)) {
            rc = esl__fail(ESL_EINVAL, "%s:%lld: total energy %g J less idle power %g W over %g s "
                           "leaves no dynamic energy (check idle_w and duration_s)", ds->origin,
                           (long long)row->line, row->energy_j, esl__row_idle_w(row),
                           row->duration_s);
            break;
        }
        inside += y >= p.lo_j && y <= p.hi_j;
        out->extrapolated |= p.extrapolated;
        meas[i] = y;
        pred[i] = p.energy_j;
        mean_ln += log(meas[i]) / (double)n;
        mean_j += meas[i] / (double)n;
    }
    if (rc != ESL_OK)
        goto done;
    double ss_res = 0, ss_tot = 0, ss_res_j = 0, ss_tot_j = 0, ae = 0, ape = 0;
    for (size_t i = 0; i < n; i++) {
        double dl = log(meas[i]) - log(pred[i]), dj = meas[i] - pred[i];
        ss_res += dl * dl;
        ss_tot += (log(meas[i]) - mean_ln) * (log(meas[i]) - mean_ln);
        ss_res_j += dj * dj;
        ss_tot_j += (meas[i] - mean_j) * (meas[i] - mean_j);
        ae += fabs(dj);
        ape += fabs(dj) / meas[i];
    }
    out->r2_log = out->r2_lin = out->mae_j = out->mape_pct = out->rmse_log = NAN;
    out->pearson = out->spearman = out->coverage_pct = NAN;
    if (n > 0) {
        out->coverage_pct = 100.0 * (double)inside / (double)n;
        out->mae_j = ae / (double)n;
        out->mape_pct = 100.0 * ape / (double)n;
        out->rmse_log = sqrt(ss_res / (double)n);
    }
    if (n >= 2 && ss_tot > 0)
        out->r2_log = 1.0 - ss_res / ss_tot;
    if (n >= 2 && ss_tot_j > 0)
        out->r2_lin = 1.0 - ss_res_j / ss_tot_j;
    if (n >= 2) {
        double r = gsl_stats_correlation(meas, 1, pred, 1, n);
        double s = spearman(meas, pred, n, work);
        out->pearson = isfinite(r) ? r : NAN;
        out->spearman = isfinite(s) ? s : NAN;
    }
done:
    free(meas);
    free(pred);
    free(work);
    return rc;
}

const char *esl_extrap_name(unsigned bit)
{
    static const char *const names[] = {"flops", "res", "steps", "model", "level", "gpu", "gpus"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}
