/*
 * validate_doc.c - a validation (validate.c) as documents: the mean of its
 * folds' scores, the JSON document and the table or CSV of its folds, and
 * several forms validated on one split and set side by side, each with its
 * in-sample fit. `esl validate` prints these; another program gets the same
 * numbers and the same text.
 */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/json.h"
#include "esl/law.h"

/* A metric for a table or CSV: "-" when undefined, never NaN. */
static const char *num(char *buf, size_t size, const char *fmt, double x)
{
    if (!isfinite(x))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, fmt, x);
    return buf;
}

void esl_validation_summary(esl_score *out, const esl_validation *v)
{
    double *dst[] = {&out->r2_log, &out->r2_lin, &out->mae_j, &out->mape_pct, &out->rmse_log,
                     &out->pearson, &out->spearman};
    *out = (esl_score){0};
    for (size_t m = 0; m < 7; m++) {
        double sum = 0;
        size_t n = 0;
        for (size_t i = 0; i < v->n_folds; i++) {
            const esl_score *s = &v->folds[i].score;
            const double *src[] = {&s->r2_log, &s->r2_lin, &s->mae_j, &s->mape_pct,
                                   &s->rmse_log, &s->pearson, &s->spearman};
            if (isfinite(*src[m]))
                sum += *src[m], n++;
        }
        *dst[m] = n ? sum / (double)n : NAN;
    }
    /* Coverage pools the rows: the share of all held-out rows inside their
     * 95% interval. */
    double inside = 0;
    for (size_t i = 0; i < v->n_folds; i++) {
        out->n += v->folds[i].n_test;
        if (isfinite(v->folds[i].score.coverage_pct))
            inside += v->folds[i].score.coverage_pct / 100.0 * (double)v->folds[i].n_test;
    }
    out->coverage_pct = out->n ? 100.0 * inside / (double)out->n : NAN;
}

static json_t *score_json(const esl_score *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "r2_log", esl__json_real(s->r2_log));
    json_object_set_new(o, "r2_lin", esl__json_real(s->r2_lin));
    json_object_set_new(o, "mae_j", esl__json_real(s->mae_j));
    json_object_set_new(o, "mape_pct", esl__json_real(s->mape_pct));
    json_object_set_new(o, "rmse_log", esl__json_real(s->rmse_log));
    json_object_set_new(o, "pearson", esl__json_real(s->pearson));
    json_object_set_new(o, "spearman", esl__json_real(s->spearman));
    json_object_set_new(o, "coverage_pct", esl__json_real(s->coverage_pct));
    return o;
}

static json_t *validation_doc(const esl_validation *v, const esl_score *mean)
{
    json_t *doc = json_object(), *folds = json_array();
    json_object_set_new(doc, "split", json_string(v->split));
    for (size_t i = 0; i < v->n_folds; i++) {
        const esl_fold *f = &v->folds[i];
        json_t *o = json_object();
        json_object_set_new(o, "form", json_string(f->law->form));
        json_object_set_new(o, "train", json_string(f->train));
        json_object_set_new(o, "test", json_string(f->test));
        json_object_set_new(o, "n_train", json_integer((json_int_t)f->n_train));
        json_object_set_new(o, "n_test", json_integer((json_int_t)f->n_test));
        json_t *score = score_json(&f->score);
        json_object_update(o, score);
        json_decref(score);
        json_t *coefs = json_object();
        for (size_t j = 0; j < f->law->n_features; j++)
            json_object_set_new(coefs, f->law->features[j].name, json_real(f->law->coef[j]));
        json_object_set_new(o, "coefficients", coefs);
        json_object_set_new(o, "unseen_level_as_baseline",
                            json_boolean(f->score.extrapolated & ESL_EXTRAP_LEVEL));
        json_array_append_new(folds, o);
    }
    json_object_set_new(doc, "folds", folds);
    json_t *s = score_json(mean);
    json_object_set_new(s, "folds", json_integer((json_int_t)v->n_folds));
    json_object_set_new(s, "n_test", json_integer((json_int_t)mean->n));
    json_object_set_new(doc, "summary", s);
    return doc;
}

/* The document's text, the document released. */
static int text_of(char **out, json_t *doc)
{
    *out = NULL;
    if (doc == NULL)
        return esl__fail(ESL_ENOMEM, "validation document: out of memory");
    int rc = esl_json_text(out, doc);
    json_decref(doc);
    return rc;
}

int esl_validation_json(char **out, const esl_validation *v)
{
    esl_score mean;
    esl_validation_summary(&mean, v);
    return text_of(out, validation_doc(v, &mean));
}

int esl_validation_write(FILE *out, const esl_validation *v, int csv)
{
    if (out == NULL || v == NULL)
        return esl__fail(ESL_EINVAL, "validation table: no stream or validation given");
    esl_score mean;
    esl_validation_summary(&mean, v);
    char b[8][32];
    if (csv)
        fprintf(out, "test,train,n_train,n_test,r2_log,r2_lin,mae_j,mape_pct,rmse_log,pearson,"
                "spearman,coverage_pct\n");
    else
        fprintf(out, "%-16s %7s %6s %8s %8s %11s %9s %8s %8s %8s %8s\n", "held out", "n_train",
                "n_test", "R2(ln)", "R2(J)", "MAE_J", "MAPE_%", "RMSE_ln", "pearson", "spearman",
                "cover_%");
    /* CSV holds the folds only; the table ends with their mean. */
    for (size_t i = 0; i < v->n_folds + !csv; i++) {
        const esl_fold *f = i < v->n_folds ? &v->folds[i] : NULL;
        const esl_score *s = f ? &f->score : &mean;
        const char *fmt_g = csv ? "%.17g" : "%.4f";
        num(b[0], 32, fmt_g, s->r2_log);
        num(b[1], 32, fmt_g, s->r2_lin);
        num(b[2], 32, csv ? "%.17g" : "%.4g", s->mae_j);
        num(b[3], 32, csv ? "%.17g" : "%.2f", s->mape_pct);
        num(b[4], 32, fmt_g, s->rmse_log);
        num(b[5], 32, fmt_g, s->pearson);
        num(b[6], 32, fmt_g, s->spearman);
        num(b[7], 32, csv ? "%.17g" : "%.1f", s->coverage_pct);
        if (f == NULL)
            fprintf(out, "%-16s %7s %6zu %8s %8s %11s %9s %8s %8s %8s %8s\n", "mean", "", mean.n,
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
        else if (csv)
            fprintf(out, "%s,\"%s\",%zu,%zu,%s,%s,%s,%s,%s,%s,%s,%s\n", f->test, f->train,
                    f->n_train, f->n_test, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
        else
            fprintf(out, "%-16s %7zu %6zu %8s %8s %11s %9s %8s %8s %8s %8s%s\n", f->test,
                    f->n_train, f->n_test, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                    s->extrapolated & ESL_EXTRAP_LEVEL ? "  *" : "");
    }
    for (size_t i = 0; !csv && i < v->n_folds; i++)
        if (v->folds[i].score.extrapolated & ESL_EXTRAP_LEVEL) {
            fprintf(out, "\n* held-out rows with a gpu or dtype level the training rows lack "
                    "were predicted at the baseline level\n");
            break;
        }
    return ESL_OK;
}

int esl_validate_forms(esl_form_validation *out, const esl_dataset *ds, const char *split,
                       unsigned long seed, const esl_fit_opts *opts, const char *const *forms,
                       size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = (esl_form_validation){.form = forms[k]};
    int status = ESL_OK;
    for (size_t k = 0; k < n && status == ESL_OK; k++) {
        esl_fit_opts fit = opts != NULL ? *opts : (esl_fit_opts){0};
        fit.form = forms[k];
        status = esl_validate(&out[k].v, ds, split, seed, &fit);
        if (status != ESL_OK) {
            esl__fail_prefix(status, "form %s: ", forms[k]);
            break;
        }
        esl_validation_summary(&out[k].mean, out[k].v);
        esl_law *law = NULL;
        if ((status = esl_law_fit(&law, ds, &fit)) == ESL_OK)
            status = esl_law_score(&out[k].in_sample, law, ds);
        esl_law_free(law);
        if (status != ESL_OK)
            esl__fail_prefix(status, "form %s: in-sample: ", forms[k]);
    }
    if (status != ESL_OK)
        esl_form_validations_free(out, n);
    return status;
}

void esl_form_validations_free(esl_form_validation *res, size_t n)
{
    for (size_t k = 0; res != NULL && k < n; k++) {
        esl_validation_free(res[k].v);
        res[k].v = NULL;
    }
}

int esl_form_validations_json(char **out, const esl_form_validation *res, size_t n)
{
    *out = NULL;
    if (res == NULL || n == 0)
        return esl__fail(ESL_EINVAL, "validation document: no forms given");
    json_t *doc = json_object(), *forms = json_array();
    json_object_set_new(doc, "split", json_string(res[0].v->split));
    for (size_t k = 0; k < n; k++) {
        json_t *o = validation_doc(res[k].v, &res[k].mean);
        json_object_del(o, "split");
        json_t *form = json_object();
        json_object_set_new(form, "form", json_string(res[k].form));
        json_object_update(form, o);
        json_decref(o);
        json_t *in = score_json(&res[k].in_sample);
        json_object_set_new(in, "n", json_integer((json_int_t)res[k].in_sample.n));
        json_object_set_new(form, "in_sample", in);
        json_array_append_new(forms, form);
    }
    json_object_set_new(doc, "forms", forms);
    return text_of(out, doc);
}

/* Every metric of every fold and of the in-sample fit, one CSV row each. */
static void write_forms_csv(FILE *out, const esl_form_validation *res, size_t n)
{
    char b[32];
    fprintf(out, "form,test,train,n_train,n_test,r2_log,r2_lin,mae_j,mape_pct,rmse_log,pearson,"
            "spearman,coverage_pct\n");
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i <= res[k].v->n_folds; i++) {
            const esl_fold *f = i < res[k].v->n_folds ? &res[k].v->folds[i] : NULL;
            const esl_score *s = f ? &f->score : &res[k].in_sample;
            double x[8] = {s->r2_log, s->r2_lin, s->mae_j, s->mape_pct, s->rmse_log,
                           s->pearson, s->spearman, s->coverage_pct};
            fprintf(out, "%s,%s,\"%s\",%zu,%zu", res[k].form, f ? f->test : "in-sample",
                    f ? f->train : "all", f ? f->n_train : s->n, f ? f->n_test : s->n);
            for (size_t m = 0; m < 8; m++)
                fprintf(out, ",%s", num(b, 32, "%.17g", x[m]));
            fputc('\n', out);
        }
}

int esl_form_validations_write(FILE *out, const esl_form_validation *res, size_t n, int csv)
{
    if (out == NULL || res == NULL || n == 0)
        return esl__fail(ESL_EINVAL, "validation table: no stream or forms given");
    if (csv) {
        write_forms_csv(out, res, n);
        return ESL_OK;
    }
    /* MAPE, R2 of ln E, Spearman and coverage per held-out fold. */
    char b[4][32];
    const esl_validation *v0 = res[0].v;
    fprintf(out, "%-16s", "");
    for (size_t k = 0; k < n; k++)
        fprintf(out, " | %-35s", res[k].form);
    fprintf(out, "\n%-16s", "held out");
    for (size_t k = 0; k < n; k++)
        fprintf(out, " | %8s %8s %8s %8s", "MAPE_%", "R2(ln)", "spearman", "cover_%");
    fputc('\n', out);
    for (size_t i = 0; i <= v0->n_folds + 1; i++) {
        const char *label = i < v0->n_folds ? v0->folds[i].test
                            : i == v0->n_folds ? "mean" : "in-sample";
        fprintf(out, "%-16s", label);
        for (size_t k = 0; k < n; k++) {
            const esl_score *s = i < v0->n_folds ? &res[k].v->folds[i].score
                                 : i == v0->n_folds ? &res[k].mean : &res[k].in_sample;
            fprintf(out, " | %8s %8s %8s %8s", num(b[0], 32, "%.2f", s->mape_pct),
                    num(b[1], 32, "%.4f", s->r2_log), num(b[2], 32, "%.4f", s->spearman),
                    num(b[3], 32, "%.1f", s->coverage_pct));
        }
        fputc('\n', out);
    }
    return ESL_OK;
}
