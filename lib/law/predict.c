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
#include "esl/law.h"
#include "law/internal.h"

#define MAX_FEATURES 64

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

int esl_law_predict(esl_prediction *out, const esl_law *law, const esl_row *row,
                    const esl_predict_opts *opts)
{
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
    esl__law_features(law, row, x, &unseen);
    if (unseen && !(opts && opts->unseen_as_baseline))
        return unknown_level(&law->factors[unseen & 1u ? 0 : 1],
                             unseen & 1u ? row->gpu : row->dtype);
    if (unseen)
        out->extrapolated |= ESL_EXTRAP_LEVEL;

    double ln = 0, var_fit = 0;
    if (strcmp(law->form, "roofline") == 0) {
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
    double noise = law->method == ESL_FIT_WEIGHTED && !esl__law_per_image(law)
                       ? law->sigma2 / (double)row->prompts
                       : law->sigma2;
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

    const esl_law_training *tr = &law->training;
    double px = (double)row->height * (double)row->width, st = (double)row->steps;
    double flops = esl__law_flops(law, row);
    if (flops < tr->flops_min || flops > tr->flops_max)
        out->extrapolated |= ESL_EXTRAP_FLOPS;
    if (px < tr->pixels_min || px > tr->pixels_max)
        out->extrapolated |= ESL_EXTRAP_RES;
    if (st < tr->steps_min || st > tr->steps_max)
        out->extrapolated |= ESL_EXTRAP_STEPS;
    int known = 0;
    for (size_t i = 0; i < tr->n_models && !known; i++)
        known = strcmp(tr->models[i], row->model) == 0;
    if (!known)
        out->extrapolated |= ESL_EXTRAP_MODEL;
    return ESL_OK;
}

int esl_law_score(esl_score *out, const esl_law *law, const esl_dataset *ds)
{
    size_t n = ds->n_rows;
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
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        esl_prediction p;
        if ((rc = esl_law_predict(&p, law, &ds->rows[i], &po)) != ESL_OK)
            break;
        out->extrapolated |= p.extrapolated;
        meas[i] = ds->rows[i].energy_j;
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
    out->pearson = out->spearman = NAN;
    if (n > 0) {
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
        double s = gsl_stats_spearman(meas, 1, pred, 1, n, work);
        out->pearson = isfinite(r) ? r : NAN;
        out->spearman = isfinite(s) ? s : NAN;
    }
done:
    free(meas);
    free(pred);
    free(work);
    return rc;
}
