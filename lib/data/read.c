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
    COL_ENERGY, COL_BATCH, COL_KIND, COL_DURATION, COL_IDLE, COL_SOURCE, COL_GPUS, COL_COUNT
};

static const char *const column_names[COL_COUNT] = {
    "model", "gpu", "dtype", "cfg", "height", "width", "steps", "prompts",
    "energy_j", "batch_size", "energy_kind", "duration_s", "idle_w", "source", "num_gpus",
};

/* Columns every dataset must have; energy_j only when energy is required. */
#define REQUIRED_COLUMNS COL_ENERGY

#define MAX_FIELDS 64
#define MAX_MODELS 64
#define WORK_CACHE_MIN 256 /* slots of the work table at first; it doubles at half full */

/*
 * The work of one image size of one model: every input of esl_row_set_work
 * but the steps, prompts and CFG, which only scale its counts (the layer
 * plan and each component's FLOPs depend on the model and size alone; the
 * engine's one check that reads the steps, an overflow of one image's
 * FLOPs, is made per row by esl__flops_image). Large datasets repeat a few
 * hundred sizes, so each is counted once and kept in an open-addressing
 * table on the full key that grows instead of evicting: a size is never
 * counted twice.
 */
typedef struct work_entry {
    const esl_model *model; /* NULL: empty slot */
    int64_t height, width;
    esl_row work;           /* esl_row_set_work's result for one prompt, one step, no CFG */
    int64_t text, denoise, decode; /* the engine's integer counts per stage */
} work_entry;

typedef struct work_cache {
    work_entry *slots;
    size_t cap, used; /* cap is a power of two */
} work_cache;

/* Sizes counted by readers on this thread (esl__data_work_builds). */
static _Thread_local size_t work_builds;

typedef struct reader {
    const char *origin;
    const esl_data_opts *opts;
    esl_row_fn fn;
    void *ctx;
    int status;           /* first failure; once set, callbacks do nothing */
    int64_t line;         /* line being fed to the parser */
    int header_done;
    int quote_open;       /* a quoted field continues past the last line fed */
    int mid_line;         /* the last piece fed to libcsv did not end a line */
    size_t n_fields;      /* fields seen in the current record */
    int map[MAX_FIELDS];  /* field index -> column, for the header's columns */
    size_t n_header;
    char *field[MAX_FIELDS]; /* the current record's cells: into cells[] or line_buf */
    char *cells[MAX_FIELDS];
    size_t cell_cap[MAX_FIELDS];
    char *line_buf;       /* a plain line's copy, split in place (split_plain) */
    size_t line_cap;
    struct { char *name; esl_model *model; } models[MAX_MODELS];
    size_t n_models;
    work_cache cache;
    /* The row being read, kept from record to record: every record sets the
     * fields of the header's columns (a blank optional cell puts its default
     * back) and the work, so it is cleared once, not for every record. */
    esl_row row;
} reader;

static int fail_cell(reader *r, int status, enum column c, const char *value, const char *what)
{
    return esl__fail(status, "%s:%lld: column '%s': '%s' %s", r->origin, (long long)r->line,
                     column_names[c], value, what);
}

static int parse_int(reader *r, enum column c, const char *s, int64_t min, int64_t *out)
{
    /* Up to 18 plain digits cannot overflow: read them here, and anything
     * else (signs, blanks, long numbers, errors) through strtoll. */
    int64_t fast = 0;
    size_t n = 0;
    for (; n < 18 && s[n] >= '0' && s[n] <= '9'; n++)
        fast = fast * 10 + (s[n] - '0');
    if (n > 0 && s[n] == '\0' && fast >= min) {
        *out = fast;
        return ESL_OK;
    }
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

/* Exact powers of ten: 10^22 is the largest a double holds exactly. */
static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * Plain decimals ("2.5", "132741", "2.62965e+06") whose digits fit 2^53 and
 * whose power of ten is at most 22 either way are read exactly as strtod
 * reads them: the digits and the power are both exact doubles, so one
 * correctly rounded multiplication or division gives the correctly rounded
 * value (Clinger, "How to read floating point numbers accurately", PLDI
 * 1990, the fast path). @return 1 with *out set, 0 to fall back to strtod
 */
static int fast_real(const char *s, double *out)
{
    uint64_t m = 0;
    int digits = 0, exp10 = 0, any = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, any = 1) {
        if (m == 0 && *p == '0')
            continue; /* leading zeros count for nothing */
        if (++digits > 19)
            return 0;
        m = m * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, any = 1) {
            exp10--;
            if (m == 0 && *p == '0')
                continue;
            if (++digits > 19)
                return 0;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    }
    if (!any)
        return 0;
    if (*p == 'e' || *p == 'E') {
        int sign = 1, e = 0, n = 0;
        p++;
        if (*p == '+' || *p == '-')
            sign = *p++ == '-' ? -1 : 1;
        for (; *p >= '0' && *p <= '9' && n < 4; p++, n++)
            e = e * 10 + (*p - '0');
        if (n == 0 || n == 4)
            return 0;
        exp10 += sign * e;
    }
    if (*p != '\0' || m > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
        return 0;
    double v = (double)m;
    *out = exp10 >= 0 ? v * exact_pow10[exp10] : v / exact_pow10[-exp10];
    return 1;
}

static int parse_real(reader *r, enum column c, const char *s, int positive, double *out)
{
    double v;
    if (fast_real(s, &v) && (positive ? v > 0.0 : v >= 0.0)) {
        *out = v;
        return ESL_OK;
    }
    char *end;
    errno = 0;
    v = strtod(s, &end);
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
        if (esl__same_name(r->models[i].name, name)) {
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
        const char *name = r->field[i];
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
                             "duration_s, idle_w, source, num_gpus)",
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

/*
 * Copy what esl_row_set_work computes (all but flops_cfg, which scales with
 * the prompts) from a cached one-prompt row. A new work field of esl_row
 * needs one line here.
 */
static void copy_work(esl_row *dst, const esl_row *work)
{
    dst->text_flops = work->text_flops;
    dst->denoise_flops = work->denoise_flops;
    dst->decode_flops = work->decode_flops;
    dst->denoise_params = work->denoise_params;
    dst->denoise_ops = work->denoise_ops;
    dst->denoise_attn_share = work->denoise_attn_share;
    dst->cfg_batched = work->cfg_batched;
    dst->plan_linear_flops = work->plan_linear_flops;
    dst->plan_attn_flops = work->plan_attn_flops;
    dst->plan_conv_flops = work->plan_conv_flops;
    dst->plan_misc_flops = work->plan_misc_flops;
    dst->plan_text_flops = work->plan_text_flops;
    dst->plan_decode_flops = work->plan_decode_flops;
    dst->flops_exact = work->flops_exact;
}

size_t esl__data_work_builds(void)
{
    return work_builds;
}

static uint64_t mix64(uint64_t h)
{
    /* The finaliser of splitmix64: every input bit reaches every output bit. */
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

static uint64_t work_hash(const esl_model *m, int64_t height, int64_t width)
{
    uint64_t h = mix64((uint64_t)(uintptr_t)m);
    return mix64(h ^ (uint64_t)height ^ (uint64_t)width << 32);
}

static work_entry *work_slot(work_entry *slots, size_t cap, const esl_model *m, int64_t height,
                             int64_t width)
{
    size_t i = (size_t)work_hash(m, height, width) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1)) {
        work_entry *e = &slots[i];
        if (e->model == NULL || (e->model == m && e->height == height && e->width == width))
            return e;
    }
}

static int work_grow(work_cache *c)
{
    size_t cap = c->cap ? 2 * c->cap : WORK_CACHE_MIN;
    work_entry *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->cap; i++) {
        const work_entry *e = &c->slots[i];
        if (e->model != NULL)
            *work_slot(slots, cap, e->model, e->height, e->width) = *e;
    }
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return ESL_OK;
}

/* The work of a row's model and size, counted on first sight, and the check
 * of its steps and CFG. */
static int cached_work(reader *r, const esl_model *m, const esl_row *row, const esl_row **out)
{
    work_cache *c = &r->cache;
    int rc;
    if (2 * (c->used + 1) > c->cap && (rc = work_grow(c)) != ESL_OK)
        return rc;
    work_entry *e = work_slot(c->slots, c->cap, m, row->height, row->width);
    if (e->model == NULL) {
        esl_row one = *row;
        esl_flops f;
        one.prompts = one.steps = 1;
        one.cfg = 0;
        work_builds++;
        if ((rc = esl__row_set_work(&one, m, (int)r->opts->convention, &f)) != ESL_OK)
            return esl__fail_prefix(rc, "%s:%lld: ", r->origin, (long long)r->line);
        one.model = one.gpu = one.dtype = one.source = NULL; /* the reader's cells: not kept */
        *e = (work_entry){m, row->height, row->width, one, f.text_flops, f.denoise_flops_per_step,
                          f.decode_flops};
        c->used++;
    }
    int64_t image;
    if ((rc = esl__flops_image(&image, m, e->text, e->denoise, e->decode, row->steps, row->cfg)) !=
        ESL_OK)
        return esl__fail_prefix(rc, "%s:%lld: ", r->origin, (long long)r->line);
    *out = &e->work;
    return ESL_OK;
}

/* A blank optional cell: its field as a row without the column has it. */
static void blank_cell(esl_row *row, enum column c)
{
    switch (c) {
    case COL_SOURCE: row->source = NULL; break;
    case COL_BATCH: row->batch_size = 1; break;
    case COL_GPUS: row->num_gpus = 1; break;
    case COL_ENERGY: row->energy_j = 0; break;
    case COL_DURATION: row->duration_s = 0; break;
    case COL_IDLE: row->idle_w = 0; break;
    case COL_KIND: row->energy_kind = ESL_ENERGY_TOTAL; break;
    default: break;
    }
}

static int convert_row(reader *r, esl_row *row)
{
    int rc;
    row->present = 0;
    row->line = r->line;
    for (size_t i = 0; i < r->n_fields; i++) {
        enum column c = (enum column)r->map[i];
        char *s = r->field[i];
        int64_t v;
        if (s[0] == '\0') {
            if (c <= COL_PROMPTS || (c == COL_ENERGY && !r->opts->no_energy))
                return esl__fail(ESL_EINVAL, "%s:%lld: column '%s' is empty", r->origin,
                                 (long long)r->line, column_names[c]);
            blank_cell(row, c); /* an optional cell left blank */
            continue;
        }
        switch (c) {
        case COL_MODEL: row->model = s; break;
        case COL_GPU: row->gpu = s; break;
        case COL_DTYPE: row->dtype = s; break;
        case COL_SOURCE: row->source = s; row->present |= ESL_ROW_SOURCE; break;
        case COL_CFG:
            if ((s[0] != '0' && s[0] != '1') || s[1] != '\0')
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
        case COL_GPUS:
            if ((rc = parse_int(r, c, s, 1, &v)) != ESL_OK) return rc;
            if (v > ESL_MAX_GPUS)
                return fail_cell(r, ESL_EINVAL, c, s, "is above the most GPUs esl models (1024)");
            row->num_gpus = v;
            row->present |= ESL_ROW_GPUS;
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
    const esl_row *work = NULL;
    if ((rc = cached_work(r, m, row, &work)) != ESL_OK)
        return rc;
    copy_work(row, work);
    /* Section 3.3, as esl_flops_count computes it: N * T * FLOPs_denoise * 2^cfg. */
    row->flops_cfg = (double)row->prompts * (double)row->steps * work->denoise_flops *
                     (row->cfg ? 2.0 : 1.0);
    return ESL_OK;
}

static void add_cell(reader *r, const char *s, size_t len)
{
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
    r->field[i] = r->cells[i];
    if (memchr(r->cells[i], '\0', len) != NULL) {
        r->status = esl__fail(ESL_EPARSE, "%s:%lld: a cell holds a NUL byte", r->origin,
                              (long long)r->line);
        return;
    }
    r->n_fields++;
}

static void on_field(void *s, size_t len, void *data)
{
    add_cell(data, s, len);
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
        r->status = convert_row(r, &r->row);
        if (r->status == ESL_OK)
            r->status = r->fn(r->ctx, &r->row);
    }
    r->n_fields = 0;
}

static void reader_release(reader *r, struct csv_parser *p)
{
    csv_free(p);
    free(r->cache.slots);
    free(r->line_buf);
    for (size_t i = 0; i < MAX_FIELDS; i++)
        free(r->cells[i]);
    for (size_t i = 0; i < r->n_models; i++) {
        free(r->models[i].name);
        esl_model_free(r->models[i].model);
    }
}

/*
 * Split a whole line, `n` bytes with its newline, at its commas when libcsv
 * would split it there and nowhere else: it starts a record (no quoted field
 * left open, not the rest of a line fed before), and has no quote, carriage
 * return, space or tab (libcsv trims those around unquoted fields) or NUL.
 * Most lines of a large dataset are plain; splitting them here costs a
 * fraction of libcsv's byte-at-a-time state machine. @return 0 when the
 * line is not plain (nothing done), 1 when its record was handled
 */
/* The top bit of each byte of w that equals c, and no other bit. */
static inline uint64_t bytes_equal(uint64_t w, unsigned char c)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
    uint64_t x = w ^ (0x0101010101010101u * c); /* a zero byte where w has c */
    return ~(((x & low7) + low7) | x | low7);
}

enum { COMMA = 1, NOT_PLAIN = 2 };
static const unsigned char plain_class[256] = {
    [','] = COMMA, ['"'] = NOT_PLAIN, ['\r'] = NOT_PLAIN, [' '] = NOT_PLAIN, ['\t'] = NOT_PLAIN,
    ['\0'] = NOT_PLAIN,
};

static int split_plain(reader *r, const char *s, size_t n)
{
    if (!r->header_done || r->quote_open || r->mid_line || n < 2 || s[n - 1] != '\n')
        return 0;
    if (r->line_cap < n) {
        size_t cap = n < 256 ? 256 : 2 * n;
        char *grown = realloc(r->line_buf, cap);
        if (grown == NULL)
            return 0; /* libcsv's path reports the shortage */
        r->line_buf = grown;
        r->line_cap = cap;
    }
    char *line = r->line_buf;
    size_t n_fields = 0, i = 0;
    line[0] = '\0';
    r->field[n_fields++] = line;
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes at a time: a word with a byte that is not plain leaves
     * the line to libcsv; its commas end fields, found by their bits. */
    for (; i + 8 < n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        if (bytes_equal(w, '"') | bytes_equal(w, '\r') | bytes_equal(w, ' ') |
            bytes_equal(w, '\t') | bytes_equal(w, '\0'))
            return 0;
        memcpy(line + i, &w, sizeof w);
        for (uint64_t commas = bytes_equal(w, ','); commas != 0; commas &= commas - 1) {
            size_t at = i + (size_t)__builtin_ctzll(commas) / 8;
            if (n_fields == MAX_FIELDS)
                return 0; /* libcsv's path names the error */
            line[at] = '\0';
            r->field[n_fields++] = line + at + 1;
        }
    }
#endif
    for (; i + 1 < n; i++) {
        char c = s[i];
        if (plain_class[(unsigned char)c] != 0) {
            if (plain_class[(unsigned char)c] == NOT_PLAIN)
                return 0;
            if (n_fields == MAX_FIELDS)
                return 0; /* libcsv's path names the error */
            c = '\0';
            r->field[n_fields++] = line + i + 1;
        }
        line[i] = c;
    }
    line[n - 1] = '\0';
    r->n_fields = n_fields;
    on_record('\n', r);
    return 1;
}

/* Feed one chunk, split at line ends so r->line is exact. */
static int feed(reader *r, struct csv_parser *p, const char *buf, size_t len)
{
    while (len > 0 && r->status == ESL_OK) {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
        if (!split_plain(r, buf, n)) {
            if (csv_parse(p, buf, n, on_field, on_record, r) != n && r->status == ESL_OK)
                return esl__fail(ESL_EPARSE, "%s:%lld: %s", r->origin, (long long)r->line,
                                 csv_strerror(csv_error(p)));
            /* Quotes come in pairs ("" inside a quoted field): an odd count
             * leaves a quoted field open across the line end. */
            for (const char *q = buf; (q = memchr(q, '"', (size_t)(buf + n - q))) != NULL; q++)
                r->quote_open = !r->quote_open;
            r->mid_line = nl == NULL;
        }
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
                  .line = 1, .row = {.batch_size = 1, .num_gpus = 1}};
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
