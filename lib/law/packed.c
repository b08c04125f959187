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
 * alone), its strings interned (equal strings, equal pointers). The
 * columns that vary from row to row in a large file are in the key itself,
 * one cache line; the others are interned together as its `cold` id. */
typedef struct cell_key {
    const char *str[3]; /* model, gpu, dtype */
    int64_t height, width, steps, prompts;
    uint32_t cold;
    uint32_t cfg;
} cell_key;

typedef struct cold_key {
    const char *source;
    int64_t batch_size, num_gpus;
    uint64_t duration, idle; /* the doubles' bits */
    unsigned flags;          /* energy_kind, present */
} cold_key;

#define BATCH 64     /* rows placed together: their table slots fetched ahead */
#define COLUMN_SEEN 16 /* a column's values looked up by comparison before the table */

struct esl__packed {
    esl_dataset *cells; /* one row per cell, its energy_j and line those of its first row */
    cell_key *keys;     /* per cell, aligned to cache lines */
    size_t key_cap;
    cold_key *colds;    /* the distinct cold parts of the keys */
    size_t n_colds, cold_cap, last_cold;
    uint32_t *cold_slots; /* open addressing on colds: index + 1, 0 empty */
    size_t cold_slot_cap;
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
    uint64_t batch_hash[BATCH];
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
        if (esl__same_name(v, s)) {
            *out = v;
            return ESL_OK;
        }
    }
    int rc = intern(p, s, out);
    if (rc == ESL_OK && p->n_seen[column] < COLUMN_SEEN)
        p->seen[column][p->n_seen[column]++] = *out;
    return rc;
}

static uint64_t cold_hash(const cold_key *c)
{
    uint64_t h = mix(0x9e3779b97f4a7c15u, (uint64_t)(uintptr_t)c->source);
    h = mix(h, (uint64_t)c->batch_size ^ (uint64_t)c->num_gpus << 32 ^ c->flags);
    h = mix(h, c->duration);
    return mix(h, c->idle);
}

static int cold_equal(const cold_key *a, const cold_key *b)
{
    return a->source == b->source && a->batch_size == b->batch_size &&
           a->num_gpus == b->num_gpus && a->duration == b->duration && a->idle == b->idle &&
           a->flags == b->flags;
}

/* The id of a row's cold part, added on first sight; the last one is
 * compared first (in a large file it seldom changes). */
static int cold_of(esl__packed *p, const esl_row *r, uint32_t *out)
{
    cold_key c = {r->source, r->batch_size, r->num_gpus, bits_of(r->duration_s),
                  bits_of(r->idle_w), (unsigned)r->energy_kind | r->present << 2};
    if (p->n_colds > 0 && cold_equal(&p->colds[p->last_cold], &c)) {
        *out = (uint32_t)p->last_cold;
        return ESL_OK;
    }
    if (2 * (p->n_colds + 1) > p->cold_slot_cap) {
        size_t cap = p->cold_slot_cap ? 2 * p->cold_slot_cap : 16;
        uint32_t *slots = calloc(cap, sizeof *slots);
        cold_key *colds = slots != NULL ? realloc(p->colds, cap / 2 * sizeof *colds) : NULL;
        if (colds == NULL) {
            free(slots);
            return esl__fail(ESL_ENOMEM, "out of memory");
        }
        p->colds = colds;
        for (size_t i = 0; i < p->n_colds; i++) {
            size_t at = (size_t)cold_hash(&colds[i]) & (cap - 1);
            while (slots[at] != 0)
                at = (at + 1) & (cap - 1);
            slots[at] = (uint32_t)(i + 1);
        }
        free(p->cold_slots);
        p->cold_slots = slots;
        p->cold_slot_cap = cap;
    }
    size_t at = (size_t)cold_hash(&c) & (p->cold_slot_cap - 1);
    for (; p->cold_slots[at] != 0; at = (at + 1) & (p->cold_slot_cap - 1))
        if (cold_equal(&p->colds[p->cold_slots[at] - 1], &c))
            break;
    if (p->cold_slots[at] == 0) {
        if (p->n_colds >= UINT32_MAX - 1)
            return esl__fail(ESL_ENOMEM, "out of memory: more than %u distinct rows",
                             UINT32_MAX - 1);
        p->colds[p->n_colds] = c;
        p->cold_slots[at] = (uint32_t)++p->n_colds;
    }
    p->last_cold = p->cold_slots[at] - 1;
    *out = (uint32_t)p->last_cold;
    return ESL_OK;
}

static uint64_t key_hash(const cell_key *k)
{
    uint64_t h = mix(0x9e3779b97f4a7c15u, (uint64_t)(uintptr_t)k->str[0] ^
                                              (uint64_t)(uintptr_t)k->str[1] << 17);
    h = mix(h, (uint64_t)(uintptr_t)k->str[2] ^ (uint64_t)k->cold << 40 ^ (uint64_t)k->cfg << 62);
    h = mix(h, (uint64_t)k->height ^ (uint64_t)k->width << 32);
    return mix(h, (uint64_t)k->steps ^ (uint64_t)k->prompts << 32);
}

static int key_equal(const cell_key *a, const cell_key *b)
{
    return a->height == b->height && a->width == b->width && a->steps == b->steps &&
           a->prompts == b->prompts && a->str[0] == b->str[0] && a->str[1] == b->str[1] &&
           a->str[2] == b->str[2] && a->cold == b->cold && a->cfg == b->cfg;
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
        uint64_t h = key_hash(&p->keys[c]);
        size_t at = (size_t)h & (cap - 1);
        while (slots[at] != 0)
            at = (at + 1) & (cap - 1);
        slots[at] = slot_of(c, h);
    }
    free(p->slots);
    p->slots = slots;
    p->slot_cap = cap;
    return ESL_OK;
}

/* The cell of a row, added on first sight. */
static int cell_of(esl__packed *p, const esl_row *row, const cell_key *k, uint64_t hash,
                   uint32_t *out)
{
    size_t at = (size_t)hash & (p->slot_cap - 1);
    for (; p->slots[at] != 0; at = (at + 1) & (p->slot_cap - 1)) {
        uint64_t s = p->slots[at];
        uint32_t c = (uint32_t)s - 1;
        if (TAG(s) == TAG(hash) && key_equal(&p->keys[c], k)) {
            *out = c;
            return ESL_OK;
        }
    }
    size_t c = p->cells->n_rows;
    if (c >= UINT32_MAX - 1)
        return esl__fail(ESL_ENOMEM, "out of memory: more than %u distinct rows", UINT32_MAX - 1);
    if (c == p->key_cap) {
        size_t cap = c ? 2 * c : 256;
        cell_key *grown = aligned_alloc(64, cap * sizeof *grown);
        if (grown == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        if (c > 0)
            memcpy(grown, p->keys, c * sizeof *grown);
        free(p->keys);
        p->keys = grown;
        p->key_cap = cap;
    }
    int rc = esl_dataset_append(p->cells, row);
    if (rc != ESL_OK)
        return rc;
    p->keys[c] = *k;
    p->slots[at] = slot_of(c, hash);
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

#define MIN_ROW_BYTES 18 /* the fewest bytes a data row takes: "m,g,d,0,1,1,1,1,1\n" */
#define AHEAD 8 /* rows whose slot is read and whose key is fetched ahead */

/* Place the batch's rows in their cells, in order. Each lookup would wait
 * on memory twice (its slot, then its cell's key): the slots of the rows
 * 2 AHEAD ahead and the keys of those AHEAD ahead are fetched meanwhile. */
static int flush(esl__packed *p)
{
    size_t first = p->n - p->n_batch, n = p->n_batch;
    const uint64_t *hash = p->batch_hash;
    for (size_t b = 0; b < n && b < 2 * AHEAD; b++)
        PREFETCH(&p->slots[hash[b] & (p->slot_cap - 1)]);
    for (size_t b = 0; b < n && b < AHEAD; b++) {
        uint64_t s = p->slots[hash[b] & (p->slot_cap - 1)];
        if (s != 0)
            PREFETCH(&p->keys[(uint32_t)s - 1]);
    }
    int rc = ESL_OK;
    for (size_t b = 0; b < n && rc == ESL_OK; b++) {
        if (b + 2 * AHEAD < n)
            PREFETCH(&p->slots[hash[b + 2 * AHEAD] & (p->slot_cap - 1)]);
        if (b + AHEAD < n) {
            uint64_t s = p->slots[hash[b + AHEAD] & (p->slot_cap - 1)];
            if (s != 0)
                PREFETCH(&p->keys[(uint32_t)s - 1]);
        }
        rc = cell_of(p, &p->batch[b], &p->batch_key[b], hash[b], &p->cell[first + b]);
    }
    p->n_batch = 0;
    return rc;
}

/* Room for `cap` rows (the arrays are address space until written). */
static int reserve(esl__packed *p, size_t cap)
{
    uint32_t *cell = realloc(p->cell, cap * sizeof *cell);
    if (cell != NULL)
        p->cell = cell;
    double *e = cell != NULL ? realloc(p->energy_j, cap * sizeof *e) : NULL;
    if (e == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    p->energy_j = e;
    p->cap = cap;
    esl__advise_huge(p->cell, cap * sizeof *p->cell);
    esl__advise_huge(p->energy_j, cap * sizeof *p->energy_j);
    return ESL_OK;
}

static int on_row(void *ctx, const esl_row *row)
{
    esl__packed *p = ctx;
    int rc;
    if (p->n == p->cap && (rc = reserve(p, p->cap ? 2 * p->cap : 4096)) != ESL_OK)
        return rc;
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
    cell_key *k = &p->batch_key[p->n_batch];
    *k = (cell_key){{copy->model, copy->gpu, copy->dtype}, row->height, row->width, row->steps,
                    row->prompts, 0, (uint32_t)row->cfg};
    if ((rc = cold_of(p, copy, &k->cold)) != ESL_OK)
        return rc;
    p->batch_hash[p->n_batch++] = key_hash(k);
    p->energy_j[p->n++] = row->energy_j;
    return p->n_batch == BATCH ? flush(p) : ESL_OK;
}

void esl__packed_free(esl__packed *p)
{
    if (p == NULL)
        return;
    esl_dataset_free(p->cells);
    free(p->keys);
    free(p->colds);
    free(p->cold_slots);
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
    /* A large regular file: room for as many rows as it could hold. */
    struct stat st;
    if (rc == ESL_OK && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size > (off_t)(1 << 20) && (uint64_t)st.st_size / MIN_ROW_BYTES < UINT32_MAX)
        rc = reserve(p, (size_t)st.st_size / MIN_ROW_BYTES);
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

/* The rows back as a dataset. Its strings are the cells' own, handed over:
 * the packed rows are of no use afterwards but to be freed. */
static int unpack(esl_dataset **out, esl__packed *p)
{
    int rc = esl_dataset_new(out, p->cells->origin, p->cells->convention);
    esl_row *rows = rc == ESL_OK ? malloc((p->n ? p->n : 1) * sizeof *rows) : NULL;
    if (rc == ESL_OK && rows == NULL)
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    if (rc != ESL_OK) {
        esl_dataset_free(*out);
        *out = NULL;
        return rc;
    }
    esl__advise_huge(rows, p->n * sizeof *rows);
    for (size_t i = 0, j = 0; i < p->n; i++) {
        rows[i] = p->cells->rows[p->cell[i]];
        if (j + 1 < p->n_jumps && p->jumps[j + 1].row == i)
            j++;
        rows[i].energy_j = p->energy_j[i];
        rows[i].line = p->jumps[j].line + (int64_t)(i - p->jumps[j].row);
    }
    free((*out)->rows);
    (*out)->rows = rows;
    (*out)->n_rows = (*out)->cap = p->n;
    esl__dataset_move_strings(*out, p->cells);
    return ESL_OK;
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
