/*
 * spec.c - which law a command uses, on which rows (esl_law_spec): the
 * options a command reads (dataset files, --where filters, prompt counts,
 * the fit's baseline, terms, form and response, a law file) set from their
 * text, the dataset they name read and filtered, and the law fitted on it or
 * opened. The tool's fit, validate, plot, predict and report commands and
 * any other program get the same rows and the same law from the same options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/law.h"
#include "esl/model.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int set_baseline(esl_fit_opts *fit, const char *arg)
{
    if (strncmp(arg, "gpu=", 4) == 0 && arg[4] != '\0')
        fit->baseline_gpu = arg + 4;
    else if (strncmp(arg, "dtype=", 6) == 0 && arg[6] != '\0')
        fit->baseline_dtype = arg + 6;
    else
        return esl__fail(ESL_EINVAL, "'%s' is not gpu=LEVEL or dtype=LEVEL", arg);
    return ESL_OK;
}

static int set_response(esl_fit_opts *fit, const char *arg)
{
    if (strcmp(arg, "energy") == 0)
        fit->response = ESL_RESPONSE_ENERGY;
    else if (strcmp(arg, "time") == 0)
        fit->response = ESL_RESPONSE_TIME;
    else
        return esl__fail(ESL_EINVAL, "'%s' is not energy or time", arg);
    return ESL_OK;
}

static int set_expand(esl_law_spec *s, const char *arg)
{
    s->n_expand = 0;
    for (const char *p = arg;;) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || errno == ERANGE || v < 1 || v > 1000000)
            return esl__fail(ESL_EINVAL, "'%s' is not a list of prompt counts from 1 to 1000000 "
                             "(e.g. 25,50,100)", arg);
        if (s->n_expand == COUNT(s->expand))
            return esl__fail(ESL_EINVAL, "at most %zu counts", COUNT(s->expand));
        s->expand[s->n_expand++] = v;
        if (*end == '\0')
            return ESL_OK;
        p = end + 1;
    }
}

static int set_data(esl_law_spec *s, const char *arg)
{
    if (s->data == NULL) {
        s->data = arg;
        return ESL_OK;
    }
    if (s->n_more_data == COUNT(s->more_data))
        return esl__fail(ESL_EINVAL, "at most %zu files", 1 + COUNT(s->more_data));
    s->more_data[s->n_more_data++] = arg;
    return ESL_OK;
}

int esl_law_spec_set(esl_law_spec *spec, const char *option, const char *value)
{
    if (spec == NULL || option == NULL || value == NULL)
        return esl__fail(ESL_EINVAL, "law spec: no spec, option or value given");
    if (strcmp(option, "data") == 0)
        return set_data(spec, value);
    if (strcmp(option, "arch") == 0)
        return spec->arch = value, ESL_OK;
    if (strcmp(option, "law") == 0)
        return spec->law_file = value, ESL_OK;
    if (strcmp(option, "where") == 0) {
        if (spec->n_where == COUNT(spec->where))
            return esl__fail(ESL_EINVAL, "at most %zu filters", COUNT(spec->where));
        spec->where[spec->n_where++] = value;
        return ESL_OK;
    }
    if (strcmp(option, "baseline") == 0)
        return set_baseline(&spec->fit, value);
    if (strcmp(option, "terms") == 0)
        return esl_law_terms_parse(&spec->fit.terms, value);
    if (strcmp(option, "form") == 0) {
        esl_law_form f;
        int rc = esl_law_form_parse(&f, value);
        if (rc == ESL_OK)
            spec->fit.form = esl_law_form_get(f)->name;
        return rc;
    }
    if (strcmp(option, "response") == 0)
        return set_response(&spec->fit, value);
    if (strcmp(option, "expand-prompts") == 0)
        return set_expand(spec, value);
    if (strcmp(option, "convention") == 0)
        return esl_convention_parse(&spec->convention, value);
    return esl__fail(ESL_EINVAL, "law spec: unknown option '%s'", option);
}

static int read_one(esl_dataset **ds, const char *path, const esl_data_opts *dopts)
{
    if (strcmp(path, "-") == 0)
        return esl_dataset_read(ds, stdin, "<stdin>", dopts);
    return esl_dataset_load(ds, path, dopts);
}

int esl_law_spec_dataset(esl_dataset **out, const esl_law_spec *spec, int no_energy)
{
    esl_model *arch = NULL;
    esl_dataset *ds = NULL;
    *out = NULL;
    if (spec->data == NULL) {
        int rc = esl_dataset_builtin(&ds, spec->convention);
        return rc == ESL_OK ? esl_law_spec_filter(out, spec, ds) : rc;
    }
    int rc = spec->arch != NULL ? esl_model_load(&arch, spec->arch) : ESL_OK;
    if (rc != ESL_OK)
        return rc;
    esl_data_opts dopts = {.convention = spec->convention, .arch = arch, .no_energy = no_energy};
    rc = read_one(&ds, spec->data, &dopts);
    /* Further files are appended; their rows keep their own line numbers,
     * and the dataset is named "a.csv+b.csv". */
    for (size_t k = 0; k < spec->n_more_data && rc == ESL_OK; k++) {
        esl_dataset *more = NULL;
        rc = read_one(&more, spec->more_data[k], &dopts);
        for (size_t i = 0; rc == ESL_OK && i < more->n_rows; i++)
            rc = esl_dataset_append(ds, &more->rows[i]);
        esl_dataset_free(more);
        size_t len = strlen(ds->origin) + strlen(spec->more_data[k]) + 2;
        char *name = rc == ESL_OK ? malloc(len) : NULL;
        if (name != NULL) {
            snprintf(name, len, "%s+%s", ds->origin, spec->more_data[k]);
            free(ds->origin);
            ds->origin = name;
        }
    }
    esl_model_free(arch);
    if (rc != ESL_OK) {
        esl_dataset_free(ds);
        return rc;
    }
    return esl_law_spec_filter(out, spec, ds);
}

int esl_law_spec_filter(esl_dataset **out, const esl_law_spec *spec, esl_dataset *ds)
{
    int rc = ESL_OK;
    *out = NULL;
    for (size_t i = 0; rc == ESL_OK && i < spec->n_where; i++) {
        esl_dataset *sub = NULL;
        rc = esl_dataset_where(&sub, ds, spec->where[i]);
        esl_dataset_free(ds);
        ds = sub;
    }
    if (rc == ESL_OK && spec->n_expand > 0) {
        esl_dataset *wide = NULL;
        rc = esl_dataset_expand_prompts(&wide, ds, spec->expand, spec->n_expand);
        esl_dataset_free(ds);
        ds = wide;
    }
    if (rc != ESL_OK) {
        esl_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return ESL_OK;
}

int esl_law_spec_fit(esl_law **out, const esl_law_spec *spec)
{
    *out = NULL;
    if (spec->data == NULL)
        return esl__fail(ESL_EINVAL, "law spec: no dataset file given");
    if (spec->n_more_data > 0 || spec->n_where > 0 || spec->n_expand > 0) {
        esl_dataset *ds = NULL;
        int rc = esl_law_spec_dataset(&ds, spec, 0);
        if (rc == ESL_OK)
            rc = esl_law_fit(out, ds, &spec->fit);
        esl_dataset_free(ds);
        return rc;
    }
    esl_model *arch = NULL;
    int rc = spec->arch != NULL ? esl_model_load(&arch, spec->arch) : ESL_OK;
    esl_data_opts dopts = {.convention = spec->convention, .arch = arch};
    if (rc == ESL_OK)
        rc = strcmp(spec->data, "-") == 0
                 ? esl_law_fit_read(out, stdin, "<stdin>", &dopts, &spec->fit)
                 : esl_law_fit_load(out, spec->data, &dopts, &spec->fit);
    esl_model_free(arch);
    return rc;
}

int esl_law_spec_open(esl_law **out, const esl_law_spec *spec)
{
    if (spec->law_file != NULL)
        return esl_law_load(out, spec->law_file);
    return esl_law_builtin(out, ESL_CONVENTION_PAPER, spec->fit.form);
}

int esl_law_form_list(const char **out, size_t cap, size_t *n, const char *list)
{
    char copy[128];
    snprintf(copy, sizeof copy, "%s", list != NULL ? list : "");
    *n = 0;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        esl_law_form f;
        if (esl_law_form_parse(&f, name) != ESL_OK)
            return ESL_EINVAL;
        const char *known = esl_law_form_get(f)->name;
        for (size_t i = 0; i < *n; i++)
            if (out[i] == known)
                return esl__fail(ESL_EINVAL, "form '%s' appears twice", known);
        if (*n == cap)
            break;
        out[(*n)++] = known;
    }
    if (*n == 0)
        return esl__fail(ESL_EINVAL, "no form given (forms: %s)", esl_law_forms());
    return ESL_OK;
}
