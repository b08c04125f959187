/*
 * record_json.c - a measured record as `esl measure` shows it: the table on
 * the terminal, and the JSON summary and trace CSV that libesl writes
 * (esl_record_json, esl_record_trace_csv in esl/export.h, the keys shared
 * with `esl runs show`) taken into the tool's output and files.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "record_json.h"

static void print_number_or_dash(FILE *out, double v, const char *fmt, int width)
{
    if (isnan(v))
        fprintf(out, " %*s", width, "-");
    else
        fprintf(out, fmt, width, v);
}

void record_table(FILE *out, const esl_record *rec, const char *command, int status,
                  int64_t run_id, const char *store)
{
    char flags[256];
    fprintf(out, "meter     %s", esl_meter_kind_name(rec->meter));
    if (rec->driver_version[0] != '\0')
        fprintf(out, " (driver %s, NVML %s)", rec->driver_version, rec->nvml_version);
    fprintf(out, "\ncommand   %s\nexit      %d\nduration  %.3f s\n\n", command, status,
            rec->duration_s);
    fprintf(out, "%-28s %12s %12s %8s %12s %9s %9s  %s\n", "device", "energy J", "counter J",
            "idle W", "dynamic J", "avg W", "peak W", "flags");
    for (size_t i = 0; i < rec->n_devices; i++) {
        const esl_device_record *d = &rec->devices[i];
        int width = fprintf(out, "%d %.26s", d->info.index, d->info.name);
        fprintf(out, "%*s", width < 28 ? 28 - width : 0, "");
        print_number_or_dash(out, d->energy_j, " %*.3f", 12);
        print_number_or_dash(out, d->counter_j, " %*.3f", 12);
        print_number_or_dash(out, d->idle_w, " %*.2f", 8);
        print_number_or_dash(out, d->dynamic_j, " %*.3f", 12);
        print_number_or_dash(out, d->avg_power_w, " %*.2f", 9);
        print_number_or_dash(out, d->peak_power_w, " %*.2f", 9);
        fprintf(out, "  %s\n", d->flags ? esl_flags_string(flags, sizeof flags, d->flags) : "-");
    }
    fprintf(out, "%-28s %12.3f %12s %8.2f %12.3f", "total", rec->energy_j, "", rec->idle_w,
            rec->dynamic_j);
    print_number_or_dash(out, rec->avg_power_w, " %*.2f", 9);
    print_number_or_dash(out, rec->peak_power_w, " %*.2f", 9);
    fprintf(out, "  %s\n\n", rec->flags ? esl_flags_string(flags, sizeof flags, rec->flags) : "-");
    fprintf(out, "energy    %.3f J = %.6f Wh (dynamic %.3f J = %.6f Wh)\n", rec->energy_j,
            rec->energy_j / 3600.0, rec->dynamic_j, rec->dynamic_j / 3600.0);
    if (run_id > 0)
        fprintf(out, "stored    run %lld in %s\n", (long long)run_id, store);
}

int record_trace_csv(const char *path, const esl_record *rec)
{
    cli_file o;
    if (cli_file_open(&o, path, "option --trace") != 0)
        return EXIT_FAIL;
    int rc = esl_record_trace_csv(o.f, rec);
    if (rc != ESL_OK) {
        cli_file_abandon(&o);
        return cli_fail(rc);
    }
    return cli_file_commit(&o, "option --trace");
}

json_t *record_summary_json(const esl_record *rec, const char *command, int status,
                            int64_t run_id, const esl_label *labels, size_t n_labels)
{
    char *text = NULL;
    json_t *o = NULL;
    if (esl_record_json(&text, rec, command, status, run_id, labels, n_labels) == ESL_OK)
        o = json_loads(text, 0, NULL);
    free(text);
    return o != NULL ? o : json_object();
}
