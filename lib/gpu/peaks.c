/*
 * peaks.c - efficiency figures: the dense peak TFLOP/s of common GPUs per
 * precision (data/gpu_peaks.csv, compiled into the library, every row with
 * its source) matched by the device name CUDA or NVML reports, and the
 * achieved TFLOP/s and joules per TFLOP of a run. An unknown GPU has no
 * peak, so no ratio is printed rather than a wrong one.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "core/internal.h"
#include "esl/bench.h"

extern const char esl__gpu_peaks_csv[];
extern const size_t esl__gpu_peaks_csv_len;

enum { COL_GPU, COL_NAMES, COL_STATUS, COL_FP32, COL_TF32, COL_FP16, COL_BF16, COL_SOURCE, N_COLS };

typedef struct peak_row {
    char *field[N_COLS];
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

int esl_peak_find(esl_peak *out, const char *device_name, esl_dtype dtype)
{
    static const int col_of[] = {[ESL_DTYPE_FP16] = COL_FP16, [ESL_DTYPE_BF16] = COL_BF16,
                                 [ESL_DTYPE_FP32] = COL_FP32, [ESL_DTYPE_TF32] = COL_TF32};
    pthread_once(&table_once, load_table);
    if (table.bad)
        return esl__fail(ESL_EPARSE, "the built-in GPU peak table (data/gpu_peaks.csv) is malformed");
    if ((unsigned)dtype > ESL_DTYPE_TF32)
        return esl__fail(ESL_EINVAL, "unknown dtype %d", (int)dtype);
    /* An exact device or table name first; else the first table name the
     * given one begins at a word boundary ("A100" is "A100 SXM4"). */
    const peak_row *hit = NULL;
    for (size_t i = 0; i < table.n && hit == NULL; i++)
        if (names_hold(table.rows[i].field[COL_NAMES], device_name) ||
            strcasecmp(table.rows[i].field[COL_GPU], device_name) == 0)
            hit = &table.rows[i];
    size_t len = strlen(device_name);
    for (size_t i = 0; i < table.n && hit == NULL && len > 0; i++)
        if (strncasecmp(table.rows[i].field[COL_GPU], device_name, len) == 0 &&
            table.rows[i].field[COL_GPU][len] == ' ')
            hit = &table.rows[i];
    if (hit != NULL) {
        const peak_row *r = hit;
        const char *v = r->field[col_of[dtype]];
        char *end;
        double tflops = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || !(tflops > 0) || !isfinite(tflops))
            return esl__fail(ESL_ENOTFOUND, "GPU '%s' has no dense %s peak in the table",
                             device_name, esl_dtype_name(dtype));
        *out = (esl_peak){.gpu = r->field[COL_GPU], .tflops = tflops, .source = r->field[COL_SOURCE]};
        return ESL_OK;
    }
    return esl__fail(ESL_ENOTFOUND, "GPU '%s' is not in the peak table (data/gpu_peaks.csv)",
                     device_name);
}

int esl_efficiency_compute(esl_efficiency *out, const esl_bench_result *run, esl_dtype dtype,
                           double energy_j)
{
    esl_peak peak;
    if (!(run->duration_s > 0) || !isfinite(run->duration_s))
        return esl__fail(ESL_EINVAL, "run duration %g s: must be positive", run->duration_s);
    if (!(run->exec_flops > 0) || !isfinite(run->exec_flops))
        return esl__fail(ESL_EINVAL, "run FLOPs %g: must be positive", run->exec_flops);
    memset(out, 0, sizeof *out);
    out->achieved_tflops = run->exec_flops / run->duration_s / 1e12;
    if (esl_peak_find(&peak, run->device, dtype) == ESL_OK) {
        out->peak_tflops = peak.tflops;
        out->peak_fraction = out->achieved_tflops / peak.tflops;
    } else {
        esl_error_clear(); /* an unknown GPU is not a failure: no ratio */
    }
    if (energy_j > 0 && isfinite(energy_j))
        out->joules_per_tflop = energy_j / (run->exec_flops / 1e12);
    return ESL_OK;
}
