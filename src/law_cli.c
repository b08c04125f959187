/*
 * law_cli.c - the pieces the law commands share: dataset input (a file or
 * "-" for standard input, with an optional --arch description), the fit
 * options, and the law's table rendering.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "law_cli.h"

int law_cli_option(law_cli_opts *o, int key, const char *arg)
{
    switch (key) {
    case LAW_OPT_DATA: return law_cli_data(o, arg);
    case LAW_OPT_ARCH: o->arch = arg; return 0;
    case LAW_OPT_WHERE: return law_cli_where(o, arg);
    case LAW_OPT_BASELINE: return law_cli_baseline(o, arg);
    case LAW_OPT_TERMS: return law_cli_terms(o, arg);
    case LAW_OPT_EXPAND: return law_cli_expand(o, arg);
    case LAW_OPT_RESPONSE: return law_cli_response(o, arg);
    case LAW_OPT_WEIGHTED: o->fit.method = ESL_FIT_WEIGHTED; return 0;
    case LAW_OPT_ROBUST: o->fit.method = ESL_FIT_ROBUST; return 0;
    case LAW_OPT_CONVENTION: {
        int rc = esl_convention_parse(&o->convention, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    }
    return LAW_CLI_NOT_MINE;
}

int law_cli_baseline(law_cli_opts *o, const char *arg)
{
    if (strncmp(arg, "gpu=", 4) == 0 && arg[4] != '\0')
        o->fit.baseline_gpu = arg + 4;
    else if (strncmp(arg, "dtype=", 6) == 0 && arg[6] != '\0')
        o->fit.baseline_dtype = arg + 6;
    else {
        cli_error("option --baseline: '%s' is not gpu=LEVEL or dtype=LEVEL", arg);
        return EXIT_USAGE;
    }
    return 0;
}

int law_cli_terms(law_cli_opts *o, const char *arg)
{
    int rc = esl_law_terms_parse(&o->fit.terms, arg);
    if (rc != ESL_OK) {
        cli_error("option --terms: %s", esl_error_last());
        return EXIT_USAGE;
    }
    return 0;
}

int law_cli_form(law_cli_opts *o, const char *arg)
{
    if (!esl_law_form_known(arg)) {
        cli_error("option --form: unknown form '%s' (forms: %s)", arg, esl_law_forms());
        return EXIT_USAGE;
    }
    o->fit.form = arg;
    return 0;
}

int law_cli_response(law_cli_opts *o, const char *arg)
{
    if (strcmp(arg, "energy") == 0)
        o->fit.response = ESL_RESPONSE_ENERGY;
    else if (strcmp(arg, "time") == 0)
        o->fit.response = ESL_RESPONSE_TIME;
    else {
        cli_error("option --response: '%s' is not energy or time", arg);
        return EXIT_USAGE;
    }
    return 0;
}

int law_cli_expand(law_cli_opts *o, const char *arg)
{
    const size_t max = sizeof o->expand / sizeof o->expand[0];
    o->n_expand = 0;
    for (const char *p = arg;;) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || errno == ERANGE || v < 1 || v > 1000000) {
            cli_error("option --expand-prompts: '%s' is not a list of prompt counts from 1 to "
                      "1000000 (e.g. 25,50,100)", arg);
            return EXIT_USAGE;
        }
        if (o->n_expand == max) {
            cli_error("option --expand-prompts: at most %zu counts", max);
            return EXIT_USAGE;
        }
        o->expand[o->n_expand++] = v;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

int law_cli_where(law_cli_opts *o, const char *arg)
{
    if (o->n_where == sizeof o->where / sizeof o->where[0]) {
        cli_error("option --where: at most %zu filters", sizeof o->where / sizeof o->where[0]);
        return EXIT_USAGE;
    }
    o->where[o->n_where++] = arg;
    return 0;
}

int law_cli_data(law_cli_opts *o, const char *arg)
{
    if (o->data == NULL) {
        o->data = arg;
        return 0;
    }
    if (o->n_more_data == sizeof o->more_data / sizeof o->more_data[0]) {
        cli_error("option --data: at most %zu files", 1 + sizeof o->more_data / sizeof o->more_data[0]);
        return EXIT_USAGE;
    }
    o->more_data[o->n_more_data++] = arg;
    return 0;
}

static int read_one(esl_dataset **ds, const char *path, const esl_data_opts *dopts)
{
    if (strcmp(path, "-") == 0)
        return esl_dataset_read(ds, stdin, "<stdin>", dopts);
    return esl_dataset_load(ds, path, dopts);
}

int law_cli_dataset(const law_cli_opts *o, int no_energy, esl_dataset **out)
{
    esl_model *arch = NULL;
    esl_dataset *ds = NULL;
    int rc = ESL_OK;
    *out = NULL;
    if (o->arch != NULL && (rc = esl_model_load(&arch, o->arch)) != ESL_OK)
        return cli_fail(rc);
    esl_data_opts dopts = {.convention = o->convention, .arch = arch, .no_energy = no_energy};
    rc = read_one(&ds, o->data, &dopts);
    /* Further files are appended; their rows keep their own line numbers,
     * and the dataset is named "a.csv+b.csv". */
    for (size_t k = 0; k < o->n_more_data && rc == ESL_OK; k++) {
        esl_dataset *more = NULL;
        rc = read_one(&more, o->more_data[k], &dopts);
        for (size_t i = 0; rc == ESL_OK && i < more->n_rows; i++)
            rc = esl_dataset_append(ds, &more->rows[i]);
        esl_dataset_free(more);
        size_t len = strlen(ds != NULL ? ds->origin : "") + strlen(o->more_data[k]) + 2;
        char *name = rc == ESL_OK ? malloc(len) : NULL;
        if (name != NULL) {
            snprintf(name, len, "%s+%s", ds->origin, o->more_data[k]);
            free(ds->origin);
            ds->origin = name;
        }
    }
    esl_model_free(arch);
    return law_cli_filter(o, rc, ds, out);
}

int law_cli_fit(const law_cli_opts *o, esl_law **out)
{
    *out = NULL;
    if (o->n_more_data > 0 || o->n_where > 0 || o->n_expand > 0) {
        esl_dataset *ds = NULL;
        int rc = law_cli_dataset(o, 0, &ds);
        if (rc != 0)
            return rc;
        rc = esl_law_fit(out, ds, &o->fit);
        esl_dataset_free(ds);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    esl_model *arch = NULL;
    int rc = o->arch != NULL ? esl_model_load(&arch, o->arch) : ESL_OK;
    esl_data_opts dopts = {.convention = o->convention, .arch = arch};
    if (rc == ESL_OK)
        rc = strcmp(o->data, "-") == 0 ? esl_law_fit_read(out, stdin, "<stdin>", &dopts, &o->fit)
                                       : esl_law_fit_load(out, o->data, &dopts, &o->fit);
    esl_model_free(arch);
    return rc == ESL_OK ? 0 : cli_fail(rc);
}

int law_cli_filter(const law_cli_opts *o, int rc, esl_dataset *ds, esl_dataset **out)
{
    for (size_t i = 0; rc == ESL_OK && i < o->n_where; i++) {
        esl_dataset *sub = NULL;
        rc = esl_dataset_where(&sub, ds, o->where[i]);
        esl_dataset_free(ds);
        ds = sub;
    }
    if (rc == ESL_OK && o->n_expand > 0) {
        esl_dataset *wide = NULL;
        rc = esl_dataset_expand_prompts(&wide, ds, o->expand, o->n_expand);
        esl_dataset_free(ds);
        ds = wide;
    }
    if (rc != ESL_OK) {
        esl_dataset_free(ds);
        return cli_fail(rc);
    }
    *out = ds;
    return 0;
}

static void print_list(const char *label, char *const *list, size_t n, const char *baseline)
{
    printf("  %-8s", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%s%s", i ? ", " : "", list[i],
               baseline && strcmp(list[i], baseline) == 0 ? " (baseline)" : "");
    printf("%s\n", n == 0 ? "(term off)" : "");
}

void law_cli_print(const esl_law *law)
{
    const esl_law_training *t = &law->training;
    const esl_law_form_info *form = esl_law_form_get(law->form_id);
    printf("law: %s form (%s), %s fit, FLOPs in the %s convention\n", form->name, form->note,
           form->nonlinear ? "log-space nonlinear" : esl_fit_method_name(law->method),
           esl_convention_name(law->convention));
    printf("trained on %zu rows\n", t->n_rows);
    print_list("models", t->models, t->n_models, NULL);
    print_list("gpu", law->factors[0].levels, law->factors[0].n_levels, law->factors[0].baseline);
    print_list("dtype", law->factors[1].levels, law->factors[1].n_levels, law->factors[1].baseline);
    printf("  %-8s%.4g .. %.4g FLOPs_cfg, %.0f .. %.0f pixels, %.0f .. %.0f steps\n", "ranges",
           t->flops_min, t->flops_max, t->pixels_min, t->pixels_max, t->steps_min, t->steps_max);
    for (size_t i = 0; i < law->n_dropped; i++)
        printf("dropped: %s\n", law->dropped[i]);
    printf("\n%-16s %12s %12s\n", "term", "coef", "std err");
    for (size_t j = 0; j < law->n_features; j++)
        printf("%-16s %12.4f %12.4f\n", law->features[j].name, law->coef[j], law->se[j]);
    const esl_law_metrics *m = &law->metrics;
    printf("\nR2(ln E) %.4f (adjusted %.4f), RMSE(ln E) %.4f, R2(J) %.4f, MAPE %.2f%%\n",
           m->r2_log, m->r2_adj_log, m->rmse_log, m->r2_lin, m->mape_pct);
    printf("residual variance %.4g on %lld degrees of freedom\n", law->sigma2, (long long)law->dof);
    if (t->model_rows != NULL && t->n_models > 1) {
        printf("per model (residual variance; held-out bias of ln E):");
        for (size_t k = 0; k < t->n_models; k++) {
            printf("%s %s %.3g", k ? "," : "", t->models[k], t->model_sigma2[k]);
            if (isfinite(t->model_bias[k]))
                printf("; %+.3f", t->model_bias[k]);
        }
        putchar('\n');
    }
    if (law->tau2_models > 0)
        printf("between-model variance %.4g (%zu models held out in turn): added to the "
               "interval of a model the law was not trained on\n", law->tau2, law->tau2_models);
    if (law->tau2_gpus > 0)
        printf("between-GPU variance %.4g (%zu GPUs held out in turn, priced from the GPU table): "
               "added to the interval of a GPU the law was not trained on\n", law->tau2_gpu,
               law->tau2_gpus);
    for (size_t k = 0; k < law->n_kappa; k++)
        printf("kappa %s %.4g (fp16 peak / fp32-convolution peak, data/gpu_peaks.csv)\n",
               law->kappa_gpus[k], law->kappa[k]);
    const esl_law *tl = law->time;
    if (tl != NULL) {
        printf("\ntime law (seconds per image, the same form) on the %zu rows with a duration:\n",
               tl->training.n_rows);
        for (size_t j = 0; j < tl->n_features; j++)
            printf("%-24s %12.4f %12.4f\n", tl->features[j].name, tl->coef[j], tl->se[j]);
        printf("R2(ln t) %.4f, RMSE(ln t) %.4f, MAPE %.2f%%; between-model variance %.4g, "
               "between-GPU variance %.4g\n", tl->metrics.r2_log, tl->metrics.rmse_log,
               tl->metrics.mape_pct, tl->tau2, tl->tau2_gpu);
    }
}

