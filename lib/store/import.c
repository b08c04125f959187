/*
 * import.c - records of other energy tools read as esl runs (esl/import.h):
 * CodeCarbon's emissions.csv (one row, one run), Zeus measurement windows
 * saved as JSON (one window, one run) and the ML.ENERGY leaderboard's
 * per-configuration results (one file or object, one run). The whole file is read and checked
 * before anything is returned, so that the caller can store all of it in one
 * transaction or nothing. Energies arrive in kWh (CodeCarbon) or J (Zeus) and
 * leave in J; both tools report the GPU's total energy, idle included.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <csv.h>
#include <jansson.h>

#include "core/internal.h"
#include "esl/gpus.h"
#include "esl/import.h"

#define MAX_COLUMNS 64
#define MAX_LABELS ESL_IMPORT_MAX_LABELS
#define J_PER_KWH 3.6e6

const char *esl_import_format_name(esl_import_format fmt)
{
    switch (fmt) {
    case ESL_IMPORT_CODECARBON: return "codecarbon";
    case ESL_IMPORT_ZEUS: return "zeus";
    case ESL_IMPORT_MLENERGY: return "mlenergy";
    }
    return "unknown";
}

int esl_import_format_parse(esl_import_format *out, const char *name)
{
    static const esl_import_format all[] = {ESL_IMPORT_CODECARBON, ESL_IMPORT_ZEUS,
                                            ESL_IMPORT_MLENERGY};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, esl_import_format_name(all[i])) == 0) {
            *out = all[i];
            return ESL_OK;
        }
    return esl__fail(ESL_EINVAL, "unknown format '%s' (known: codecarbon, zeus, mlenergy)", name);
}

void esl_import_free(esl_import *imp)
{
    if (imp == NULL)
        return;
    for (size_t i = 0; i < imp->n_runs; i++) {
        esl_imported *r = &imp->runs[i];
        esl_record_free(r->record);
        free(r->command);
        for (size_t k = 0; k < r->n_labels; k++) {
            free(r->labels[k].key);
            free(r->labels[k].value);
        }
        free(r->labels);
    }
    free(imp->runs);
    free(imp);
}

/* A new run at the end of `imp`, its record with `n_devices` devices. */
static int add_run(esl_import *imp, esl_imported **out, size_t n_devices)
{
    esl_imported *runs = realloc(imp->runs, (imp->n_runs + 1) * sizeof *runs);
    if (runs == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory importing runs");
    imp->runs = runs;
    esl_imported *r = &runs[imp->n_runs];
    memset(r, 0, sizeof *r);
    r->record = calloc(1, sizeof *r->record);
    r->labels = calloc(MAX_LABELS, sizeof *r->labels);
    if (r->record != NULL)
        r->record->devices = calloc(n_devices ? n_devices : 1, sizeof *r->record->devices);
    imp->n_runs++; /* owned by imp from here: esl_import_free releases a partial one */
    if (r->record == NULL || r->labels == NULL || r->record->devices == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory importing runs");
    r->record->meter = ESL_METER_IMPORTED;
    r->record->n_devices = n_devices;
    *out = r;
    return ESL_OK;
}

static int add_label(esl_imported *r, const char *key, const char *value)
{
    if (value == NULL || value[0] == '\0' || r->n_labels == MAX_LABELS)
        return ESL_OK;
    esl_label *l = &r->labels[r->n_labels];
    l->key = strdup(key);
    l->value = strdup(value);
    r->n_labels++;
    if (l->key == NULL || l->value == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory importing runs");
    return ESL_OK;
}

static int set_command(esl_imported *r, const char *fmt, const char *path, const char *where)
{
    size_t n = strlen(fmt) + strlen(path) + strlen(where) + 16;
    if ((r->command = malloc(n)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory importing runs");
    snprintf(r->command, n, "import %s %s:%s", fmt, path, where);
    return ESL_OK;
}

/* Totals of a record whose devices hold total energies and no idle power:
 * dynamic equals total, and the record says so (ESL_FLAG_NO_IDLE). */
static void finish_record(esl_record *rec)
{
    for (size_t i = 0; i < rec->n_devices; i++) {
        esl_device_record *d = &rec->devices[i];
        d->counter_j = d->energy_j;
        d->integrated_j = NAN;
        d->idle_w = 0.0;
        d->dynamic_j = d->energy_j;
        d->avg_power_w = d->energy_j / rec->duration_s;
        d->peak_power_w = NAN;
        d->flags = ESL_FLAG_NO_IDLE;
        d->info.update_interval_s = NAN;
        d->info.counter_period_s = NAN;
    }
    esl_record_sum(rec);
}

static int read_file(char **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return esl__fail(ESL_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *grown = realloc(buf, 2 * cap + 1);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", path);
    if (bad) {
        free(buf);
        return esl__fail(ESL_EIO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return ESL_OK;
}

/* ---- CodeCarbon emissions.csv ---------------------------------------- */

/* The columns CodeCarbon 2.2 to 2.8 write (EmissionsData, output.py);
 * experiment_id appears in files of the 1.x and early 2.x releases. Energies
 * are kWh, powers W, duration s, emissions kg CO2eq. */
static const char *const cc_columns[] = {
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions",
    "emissions_rate", "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy",
    "ram_energy", "energy_consumed", "country_name", "country_iso_code", "region",
    "cloud_provider", "cloud_region", "os", "python_version", "codecarbon_version", "cpu_count",
    "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude", "ram_total_size",
    "tracking_mode", "on_cloud", "pue"};
enum { CC_N = sizeof cc_columns / sizeof cc_columns[0] };
/* What a run cannot do without. */
static const char *const cc_required[] = {"timestamp", "duration", "gpu_energy"};

typedef struct cc_reader {
    const char *path;
    long long line, record_line;
    int status;
    char *cells[MAX_COLUMNS];
    size_t n_cells;
    int header_done;
    int col[CC_N];  /* position of each known column, -1 when absent */
    size_t n_columns;
    esl_import *imp;
} cc_reader;

static void cc_field(void *s, size_t len, void *ctx)
{
    cc_reader *r = ctx;
    if (r->status != ESL_OK)
        return;
    if (r->n_cells == MAX_COLUMNS) {
        r->status = esl__fail(ESL_EINVAL, "%s:%lld: more than %d columns", r->path, r->line,
                              MAX_COLUMNS);
        return;
    }
    if ((r->cells[r->n_cells] = strndup(s ? s : "", len)) == NULL) {
        r->status = esl__fail(ESL_ENOMEM, "out of memory importing %s", r->path);
        return;
    }
    r->n_cells++;
}

static int cc_number(const cc_reader *r, int k, double *out, double min)
{
    const char *s = r->cells[r->col[k]];
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
        return esl__fail(ESL_EINVAL, "%s:%lld: column '%s': '%s' is not a number", r->path,
                         r->record_line, cc_columns[k], s);
    if (v < min)
        return esl__fail(ESL_EINVAL, "%s:%lld: column '%s': %s is below %g", r->path,
                         r->record_line, cc_columns[k], s, min);
    *out = v;
    return ESL_OK;
}

static const char *cc_text(const cc_reader *r, int k)
{
    return r->col[k] >= 0 ? r->cells[r->col[k]] : NULL;
}

static int cc_index(const char *name)
{
    for (int k = 0; k < CC_N; k++)
        if (strcmp(cc_columns[k], name) == 0)
            return k;
    return -1;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (the
 * civil-from-days arithmetic with years starting in March, so that the leap
 * day ends a year). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "2024-07-19T15:57:43" with optional fraction and offset, read as UTC
 * (CodeCarbon writes the local time without a zone). */
static int cc_time(const cc_reader *r, const char *s, double *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2d%*[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || tm.tm_mon < 1 ||
        tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return esl__fail(ESL_EINVAL, "%s:%lld: column 'timestamp': '%s' is not a date and time "
                         "(YYYY-MM-DDTHH:MM:SS)", r->path, r->record_line, s);
    double frac = 0.0;
    if (s[used] == '.')
        frac = strtod(s + used, NULL);
    *out = (double)days_from_civil(tm.tm_year, tm.tm_mon, tm.tm_mday) * 86400.0 +
           tm.tm_hour * 3600.0 + tm.tm_min * 60.0 + tm.tm_sec + frac;
    return ESL_OK;
}

static int cc_row(cc_reader *r)
{
    int rc;
    double duration, gpu_kwh, gpus = 1.0;
    if ((rc = cc_number(r, cc_index("duration"), &duration, 0.0)) != ESL_OK ||
        (rc = cc_number(r, cc_index("gpu_energy"), &gpu_kwh, 0.0)) != ESL_OK)
        return rc;
    if (!(duration > 0.0))
        return esl__fail(ESL_EINVAL, "%s:%lld: column 'duration': %g s is not positive", r->path,
                         r->record_line, duration);
    if (!(gpu_kwh > 0.0))
        return esl__fail(ESL_EINVAL, "%s:%lld: column 'gpu_energy': 0 kWh: CodeCarbon tracked no "
                         "GPU in this run", r->path, r->record_line);
    int kc = cc_index("gpu_count");
    if (r->col[kc] >= 0 && r->cells[r->col[kc]][0] != '\0' &&
        (rc = cc_number(r, kc, &gpus, 1.0)) != ESL_OK)
        return rc;
    double end_s = 0.0;
    if ((rc = cc_time(r, cc_text(r, cc_index("timestamp")), &end_s)) != ESL_OK)
        return rc;
    esl_imported *run;
    if ((rc = add_run(r->imp, &run, 1)) != ESL_OK)
        return rc;
    esl_record *rec = run->record;
    /* CodeCarbon stamps a row when tracking stops. */
    rec->start_unix_s = end_s - duration;
    rec->duration_s = duration;
    esl_device_record *d = &rec->devices[0];
    const char *model = cc_text(r, cc_index("gpu_model"));
    /* CodeCarbon writes "1 x NVIDIA A100-SXM4-40GB": the count is gpu_count */
    if (model != NULL) {
        const char *x = strstr(model, " x ");
        if (x != NULL && strspn(model, "0123456789") == (size_t)(x - model) && x > model)
            model = x + 3;
    }
    snprintf(d->info.name, sizeof d->info.name, "%s", model && model[0] ? model : "GPU");
    d->info.power_limit_w = 0.0;
    d->energy_j = gpu_kwh * J_PER_KWH;
    const char *version = cc_text(r, cc_index("codecarbon_version"));
    if (version != NULL)
        snprintf(rec->driver_version, sizeof rec->driver_version, "codecarbon %s", version);
    finish_record(rec);
    char where[32], count[32];
    snprintf(where, sizeof where, "%lld", r->record_line);
    snprintf(count, sizeof count, "%.0f", gpus);
    if ((rc = set_command(run, "codecarbon", r->path, where)) != ESL_OK ||
        (rc = add_label(run, "source", "codecarbon")) != ESL_OK ||
        (rc = add_label(run, "codecarbon_run_id", cc_text(r, cc_index("run_id")))) != ESL_OK ||
        (rc = add_label(run, "project", cc_text(r, cc_index("project_name")))) != ESL_OK ||
        (rc = add_label(run, "zone", cc_text(r, cc_index("country_iso_code")))) != ESL_OK ||
        (rc = add_label(run, "cloud_region", cc_text(r, cc_index("cloud_region")))) != ESL_OK ||
        (rc = add_label(run, "gpu_count", count)) != ESL_OK)
        return rc;
    return ESL_OK;
}

static void cc_record(int c, void *ctx)
{
    (void)c;
    cc_reader *r = ctx;
    if (r->status == ESL_OK) {
        if (!r->header_done) {
            for (int k = 0; k < CC_N; k++)
                r->col[k] = -1;
            for (size_t i = 0; i < r->n_cells && r->status == ESL_OK; i++) {
                int k = cc_index(r->cells[i]);
                if (k < 0)
                    r->status = esl__fail(ESL_EINVAL, "%s:1: column '%s' is not a CodeCarbon "
                                          "emissions.csv column (checked against CodeCarbon "
                                          "2.2 to 2.8)", r->path, r->cells[i]);
                else if (r->col[k] >= 0)
                    r->status = esl__fail(ESL_EINVAL, "%s:1: column '%s' appears twice", r->path,
                                          r->cells[i]);
                else
                    r->col[k] = (int)i;
            }
            for (size_t q = 0; q < sizeof cc_required / sizeof cc_required[0] &&
                               r->status == ESL_OK; q++)
                if (r->col[cc_index(cc_required[q])] < 0)
                    r->status = esl__fail(ESL_EINVAL, "%s:1: no column '%s' (an emissions.csv "
                                          "of CodeCarbon 2.2 to 2.8 has it)", r->path,
                                          cc_required[q]);
            r->n_columns = r->n_cells;
            r->header_done = 1;
        } else if (r->n_cells != r->n_columns) {
            r->status = esl__fail(ESL_EINVAL, "%s:%lld: %zu fields, the header has %zu", r->path,
                                  r->record_line, r->n_cells, r->n_columns);
        } else {
            r->status = cc_row(r);
        }
    }
    for (size_t i = 0; i < r->n_cells; i++) {
        free(r->cells[i]);
        r->cells[i] = NULL;
    }
    r->n_cells = 0;
}

static int read_codecarbon(esl_import *imp, const char *path, const char *text, size_t len)
{
    cc_reader r = {.path = path, .line = 1, .status = ESL_OK, .imp = imp};
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return esl__fail(ESL_ENOMEM, "out of memory");
    const char *buf = text;
    int rc = ESL_OK;
    while (len > 0 && r.status == ESL_OK) {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
        r.record_line = r.line;
        if (csv_parse(&p, buf, n, cc_field, cc_record, &r) != n && r.status == ESL_OK)
            r.status = esl__fail(ESL_EPARSE, "%s:%lld: %s", path, r.line,
                                 csv_strerror(csv_error(&p)));
        if (nl != NULL)
            r.line++;
        buf += n;
        len -= n;
    }
    if (r.status == ESL_OK && csv_fini(&p, cc_field, cc_record, &r) != 0 && r.status == ESL_OK)
        r.status = esl__fail(ESL_EPARSE, "%s: a quoted field is not closed at the end of the file",
                             path);
    rc = r.status;
    for (size_t i = 0; i < r.n_cells; i++)
        free(r.cells[i]);
    csv_free(&p);
    if (rc == ESL_OK && !r.header_done)
        rc = esl__fail(ESL_EINVAL, "%s: empty file: no emissions.csv header", path);
    if (rc == ESL_OK && imp->n_runs == 0)
        rc = esl__fail(ESL_EINVAL, "%s: a header and no rows: nothing to import", path);
    return rc;
}

/* ---- Zeus measurement windows as JSON -------------------------------- */

/* Zeus's Measurement (zeus.monitor.energy, 0.9 to 0.11): time (s), gpu_energy
 * (GPU index -> J), cpu_energy and dram_energy (index -> J, or null), saved
 * as one object or an array of them; "name" (the window's name) is esl's
 * addition, optional. */
static int zeus_window(esl_import *imp, const char *path, json_t *w, const char *at)
{
    const char *key;
    json_t *v;
    json_object_foreach(w, key, v) {
        if (strcmp(key, "time") != 0 && strcmp(key, "gpu_energy") != 0 &&
            strcmp(key, "cpu_energy") != 0 && strcmp(key, "dram_energy") != 0 &&
            strcmp(key, "name") != 0)
            return esl__fail(ESL_EINVAL, "%s: %s.%s: not a field of a Zeus measurement (time, "
                             "gpu_energy, cpu_energy, dram_energy; name)", path, at, key);
    }
    json_t *time = json_object_get(w, "time"), *gpu = json_object_get(w, "gpu_energy");
    if (time == NULL)
        return esl__fail(ESL_EINVAL, "%s: %s: no field 'time' (seconds)", path, at);
    if (!json_is_number(time) || !(json_number_value(time) > 0.0))
        return esl__fail(ESL_EINVAL, "%s: %s.time: not a positive number of seconds", path, at);
    if (gpu == NULL)
        return esl__fail(ESL_EINVAL, "%s: %s: no field 'gpu_energy' (GPU index to joules)", path, at);
    if (!json_is_object(gpu) || json_object_size(gpu) == 0)
        return esl__fail(ESL_EINVAL, "%s: %s.gpu_energy: not an object of GPU index to joules "
                         "with at least one GPU", path, at);
    json_t *name = json_object_get(w, "name");
    if (name != NULL && !json_is_string(name))
        return esl__fail(ESL_EINVAL, "%s: %s.name: not a string", path, at);
    esl_imported *run;
    int rc = add_run(imp, &run, json_object_size(gpu));
    if (rc != ESL_OK)
        return rc;
    esl_record *rec = run->record;
    rec->duration_s = json_number_value(time);
    size_t i = 0;
    json_object_foreach(gpu, key, v) {
        char *end;
        long idx = strtol(key, &end, 10);
        if (key[0] == '\0' || *end != '\0' || idx < 0 || idx > 1024)
            return esl__fail(ESL_EINVAL, "%s: %s.gpu_energy.%s: a GPU index is a small integer",
                             path, at, key);
        if (!json_is_number(v) || !(json_number_value(v) > 0.0))
            return esl__fail(ESL_EINVAL, "%s: %s.gpu_energy.%s: not a positive number of joules",
                             path, at, key);
        esl_device_record *d = &rec->devices[i++];
        d->info.index = (int)idx;
        snprintf(d->info.name, sizeof d->info.name, "GPU %ld", idx);
        d->energy_j = json_number_value(v);
    }
    finish_record(rec);
    snprintf(rec->driver_version, sizeof rec->driver_version, "zeus");
    if ((rc = set_command(run, "zeus", path, at)) != ESL_OK ||
        (rc = add_label(run, "source", "zeus")) != ESL_OK ||
        (rc = add_label(run, "window", name ? json_string_value(name) : NULL)) != ESL_OK)
        return rc;
    return ESL_OK;
}

/* One record of a JSON import: the object `w` at JSON path `at` ("$" for
 * the whole file, "$[3]" for an element of its array). */
typedef int (*json_record_fn)(esl_import *imp, const char *path, json_t *w, const char *at);

/* A JSON file of one record or an array of them, each read by `record`.
 * Neither Zeus windows nor ML.ENERGY results carry a clock time: every run
 * is dated by the file's modification time. */
static int read_json_records(esl_import *imp, const char *path, const char *text, size_t len,
                             json_record_fn record, const char *what)
{
    json_error_t err;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (doc == NULL)
        return esl__fail(ESL_EPARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    int rc = ESL_OK;
    struct stat st;
    double when = stat(path, &st) == 0 ? (double)st.st_mtime : 0.0;
    if (json_is_array(doc)) {
        if (json_array_size(doc) == 0)
            rc = esl__fail(ESL_EINVAL, "%s: an empty array: nothing to import", path);
        for (size_t i = 0; i < json_array_size(doc) && rc == ESL_OK; i++) {
            char at[32];
            snprintf(at, sizeof at, "$[%zu]", i);
            json_t *w = json_array_get(doc, i);
            rc = json_is_object(w) ? record(imp, path, w, at)
                                   : esl__fail(ESL_EINVAL, "%s: %s: %s is an object", path, at,
                                               what);
        }
    } else {
        rc = json_is_object(doc) ? record(imp, path, doc, "$")
                                 : esl__fail(ESL_EINVAL, "%s: $: %s is an object", path, what);
    }
    for (size_t i = 0; i < imp->n_runs && rc == ESL_OK; i++)
        imp->runs[i].record->start_unix_s = when;
    json_decref(doc);
    return rc;
}

/* ---- ML.ENERGY leaderboard results ------------------------------------ */

/* The fields of a text-to-image result of the ML.ENERGY leaderboard (one
 * JSON object a configuration, as published in ml-energy/leaderboard and
 * leaderboard-v2): the steps field was renamed between releases. Energies
 * are the batch's total GPU energy (Zeus windows, idle included). */
static const char *const ml_fields[] = {
    "Model", "GPU model", "Batch size", "Number of inference steps", "Inference steps",
    "Batch latency (s)", "Batch energy (J)", "Energy per image (J)"};

/* The leaderboard's pipelines esl counts, each at the resolution it ran at
 * (the pipeline's default; data/mlenergy_v2.SOURCE.md). The leaderboard ran
 * every pipeline in fp16 with its default guidance (CFG on). */
static const struct {
    const char *hf, *model;
    int side;
} ml_models[] = {
    {"stabilityai/stable-diffusion-2-1", "sd2", 768},
    {"stabilityai/stable-diffusion-xl-base-1.0", "sdxl", 1024},
    {"stabilityai/sdxl-turbo", "sdxl-turbo", 512},
    {"segmind/SSD-1B", "ssd-1b", 1024},
    {"stabilityai/stable-diffusion-3-medium-diffusers", "sd3-medium", 1024},
    {"prompthero/openjourney-v4", "sd15", 512},
    {"kandinsky-community/kandinsky-2-2-decoder", "kandinsky-2-2", 512},
    {"kandinsky-community/kandinsky-3", "kandinsky-3", 1024},
};

static int ml_positive(const char *path, const char *at, json_t *w, const char *field,
                       double *out, int integer)
{
    json_t *v = json_object_get(w, field);
    if (v == NULL)
        return ESL_ENOTFOUND;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(x > 0.0) || !isfinite(x) || (integer && (x != floor(x) || x > 1e6)))
        return esl__fail(ESL_EINVAL, "%s: %s.\"%s\": not a positive %s", path, at, field,
                         integer ? "whole number" : "number");
    *out = x;
    return ESL_OK;
}

static int ml_result(esl_import *imp, const char *path, json_t *w, const char *at)
{
    const char *key;
    json_t *v;
    json_object_foreach(w, key, v) {
        size_t k = 0;
        while (k < sizeof ml_fields / sizeof ml_fields[0] && strcmp(key, ml_fields[k]) != 0)
            k++;
        if (k == sizeof ml_fields / sizeof ml_fields[0])
            return esl__fail(ESL_EINVAL, "%s: %s.\"%s\": not a field of an ML.ENERGY text-to-image "
                             "result (Model, GPU model, Batch size, Number of inference steps, "
                             "Batch latency (s), Batch energy (J), Energy per image (J))",
                             path, at, key);
    }
    json_t *model = json_object_get(w, "Model"), *gpu = json_object_get(w, "GPU model");
    if (model == NULL || !json_is_string(model) || json_string_length(model) == 0)
        return esl__fail(ESL_EINVAL, "%s: %s: no field \"Model\" (the pipeline's name)", path, at);
    if (gpu == NULL || !json_is_string(gpu) || json_string_length(gpu) == 0)
        return esl__fail(ESL_EINVAL, "%s: %s: no field \"GPU model\" (the GPU's name)", path, at);
    double batch, steps, latency, batch_j = NAN, image_j = NAN;
    int rc;
    const char *steps_field = json_object_get(w, "Number of inference steps") != NULL
                                  ? "Number of inference steps" : "Inference steps";
    const struct {
        const char *field;
        double *out;
        int integer;
    } need[] = {{"Batch size", &batch, 1}, {steps_field, &steps, 1},
                {"Batch latency (s)", &latency, 0}};
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
        rc = ml_positive(path, at, w, need[k].field, need[k].out, need[k].integer);
        if (rc == ESL_ENOTFOUND)
            return esl__fail(ESL_EINVAL, "%s: %s: no field \"%s\"", path, at, need[k].field);
        if (rc != ESL_OK)
            return rc;
    }
    int has_batch = (rc = ml_positive(path, at, w, "Batch energy (J)", &batch_j, 0)) == ESL_OK;
    if (rc != ESL_OK && rc != ESL_ENOTFOUND)
        return rc;
    int has_image = (rc = ml_positive(path, at, w, "Energy per image (J)", &image_j, 0)) == ESL_OK;
    if (rc != ESL_OK && rc != ESL_ENOTFOUND)
        return rc;
    if (!has_batch && !has_image)
        return esl__fail(ESL_EINVAL, "%s: %s: no field \"Batch energy (J)\" or \"Energy per "
                         "image (J)\"", path, at);
    /* Energy per image is the batch's energy over its size: a file where
     * the two disagree by more than rounding was written some other way. */
    if (has_batch && has_image && fabs(image_j * batch - batch_j) > 1e-6 * batch_j)
        return esl__fail(ESL_EINVAL, "%s: %s: \"Energy per image (J)\" %.17g x \"Batch size\" "
                         "%.0f is not \"Batch energy (J)\" %.17g", path, at, image_j, batch,
                         batch_j);
    esl_imported *run;
    if ((rc = add_run(imp, &run, 1)) != ESL_OK)
        return rc;
    esl_record *rec = run->record;
    rec->duration_s = latency;
    esl_device_record *d = &rec->devices[0];
    const char *gpu_name = json_string_value(gpu);
    snprintf(d->info.name, sizeof d->info.name, "%s", gpu_name);
    d->energy_j = has_batch ? batch_j : image_j * batch;
    finish_record(rec);
    snprintf(rec->driver_version, sizeof rec->driver_version, "ml.energy");
    const char *hf = json_string_value(model);
    char text[4][32];
    snprintf(text[0], sizeof text[0], "%.0f", steps);
    snprintf(text[1], sizeof text[1], "%.0f", batch);
    if ((rc = set_command(run, "mlenergy", path, at)) != ESL_OK ||
        (rc = add_label(run, "source", "mlenergy")) != ESL_OK ||
        (rc = add_label(run, "hf_model", hf)) != ESL_OK ||
        (rc = add_label(run, "steps", text[0])) != ESL_OK ||
        (rc = add_label(run, "batch_size", text[1])) != ESL_OK ||
        (rc = add_label(run, "prompts", text[1])) != ESL_OK)
        return rc;
    /* The GPU under the table's name where esl knows it, so that rows of
     * the same GPU from other sources share one level of the law. */
    esl_gpu_spec spec;
    if (esl_gpu_find(&spec, gpu_name) == ESL_OK &&
        (rc = add_label(run, "gpu", spec.name)) != ESL_OK)
        return rc;
    for (size_t k = 0; k < sizeof ml_models / sizeof ml_models[0]; k++) {
        if (strcmp(hf, ml_models[k].hf) != 0)
            continue;
        snprintf(text[2], sizeof text[2], "%d", ml_models[k].side);
        if ((rc = add_label(run, "model", ml_models[k].model)) != ESL_OK ||
            (rc = add_label(run, "dtype", "fp16")) != ESL_OK ||
            (rc = add_label(run, "cfg", "1")) != ESL_OK ||
            (rc = add_label(run, "height", text[2])) != ESL_OK ||
            (rc = add_label(run, "width", text[2])) != ESL_OK)
            return rc;
        return ESL_OK;
    }
    /* A pipeline esl does not map: the Hub name, and the caller's labels. */
    return add_label(run, "model", hf);
}

int esl_import_read(esl_import **out, const char *path, esl_import_format fmt)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(&text, &len, path);
    if (rc != ESL_OK)
        return rc;
    esl_import *imp = calloc(1, sizeof *imp);
    if (imp == NULL) {
        free(text);
        return esl__fail(ESL_ENOMEM, "out of memory importing %s", path);
    }
    switch (fmt) {
    case ESL_IMPORT_CODECARBON: rc = read_codecarbon(imp, path, text, len); break;
    case ESL_IMPORT_ZEUS:
        rc = read_json_records(imp, path, text, len, zeus_window, "a Zeus measurement");
        break;
    case ESL_IMPORT_MLENERGY:
        rc = read_json_records(imp, path, text, len, ml_result, "an ML.ENERGY result");
        break;
    default: rc = esl__fail(ESL_EINVAL, "unknown import format %d", (int)fmt); break;
    }
    free(text);
    if (rc != ESL_OK) {
        esl_import_free(imp);
        return rc;
    }
    *out = imp;
    return ESL_OK;
}

int esl_import_put(esl_store *store, int64_t *out_ids, const esl_import *imp,
                   const esl_label *labels, size_t n_labels)
{
    size_t per_run = n_labels + MAX_LABELS; /* an import's own labels, at most MAX_LABELS */
    esl_store_item *items = calloc(imp->n_runs ? imp->n_runs : 1, sizeof *items);
    esl_label *merged = calloc(imp->n_runs * per_run + 1, sizeof *merged);
    int rc = ESL_ENOMEM;
    if (items != NULL && merged != NULL) {
        for (size_t i = 0; i < imp->n_runs; i++) {
            const esl_imported *r = &imp->runs[i];
            esl_label *l = merged + i * per_run;
            size_t n = 0;
            for (size_t k = 0; k < r->n_labels && k < MAX_LABELS; k++) {
                int overridden = 0;
                for (size_t u = 0; u < n_labels; u++)
                    overridden |= strcmp(labels[u].key, r->labels[k].key) == 0;
                if (!overridden)
                    l[n++] = r->labels[k];
            }
            for (size_t u = 0; u < n_labels; u++)
                l[n++] = labels[u];
            items[i] = (esl_store_item){r->record, r->command, 0, l, n};
        }
        rc = esl_store_put_many(store, out_ids, items, imp->n_runs);
    } else {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    }
    free(merged);
    free(items);
    return rc;
}
