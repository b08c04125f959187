/*
 * calib_input.c - what a calibration is asked, read from text as a person
 * gives it: the time budget ("5m"), the models to calibrate ("sd2,flux-dev"),
 * and for a planned sweep the throughputs it assumes (a list per dtype, or
 * half a known GPU's dense peak); and the fitted law written to its file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "esl/file.h"

int esl_calib_budget_parse(double *out, const char *text)
{
    char *end = NULL;
    double v = text != NULL ? strtod(text, &end) : -1, unit = 1;
    if (text == NULL || end == text)
        v = -1;
    else if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        v = -1;
    if (!(v > 0) || !isfinite(v))
        return esl__fail(ESL_EINVAL, "'%s' is not a positive time (300, 300s, 5m, 1h)",
                         text != NULL ? text : "");
    *out = v * unit;
    return ESL_OK;
}

int esl_calib_models_find(esl_model **out, size_t cap, size_t *n, const char *list)
{
    *n = 0;
    char *copy = esl__strdup(list != NULL ? list : "");
    if (copy == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = ESL_OK;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name != NULL && rc == ESL_OK;
         name = strtok_r(NULL, ",", &save)) {
        if (*n == cap)
            rc = esl__fail(ESL_ERANGE, "at most %zu models", cap);
        else if ((rc = esl_catalog_find(&out[*n], name)) == ESL_OK)
            (*n)++;
    }
    free(copy);
    if (rc != ESL_OK) {
        for (size_t i = 0; i < *n; i++)
            esl_model_free(out[i]);
        *n = 0;
    }
    return rc;
}

int esl_calib_assume(double s_per_flop[4], const esl_dtype *dtypes, size_t n, const char *tflops,
                     const char *gpu)
{
    if ((tflops == NULL) == (gpu == NULL))
        return esl__fail(ESL_EINVAL, "give exactly one of a throughput list or a GPU");
    for (size_t i = 0; i < n; i++) {
        double t = 0;
        esl_bench_peak peak;
        int rc = tflops != NULL ? esl_calib_throughput(&t, tflops, dtypes[i])
                                : esl_bench_peak_find(&peak, gpu, dtypes[i]);
        if (rc != ESL_OK)
            return rc;
        if (tflops == NULL)
            t = 0.5 * peak.tflops;
        s_per_flop[dtypes[i]] = 1.0 / (t * 1e12);
    }
    return ESL_OK;
}

int esl_calib_save_law(const esl_calib *c, const char *path)
{
    if (c == NULL || c->law == NULL || path == NULL)
        return esl__fail(ESL_EINVAL, "no fitted calibration or path");
    char *json = NULL;
    int rc = esl_law_to_json(&json, c->law);
    if (rc != ESL_OK)
        return rc;
    /* written under a temporary name and renamed: an error leaves no half law */
    esl_outfile f;
    if ((rc = esl_outfile_open(&f, path)) == ESL_OK) {
        fputs(json, f.f);
        fputc('\n', f.f);
        rc = esl_outfile_commit(&f);
    }
    free(json);
    return rc;
}
