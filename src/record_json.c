/*
 * record_json.c - a measured record as JSON, shared by `esl measure` and
 * `esl runs show` so that both print the same keys.
 */
#include <math.h>
#include <string.h>

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

