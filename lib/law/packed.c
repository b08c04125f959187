/*
 * packed.c - a fit straight from a dataset file, without holding its rows
 * (esl_law_fit_read, esl_law_fit_load).
 *
 * A large dataset repeats a few thousand configurations: rows that differ
 * only in their measured energy (and the line they were read from). The
 * reader's rows are packed as they stream past: each distinct row but for
 * those two is kept once, as a "cell", and each row as its cell's index and
 * its energy, 12 bytes instead of a whole esl_row. A linear form's fit by
 * cells (fit.c) reads nothing else. The lines of the rows are kept as the
 * places where they do not follow one another (blank lines, quoted line
 * breaks), so every row can be rebuilt exactly: fits that need the rows
 * themselves (a nonlinear form, a robust fit, a small dataset, a row the fit
 * refuses, which its message names by line) get the dataset back and go
 * through esl_law_fit.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "esl/law.h"
#include "law/internal.h"

/* Rows that do not follow the row before them by one line. */
typedef struct line_jump {
    size_t row;
    int64_t line;
} line_jump;

/* The key of a cell: every column a row was read with but energy_j (the
 * work the reader adds depends on the model, size, steps, prompts and CFG
 * alone), its strings interned (equal strings, equal pointers). */
typedef struct cell_key {
    uint64_t hash;
    const char *str[4]; /* model, gpu, dtype, source */
    int64_t height, width, steps, prompts, batch_size, num_gpus;
    uint64_t duration, idle; /* the doubles' bits */
    unsigned flags;          /* cfg, energy_kind, present */
} cell_key;

#define BATCH 64     /* rows placed together: their table slots fetched ahead */
#define COLUMN_SEEN 16 /* a column's values looked up by comparison before the table */

struct esl__packed {
    esl_dataset *cells; /* one row per cell, its energy_j and line those of its first row */
    cell_key *keys;     /* per cell */
    size_t key_cap;
    uint64_t *slots;    /* open addressing on the cells' keys: cell + 1 in the low half, the
                         * key's hash in the high half (compared before the key); 0 empty */
    size_t slot_cap;    /* a power of two */
    uint32_t *cell;     /* per row */
    double *energy_j;   /* per row */
    size_t n, cap;
    line_jump *jumps;
    size_t n_jumps, cap_jumps;
    int64_t last_line;
    /* interned strings: a set that grows, and each column's first values */
    char **strs;
    size_t str_cap, n_strs;
    const char *seen[4][COLUMN_SEEN];
    size_t n_seen[4];
    /* rows read but not yet placed in a cell: rows n - n_batch .. n - 1 */
    esl_row batch[BATCH];
    cell_key batch_key[BATCH];
    size_t n_batch;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    /* splitmix64's finaliser on h ^ v: every input bit reaches every output bit */
    h ^= v;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

static uint64_t str_hash(const char *s)
{
    uint64_t f = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        f = (f ^ (unsigned char)*s) * 1099511628211u;
    return f;
}

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* The packed rows' copy of `s` (NULL for NULL), added on first sight. */
static int intern(esl__packed *p, const char *s, const char **out)
{
    *out = NULL;
    if (s == NULL)
        return ESL_OK;
    if (2 * (p->n_strs + 1) > p->str_cap) {
        size_t cap = p->str_cap ? 2 * p->str_cap : 64;
        char **strs = calloc(cap, sizeof *strs);
        if (strs == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        for (size_t i = 0; i < p->str_cap; i++) {
            if (p->strs[i] == NULL)
                continue;
            size_t at = (size_t)str_hash(p->strs[i]) & (cap - 1);
            while (strs[at] != NULL)
                at = (at + 1) & (cap - 1);
            strs[at] = p->strs[i];
        }
        free(p->strs);
        p->strs = strs;
        p->str_cap = cap;
    }
    size_t at = (size_t)str_hash(s) & (p->str_cap - 1);
    for (; p->strs[at] != NULL; at = (at + 1) & (p->str_cap - 1))
        if (strcmp(p->strs[at], s) == 0) {
            *out = p->strs[at];
            return ESL_OK;
        }
    if ((p->strs[at] = esl__strdup(s)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    p->n_strs++;
    *out = p->strs[at];
    return ESL_OK;
}

/* A column's value interned: most columns hold a few values, compared
 * first. */
static int intern_column(esl__packed *p, int column, const char *s, const char **out)
{
    if (s == NULL) {
        *out = NULL;
        return ESL_OK;
    }
    for (size_t i = 0; i < p->n_seen[column]; i++) {
        const char *v = p->seen[column][i];
        if (v[0] == s[0] && strcmp(v, s) == 0) {
            *out = v;
            return ESL_OK;
        }
    }
    int rc = intern(p, s, out);
    if (rc == ESL_OK && p->n_seen[column] < COLUMN_SEEN)
        p->seen[column][p->n_seen[column]++] = *out;
    return rc;
}

static cell_key key_of(const esl_row *r)
{
    cell_key k = {0, {r->model, r->gpu, r->dtype, r->source}, r->height, r->width, r->steps,
                  r->prompts, r->batch_size, r->num_gpus, bits_of(r->duration_s),
                  bits_of(r->idle_w), (unsigned)r->cfg | (unsigned)r->energy_kind << 1 |
                  r->present << 4};
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 4; i++)
        h = mix(h, (uint64_t)(uintptr_t)k.str[i]);
    h = mix(h, (uint64_t)k.height ^ (uint64_t)k.width << 24 ^ (uint64_t)k.steps << 44);
    h = mix(h, (uint64_t)k.prompts ^ (uint64_t)k.batch_size << 24 ^ (uint64_t)k.num_gpus << 48);
    h = mix(h, k.duration ^ k.flags);
    k.hash = mix(h, k.idle);
    return k;
}

static int key_equal(const cell_key *a, const cell_key *b)
{
    return a->hash == b->hash && a->height == b->height && a->width == b->width &&
           a->steps == b->steps && a->prompts == b->prompts && a->str[0] == b->str[0] &&
           a->str[1] == b->str[1] && a->str[2] == b->str[2] && a->str[3] == b->str[3] &&
           a->batch_size == b->batch_size && a->num_gpus == b->num_gpus &&
           a->duration == b->duration && a->idle == b->idle && a->flags == b->flags;
}

#define TAG(hash) ((hash) & UINT64_C(0xffffffff00000000))

static uint64_t slot_of(size_t cell, uint64_t hash)
{
    return TAG(hash) | (uint64_t)(cell + 1);
}

static int grow_slots(esl__packed *p)
{
    size_t cap = p->slot_cap ? 2 * p->slot_cap : 1024;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t c = 0; c < p->cells->n_rows; c++) {
        size_t at = (size_t)p->keys[c].hash & (cap - 1);
        while (slots[at] != 0)
            at = (at + 1) & (cap - 1);
        slots[at] = slot_of(c, p->keys[c].hash);
    }
    free(p->slots);
    p->slots = slots;
    p->slot_cap = cap;
    return ESL_OK;
}

/* The cell of a row, added on first sight. */
static int cell_of(esl__packed *p, const esl_row *row, const cell_key *k, uint32_t *out)
{
    size_t at = (size_t)k->hash & (p->slot_cap - 1);
    for (; p->slots[at] != 0; at = (at + 1) & (p->slot_cap - 1)) {
        uint64_t s = p->slots[at];
        uint32_t c = (uint32_t)s - 1;
        if (TAG(s) == TAG(k->hash) && key_equal(&p->keys[c], k)) {
            *out = c;
            return ESL_OK;
        }
    }
    size_t c = p->cells->n_rows;
    if (c >= UINT32_MAX - 1)
        return esl__fail(ESL_ENOMEM, "out of memory: more than %u distinct rows", UINT32_MAX - 1);
    if (c == p->key_cap) {
        size_t cap = c ? 2 * c : 256;
        cell_key *grown = realloc(p->keys, cap * sizeof *grown);
        if (grown == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        p->keys = grown;
        p->key_cap = cap;
    }
    int rc = esl_dataset_append(p->cells, row);
    if (rc != ESL_OK)
        return rc;
    p->keys[c] = *k;
    p->slots[at] = slot_of(c, k->hash);
    *out = (uint32_t)c;
    if (2 * (c + 1) > p->slot_cap)
        return grow_slots(p);
    return ESL_OK;
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Place the batch's rows in their cells, in order. Each lookup would wait
 * on memory twice (its slot, then its cell's key), so both are fetched for
 * the whole batch first. */
static int flush(esl__packed *p)
{
    size_t first = p->n - p->n_batch;
    for (size_t b = 0; b < p->n_batch; b++)
        PREFETCH(&p->slots[p->batch_key[b].hash & (p->slot_cap - 1)]);
    for (size_t b = 0; b < p->n_batch; b++) {
        uint64_t s = p->slots[p->batch_key[b].hash & (p->slot_cap - 1)];
        if (s != 0) {
            uint32_t c = (uint32_t)s - 1;
            PREFETCH(&p->keys[c]);
            PREFETCH((const char *)&p->keys[c] + sizeof(cell_key) - 1);
        }
    }
    int rc = ESL_OK;
    for (size_t b = 0; b < p->n_batch && rc == ESL_OK; b++)
        rc = cell_of(p, &p->batch[b], &p->batch_key[b], &p->cell[first + b]);
    p->n_batch = 0;
    return rc;
}

static int on_row(void *ctx, const esl_row *row)
{
    esl__packed *p = ctx;
    int rc;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4096;
        uint32_t *cell = realloc(p->cell, cap * sizeof *cell);
        if (cell != NULL)
            p->cell = cell;
        double *e = cell != NULL ? realloc(p->energy_j, cap * sizeof *e) : NULL;
        if (e == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        p->energy_j = e;
        p->cap = cap;
    }
    if (p->n == 0 || row->line != p->last_line + 1) {
        if (p->n_jumps == p->cap_jumps) {
            size_t cap = p->cap_jumps ? 2 * p->cap_jumps : 16;
            line_jump *grown = realloc(p->jumps, cap * sizeof *grown);
            if (grown == NULL)
                return esl__fail(ESL_ENOMEM, "out of memory");
            p->jumps = grown;
            p->cap_jumps = cap;
        }
        p->jumps[p->n_jumps++] = (line_jump){p->n, row->line};
    }
    p->last_line = row->line;
    esl_row *copy = &p->batch[p->n_batch];
    *copy = *row;
    if ((rc = intern_column(p, 0, row->model, (const char **)&copy->model)) != ESL_OK ||
        (rc = intern_column(p, 1, row->gpu, (const char **)&copy->gpu)) != ESL_OK ||
        (rc = intern_column(p, 2, row->dtype, (const char **)&copy->dtype)) != ESL_OK ||
        (rc = intern_column(p, 3, row->source, (const char **)&copy->source)) != ESL_OK)
        return rc;
    p->batch_key[p->n_batch++] = key_of(copy);
    p->energy_j[p->n++] = row->energy_j;
    return p->n_batch == BATCH ? flush(p) : ESL_OK;
}

void esl__packed_free(esl__packed *p)
{
    if (p == NULL)
        return;
    esl_dataset_free(p->cells);
    free(p->keys);
    free(p->slots);
    for (size_t i = 0; i < p->str_cap; i++)
        free(p->strs[i]);
    free(p->strs);
    free(p->cell);
    free(p->energy_j);
    free(p->jumps);
    free(p);
}

int esl__packed_read(esl__packed **out, FILE *fp, const char *origin, const esl_data_opts *opts)
{
    esl__packed *p = calloc(1, sizeof *p);
    *out = NULL;
    int rc = p != NULL ? esl_dataset_new(&p->cells, origin,
                                         opts != NULL ? opts->convention : ESL_CONVENTION_PAPER)
                       : esl__fail(ESL_ENOMEM, "out of memory");
    if (rc == ESL_OK)
        rc = grow_slots(p);
    if (rc == ESL_OK)
        rc = esl_data_read(fp, origin, opts, on_row, p);
    if (rc == ESL_OK)
        rc = flush(p);
    free(p != NULL ? p->slots : NULL); /* the cells are all known now */
    if (p != NULL)
        p->slots = NULL;
    if (rc != ESL_OK) {
        esl__packed_free(p);
        return rc;
    }
    *out = p;
    return ESL_OK;
}

size_t esl__packed_rows(const esl__packed *p)
{
    return p->n;
}

const esl_dataset *esl__packed_cells(const esl__packed *p)
{
    return p->cells;
}

const uint32_t *esl__packed_cell(const esl__packed *p)
{
    return p->cell;
}

const double *esl__packed_energy(const esl__packed *p)
{
    return p->energy_j;
}

void esl__packed_row(const esl__packed *p, size_t i, esl_row *out)
{
    /* the last jump at or before row i */
    size_t lo = 0, hi = p->n_jumps;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->jumps[mid].row <= i)
            lo = mid;
        else
            hi = mid;
    }
    *out = p->cells->rows[p->cell[i]];
    out->energy_j = p->energy_j[i];
    out->line = p->jumps[lo].line + (int64_t)(i - p->jumps[lo].row);
}

/* The rows back as a dataset (its strings the cells'). */
static int unpack(esl_dataset **out, const esl__packed *p)
{
    int rc = esl_dataset_new(out, p->cells->origin, p->cells->convention);
    if (rc == ESL_OK && p->n > 0) {
        esl_row *rows = malloc(p->n * sizeof *rows);
        if (rows == NULL)
            rc = esl__fail(ESL_ENOMEM, "out of memory");
        else
            free((*out)->rows), (*out)->rows = rows, (*out)->cap = p->n;
    }
    for (size_t i = 0, j = 0; rc == ESL_OK && i < p->n; i++) {
        esl_row row = p->cells->rows[p->cell[i]];
        if (j + 1 < p->n_jumps && p->jumps[j + 1].row == i)
            j++;
        row.energy_j = p->energy_j[i];
        row.line = p->jumps[j].line + (int64_t)(i - p->jumps[j].row);
        rc = esl_dataset_append(*out, &row);
    }
    if (rc != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
    }
    return rc;
}

int esl_law_fit_read(esl_law **out, FILE *fp, const char *origin, const esl_data_opts *data,
                     const esl_fit_opts *opts)
{
    esl__packed *p = NULL;
    *out = NULL;
    int rc = esl__packed_read(&p, fp, origin, data);
    if (rc != ESL_OK)
        return rc;
    rc = esl__law_fit_packed(out, p, opts);
    if (rc == ESL_OK && *out == NULL) { /* the fit needs the rows themselves */
        esl_dataset *ds = NULL;
        if ((rc = unpack(&ds, p)) == ESL_OK) {
            esl__packed_free(p);
            p = NULL;
            rc = esl_law_fit(out, ds, opts);
        }
        esl_dataset_free(ds);
    }
    esl__packed_free(p);
    return rc;
}

int esl_law_fit_load(esl_law **out, const char *path, const esl_data_opts *data,
                     const esl_fit_opts *opts)
{
    FILE *fp = NULL;
    *out = NULL;
    int rc = esl__data_open(&fp, path);
    if (rc != ESL_OK)
        return rc;
    rc = esl_law_fit_read(out, fp, path, data, opts);
    fclose(fp);
    return rc;
}
