/*
 * dataset.c - datasets held in memory: reading whole files into rows whose
 * strings the dataset owns, the built-in paper data, and selecting rows by
 * column value (`--where model=flux-dev,sd35-large`).
 *
 * A dataset keeps each distinct string once (model, gpu, dtype and source
 * repeat on every row of a large file): rows point into the dataset's
 * string table, which saves a few allocations and ~100 bytes per row, and
 * rows with the same value share the same pointer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "esl/data.h"

/* data/paper_a100.csv, embedded by cmake/embed_file.cmake. */
extern const char esl__paper_a100_csv[];
extern const size_t esl__paper_a100_csv_len;
/* data/mlenergy_v2.csv, likewise. */
extern const char esl__mlenergy_v2_csv[];
extern const size_t esl__mlenergy_v2_csv_len;

/* The dataset's interned strings: an open-addressing set that grows. */
typedef struct esl__strings {
    char **slots; /* NULL: empty */
    size_t cap, used; /* cap is a power of two */
} esl__strings;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static char **str_slot(char **slots, size_t cap, const char *s)
{
    for (size_t i = (size_t)str_hash(s) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (slots[i] == NULL || strcmp(slots[i], s) == 0)
            return &slots[i];
}

/* The dataset's copy of `s` (NULL for NULL), added on first sight. */
static char *intern(esl_dataset *ds, const char *s)
{
    if (s == NULL)
        return NULL;
    esl__strings *t = ds->strings;
    if (t == NULL && (t = ds->strings = calloc(1, sizeof *t)) == NULL)
        return NULL;
    if (2 * (t->used + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return NULL;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i] != NULL)
                *str_slot(slots, cap, t->slots[i]) = t->slots[i];
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    char **slot = str_slot(t->slots, t->cap, s);
    if (*slot == NULL) {
        if ((*slot = esl__strdup(s)) == NULL)
            return NULL;
        t->used++;
    }
    return *slot;
}

static void strings_free(esl__strings *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i]);
    free(t->slots);
    free(t);
}

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

/* Source string -> this dataset's copy, for rows copied from one dataset
 * whose strings stay put while the copy runs (esl__dataset_split); a NULL
 * memo interns every string (esl_dataset_append). */
typedef struct string_memo {
    const char *src[64];
    char *dst[64];
} string_memo;

static char *intern_memo(esl_dataset *ds, string_memo *m, const char *s)
{
    if (s == NULL)
        return NULL;
    if (m == NULL)
        return intern(ds, s);
    size_t h = ((uintptr_t)s >> 3) % 64;
    if (m->src[h] == s)
        return m->dst[h];
    char *copy = intern(ds, s);
    if (copy != NULL)
        m->src[h] = s, m->dst[h] = copy;
    return copy;
}

static int append_memo(esl_dataset *ds, string_memo *m, const esl_row *row)
{
    if (ds->n_rows == ds->cap) {
        size_t cap = ds->cap ? 2 * ds->cap : 64;
        esl_row *grown = realloc(ds->rows, cap * sizeof *grown);
        if (grown == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        ds->rows = grown;
        ds->cap = cap;
        esl__advise_huge(grown, cap * sizeof *grown);
    }
    esl_row *copy = &ds->rows[ds->n_rows];
    *copy = *row;
    copy->model = intern_memo(ds, m, row->model);
    copy->gpu = intern_memo(ds, m, row->gpu);
    copy->dtype = intern_memo(ds, m, row->dtype);
    copy->source = intern_memo(ds, m, row->source);
    if (copy->model == NULL || copy->gpu == NULL || copy->dtype == NULL ||
        (row->source != NULL && copy->source == NULL))
        return esl__fail(ESL_ENOMEM, "out of memory");
    ds->n_rows++;
    return ESL_OK;
}

void esl__dataset_move_strings(esl_dataset *to, esl_dataset *from)
{
    strings_free(to->strings);
    to->strings = from->strings;
    from->strings = NULL;
}

int esl_dataset_append(esl_dataset *ds, const esl_row *row)
{
    return append_memo(ds, NULL, row);
}

int esl_dataset_expand_prompts(esl_dataset **out, const esl_dataset *ds, const int64_t *prompts,
                               size_t n_prompts)
{
    *out = NULL;
    if (n_prompts == 0)
        return esl__fail(ESL_EINVAL, "no prompt counts to expand the rows to");
    for (size_t k = 0; k < n_prompts; k++)
        if (prompts[k] < 1)
            return esl__fail(ESL_EINVAL, "prompt count %lld: must be at least 1",
                             (long long)prompts[k]);
    int rc = esl_dataset_new(out, ds->origin, ds->convention);
    for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++) {
        for (size_t k = 0; k < n_prompts && rc == ESL_OK; k++) {
            esl_row row = ds->rows[i];
            double scale = (double)prompts[k] / (double)row.prompts;
            row.prompts = prompts[k];
            row.energy_j *= scale;
            row.duration_s *= scale;
            row.flops_cfg *= scale; /* N T FLOPs_denoise 2^cfg */
            rc = esl_dataset_append(*out, &row);
        }
    }
    if (rc != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

int esl__dataset_split(esl_dataset **in, esl_dataset **out, const esl_dataset *ds,
                       const unsigned char *is_in)
{
    string_memo *memo = calloc(2, sizeof *memo);
    *in = *out = NULL;
    int rc = memo != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
    if (rc == ESL_OK)
        rc = esl_dataset_new(in, ds->origin, ds->convention);
    if (rc == ESL_OK)
        rc = esl_dataset_new(out, ds->origin, ds->convention);
    for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++)
        rc = is_in[i] ? append_memo(*in, &memo[0], &ds->rows[i])
                      : append_memo(*out, &memo[1], &ds->rows[i]);
    free(memo);
    if (rc != ESL_OK) {
        esl_dataset_free(*in);
        esl_dataset_free(*out);
        *in = *out = NULL;
    }
    return rc;
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

/* Room for `rows` rows in a new dataset, asked for once: a file's rows then
 * never move while it is read (growing by doubling copies the array and
 * faults its pages in twice). The room is address space until rows are
 * written into it. A failure only leaves the dataset to grow as it goes. */
static void reserve_rows(esl_dataset *ds, size_t rows)
{
    if (ds->cap >= rows || rows > SIZE_MAX / 2 / sizeof *ds->rows)
        return;
    esl_row *grown = realloc(ds->rows, rows * sizeof *grown);
    if (grown == NULL)
        return;
    ds->rows = grown;
    ds->cap = rows;
    esl__advise_huge(grown, rows * sizeof *grown);
}

/* The fewest bytes a data row takes: "m,g,d,0,1,1,1,1,1\n". */
#define MIN_ROW_BYTES 18

int esl__data_open(FILE **out, const char *path)
{
    *out = NULL;
    /* A missing file or a folder is a mistake in the input (exit 2 in the
     * tool), as for every other file esl reads; only a failing read is EIO. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return esl__fail(ESL_EINVAL, "%s: is a directory, not a CSV file", path);
    if ((*out = fopen(path, "rb")) == NULL)
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: cannot open: %s", path,
                         strerror(errno));
    return ESL_OK;
}

int esl_dataset_load(esl_dataset **out, const char *path, const esl_data_opts *opts)
{
    *out = NULL;
    struct stat st;
    FILE *fp = NULL;
    int rc = esl__data_open(&fp, path);
    if (rc != ESL_OK)
        return rc;
    rc = esl_dataset_new(out, path, conv_of(opts));
    /* A large regular file: room for as many rows as it could hold. */
    if (rc == ESL_OK && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size > (off_t)(1 << 20))
        reserve_rows(*out, (size_t)st.st_size / MIN_ROW_BYTES);
    if (rc == ESL_OK && (rc = esl_data_read(fp, path, opts, append_cb, *out)) != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
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

int esl_dataset_builtin_mlenergy(esl_dataset **out, esl_convention convention)
{
    esl_data_opts opts = {.convention = convention};
    return esl_dataset_parse(out, esl__mlenergy_v2_csv, esl__mlenergy_v2_csv_len,
                             "builtin:mlenergy_v2.csv", &opts);
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
    strings_free(ds->strings);
    free(ds->rows);
    free(ds->origin);
    free(ds);
}
