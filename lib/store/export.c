/*
 * export.c - measured runs written for other programs (esl/export.h): a
 * record or a stored run as JSON, a record's trace as CSV, stored runs as
 * CodeCarbon emissions.csv rows or OpenMetrics text. This is the run
 * store's side of leaving esl, as import.c is its side of coming in; the
 * tool only chooses the stream.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/internal.h"
#include "store/internal.h"
#include "esl/carbon.h"
#include "esl/data.h"
#include "esl/export.h"

/* A JSON number, or null for an unknown value. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *flags_json(unsigned flags)
{
    char buf[256];
    json_t *a = json_array();
    esl_flags_string(buf, sizeof buf, flags);
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ","))
        json_array_append_new(a, json_string(tok));
    return a;
}

static json_t *record_object(const esl_record *rec)
{
    json_t *o = json_object();
    json_object_set_new(o, "meter", json_string(esl_meter_kind_name(rec->meter)));
    json_object_set_new(o, "driver_version", json_string(rec->driver_version));
    json_object_set_new(o, "nvml_version", json_string(rec->nvml_version));
    json_object_set_new(o, "start_unix_s", json_real(rec->start_unix_s));
    json_object_set_new(o, "duration_s", json_real(rec->duration_s));
    json_object_set_new(o, "energy_j", json_real(rec->energy_j));
    json_object_set_new(o, "energy_wh", json_real(rec->energy_j / 3600.0));
    json_object_set_new(o, "idle_w", json_real(rec->idle_w));
    json_object_set_new(o, "dynamic_j", json_real(rec->dynamic_j));
    json_object_set_new(o, "avg_power_w", num(rec->avg_power_w));
    json_object_set_new(o, "peak_power_w", num(rec->peak_power_w));
    json_object_set_new(o, "flags", flags_json(rec->flags));
    json_t *devs = json_array();
    for (size_t i = 0; i < rec->n_devices; i++) {
        const esl_device_record *d = &rec->devices[i];
        json_t *jd = json_object();
        json_object_set_new(jd, "index", json_integer(d->info.index));
        json_object_set_new(jd, "name", json_string(d->info.name));
        json_object_set_new(jd, "uuid", json_string(d->info.uuid));
        json_object_set_new(jd, "pci_bus_id", json_string(d->info.pci_bus_id));
        json_object_set_new(jd, "power_limit_w", json_real(d->info.power_limit_w));
        json_object_set_new(jd, "energy_j", json_real(d->energy_j));
        json_object_set_new(jd, "counter_j", num(d->counter_j));
        json_object_set_new(jd, "integrated_j", num(d->integrated_j));
        json_object_set_new(jd, "idle_w", json_real(d->idle_w));
        json_object_set_new(jd, "dynamic_j", json_real(d->dynamic_j));
        json_object_set_new(jd, "avg_power_w", num(d->avg_power_w));
        json_object_set_new(jd, "peak_power_w", num(d->peak_power_w));
        json_object_set_new(jd, "flags", flags_json(d->flags));
        json_array_append_new(devs, jd);
    }
    json_object_set_new(o, "devices", devs);
    json_object_set_new(o, "samples", json_integer((json_int_t)rec->n_samples));
    return o;
}

/* `o` as compact text into *out; `o` is released. */
static int dump(char **out, json_t *o)
{
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    return *out != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
}

int esl__record_doc(struct json_t **out, const esl_record *rec, const char *command,
                    int exit_status, int64_t run_id, const esl_label *labels, size_t n_labels)
{
    *out = NULL;
    if (rec == NULL || command == NULL || (labels == NULL && n_labels > 0))
        return esl__fail(ESL_EINVAL, "record json: no %s",
                         rec == NULL ? "record" : command == NULL ? "command" : "labels");
    json_t *o = record_object(rec);
    json_object_set_new(o, "command", json_string(command));
    json_object_set_new(o, "exit_status", json_integer(exit_status));
    json_object_set_new(o, "run_id", run_id > 0 ? json_integer(run_id) : json_null());
    json_t *lj = json_object();
    for (size_t i = 0; i < n_labels; i++)
        json_object_set_new(lj, labels[i].key, json_string(labels[i].value));
    json_object_set_new(o, "labels", lj);
    *out = o;
    return o != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
}

int esl_record_json(char **out, const esl_record *rec, const char *command, int exit_status,
                    int64_t run_id, const esl_label *labels, size_t n_labels)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "record json: no output");
    *out = NULL;
    json_t *o;
    int rc = esl__record_doc(&o, rec, command, exit_status, run_id, labels, n_labels);
    return rc != ESL_OK ? rc : dump(out, o);
}

int esl__run_doc(struct json_t **out, const esl_run *r, int with_samples)
{
    *out = NULL;
    if (r == NULL || r->record == NULL)
        return esl__fail(ESL_EINVAL, "run json: no run record");
    json_t *o = record_object(r->record);
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "started", json_string(r->started));
    json_object_set_new(o, "command", json_string(r->command));
    json_object_set_new(o, "exit_status", json_integer(r->exit_status));
    json_object_set_new(o, "run_uuid", r->uuid ? json_string(r->uuid) : json_null());
    json_t *labels = json_object();
    for (size_t i = 0; i < r->n_labels; i++)
        json_object_set_new(labels, r->labels[i].key, json_string(r->labels[i].value));
    json_object_set_new(o, "labels", labels);
    if (with_samples) {
        json_t *samples = json_array();
        for (size_t i = 0; i < r->record->n_samples; i++) {
            const esl_sample *s = &r->record->samples[i];
            json_t *js = json_object();
            json_object_set_new(js, "time_s", json_real(s->time_s));
            json_object_set_new(js, "device", json_integer(s->device));
            json_object_set_new(js, "power_w", num(s->power_w));
            json_object_set_new(js, "power_instant_w", num(s->power_instant_w));
            json_object_set_new(js, "energy_j", num(s->energy_j));
            json_object_set_new(js, "sm_clock_mhz", num(s->sm_clock_mhz));
            json_object_set_new(js, "temperature_c", num(s->temperature_c));
            json_object_set_new(js, "utilization_pct", num(s->utilization_pct));
            json_array_append_new(samples, js);
        }
        json_object_set_new(o, "trace", samples);
    }
    *out = o;
    return o != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
}

int esl_run_json(char **out, const esl_run *r, int with_samples)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "run json: no output");
    *out = NULL;
    json_t *o;
    int rc = esl__run_doc(&o, r, with_samples);
    return rc != ESL_OK ? rc : dump(out, o);
}

static void csv_num(FILE *f, double v, int last)
{
    if (!isnan(v))
        fprintf(f, "%.17g", v);
    fputc(last ? '\n' : ',', f);
}

int esl_record_trace_csv(FILE *f, const esl_record *rec)
{
    if (f == NULL || rec == NULL)
        return esl__fail(ESL_EINVAL, "trace csv: no %s", f == NULL ? "stream" : "record");
    fprintf(f, "time_s,device,power_w,power_instant_w,energy_j,sm_clock_mhz,temperature_c,"
               "utilization_pct\n");
    for (size_t i = 0; i < rec->n_samples; i++) {
        const esl_sample *s = &rec->samples[i];
        fprintf(f, "%.17g,%d,", s->time_s, s->device);
        csv_num(f, s->power_w, 0);
        csv_num(f, s->power_instant_w, 0);
        csv_num(f, s->energy_j, 0);
        csv_num(f, s->sm_clock_mhz, 0);
        csv_num(f, s->temperature_c, 0);
        csv_num(f, s->utilization_pct, 1);
    }
    return ferror(f) ? esl__fail(ESL_EIO, "trace csv: cannot write") : ESL_OK;
}

/* One CSV field, then `sep`. */
static void field(FILE *f, const char *s, char sep)
{
    esl_csv_field(f, s);
    fputc(sep, f);
}

/* The grid zone of a run: its label zone, else WORLD. */
static int run_grid(const esl_run *r, esl_grid *g)
{
    const char *zone = esl_run_label(r, "zone");
    if (zone != NULL && esl_grid_find(g, zone) == ESL_OK)
        return 1;
    return esl_grid_find(g, "WORLD") == ESL_OK ? 0 : -1;
}

static void export_codecarbon(FILE *f, const esl_run *runs, size_t n)
{
    fprintf(f, "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,"
               "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
               "country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
               "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,"
               "longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue\n");
    for (size_t i = 0; i < n; i++) {
        const esl_run *r = &runs[i];
        const esl_record *rec = r->record;
        char b[64], stamp[32], id[48];
        time_t end = (time_t)llround(rec->start_unix_s + rec->duration_s);
        struct tm tm;
        gmtime_r(&end, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        const char *project = esl_run_label(r, "project");
        const char *run_id = esl_run_label(r, "codecarbon_run_id");
        snprintf(id, sizeof id, "esl-run-%" PRId64, r->id);
        esl_grid g;
        int have_zone = run_grid(r, &g);
        double kwh = rec->energy_j / 3.6e6;
        double kg = have_zone >= 0 ? kwh * g.gco2e_per_kwh / 1000.0 : NAN;
        field(f, stamp, ',');
        field(f, project ? project : "esl", ',');
        field(f, run_id ? run_id : id, ',');
        field(f, esl_format_double(b, rec->duration_s), ',');
        field(f, isfinite(kg) ? esl_format_double(b, kg) : "", ',');
        field(f, isfinite(kg) ? esl_format_double(b, kg / rec->duration_s) : "", ',');
        field(f, "", ','); /* cpu_power: esl meters GPUs only */
        field(f, esl_format_double(b, rec->avg_power_w), ',');
        field(f, "", ','); /* ram_power */
        field(f, "", ','); /* cpu_energy */
        field(f, esl_format_double(b, kwh), ',');
        field(f, "", ','); /* ram_energy */
        field(f, esl_format_double(b, kwh), ',');
        field(f, have_zone == 1 ? g.name : "", ',');
        const char *iso3 = have_zone == 1 ? esl_grid_alpha3(g.zone) : NULL;
        field(f, iso3 ? iso3 : "", ',');
        field(f, "", ','); /* region */
        field(f, "", ','); /* cloud_provider */
        field(f, esl_run_label(r, "cloud_region"), ',');
        for (int k = 0; k < 4; k++)
            field(f, "", ','); /* os, python_version, codecarbon_version, cpu_count */
        field(f, "", ','); /* cpu_model */
        snprintf(b, sizeof b, "%zu", rec->n_devices);
        field(f, rec->n_devices ? b : "", ',');
        char model[160] = "";
        if (rec->n_devices > 0)
            snprintf(model, sizeof model, "%zu x %s", rec->n_devices, rec->devices[0].info.name);
        field(f, model, ',');
        field(f, "", ','); /* longitude */
        field(f, "", ','); /* latitude */
        field(f, "", ','); /* ram_total_size */
        field(f, "machine", ',');
        field(f, "N", ',');
        field(f, "1.0", '\n');
    }
}

/* An OpenMetrics label value: backslash, quote and line feed escaped. */
static void om_value(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* A label name: [a-zA-Z_][a-zA-Z0-9_]*, other characters as '_'; "run" and
 * names starting "__" are reserved, so a run's labels are kept apart. */
static void om_name(FILE *f, const char *s)
{
    fputs("label_", f);
    for (; *s; s++)
        fputc(isalnum((unsigned char)*s) || *s == '_' ? *s : '_', f);
}

static void om_labels(FILE *f, const esl_run *r)
{
    fprintf(f, "{run=\"%" PRId64 "\"", r->id);
    for (size_t k = 0; k < r->n_labels; k++) {
        fputc(',', f);
        om_name(f, r->labels[k].key);
        fputs("=\"", f);
        om_value(f, r->labels[k].value);
        fputc('"', f);
    }
    fputc('}', f);
}

static void export_openmetrics(FILE *f, const esl_run *runs, size_t n)
{
    static const struct {
        const char *name, *unit, *help;
        size_t offset;
    } families[] = {
        {"esl_run_energy_joules", "joules", "GPU energy of a stored run, idle power included",
         offsetof(esl_record, energy_j)},
        {"esl_run_dynamic_energy_joules", "joules",
         "GPU energy of a stored run above idle power (equals the total without a baseline)",
         offsetof(esl_record, dynamic_j)},
        {"esl_run_duration_seconds", "seconds", "wall time of a stored run",
         offsetof(esl_record, duration_s)},
        {"esl_run_idle_power_watts", "watts", "idle power subtracted, all devices",
         offsetof(esl_record, idle_w)},
        {"esl_run_average_power_watts", "watts", "average power over the run, all devices",
         offsetof(esl_record, avg_power_w)},
    };
    char b[64];
    for (size_t k = 0; k < sizeof families / sizeof families[0]; k++) {
        fprintf(f, "# TYPE %s gauge\n# UNIT %s %s\n# HELP %s %s.\n", families[k].name,
                families[k].name, families[k].unit, families[k].name, families[k].help);
        for (size_t i = 0; i < n; i++) {
            double v = *(const double *)((const char *)runs[i].record + families[k].offset);
            if (!isfinite(v))
                continue;
            fputs(families[k].name, f);
            om_labels(f, &runs[i]);
            fprintf(f, " %s\n", esl_format_double(b, v));
        }
    }
    fprintf(f, "# EOF\n");
}

int esl_runs_export(FILE *out, const esl_run *runs, size_t n, esl_export_format fmt)
{
    if (out == NULL || (runs == NULL && n > 0))
        return esl__fail(ESL_EINVAL, "runs export: no %s", out == NULL ? "stream" : "runs");
    for (size_t i = 0; i < n; i++)
        if (runs[i].record == NULL)
            return esl__fail(ESL_EINVAL, "runs export: run %" PRId64 " has no record", runs[i].id);
    switch (fmt) {
    case ESL_EXPORT_CODECARBON: export_codecarbon(out, runs, n); break;
    case ESL_EXPORT_OPENMETRICS: export_openmetrics(out, runs, n); break;
    default: return esl__fail(ESL_EINVAL, "runs export: unknown format %d", (int)fmt);
    }
    return ferror(out) ? esl__fail(ESL_EIO, "runs export: cannot write") : ESL_OK;
}
