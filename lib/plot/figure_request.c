/*
 * figure_request.c - the figures asked for by name: the builders of
 * figure.c and figure_data.c take models, laws and runs already in memory;
 * these take what a user types - a comma-separated list of catalogue
 * models, a law file (or a fit to do), a run store and a run id - and
 * decide what `esl plot` decides before drawing: which models, in which
 * FLOP convention, whether the law is loaded or fitted, which options of a
 * diagnostic figure cannot go together, and whether a stored run can be
 * drawn. Every program asking for a figure by name so gets the figure, and
 * the refusal, that the tool gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "plot/figure_internal.h"

#define MAX_NAMED_MODELS 8

int esl_figure_sizes_parse(int64_t out[ESL_FIGURE_MAX_SIZES], size_t *n, const char *list)
{
    char *copy = list != NULL ? esl__strdup(list) : NULL;
    int rc = ESL_OK;
    *n = 0;
    if (list == NULL)
        return esl__fail(ESL_EINVAL, "no sizes");
    if (copy == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL && rc == ESL_OK;
         tok = strtok_r(NULL, ",", &save)) {
        char *end;
        errno = 0;
        long long v = strtoll(tok, &end, 10);
        if (*n == ESL_FIGURE_MAX_SIZES)
            rc = esl__fail(ESL_EINVAL, "more than %d sizes in '%s'", ESL_FIGURE_MAX_SIZES, list);
        else if (end == tok || *end != '\0')
            rc = esl__fail(ESL_EINVAL, "'%s' is not an integer", tok);
        else if (v < 1)
            rc = esl__fail(ESL_EINVAL, "'%s' is not a positive integer", tok);
        else if (errno == ERANGE || v > 65536)
            rc = esl__fail(ESL_EINVAL, "'%s' is above the maximum, 65536", tok);
        else
            out[(*n)++] = v;
    }
    free(copy);
    if (rc == ESL_OK && *n == 0)
        rc = esl__fail(ESL_EINVAL, "'%s' names no size", list);
    return rc;
}

int esl_figure_decomposition_named(esl_figure **out, char **note, const char *names,
                                   const esl_figure_decomposition_opts *opts, int auto_exact)
{
    static const int64_t paper_sides[] = {256, 512, 768, 1024};
    esl_model *models[MAX_NAMED_MODELS] = {0};
    size_t n = 0;
    *out = NULL;
    *note = NULL;
    if (names == NULL) /* the paper's Figure 1 */
        names = "flux-dev,qwen-image,sd35-large";
    char *list = esl__strdup(names);
    if (list == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = ESL_OK;
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL && rc == ESL_OK;
         name = strtok_r(NULL, ",", &save)) {
        if (n == MAX_NAMED_MODELS)
            rc = esl__fail(ESL_EINVAL, "plot decomposition: more than %d models in '%s'",
                           MAX_NAMED_MODELS, names);
        else if ((rc = esl_catalog_find(&models[n], name)) == ESL_OK)
            n++;
    }
    free(list);
    if (rc == ESL_OK && n == 0)
        rc = esl__fail(ESL_EINVAL, "plot decomposition: option --model: '%s' names no model",
                       names);
    esl_figure_decomposition_opts o = opts ? *opts : (esl_figure_decomposition_opts){0};
    if (o.steps == 0)
        o.steps = 10;
    if (o.n_sizes == 0)
        o.sizes = paper_sides, o.n_sizes = sizeof paper_sides / sizeof paper_sides[0];
    /* No convention chosen and a model without paper-convention terms: every
     * model is drawn in the exact one, so the bars stay comparable. */
    for (size_t m = 0; rc == ESL_OK && auto_exact && o.convention == ESL_CONVENTION_PAPER && m < n;
         m++)
        if (!esl__model_has_paper_terms(models[m])) {
            o.convention = ESL_CONVENTION_EXACT;
            static const char tail[] = " has no paper-convention terms: drawing every model "
                                       "in the exact convention";
            size_t len = strlen(models[m]->name) + sizeof tail;
            if ((*note = malloc(len)) == NULL)
                rc = esl__fail(ESL_ENOMEM, "out of memory");
            else
                snprintf(*note, len, "%s%s", models[m]->name, tail);
        }
    if (rc == ESL_OK)
        rc = esl_figure_decomposition(out, (const esl_model *const *)models, n, &o);
    for (size_t m = 0; m < n; m++)
        esl_model_free(models[m]);
    return rc;
}

/* The law to draw: `law_file` loaded, else fitted on `ds` with `fit`. */
static int law_of(esl_law **out, const esl_dataset *ds, const char *law_file,
                  const esl_fit_opts *fit)
{
    return law_file != NULL ? esl_law_load(out, law_file) : esl_law_fit(out, ds, fit);
}

int esl_figure_diagnostic_check(const esl_figure_diagnostic_opts *opts, const char *law_file)
{
    if (opts == NULL)
        return ESL_OK;
    if (opts->split != NULL && opts->each_model)
        return esl__fail(ESL_EINVAL, "plot diagnostic: --split and --each are two different "
                         "figures; give one");
    if (law_file != NULL && (opts->split != NULL || opts->each_model))
        return esl__fail(ESL_EINVAL, "plot diagnostic: --%s fits its own laws; drop --law",
                         opts->split != NULL ? "split" : "each");
    return ESL_OK;
}

int esl_figure_diagnostic_fit(esl_figure **out, const esl_dataset *ds, const char *law_file,
                              const esl_figure_diagnostic_opts *opts)
{
    esl_figure_diagnostic_opts o = opts ? *opts : (esl_figure_diagnostic_opts){0};
    esl_law *law = NULL;
    *out = NULL;
    int rc = esl_figure_diagnostic_check(&o, law_file);
    if (rc != ESL_OK)
        return rc;
    if (o.split == NULL && !o.each_model && (rc = law_of(&law, ds, law_file, o.fit)) != ESL_OK)
        return rc;
    if (o.law_name == NULL)
        o.law_name = law_file;
    rc = esl_figure_diagnostic(out, ds, law, &o);
    esl_law_free(law);
    return rc;
}

int esl_figure_scaling_fit(esl_figure **out, const esl_dataset *ds, const char *law_file,
                           const esl_fit_opts *fit, const char *gpu)
{
    esl_law *law = NULL;
    *out = NULL;
    int rc = law_of(&law, ds, law_file, fit);
    if (rc == ESL_OK)
        rc = esl_figure_scaling(out, ds, law, gpu);
    esl_law_free(law);
    return rc;
}

int esl_figure_trace_stored(esl_figure **out, const char *store_path, int64_t id)
{
    esl_store *store = NULL;
    esl_run *run = NULL;
    *out = NULL;
    int rc = esl_store_open_readonly(&store, store_path);
    if (rc == ESL_ENOTFOUND)
        return esl__fail(rc, "%s: no run store here (esl measure writes one; --store chooses "
                         "another)", store_path);
    if (rc != ESL_OK)
        return rc;
    rc = esl_store_get(store, &run, id);
    if (rc == ESL_ENOTFOUND)
        esl__fail(rc, "plot trace: no run %lld in %s ('esl runs list --store %s' lists its runs)",
                  (long long)id, store_path, store_path);
    else if (rc == ESL_OK && run->record->n_samples == 0)
        rc = esl__fail(ESL_EINVAL, "plot trace: run %lld in %s has no samples to draw",
                       (long long)id, store_path);
    else if (rc == ESL_OK)
        rc = esl_figure_trace(out, run);
    esl_runs_free(run, run ? 1 : 0);
    esl_store_close(store);
    return rc;
}
