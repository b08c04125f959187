/*
 * runs_io.c - the run store and other tools: `esl runs import --from
 * codecarbon|zeus|mlenergy FILE` (every record of the file stored in one transaction,
 * or none), and the export formats `--format codecarbon` (emissions.csv rows)
 * and `--format openmetrics` (a text exposition for dashboards).
 */
#include <ctype.h>
#include <stddef.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "emit.h"
#include "runs_io.h"

int runs_import(const char *store_path, const char *from, const char *file,
                const esl_label *labels, size_t n_labels)
{
    esl_import_format fmt;
    int rc = esl_import_format_parse(&fmt, from);
    if (rc != ESL_OK) {
        cli_error("runs import: option --from: %s", esl_error_last());
        return EXIT_USAGE;
    }
    esl_import *imp = NULL;
    if ((rc = esl_import_read(&imp, file, fmt)) != ESL_OK)
        return cli_fail(rc);
    int64_t *ids = calloc(imp->n_runs ? imp->n_runs : 1, sizeof *ids);
    esl_store *store = NULL;
    int exit_code = EXIT_FAIL;
    if (ids == NULL) {
        cli_error("out of memory");
        goto out;
    }
    if ((rc = esl_store_open(&store, store_path)) != ESL_OK ||
        (rc = esl_import_put(store, ids, imp, labels, n_labels)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    printf("imported %zu run%s from %s (%s): ", imp->n_runs, imp->n_runs == 1 ? "" : "s", file,
           from);
    if (imp->n_runs == 1)
        printf("id %" PRId64 "\n", ids[0]);
    else
        printf("ids %" PRId64 " to %" PRId64 "\n", ids[0], ids[imp->n_runs - 1]);
    exit_code = EXIT_OK;
out:
    esl_store_close(store);
    free(ids);
    esl_import_free(imp);
    return exit_code;
}

/* The grid zone of a run: its label zone, else WORLD. */
static int run_grid(const esl_run *r, esl_grid *g)
{
    const char *zone = esl_run_label(r, "zone");
    if (zone != NULL && esl_grid_find(g, zone) == ESL_OK)
        return 1;
    return esl_grid_find(g, "WORLD") == ESL_OK ? 0 : -1;
}

void runs_export_codecarbon(const esl_run *runs, size_t n)
{
    printf("timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
           "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,"
           "country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
           "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
           "ram_total_size,tracking_mode,on_cloud,pue\n");
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
        emit_csv(stamp, ',');
        emit_csv(project ? project : "esl", ',');
        emit_csv(run_id ? run_id : id, ',');
        emit_csv(cli_num(b, rec->duration_s), ',');
        emit_csv(isfinite(kg) ? cli_num(b, kg) : "", ',');
        emit_csv(isfinite(kg) ? cli_num(b, kg / rec->duration_s) : "", ',');
        emit_csv("", ','); /* cpu_power: esl meters GPUs only */
        emit_csv(cli_num(b, rec->avg_power_w), ',');
        emit_csv("", ','); /* ram_power */
        emit_csv("", ','); /* cpu_energy */
        emit_csv(cli_num(b, kwh), ',');
        emit_csv("", ','); /* ram_energy */
        emit_csv(cli_num(b, kwh), ',');
        emit_csv(have_zone == 1 ? g.name : "", ',');
        const char *iso3 = have_zone == 1 ? esl_grid_alpha3(g.zone) : NULL;
        emit_csv(iso3 ? iso3 : "", ',');
        emit_csv("", ','); /* region */
        emit_csv("", ','); /* cloud_provider */
        emit_csv(esl_run_label(r, "cloud_region"), ',');
        for (int k = 0; k < 4; k++)
            emit_csv("", ','); /* os, python_version, codecarbon_version, cpu_count */
        emit_csv("", ','); /* cpu_model */
        snprintf(b, sizeof b, "%zu", rec->n_devices);
        emit_csv(rec->n_devices ? b : "", ',');
        char model[160] = "";
        if (rec->n_devices > 0)
            snprintf(model, sizeof model, "%zu x %s", rec->n_devices, rec->devices[0].info.name);
        emit_csv(model, ',');
        emit_csv("", ','); /* longitude */
        emit_csv("", ','); /* latitude */
        emit_csv("", ','); /* ram_total_size */
        emit_csv("machine", ',');
        emit_csv("N", ',');
        emit_csv("1.0", '\n');
    }
}

/* An OpenMetrics label value: backslash, quote and line feed escaped. */
static void om_value(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            printf("\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", stdout);
        else
            putchar(*s);
    }
}

/* A label name: [a-zA-Z_][a-zA-Z0-9_]*, other characters as '_'; "run" and
 * names starting "__" are reserved, so a run's labels are kept apart. */
static void om_name(const char *s)
{
    fputs("label_", stdout);
    for (; *s; s++)
        putchar(isalnum((unsigned char)*s) || *s == '_' ? *s : '_');
}

static void om_labels(const esl_run *r)
{
    printf("{run=\"%" PRId64 "\"", r->id);
    for (size_t k = 0; k < r->n_labels; k++) {
        putchar(',');
        om_name(r->labels[k].key);
        fputs("=\"", stdout);
        om_value(r->labels[k].value);
        putchar('"');
    }
    putchar('}');
}

void runs_export_openmetrics(const esl_run *runs, size_t n)
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
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        printf("# TYPE %s gauge\n# UNIT %s %s\n# HELP %s %s.\n", families[f].name,
               families[f].name, families[f].unit, families[f].name, families[f].help);
        for (size_t i = 0; i < n; i++) {
            double v = *(const double *)((const char *)runs[i].record + families[f].offset);
            if (!isfinite(v))
                continue;
            fputs(families[f].name, stdout);
            om_labels(&runs[i]);
            printf(" %s\n", cli_num(b, v));
        }
    }
    printf("# EOF\n");
}
