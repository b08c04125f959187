/*
 * text.c - a measured record as text for a person (esl/export.h): the
 * table `esl measure` prints, one line per device and the total, then the
 * energy in J and Wh; a stored run as `esl runs show` prints it; a run's
 * labels on one line. Control characters in labels are shown as \xNN so
 * that a label cannot rewrite the terminal. The JSON and CSV forms for
 * programs live in export.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "core/internal.h"
#include "esl/error.h"
#include "esl/export.h"
#include "esl/meter.h"

/* A right-aligned number, or a dash for an unknown one. */
static void number_or_dash(FILE *out, double v, const char *fmt, int width)
{
    if (isnan(v))
        fprintf(out, " %*s", width, "-");
    else
        fprintf(out, fmt, width, v);
}

int esl_record_table(FILE *out, const esl_record *rec, const char *command, int exit_status,
                     int64_t run_id, const char *store)
{
    if (out == NULL || rec == NULL || command == NULL || (run_id > 0 && store == NULL))
        return esl__fail(ESL_EINVAL, "record table: no stream, record, command or store given");
    char flags[256];
    fprintf(out, "meter     %s", esl_meter_kind_name(rec->meter));
    if (rec->driver_version[0] != '\0')
        fprintf(out, " (driver %s, NVML %s)", rec->driver_version, rec->nvml_version);
    fprintf(out, "\ncommand   %s\nexit      %d\nduration  %.3f s\n\n", command, exit_status,
            rec->duration_s);
    fprintf(out, "%-28s %12s %12s %8s %12s %9s %9s  %s\n", "device", "energy J", "counter J",
            "idle W", "dynamic J", "avg W", "peak W", "flags");
    for (size_t i = 0; i < rec->n_devices; i++) {
        const esl_device_record *d = &rec->devices[i];
        int width = fprintf(out, "%d %.26s", d->info.index, d->info.name);
        fprintf(out, "%*s", width < 28 ? 28 - width : 0, "");
        number_or_dash(out, d->energy_j, " %*.3f", 12);
        number_or_dash(out, d->counter_j, " %*.3f", 12);
        number_or_dash(out, d->idle_w, " %*.2f", 8);
        number_or_dash(out, d->dynamic_j, " %*.3f", 12);
        number_or_dash(out, d->avg_power_w, " %*.2f", 9);
        number_or_dash(out, d->peak_power_w, " %*.2f", 9);
        fprintf(out, "  %s\n", d->flags ? esl_flags_string(flags, sizeof flags, d->flags) : "-");
    }
    fprintf(out, "%-28s %12.3f %12s %8.2f %12.3f", "total", rec->energy_j, "", rec->idle_w,
            rec->dynamic_j);
    number_or_dash(out, rec->avg_power_w, " %*.2f", 9);
    number_or_dash(out, rec->peak_power_w, " %*.2f", 9);
    fprintf(out, "  %s\n\n", rec->flags ? esl_flags_string(flags, sizeof flags, rec->flags) : "-");
    fprintf(out, "energy    %.3f J = %.6f Wh (dynamic %.3f J = %.6f Wh)\n", rec->energy_j,
            rec->energy_j / 3600.0, rec->dynamic_j, rec->dynamic_j / 3600.0);
    if (run_id > 0)
        fprintf(out, "stored    run %lld in %s\n", (long long)run_id, store);
    return ferror(out) ? esl__fail(ESL_EIO, "cannot write the text") : ESL_OK;
}

/* `s` with control characters as \xNN, cut to fit `size` bytes. */
static const char *visible(char *out, size_t size, const char *s)
{
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && used + 5 < size; p++) {
        if (*p < 0x20 || *p == 0x7f)
            used += (size_t)snprintf(out + used, size - used, "\\x%02x", *p);
        else
            out[used++] = (char)*p;
    }
    out[used] = '\0';
    return out;
}

char *esl_run_labels_text(char *buf, size_t size, const esl_run *run)
{
    if (buf == NULL || size == 0)
        return buf;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; run != NULL && i < run->n_labels && used < size; i++) {
        char value[512];
        int n = snprintf(buf + used, size - used, "%s%s=%s", i ? " " : "", run->labels[i].key,
                         visible(value, sizeof value, run->labels[i].value));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

int esl_run_text(FILE *out, const esl_run *run)
{
    if (out == NULL || run == NULL || run->record == NULL)
        return esl__fail(ESL_EINVAL, "run text: no stream or run given");
    char flags[256];
    const esl_record *rec = run->record;
    fprintf(out, "run       %" PRId64 "\nuuid      %s\nstarted   %s\ncommand   %s\nexit      %d\n"
            "meter     %s", run->id, run->uuid ? run->uuid : "-", run->started, run->command,
            run->exit_status, esl_meter_kind_name(rec->meter));
    if (rec->driver_version[0] != '\0')
        fprintf(out, " (driver %s, NVML %s)", rec->driver_version, rec->nvml_version);
    fprintf(out, "\nduration  %.3f s\nenergy    %.3f J = %.6f Wh\nidle      %.2f W\n"
            "dynamic   %.3f J\nflags     %s\nsamples   %zu\n",
            rec->duration_s, rec->energy_j, rec->energy_j / 3600.0, rec->idle_w, rec->dynamic_j,
            rec->flags ? esl_flags_string(flags, sizeof flags, rec->flags) : "-", rec->n_samples);
    for (size_t i = 0; i < run->n_labels; i++) {
        char key[512], value[512];
        fprintf(out, "label     %s=%s\n", visible(key, sizeof key, run->labels[i].key),
                visible(value, sizeof value, run->labels[i].value));
    }
    for (size_t i = 0; i < rec->n_devices; i++) {
        const esl_device_record *d = &rec->devices[i];
        fprintf(out, "device    %d %s%s%s%s%s: %.3f J, idle %.2f W, dynamic %.3f J%s%s\n",
                d->info.index, d->info.name, d->info.uuid[0] ? " " : "", d->info.uuid,
                d->info.pci_bus_id[0] ? " " : "", d->info.pci_bus_id, d->energy_j, d->idle_w,
                d->dynamic_j, d->flags ? ", " : "",
                d->flags ? esl_flags_string(flags, sizeof flags, d->flags) : "");
    }
    return ferror(out) ? esl__fail(ESL_EIO, "cannot write the text") : ESL_OK;
}
