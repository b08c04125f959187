/*
 * peaks.c - the GPU table (data/gpu_peaks.csv, compiled into the library,
 * every row with its source): dense peak TFLOP/s per precision, memory
 * bandwidth and size, power limit and idle power, found by device name, table
 * name or the start of one, one row or a selection of them (esl/gpus.h); and the efficiency figures of a run,
 * achieved TFLOP/s and joules per TFLOP. An unknown GPU has no peak, so no
 * ratio is printed rather than a wrong one.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include <csv.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "esl/gpus.h"

extern const char esl__gpu_peaks_csv[];
extern const size_t esl__gpu_peaks_csv_len;

enum {
    COL_GPU, COL_NAMES, COL_STATUS, COL_FP32, COL_TF32, COL_FP16, COL_BF16, COL_FP8, COL_BW,
    COL_MEM, COL_TDP, COL_IDLE, COL_IDLE_STATUS, COL_SOURCE, N_COLS
};

typedef struct peak_row {
    char *field[N_COLS];
    double num[N_COLS]; /* the numeric fields, parsed once; 0 when empty or not positive */
} peak_row;

/* The parsed table, built once. */
static struct {
    peak_row *rows;
    size_t n, cap;
    size_t col;
    int bad;          /* a row with the wrong number of fields */
    int header_done;
} table;

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void on_field(void *s, size_t len, void *data)
{
    (void)data;
    if (!table.header_done)
        return;
    if (table.col == 0) {
        if (table.n == table.cap) {
            size_t cap = table.cap ? 2 * table.cap : 16;
            peak_row *rows = realloc(table.rows, cap * sizeof *rows);
            if (rows == NULL) {
                table.bad = 1;
                return;
            }
            table.rows = rows;
            table.cap = cap;
        }
        memset(&table.rows[table.n++], 0, sizeof(peak_row));
    }
    if (table.col < N_COLS) {
        char *copy = malloc(len + 1);
        if (copy == NULL) {
            table.bad = 1;
            return;
        }
        memcpy(copy, s, len);
        copy[len] = '\0';
        table.rows[table.n - 1].field[table.col] = copy;
    }
    table.col++;
}

static void on_row(int c, void *data)
{
    (void)c, (void)data;
    if (table.header_done && table.col != N_COLS)
        table.bad = 1;
    table.header_done = 1;
    table.col = 0;
}

static double number(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    return *v != '\0' && *end == '\0' && x > 0 && isfinite(x) ? x : 0.0;
}

static void load_table(void)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        table.bad = 1;
        return;
    }
    if (csv_parse(&p, esl__gpu_peaks_csv, esl__gpu_peaks_csv_len, on_field, on_row, NULL) !=
            esl__gpu_peaks_csv_len ||
        csv_fini(&p, on_field, on_row, NULL) != 0)
        table.bad = 1;
    csv_free(&p);
    for (size_t i = 0; i < table.n && !table.bad; i++)
        for (int c = COL_FP32; c <= COL_IDLE; c++)
            table.rows[i].num[c] = number(table.rows[i].field[c]);
}

/* Does `names` ("A|B|C") hold `name`, case-insensitively? */
static int names_hold(const char *names, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = names; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncasecmp(p, name, n) == 0)
            return 1;
        p += n + (bar != NULL);
    }
    return 0;
}

static const peak_row *search(const char *name);

/* The row a forgiving name names (esl_gpu_find), or NULL. A law asks for
 * the same few names for every row it prices: the last ones asked are kept
 * per thread (the table never changes once loaded). */
static const peak_row *lookup(const char *name)
{
    static _Thread_local struct { char name[64]; const peak_row *row; } memo[8];
    static _Thread_local unsigned next;
    size_t len = strlen(name);
    for (size_t i = 0; i < 8 && len < sizeof memo[0].name; i++)
        if (memo[i].name[0] != '\0' && strcmp(memo[i].name, name) == 0)
            return memo[i].row;
    const peak_row *row = search(name);
    if (len < sizeof memo[0].name) {
        memcpy(memo[next % 8].name, name, len + 1);
        memo[next % 8].row = row;
        next++;
    }
    return row;
}

static const peak_row *search(const char *name)
{
    for (size_t i = 0; i < table.n; i++)
        if (names_hold(table.rows[i].field[COL_NAMES], name) ||
            strcasecmp(table.rows[i].field[COL_GPU], name) == 0)
            return &table.rows[i];
    size_t len = strlen(name);
    for (size_t i = 0; i < table.n && len > 0; i++)
        if (strncasecmp(table.rows[i].field[COL_GPU], name, len) == 0 &&
            table.rows[i].field[COL_GPU][len] == ' ')
            return &table.rows[i];
    /* Last, the name as whole words inside a table name ("A6000" is the
     * RTX A6000, as the paper names it). */
    for (size_t i = 0; i < table.n && len > 0; i++) {
        const char *g = table.rows[i].field[COL_GPU];
        for (const char *p = g; *p; p++)
            if ((p == g || p[-1] == ' ') && strncasecmp(p, name, len) == 0 &&
                (p[len] == ' ' || p[len] == '\0'))
                return &table.rows[i];
    }
    return NULL;
}

static int load(void)
{
    pthread_once(&table_once, load_table);
    if (table.bad)
        return esl__fail(ESL_EPARSE, "the built-in GPU table (data/gpu_peaks.csv) is malformed");
    return ESL_OK;
}


int esl_bench_peak_find(esl_bench_peak *out, const char *device_name, esl_dtype dtype)
{
    static const int col_of[] = {[ESL_DTYPE_FP16] = COL_FP16, [ESL_DTYPE_BF16] = COL_BF16,
                                 [ESL_DTYPE_FP32] = COL_FP32, [ESL_DTYPE_TF32] = COL_TF32};
    int rc = load();
    if (rc != ESL_OK)
        return rc;
    if ((unsigned)dtype > ESL_DTYPE_TF32)
        return esl__fail(ESL_EINVAL, "unknown dtype %d", (int)dtype);
    const peak_row *r = lookup(device_name);
    if (r == NULL)
        return esl__fail(ESL_ENOTFOUND, "GPU '%s' is not in the peak table (data/gpu_peaks.csv)",
                         device_name);
    double tflops = r->num[col_of[dtype]];
    if (!(tflops > 0))
        return esl__fail(ESL_ENOTFOUND, "GPU '%s' has no dense %s peak in the table", device_name,
                         esl_dtype_name(dtype));
    *out = (esl_bench_peak){.gpu = r->field[COL_GPU], .tflops = tflops, .source = r->field[COL_SOURCE]};
    return ESL_OK;
}

size_t esl_gpu_count(void)
{
    return load() == ESL_OK ? table.n : 0;
}

static void fill(esl_gpu_spec *out, const peak_row *r)
{
    *out = (esl_gpu_spec){
        .name = r->field[COL_GPU], .device_names = r->field[COL_NAMES],
        .names_status = r->field[COL_STATUS], .fp32_tflops = r->num[COL_FP32],
        .tf32_tflops = r->num[COL_TF32], .fp16_tflops = r->num[COL_FP16],
        .bf16_tflops = r->num[COL_BF16], .fp8_tflops = r->num[COL_FP8],
        .mem_bw_gbs = r->num[COL_BW], .mem_gb = r->num[COL_MEM],
        .tdp_w = r->num[COL_TDP], .idle_w = r->num[COL_IDLE],
        .idle_status = r->field[COL_IDLE_STATUS], .source = r->field[COL_SOURCE]};
}

int esl_gpu_get(esl_gpu_spec *out, size_t i)
{
    int rc = load();
    if (rc != ESL_OK)
        return rc;
    if (i >= table.n)
        return esl__fail(ESL_ERANGE, "GPU table row %zu: the table has %zu rows", i, table.n);
    fill(out, &table.rows[i]);
    return ESL_OK;
}

/* Case-insensitive edit distance of two short strings (capped at 63 chars). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a) < 63 ? strlen(a) : 63, lb = strlen(b) < 63 ? strlen(b) : 63;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                        tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

int esl_gpu_find(esl_gpu_spec *out, const char *name)
{
    int rc = load();
    if (rc != ESL_OK)
        return rc;
    const peak_row *r = lookup(name);
    if (r != NULL) {
        fill(out, r);
        return ESL_OK;
    }
    /* The three table names nearest to what was asked, for the message. */
    size_t best[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX}, idx[3] = {0, 0, 0};
    for (size_t i = 0; i < table.n; i++) {
        /* against the whole name and its start as long as the query, so
         * that "H300" is near "H100 SXM5 80GB" */
        const char *g = table.rows[i].field[COL_GPU];
        char start[64];
        snprintf(start, sizeof start, "%.*s", (int)strlen(name), g);
        size_t d = distance(name, g), d2 = distance(name, start) + 1;
        d = d2 < d ? d2 : d;
        /* and against each word of it, so that "A600" is near "RTX A6000" */
        for (const char *w = g; *w;) {
            size_t n = strcspn(w, " ");
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)n, w);
            size_t d3 = distance(name, word);
            d = d3 < d ? d3 : d;
            w += n + (w[n] == ' ');
        }
        for (size_t k = 0; k < 3; k++)
            if (d < best[k]) {
                for (size_t m = 2; m > k; m--)
                    best[m] = best[m - 1], idx[m] = idx[m - 1];
                best[k] = d, idx[k] = i;
                break;
            }
    }
    char near[256] = "";
    for (size_t k = 0; k < 3 && best[k] != SIZE_MAX; k++)
        snprintf(near + strlen(near), sizeof near - strlen(near), "%s'%s'", k ? ", " : "",
                 table.rows[idx[k]].field[COL_GPU]);
    return esl__fail(ESL_ENOTFOUND, "GPU '%s' is not in the GPU table (closest: %s; esl gpus "
                     "lists them all)", name, near);
}

int esl_bench_efficiency_compute(esl_bench_efficiency *out, const esl_bench_result *run, esl_dtype dtype,
                           double energy_j)
{
    esl_bench_peak peak;
    if (!(run->duration_s > 0) || !isfinite(run->duration_s))
        return esl__fail(ESL_EINVAL, "run duration %g s: must be positive", run->duration_s);
    if (!(run->exec_flops > 0) || !isfinite(run->exec_flops))
        return esl__fail(ESL_EINVAL, "run FLOPs %g: must be positive", run->exec_flops);
    memset(out, 0, sizeof *out);
    out->achieved_tflops = run->exec_flops / run->duration_s / 1e12;
    if (esl_bench_peak_find(&peak, run->device, dtype) == ESL_OK) {
        out->peak_tflops = peak.tflops;
        out->peak_fraction = out->achieved_tflops / peak.tflops;
    } else {
        esl_error_clear(); /* an unknown GPU is not a failure: no ratio */
    }
    if (energy_j > 0 && isfinite(energy_j))
        out->joules_per_tflop = energy_j / (run->exec_flops / 1e12);
    return ESL_OK;
}

int esl_gpu_select(esl_gpu_spec **out, size_t *n_out, const char *const *names, size_t n_names)
{
    *out = NULL;
    *n_out = 0;
    size_t n = n_names ? n_names : esl_gpu_count();
    if (n == 0) /* no row: say why (the table failed to load, or is empty) */
        return esl_gpu_get(&(esl_gpu_spec){0}, 0);
    esl_gpu_spec *rows = calloc(n, sizeof *rows);
    if (rows == NULL)
        return esl__fail(ESL_ENOMEM, "GPU selection of %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        int rc = n_names ? esl_gpu_find(&rows[i], names[i]) : esl_gpu_get(&rows[i], i);
        if (rc != ESL_OK) {
            free(rows);
            return rc;
        }
    }
    *out = rows;
    *n_out = n;
    return ESL_OK;
}
