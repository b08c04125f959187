/*
 * record_json.c - a measured record as the tool shows it: JSON, shared by
 * `esl measure` and `esl runs show` so that both print the same keys, and
 * the table and trace CSV of `esl measure`.
 */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "record_json.h"

/* A JSON number, or null for an unknown value. */
json_t *record_json_num(double v)
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

json_t *record_json(const esl_record *rec)
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
    json_object_set_new(o, "avg_power_w", record_json_num(rec->avg_power_w));
    json_object_set_new(o, "peak_power_w", record_json_num(rec->peak_power_w));
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
        json_object_set_new(jd, "counter_j", record_json_num(d->counter_j));
        json_object_set_new(jd, "integrated_j", record_json_num(d->integrated_j));
        json_object_set_new(jd, "idle_w", json_real(d->idle_w));
        json_object_set_new(jd, "dynamic_j", json_real(d->dynamic_j));
        json_object_set_new(jd, "avg_power_w", record_json_num(d->avg_power_w));
        json_object_set_new(jd, "peak_power_w", record_json_num(d->peak_power_w));
        json_object_set_new(jd, "flags", flags_json(d->flags));
        json_array_append_new(devs, jd);
    }
    json_object_set_new(o, "devices", devs);
    json_object_set_new(o, "samples", json_integer((json_int_t)rec->n_samples));
    return o;
}

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

static void csv_num(FILE *f, double v, int last)
{
    if (!isnan(v))
        fprintf(f, "%.17g", v);
    fputc(last ? '\n' : ',', f);
}

int record_trace_csv(const char *path, const esl_record *rec)
{
    cli_file o;
    if (cli_file_open(&o, path, "option --trace") != 0)
        return EXIT_FAIL;
    FILE *f = o.f;
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
    return cli_file_commit(&o, "option --trace");
}

json_t *record_summary_json(const esl_record *rec, const char *command, int status,
                            int64_t run_id, const esl_label *labels, size_t n_labels)
{
    json_t *o = record_json(rec);
    json_object_set_new(o, "command", json_string(command));
    json_object_set_new(o, "exit_status", json_integer(status));
    json_object_set_new(o, "run_id", run_id > 0 ? json_integer(run_id) : json_null());
    json_t *lj = json_object();
    for (size_t i = 0; i < n_labels; i++)
        json_object_set_new(lj, labels[i].key, json_string(labels[i].value));
    json_object_set_new(o, "labels", lj);
    return o;
}
