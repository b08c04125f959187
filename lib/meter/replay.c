/*
 * replay.c - the replay meter: plays back a recorded power trace so that
 * windows, idle baselines, flags, the store and `esl measure` can be tested
 * on machines without a GPU.
 *
 * The trace is a CSV file with a header naming its columns: time_s and
 * power_w are required, energy_j (a cumulative counter in joules) is
 * optional; other columns are ignored. Time runs in the trace's own seconds:
 * an idle window consumes the first seconds of the trace, and a measuring
 * window ends at the trace's last row, however long the workload took.
 * Values between rows are interpolated linearly.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "core/internal.h"
#include "meter/meter_internal.h"

typedef struct trace_row {
    double time_s, power_w, energy_j;
} trace_row;

typedef struct replay {
    trace_row *rows;
    size_t n, cap;
} replay;

/* State of the CSV callbacks. */
typedef struct reader {
    const char *path;
    replay *r;
    size_t line;     /* 1-based row number */
    size_t field;    /* column within the row */
    int col_time, col_power, col_energy;
    trace_row row;
    int status;
} reader;

static void on_field(void *data, size_t len, void *ctx)
{
    reader *rd = ctx;
    size_t col = rd->field++;
    if (rd->status != ESL_OK)
        return;
    const char *text = data ? data : "";
    if (rd->line == 1) {
        int *slot = strcmp(text, "time_s") == 0    ? &rd->col_time
                    : strcmp(text, "power_w") == 0 ? &rd->col_power
                    : strcmp(text, "energy_j") == 0 ? &rd->col_energy
                                                    : NULL;
        if (slot != NULL)
            *slot = (int)col;
        return;
    }
    const char *name = (int)col == rd->col_time    ? "time_s"
                       : (int)col == rd->col_power  ? "power_w"
                       : (int)col == rd->col_energy ? "energy_j"
                                                    : NULL;
    if (name == NULL)
        return;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (len == 0 || end != text + len || errno == ERANGE || !isfinite(v) || v < 0.0) {
        rd->status = esl__fail(ESL_EPARSE, "%s:%zu: column '%s': '%s' is not a non-negative number",
                               rd->path, rd->line, name, text);
        return;
    }
    if ((int)col == rd->col_time)
        rd->row.time_s = v;
    else if ((int)col == rd->col_power)
        rd->row.power_w = v;
    else
        rd->row.energy_j = v;
}

static void on_row(int c, void *ctx)
{
    reader *rd = ctx;
    (void)c;
    size_t fields = rd->field;
    rd->field = 0;
    if (rd->status != ESL_OK) {
        rd->line++;
        return;
    }
    if (rd->line == 1) {
        if (rd->col_time < 0 || rd->col_power < 0)
            rd->status = esl__fail(ESL_EPARSE, "%s:1: the header needs columns 'time_s' and 'power_w'",
                                   rd->path);
        rd->line++;
        return;
    }
    int need = rd->col_time > rd->col_power ? rd->col_time : rd->col_power;
    if (rd->col_energy > need)
        need = rd->col_energy;
    if ((int)fields <= need) {
        rd->status = esl__fail(ESL_EPARSE, "%s:%zu: %zu fields, the header has more", rd->path,
                               rd->line, fields);
        return;
    }
    replay *r = rd->r;
    if (r->n > 0 && !(rd->row.time_s > r->rows[r->n - 1].time_s)) {
        rd->status = esl__fail(ESL_EPARSE, "%s:%zu: column 'time_s': '%.17g' does not increase",
                               rd->path, rd->line, rd->row.time_s);
        return;
    }
    if (r->n > 0 && rd->col_energy >= 0 && rd->row.energy_j < r->rows[r->n - 1].energy_j) {
        rd->status = esl__fail(ESL_EPARSE, "%s:%zu: column 'energy_j': '%.17g' decreases",
                               rd->path, rd->line, rd->row.energy_j);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        trace_row *grown = realloc(r->rows, cap * sizeof *grown);
        if (grown == NULL) {
            rd->status = esl__fail(ESL_ENOMEM, "out of memory reading %s", rd->path);
            return;
        }
        r->rows = grown;
        r->cap = cap;
    }
    r->rows[r->n++] = rd->row;
    rd->row = (trace_row){0.0, 0.0, NAN};
    rd->line++;
}

static int load(replay *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) /* a missing trace is bad input, like any missing file */
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: %s", path, strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        fclose(f);
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", path);
    }
    reader rd = {path, r, 1, 0, -1, -1, -1, {0.0, 0.0, NAN}, ESL_OK};
    char buf[8192];
    size_t got;
    while (rd.status == ESL_OK && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&p, buf, got, on_field, on_row, &rd) != got && rd.status == ESL_OK)
            rd.status = esl__fail(ESL_EPARSE, "%s:%zu: %s", path, rd.line, csv_strerror(csv_error(&p)));
    }
    if (rd.status == ESL_OK && ferror(f))
        rd.status = esl__fail(ESL_EIO, "%s: read error", path);
    if (rd.status == ESL_OK)
        csv_fini(&p, on_field, on_row, &rd);
    csv_free(&p);
    fclose(f);
    if (rd.status == ESL_OK && r->n < 2)
        rd.status = esl__fail(ESL_EPARSE, "%s: a trace needs at least two rows, found %zu", path, r->n);
    return rd.status;
}

/* Linear interpolation of the trace at time t (clamped to its ends). */
static trace_row at(const replay *r, double t)
{
    if (t <= r->rows[0].time_s)
        return r->rows[0];
    if (t >= r->rows[r->n - 1].time_s)
        return r->rows[r->n - 1];
    size_t lo = 0, hi = r->n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->rows[mid].time_s <= t)
            lo = mid;
        else
            hi = mid;
    }
    const trace_row *a = &r->rows[lo], *b = &r->rows[hi];
    double w = (t - a->time_s) / (b->time_s - a->time_s);
    return (trace_row){t, a->power_w + w * (b->power_w - a->power_w),
                       a->energy_j + w * (b->energy_j - a->energy_j)};
}

static int push_row(esl_meter *m, const trace_row *row, double t0)
{
    esl_sample s = esl__sample_unknown();
    s.time_s = row->time_s - t0;
    s.device = 0;
    s.power_w = row->power_w;
    s.energy_j = row->energy_j; /* NaN without the column */
    return esl__meter_push(m, &s);
}

static int replay_play(esl_meter *m, double t0, double t1)
{
    const replay *r = m->backend;
    /* Trace time starts at the first row. */
    double base = r->rows[0].time_s;
    double a = base + t0, b = base + t1;
    trace_row edge = at(r, a);
    int rc = push_row(m, &edge, a);
    for (size_t i = 0; rc == ESL_OK && i < r->n; i++)
        if (r->rows[i].time_s > a && r->rows[i].time_s < b)
            rc = push_row(m, &r->rows[i], a);
    if (rc == ESL_OK && b > a) {
        edge = at(r, b);
        rc = push_row(m, &edge, a);
    }
    return rc;
}

static double replay_end(const esl_meter *m)
{
    const replay *r = m->backend;
    return r->rows[r->n - 1].time_s - r->rows[0].time_s;
}

static void replay_close(esl_meter *m)
{
    replay *r = m->backend;
    if (r != NULL)
        free(r->rows);
    free(r);
    m->backend = NULL;
}

static const esl__meter_ops replay_ops = {NULL, NULL, NULL, replay_play, replay_end, replay_close};

int esl__replay_open(esl_meter *m, const esl_meter_opts *opts)
{
    if (opts->replay_path == NULL)
        return esl__fail(ESL_EINVAL, "the replay meter needs a trace file");
    replay *r = calloc(1, sizeof *r);
    m->devices = calloc(1, sizeof *m->devices);
    if (r == NULL || m->devices == NULL) {
        free(r);
        return esl__fail(ESL_ENOMEM, "out of memory opening %s", opts->replay_path);
    }
    m->ops = &replay_ops;
    m->backend = r;
    int rc = load(r, opts->replay_path);
    if (rc != ESL_OK)
        return rc;
    m->n_devices = 1;
    esl_device_info *d = &m->devices[0];
    snprintf(d->name, sizeof d->name, "replay");
    d->caps = ESL_CAP_POWER | (isnan(r->rows[0].energy_j) ? 0u : ESL_CAP_ENERGY_COUNTER);
    d->update_interval_s = INFINITY;
    d->counter_period_s = NAN;
    for (size_t i = 1; i < r->n; i++) {
        double dt = r->rows[i].time_s - r->rows[i - 1].time_s;
        if (dt < d->update_interval_s)
            d->update_interval_s = dt;
    }
    return ESL_OK;
}
