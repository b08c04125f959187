/*
 * read.c - the dataset CSV reader: libcsv splits records, this file checks
 * the header, converts each cell with a message that names the file, line,
 * column and value, and asks the FLOP engine for each row's FLOPs_cfg.
 *
 * Input is fed to libcsv one line at a time so that every message can give
 * the line a record ended on even when blank lines are skipped. Models are
 * looked up once per name and kept for the rest of the file.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "core/internal.h"
#include "esl/data.h"

enum column {
    COL_MODEL, COL_GPU, COL_DTYPE, COL_CFG, COL_HEIGHT, COL_WIDTH, COL_STEPS, COL_PROMPTS,
    COL_ENERGY, COL_BATCH, COL_KIND, COL_DURATION, COL_IDLE, COL_SOURCE, COL_COUNT
};

static const char *const column_names[COL_COUNT] = {
    "model", "gpu", "dtype", "cfg", "height", "width", "steps", "prompts",
    "energy_j", "batch_size", "energy_kind", "duration_s", "idle_w", "source",
};

/* Columns every dataset must have; energy_j only when energy is required. */
#define REQUIRED_COLUMNS COL_ENERGY

#define MAX_FIELDS 64
#define MAX_MODELS 64
#define FLOP_CACHE 512 /* direct-mapped: large datasets repeat a few configurations */

typedef struct flop_entry {
    const esl_model *model;
    int64_t height, width, steps;
    int cfg;
    esl_row work;    /* the row's FLOPs per prompt and denoiser work (esl_row_set_work) */
} flop_entry;

typedef struct reader {
    const char *origin;
    const esl_data_opts *opts;
    esl_row_fn fn;
    void *ctx;
    int status;           /* first failure; once set, callbacks do nothing */
    int64_t line;         /* line being fed to the parser */
    int header_done;
    size_t n_fields;      /* fields seen in the current record */
    int map[MAX_FIELDS];  /* field index -> column, for the header's columns */
    size_t n_header;
    char *cells[MAX_FIELDS];
    size_t cell_cap[MAX_FIELDS];
    struct { char *name; esl_model *model; } models[MAX_MODELS];
    size_t n_models;
    flop_entry *cache;
} reader;

static int fail_cell(reader *r, int status, enum column c, const char *value, const char *what)
{
    return esl__fail(status, "%s:%lld: column '%s': '%s' %s", r->origin, (long long)r->line,
                     column_names[c], value, what);
}

static int parse_int(reader *r, enum column c, const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return fail_cell(r, ESL_EPARSE, c, s, "is not an integer");
    if (errno == ERANGE || v < min)
        return fail_cell(r, ESL_EINVAL, c, s,
                         min == 1 ? "is not a positive integer" : "is out of range");
    *out = v;
    return ESL_OK;
}

static int parse_real(reader *r, enum column c, const char *s, int positive, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return fail_cell(r, ESL_EPARSE, c, s, "is not a finite number");
    if (positive ? !(v > 0.0) : v < 0.0)
        return fail_cell(r, ESL_EINVAL, c, s,
                         positive ? "is not a positive number" : "is negative");
    *out = v;
    return ESL_OK;
}

static int find_model(reader *r, const char *name, const esl_model **out)
{
    if (r->opts->arch != NULL && strcmp(r->opts->arch->name, name) == 0) {
        *out = r->opts->arch;
        return ESL_OK;
    }
    for (size_t i = 0; i < r->n_models; i++)
        if (strcmp(r->models[i].name, name) == 0) {
            *out = r->models[i].model;
            return ESL_OK;
        }
    esl_model *m = NULL;
    int rc = esl_catalog_find(&m, name);
    if (rc != ESL_OK)
        return esl__fail_prefix(rc, "%s:%lld: column 'model': ", r->origin, (long long)r->line);
    if (r->n_models == MAX_MODELS) { /* keep it for this row only */
        esl_model_free(r->models[MAX_MODELS - 1].model);
        free(r->models[MAX_MODELS - 1].name);
        r->n_models--;
    }
    r->models[r->n_models].name = esl__strdup(name);
    r->models[r->n_models].model = m;
    if (r->models[r->n_models].name == NULL) {
        esl_model_free(m);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    *out = r->models[r->n_models++].model;
    return ESL_OK;
}

static int check_header(reader *r)
{
    int seen[COL_COUNT] = {0};
    for (size_t i = 0; i < r->n_fields; i++) {
        const char *name = r->cells[i];
        if (i == 0 && strncmp(name, "\xEF\xBB\xBF", 3) == 0)
            name += 3; /* a UTF-8 byte order mark, as spreadsheets save */
        int c = -1;
        for (int k = 0; k < COL_COUNT; k++)
            if (strcmp(name, column_names[k]) == 0)
                c = k;
        if (c < 0)
            return esl__fail(ESL_EINVAL,
                             "%s:%lld: unknown column '%s' (known: model, gpu, dtype, cfg, height, "
                             "width, steps, prompts, energy_j, batch_size, energy_kind, "
                             "duration_s, idle_w, source)",
                             r->origin, (long long)r->line, name);
        if (seen[c])
            return esl__fail(ESL_EINVAL, "%s:%lld: column '%s' appears twice", r->origin,
                             (long long)r->line, name);
        seen[c] = 1;
        r->map[i] = c;
    }
    for (int k = 0; k <= REQUIRED_COLUMNS; k++) {
        if (k == COL_ENERGY && r->opts->no_energy)
            continue;
        if (!seen[k])
            return esl__fail(ESL_EINVAL, "%s:%lld: missing column '%s'", r->origin,
                             (long long)r->line, column_names[k]);
    }
    r->n_header = r->n_fields;
    r->header_done = 1;
    return ESL_OK;
}

static int convert_row(reader *r, esl_row *row)
{
    int rc;
    *row = (esl_row){.batch_size = 1, .line = r->line};
    for (size_t i = 0; i < r->n_fields; i++) {
        enum column c = (enum column)r->map[i];
        char *s = r->cells[i];
        int64_t v;
        if (s[0] == '\0') {
            if (c <= COL_PROMPTS || (c == COL_ENERGY && !r->opts->no_energy))
                return esl__fail(ESL_EINVAL, "%s:%lld: column '%s' is empty", r->origin,
                                 (long long)r->line, column_names[c]);
            continue; /* an optional cell left blank */
        }
        switch (c) {
        case COL_MODEL: row->model = s; break;
        case COL_GPU: row->gpu = s; break;
        case COL_DTYPE: row->dtype = s; break;
        case COL_SOURCE: row->source = s; row->present |= ESL_ROW_SOURCE; break;
        case COL_CFG:
            if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
                return fail_cell(r, ESL_EINVAL, c, s, "is not 0 or 1");
            row->cfg = s[0] == '1';
            break;
        case COL_HEIGHT:
            if ((rc = parse_int(r, c, s, 1, &row->height)) != ESL_OK) return rc;
            break;
        case COL_WIDTH:
            if ((rc = parse_int(r, c, s, 1, &row->width)) != ESL_OK) return rc;
            break;
        case COL_STEPS:
            if ((rc = parse_int(r, c, s, 1, &row->steps)) != ESL_OK) return rc;
            break;
        case COL_PROMPTS:
            if ((rc = parse_int(r, c, s, 1, &row->prompts)) != ESL_OK) return rc;
            break;
        case COL_BATCH:
            if ((rc = parse_int(r, c, s, 1, &v)) != ESL_OK) return rc;
            row->batch_size = v;
            row->present |= ESL_ROW_BATCH;
            break;
        case COL_ENERGY:
            if ((rc = parse_real(r, c, s, 1, &row->energy_j)) != ESL_OK) return rc;
            row->present |= ESL_ROW_ENERGY;
            break;
        case COL_DURATION:
            if ((rc = parse_real(r, c, s, 0, &row->duration_s)) != ESL_OK) return rc;
            row->present |= ESL_ROW_DURATION;
            break;
        case COL_IDLE:
            if ((rc = parse_real(r, c, s, 0, &row->idle_w)) != ESL_OK) return rc;
            row->present |= ESL_ROW_IDLE;
            break;
        case COL_KIND:
            if (strcmp(s, "total") == 0)
                row->energy_kind = ESL_ENERGY_TOTAL;
            else if (strcmp(s, "dynamic") == 0)
                row->energy_kind = ESL_ENERGY_DYNAMIC;
            else
                return fail_cell(r, ESL_EINVAL, c, s, "is not 'total' or 'dynamic'");
            row->present |= ESL_ROW_KIND;
            break;
        case COL_COUNT: break;
        }
    }

    const esl_model *m = NULL;
    if ((rc = find_model(r, row->model, &m)) != ESL_OK)
        return rc;
    uint64_t h = (uint64_t)(uintptr_t)m * 31u + (uint64_t)row->height * 1000003u +
                 (uint64_t)row->width * 10007u + (uint64_t)row->steps * 101u + (uint64_t)row->cfg;
    flop_entry uncached, *e = r->cache ? &r->cache[(h ^ (h >> 17)) % FLOP_CACHE] : NULL;
    if (e == NULL || e->model != m || e->height != row->height || e->width != row->width ||
        e->steps != row->steps || e->cfg != row->cfg) {
        /* The engine's checks (size granularity, overflow) depend on all but the prompts. */
        esl_row one = *row;
        one.prompts = 1;
        if ((rc = esl_row_set_work(&one, m, r->opts->convention)) != ESL_OK)
            return esl__fail_prefix(rc, "%s:%lld: ", r->origin, (long long)r->line);
        if (e == NULL)
            e = &uncached;
        *e = (flop_entry){m, row->height, row->width, row->steps, row->cfg, one};
    }
    /* Section 3.3, as esl_flops_count computes it: N * T * FLOPs_denoise * 2^cfg. */
    row->flops_cfg = (double)row->prompts * (double)row->steps * e->work.denoise_flops *
                     (row->cfg ? 2.0 : 1.0);
    row->text_flops = e->work.text_flops;
    row->denoise_flops = e->work.denoise_flops;
    row->decode_flops = e->work.decode_flops;
    row->denoise_params = e->work.denoise_params;
    row->denoise_ops = e->work.denoise_ops;
    row->cfg_batched = e->work.cfg_batched;
    row->denoise_attn_share = e->work.denoise_attn_share;
    return ESL_OK;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->status != ESL_OK)
        return;
    if (r->n_fields == MAX_FIELDS) {
        r->status = esl__fail(ESL_EPARSE, "%s:%lld: more than %d fields", r->origin,
                              (long long)r->line, MAX_FIELDS);
        return;
    }
    size_t i = r->n_fields;
    if (r->cell_cap[i] < len + 1) {
        char *grown = realloc(r->cells[i], len + 1);
        if (grown == NULL) {
            r->status = esl__fail(ESL_ENOMEM, "out of memory");
            return;
        }
        r->cells[i] = grown;
        r->cell_cap[i] = len + 1;
    }
    if (len > 0)
        memcpy(r->cells[i], s, len);
    r->cells[i][len] = '\0';
    if (memchr(r->cells[i], '\0', len) != NULL) {
        r->status = esl__fail(ESL_EPARSE, "%s:%lld: a cell holds a NUL byte", r->origin,
                              (long long)r->line);
        return;
    }
    r->n_fields++;
}

static void on_record(int term, void *data)
{
    reader *r = data;
    (void)term;
    if (r->status != ESL_OK)
        return;
    if (!r->header_done) {
        r->status = check_header(r);
    } else if (r->n_fields != r->n_header) {
        r->status = esl__fail(ESL_EPARSE, "%s:%lld: %zu fields, the header has %zu", r->origin,
                              (long long)r->line, r->n_fields, r->n_header);
    } else {
        esl_row row;
        r->status = convert_row(r, &row);
        if (r->status == ESL_OK)
            r->status = r->fn(r->ctx, &row);
    }
    r->n_fields = 0;
}

static void reader_release(reader *r, struct csv_parser *p)
{
    csv_free(p);
    free(r->cache);
    for (size_t i = 0; i < MAX_FIELDS; i++)
        free(r->cells[i]);
    for (size_t i = 0; i < r->n_models; i++) {
        free(r->models[i].name);
        esl_model_free(r->models[i].model);
    }
}

/* Feed one chunk, split at line ends so r->line is exact. */
static int feed(reader *r, struct csv_parser *p, const char *buf, size_t len)
{
    while (len > 0 && r->status == ESL_OK) {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
        if (csv_parse(p, buf, n, on_field, on_record, r) != n && r->status == ESL_OK)
            return esl__fail(ESL_EPARSE, "%s:%lld: %s", r->origin, (long long)r->line,
                             csv_strerror(csv_error(p)));
        if (nl != NULL)
            r->line++;
        buf += n;
        len -= n;
    }
    return r->status;
}

static int finish(reader *r, struct csv_parser *p, int rc)
{
    if (rc == ESL_OK && csv_fini(p, on_field, on_record, r) != 0 && r->status == ESL_OK)
        rc = esl__fail(ESL_EPARSE, "%s: a quoted field is not closed at the end of the input",
                       r->origin);
    if (rc == ESL_OK)
        rc = r->status;
    if (rc == ESL_OK && !r->header_done)
        rc = esl__fail(ESL_EPARSE, "%s: empty input: a header line is required", r->origin);
    reader_release(r, p);
    return rc;
}

static const esl_data_opts default_opts = {ESL_CONVENTION_PAPER, NULL, 0};

static int start(reader *r, struct csv_parser *p, const char *origin, const esl_data_opts *opts,
                 esl_row_fn fn, void *ctx)
{
    *r = (reader){.origin = origin, .opts = opts ? opts : &default_opts, .fn = fn, .ctx = ctx,
                  .line = 1};
    r->cache = calloc(FLOP_CACHE, sizeof *r->cache); /* optional: NULL counts every row */
    if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return esl__fail(ESL_ENOMEM, "out of memory");
    return ESL_OK;
}

int esl_data_parse(const char *text, size_t len, const char *origin, const esl_data_opts *opts,
                   esl_row_fn fn, void *ctx)
{
    reader r;
    struct csv_parser p;
    int rc = start(&r, &p, origin, opts, fn, ctx);
    if (rc != ESL_OK)
        return rc;
    return finish(&r, &p, feed(&r, &p, text, len));
}

int esl_data_read(FILE *fp, const char *origin, const esl_data_opts *opts, esl_row_fn fn,
                  void *ctx)
{
    reader r;
    struct csv_parser p;
    int rc = start(&r, &p, origin, opts, fn, ctx);
    if (rc != ESL_OK)
        return rc;
    char buf[65536];
    size_t n;
    while (rc == ESL_OK && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        rc = feed(&r, &p, buf, n);
    if (rc == ESL_OK && ferror(fp))
        rc = esl__fail(ESL_EIO, "%s: read error", origin);
    return finish(&r, &p, rc);
}
