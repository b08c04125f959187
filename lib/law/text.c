/*
 * text.c - a fitted law as text for a person (esl_law_write_text): its form
 * and fit, the data it was trained on, each term's coefficient and standard
 * error, the goodness of fit, the variances a prediction's interval adds and
 * the time law beside it; or its coefficients as CSV. `esl fit` and
 * `esl calibrate` print a law this way; the law file (json.c) is for programs.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "esl/law.h"

static void write_list(FILE *out, const char *label, char *const *list, size_t n,
                       const char *baseline)
{
    fprintf(out, "  %-8s", label);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s%s", i ? ", " : "", list[i],
                baseline && strcmp(list[i], baseline) == 0 ? " (baseline)" : "");
    fprintf(out, "%s\n", n == 0 ? "(term off)" : "");
}

/* What the law knows of its training data and how well it fits them. */
static void write_training(FILE *out, const esl_law *law)
{
    const esl_law_training *t = &law->training;
    const esl_law_form_info *form = esl_law_form_get(law->form_id);
    fprintf(out, "law: %s form (%s), %s fit, FLOPs in the %s convention\n", form->name, form->note,
            form->nonlinear ? "log-space nonlinear" : esl_fit_method_name(law->method),
            esl_convention_name(law->convention));
    fprintf(out, "trained on %zu rows\n", t->n_rows);
    write_list(out, "models", t->models, t->n_models, NULL);
    write_list(out, "gpu", law->factors[0].levels, law->factors[0].n_levels,
               law->factors[0].baseline);
    write_list(out, "dtype", law->factors[1].levels, law->factors[1].n_levels,
               law->factors[1].baseline);
    fprintf(out, "  %-8s%.4g .. %.4g FLOPs_cfg, %.0f .. %.0f pixels, %.0f .. %.0f steps\n",
            "ranges", t->flops_min, t->flops_max, t->pixels_min, t->pixels_max, t->steps_min,
            t->steps_max);
    for (size_t i = 0; i < law->n_dropped; i++)
        fprintf(out, "dropped: %s\n", law->dropped[i]);
    fprintf(out, "\n%-16s %12s %12s\n", "term", "coef", "std err");
    for (size_t j = 0; j < law->n_features; j++)
        fprintf(out, "%-16s %12.4f %12.4f\n", law->features[j].name, law->coef[j], law->se[j]);
    const esl_law_metrics *m = &law->metrics;
    fprintf(out, "\nR2(ln E) %.4f (adjusted %.4f), RMSE(ln E) %.4f, R2(J) %.4f, MAPE %.2f%%\n",
            m->r2_log, m->r2_adj_log, m->rmse_log, m->r2_lin, m->mape_pct);
    fprintf(out, "residual variance %.4g on %lld degrees of freedom\n", law->sigma2,
            (long long)law->dof);
}

/* The variances that widen a prediction's interval, and the time law. */
static void write_variances(FILE *out, const esl_law *law)
{
    const esl_law_training *t = &law->training;
    if (t->model_rows != NULL && t->n_models > 1) {
        fprintf(out, "per model (residual variance; held-out bias of ln E):");
        for (size_t k = 0; k < t->n_models; k++) {
            fprintf(out, "%s %s %.3g", k ? "," : "", t->models[k], t->model_sigma2[k]);
            if (isfinite(t->model_bias[k]))
                fprintf(out, "; %+.3f", t->model_bias[k]);
        }
        fputc('\n', out);
    }
    if (law->tau2_models > 0)
        fprintf(out, "between-model variance %.4g (%zu models held out in turn): added to the "
                "interval of a model the law was not trained on\n", law->tau2, law->tau2_models);
    if (law->tau2_gpus > 0)
        fprintf(out, "between-GPU variance %.4g (%zu GPUs held out in turn, priced from the GPU "
                "table): added to the interval of a GPU the law was not trained on\n",
                law->tau2_gpu, law->tau2_gpus);
    for (size_t k = 0; k < law->n_kappa; k++)
        fprintf(out, "kappa %s %.4g (fp16 peak / fp32-convolution peak, data/gpu_peaks.csv)\n",
                law->kappa_gpus[k], law->kappa[k]);
    const esl_law *tl = law->time;
    if (tl != NULL) {
        fprintf(out, "\ntime law (seconds per image, the same form) on the %zu rows with a "
                "duration:\n", tl->training.n_rows);
        for (size_t j = 0; j < tl->n_features; j++)
            fprintf(out, "%-24s %12.4f %12.4f\n", tl->features[j].name, tl->coef[j], tl->se[j]);
        fprintf(out, "R2(ln t) %.4f, RMSE(ln t) %.4f, MAPE %.2f%%; between-model variance %.4g, "
                "between-GPU variance %.4g\n", tl->metrics.r2_log, tl->metrics.rmse_log,
                tl->metrics.mape_pct, tl->tau2, tl->tau2_gpu);
    }
}

int esl_law_write_text(FILE *out, const esl_law *law, int csv)
{
    if (out == NULL || law == NULL)
        return esl__fail(ESL_EINVAL, "law text: no stream or law given");
    if (csv) {
        fprintf(out, "term,coef,se\n");
        for (size_t j = 0; j < law->n_features; j++)
            fprintf(out, "%s,%.17g,%.17g\n", law->features[j].name, law->coef[j], law->se[j]);
        return ESL_OK;
    }
    write_training(out, law);
    write_variances(out, law);
    return ESL_OK;
}
