/*
 * cmd_validate.c - `esl validate`: fit on some rows, score on the others
 * (paper section 4.2): k-fold, leave one model or GPU out, or a named split.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "law_cli.h"

enum { OPT_SPLIT = 's', OPT_FORMAT = 'f', OPT_SEED = 256, OPT_FORMS };

static const cli_option options[] = {
    CLI_GROUP("data"),
    {"split", OPT_SPLIT, "S", "kfold:K, leave-out:model, leave-out:gpu, batch-above:B or train=A,B:test=C"},
    {"forms", OPT_FORMS, "F,..", "forms to compare: paper (default), per-image, roofline, by-kind"},
    {"seed", OPT_SEED, "N", "seed of the k-fold shuffle (default 1)"},
    CLI_GROUP("fit"),
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

#define MAX_FORMS 4

typedef struct args {
    law_cli_opts law;
    const char *forms[MAX_FORMS];
    size_t n_forms;
    const char *split;
    int64_t seed;
    cli_format format;
} args;

/* --forms paper,per-image,roofline: each known (the form table), none twice. */
static int parse_forms(args *a, const char *arg)
{
    char list[128];
    snprintf(list, sizeof list, "%s", arg);
    a->n_forms = 0;
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        esl_law_form f;
        if (esl_law_form_parse(&f, name) != ESL_OK) {
            cli_error("option --forms: %s", esl_error_last());
            return EXIT_USAGE;
        }
        const char *known = esl_law_form_get(f)->name;
        for (size_t i = 0; i < a->n_forms; i++)
            if (a->forms[i] == known) {
                cli_error("option --forms: form '%s' appears twice", known);
                return EXIT_USAGE;
            }
        if (a->n_forms == MAX_FORMS)
            break;
        a->forms[a->n_forms++] = known;
    }
    if (a->n_forms == 0) {
        cli_error("option --forms: no form given (forms: %s)", esl_law_forms());
        return EXIT_USAGE;
    }
    return 0;
}

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_SPLIT: a->split = arg; return 0;
    case OPT_SEED: return cli_int("seed", arg, 0, INT64_C(4294967295), &a->seed);
    case OPT_FORMS: return parse_forms(a, arg);
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return law_cli_option(&a->law, key, arg);
}

/* A metric for a table or CSV: "-" when undefined, never NaN. */
static const char *num(char *buf, size_t size, const char *fmt, double x)
{
    if (!isfinite(x))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, fmt, x);
    return buf;
}

static json_t *score_json(const esl_score *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "r2_log", emit_real(s->r2_log));
    json_object_set_new(o, "r2_lin", emit_real(s->r2_lin));
    json_object_set_new(o, "mae_j", emit_real(s->mae_j));
    json_object_set_new(o, "mape_pct", emit_real(s->mape_pct));
    json_object_set_new(o, "rmse_log", emit_real(s->rmse_log));
    json_object_set_new(o, "pearson", emit_real(s->pearson));
    json_object_set_new(o, "spearman", emit_real(s->spearman));
    json_object_set_new(o, "coverage_pct", emit_real(s->coverage_pct));
    return o;
}

/* Mean of each metric over the folds that define it. */
static void summary(const esl_validation *v, esl_score *out)
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

static json_t *validation_json(const esl_validation *v, const esl_score *mean)
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

static void print_rows(const esl_validation *v, const esl_score *mean, cli_format fmt)
{
    char b[8][32];
    if (fmt == FORMAT_CSV)
        printf("test,train,n_train,n_test,r2_log,r2_lin,mae_j,mape_pct,rmse_log,pearson,spearman,"
               "coverage_pct\n");
    else
        printf("%-16s %7s %6s %8s %8s %11s %9s %8s %8s %8s %8s\n", "held out", "n_train", "n_test",
               "R2(ln)", "R2(J)", "MAE_J", "MAPE_%", "RMSE_ln", "pearson", "spearman", "cover_%");
    for (size_t i = 0; i <= v->n_folds; i++) {
        const esl_score *s = i < v->n_folds ? &v->folds[i].score : mean;
        const char *fmt_g = fmt == FORMAT_CSV ? "%.17g" : "%.4f";
        num(b[0], 32, fmt_g, s->r2_log);
        num(b[1], 32, fmt_g, s->r2_lin);
        num(b[2], 32, fmt == FORMAT_CSV ? "%.17g" : "%.4g", s->mae_j);
        num(b[3], 32, fmt == FORMAT_CSV ? "%.17g" : "%.2f", s->mape_pct);
        num(b[4], 32, fmt_g, s->rmse_log);
        num(b[5], 32, fmt_g, s->pearson);
        num(b[6], 32, fmt_g, s->spearman);
        num(b[7], 32, fmt == FORMAT_CSV ? "%.17g" : "%.1f", s->coverage_pct);
        if (i == v->n_folds && fmt == FORMAT_CSV)
            break; /* CSV holds the folds only */
        if (i == v->n_folds)
            printf("%-16s %7s %6zu %8s %8s %11s %9s %8s %8s %8s %8s\n", "mean", "", mean->n, b[0],
                   b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
        else if (fmt == FORMAT_CSV)
            printf("%s,\"%s\",%zu,%zu,%s,%s,%s,%s,%s,%s,%s,%s\n", v->folds[i].test,
                   v->folds[i].train, v->folds[i].n_train, v->folds[i].n_test, b[0], b[1], b[2],
                   b[3], b[4], b[5], b[6], b[7]);
        else
            printf("%-16s %7zu %6zu %8s %8s %11s %9s %8s %8s %8s %8s%s\n", v->folds[i].test,
                   v->folds[i].n_train, v->folds[i].n_test, b[0], b[1], b[2], b[3], b[4], b[5],
                   b[6], b[7], s->extrapolated & ESL_EXTRAP_LEVEL ? "  *" : "");
    }
    if (fmt == FORMAT_TABLE)
        for (size_t i = 0; i < v->n_folds; i++)
            if (v->folds[i].score.extrapolated & ESL_EXTRAP_LEVEL) {
                printf("\n* held-out rows with a gpu or dtype level the training rows lack were "
                       "predicted at the baseline level\n");
                break;
            }
}

/* One form validated on the split, and fitted on every row (in-sample). */
typedef struct result {
    const char *form;
    esl_validation *v;
    esl_score mean;
    esl_score in_sample; /* the law fitted on all rows, scored on them */
} result;

static int run_form(result *r, const esl_dataset *ds, const args *a, const char *form)
{
    esl_fit_opts fit = a->law.fit;
    fit.form = form;
    r->form = form;
    int status = esl_validate(&r->v, ds, a->split, (unsigned long)a->seed, &fit);
    if (status != ESL_OK)
        return cli_error("form %s: %s", form, esl_error_last()), cli_exit_code(status);
    summary(r->v, &r->mean);
    esl_law *law = NULL;
    if ((status = esl_law_fit(&law, ds, &fit)) == ESL_OK)
        status = esl_law_score(&r->in_sample, law, ds);
    esl_law_free(law);
    if (status != ESL_OK)
        return cli_error("form %s: in-sample: %s", form, esl_error_last()), cli_exit_code(status);
    return 0;
}

/* Forms side by side: MAPE, R2 of ln E and Spearman per held-out fold. */
static void print_side_by_side(const result *res, size_t n, cli_format fmt)
{
    char b[4][32];
    const esl_validation *v0 = res[0].v;
    if (fmt == FORMAT_CSV) {
        printf("form,test,train,n_train,n_test,r2_log,r2_lin,mae_j,mape_pct,rmse_log,pearson,"
               "spearman,coverage_pct\n");
        for (size_t k = 0; k < n; k++)
            for (size_t i = 0; i <= res[k].v->n_folds; i++) {
                const esl_fold *f = i < res[k].v->n_folds ? &res[k].v->folds[i] : NULL;
                const esl_score *s = f ? &f->score : &res[k].in_sample;
                double x[8] = {s->r2_log, s->r2_lin, s->mae_j, s->mape_pct, s->rmse_log,
                               s->pearson, s->spearman, s->coverage_pct};
                printf("%s,%s,\"%s\",%zu,%zu", res[k].form, f ? f->test : "in-sample",
                       f ? f->train : "all", f ? f->n_train : s->n, f ? f->n_test : s->n);
                for (size_t m = 0; m < 8; m++)
                    printf(",%s", num(b[0], 32, "%.17g", x[m]));
                putchar('\n');
            }
        return;
    }
    printf("%-16s", "");
    for (size_t k = 0; k < n; k++)
        printf(" | %-35s", res[k].form);
    printf("\n%-16s", "held out");
    for (size_t k = 0; k < n; k++)
        printf(" | %8s %8s %8s %8s", "MAPE_%", "R2(ln)", "spearman", "cover_%");
    putchar('\n');
    for (size_t i = 0; i <= v0->n_folds + 1; i++) {
        const char *label = i < v0->n_folds ? v0->folds[i].test : i == v0->n_folds ? "mean"
                                                                                   : "in-sample";
        printf("%-16s", label);
        for (size_t k = 0; k < n; k++) {
            const esl_score *s = i < v0->n_folds ? &res[k].v->folds[i].score
                                 : i == v0->n_folds ? &res[k].mean : &res[k].in_sample;
            printf(" | %8s %8s %8s %8s", num(b[0], 32, "%.2f", s->mape_pct),
                   num(b[1], 32, "%.4f", s->r2_log), num(b[2], 32, "%.4f", s->spearman),
                   num(b[3], 32, "%.1f", s->coverage_pct));
        }
        putchar('\n');
    }
}

static json_t *side_by_side_json(const result *res, size_t n)
{
    json_t *doc = json_object(), *forms = json_array();
    json_object_set_new(doc, "split", json_string(res[0].v->split));
    for (size_t k = 0; k < n; k++) {
        json_t *o = validation_json(res[k].v, &res[k].mean);
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
    return doc;
}

static int run_validate(const cli_command *cmd, int argc, char **argv)
{
    args a = {.law.convention = ESL_CONVENTION_PAPER, .seed = 1, .forms = {"paper"},
              .n_forms = 1};
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("validate: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.law.data == NULL || a.split == NULL) {
        cli_error("validate: --data FILE and --split S are required");
        return EXIT_USAGE;
    }
    esl_dataset *ds = NULL;
    if ((rc = law_cli_dataset(&a.law, 0, &ds)) != 0)
        return rc;
    result res[MAX_FORMS] = {{0}};
    if (a.n_forms == 1) {
        /* One form: the fold table (and no in-sample fit). */
        esl_fit_opts fit = a.law.fit;
        fit.form = a.forms[0];
        int status = esl_validate(&res[0].v, ds, a.split, (unsigned long)a.seed, &fit);
        esl_dataset_free(ds);
        if (status != ESL_OK)
            return cli_fail(status);
        summary(res[0].v, &res[0].mean);
        if (a.format == FORMAT_JSON) {
            json_t *doc = validation_json(res[0].v, &res[0].mean);
            emit_json(doc);
            json_decref(doc);
        } else {
            print_rows(res[0].v, &res[0].mean, a.format);
        }
        esl_validation_free(res[0].v);
        return 0;
    }
    for (size_t k = 0; k < a.n_forms && rc == 0; k++)
        rc = run_form(&res[k], ds, &a, a.forms[k]);
    esl_dataset_free(ds);
    if (rc == 0 && a.format == FORMAT_JSON) {
        json_t *doc = side_by_side_json(res, a.n_forms);
        emit_json(doc);
        json_decref(doc);
    } else if (rc == 0) {
        print_side_by_side(res, a.n_forms, a.format);
    }
    for (size_t k = 0; k < a.n_forms; k++)
        esl_validation_free(res[k].v);
    return rc;
}

const cli_command cmd_validate = {
    "validate", run_validate, "validate the energy law on held-out rows",
    "--data FILE|- --split S [OPTIONS]",
    "Fits the law on the training rows of each fold and scores it on the held-out rows:\n"
    "R2 of ln E and of E, MAE (J), MAPE (%), RMSE of ln E, Pearson and Spearman correlation\n"
    "of measured and predicted energy (paper section 4.2). With several --forms, the forms\n"
    "side by side: MAPE, R2 of ln E and Spearman per fold, their mean, and the in-sample fit.",
    options,
};
