/*
 * dataset.c - datasets held in memory: reading whole files into rows that own
 * their strings, the built-in paper data, and selecting rows by column value
 * (`--where model=flux-dev,sd35-large`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "esl/data.h"

/* data/paper_a100.csv, embedded by cmake/embed_file.cmake. */
extern const char esl__paper_a100_csv[];
extern const size_t esl__paper_a100_csv_len;

int esl_dataset_new(esl_dataset **out, const char *origin, esl_convention convention)
{
    esl_dataset *ds = calloc(1, sizeof *ds);
    *out = NULL;
    if (ds == NULL || (ds->origin = esl__strdup(origin)) == NULL) {
        free(ds);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    ds->convention = convention;
    *out = ds;
    return ESL_OK;
}

static void row_release(esl_row *row)
{
    free(row->model);
    free(row->gpu);
    free(row->dtype);
    free(row->source);
}

int esl_dataset_append(esl_dataset *ds, const esl_row *row)
{
    if (ds->n_rows == ds->cap) {
        size_t cap = ds->cap ? 2 * ds->cap : 64;
        esl_row *grown = realloc(ds->rows, cap * sizeof *grown);
        if (grown == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        ds->rows = grown;
        ds->cap = cap;
    }
    esl_row *copy = &ds->rows[ds->n_rows];
    *copy = *row;
    copy->model = esl__strdup(row->model);
    copy->gpu = esl__strdup(row->gpu);
    copy->dtype = esl__strdup(row->dtype);
    copy->source = esl__strdup(row->source);
    if (copy->model == NULL || copy->gpu == NULL || copy->dtype == NULL ||
        (row->source != NULL && copy->source == NULL)) {
        row_release(copy);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    ds->n_rows++;
    return ESL_OK;
}

static int append_cb(void *ctx, const esl_row *row)
{
    return esl_dataset_append(ctx, row);
}

static esl_convention conv_of(const esl_data_opts *opts)
{
    return opts != NULL ? opts->convention : ESL_CONVENTION_PAPER;
}

int esl_dataset_read(esl_dataset **out, FILE *fp, const char *origin, const esl_data_opts *opts)
{
    int rc = esl_dataset_new(out, origin, conv_of(opts));
    if (rc == ESL_OK && (rc = esl_data_read(fp, origin, opts, append_cb, *out)) != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

int esl_dataset_parse(esl_dataset **out, const char *text, size_t len, const char *origin,
                      const esl_data_opts *opts)
{
    int rc = esl_dataset_new(out, origin, conv_of(opts));
    if (rc == ESL_OK && (rc = esl_data_parse(text, len, origin, opts, append_cb, *out)) != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

int esl_dataset_load(esl_dataset **out, const char *path, const esl_data_opts *opts)
{
    *out = NULL;
    /* A missing file or a folder is a mistake in the input (exit 2 in the
     * tool), as for every other file esl reads; only a failing read is EIO. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return esl__fail(ESL_EINVAL, "%s: is a directory, not a CSV file", path);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: cannot open: %s", path,
                         strerror(errno));
    int rc = esl_dataset_read(out, fp, path, opts);
    fclose(fp);
    return rc;
}

const char *esl_dataset_builtin_text(size_t *len)
{
    *len = esl__paper_a100_csv_len;
    return esl__paper_a100_csv;
}

int esl_dataset_builtin(esl_dataset **out, esl_convention convention)
{
    esl_data_opts opts = {.convention = convention};
    return esl_dataset_parse(out, esl__paper_a100_csv, esl__paper_a100_csv_len,
                             "builtin:paper_a100.csv", &opts);
}

static const char *column_value(const esl_row *row, const char *column)
{
    if (strcmp(column, "model") == 0)
        return row->model;
    if (strcmp(column, "gpu") == 0)
        return row->gpu;
    return row->dtype;
}

int esl_dataset_where(esl_dataset **out, const esl_dataset *ds, const char *spec)
{
    *out = NULL;
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : 0;
    char column[16] = "";
    if (eq != NULL && n < sizeof column)
        memcpy(column, spec, n), column[n] = '\0';
    if (eq == NULL || eq[1] == '\0' ||
        (strcmp(column, "model") != 0 && strcmp(column, "gpu") != 0 && strcmp(column, "dtype") != 0))
        return esl__fail(ESL_EINVAL, "'%s' is not COLUMN=VALUE[,VALUE...] with COLUMN one of "
                         "model, gpu, dtype", spec);

    char *values = esl__strdup(eq + 1);
    int rc = values ? esl_dataset_new(out, ds->origin, ds->convention)
                    : esl__fail(ESL_ENOMEM, "out of memory");
    for (char *save = NULL, *v = rc == ESL_OK ? strtok_r(values, ",", &save) : NULL;
         v != NULL && rc == ESL_OK; v = strtok_r(NULL, ",", &save)) {
        size_t matched = 0;
        for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++)
            if (strcmp(column_value(&ds->rows[i], column), v) == 0) {
                rc = esl_dataset_append(*out, &ds->rows[i]);
                matched++;
            }
        if (rc == ESL_OK && matched == 0) {
            char known[512] = "";
            for (size_t i = 0; i < ds->n_rows; i++) {
                const char *s = column_value(&ds->rows[i], column);
                char item[160];
                snprintf(item, sizeof item, ", %s, ", s);
                char listed[520];
                snprintf(listed, sizeof listed, ", %s, ", known);
                if (strstr(listed, item) == NULL) {
                    if (known[0] != '\0')
                        strncat(known, ", ", sizeof known - strlen(known) - 1);
                    strncat(known, s, sizeof known - strlen(known) - 1);
                }
            }
            rc = esl__fail(ESL_ENOTFOUND, "%s: no row has %s '%s' (present: %s)", ds->origin,
                           column, v, known);
        }
    }
    free(values);
    if (rc != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

void esl_dataset_free(esl_dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t i = 0; i < ds->n_rows; i++)
        row_release(&ds->rows[i]);
    free(ds->rows);
    free(ds->origin);
    free(ds);
}
