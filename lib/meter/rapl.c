/*
 * rapl.c - the RAPL meter: CPU package and DRAM energy from the Linux
 * powercap tree (/sys/class/powercap, or ESL_POWERCAP_ROOT for tests).
 *
 * Each zone has an energy_uj counter in microjoules that wraps at
 * max_energy_range_uj; the meter accumulates deltas across wraps. Only
 * package-N zones and dram zones are measured: core and uncore are parts of
 * their package, psys covers the whole platform (packages included), and
 * intel-rapl-mmio repeats the package zone, so counting any of them too would
 * count the same joules twice. Power is the counter's change over the time
 * between two reads. Since Linux 5.10 energy_uj is readable by root only;
 * the error says so.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "meter/meter_internal.h"

/* RAPL counters advance about every millisecond. */
#define RAPL_UPDATE_INTERVAL_S 0.001
#define MAX_ZONES 64

typedef struct zone {
    char path[512];           /* the zone's energy_uj */
    unsigned long long max_uj;/* wraparound point */
    unsigned long long last_uj;
    double total_j;           /* accumulated since open */
    double last_t;            /* CLOCK_MONOTONIC of the last read */
    bool started;
} zone;

typedef struct rapl {
    zone *zones;
} rapl;

static int read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno;
    size_t n = fread(buf, 1, size - 1, f);
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err)
        return err;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int read_counter(const char *path, unsigned long long *out)
{
    char buf[64];
    int err = read_text(path, buf, sizeof buf);
    if (err == EACCES || err == EPERM)
        return esl__fail(ESL_ENODEV, "rapl: cannot read %s: %s (root-only since Linux 5.10: run as "
                         "root, or make it readable)", path, strerror(err));
    if (err)
        return esl__fail(ESL_ENODEV, "rapl: cannot read %s: %s", path, strerror(err));
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || *end != '\0' || errno == ERANGE || buf[0] == '-')
        return esl__fail(ESL_EDEVICE, "rapl: %s: '%s' is not a counter", path, buf);
    *out = v;
    return ESL_OK;
}

static int rapl_read(esl_meter *m, size_t i, esl_sample *out, bool *lost)
{
    rapl *r = m->backend;
    zone *z = &r->zones[i];
    unsigned long long uj;
    (void)lost;
    double now = esl__now_mono();
    int rc = read_counter(z->path, &uj);
    if (rc != ESL_OK)
        return rc == ESL_ENODEV ? ESL_EDEVICE : rc;
    if (z->started) {
        /* A smaller value means the counter wrapped at max_energy_range_uj. */
        unsigned long long delta = uj >= z->last_uj ? uj - z->last_uj : z->max_uj - z->last_uj + uj;
        double j = (double)delta * 1e-6;
        z->total_j += j;
        if (now > z->last_t)
            out->power_w = j / (now - z->last_t);
    }
    z->started = true;
    z->last_uj = uj;
    z->last_t = now;
    out->energy_j = z->total_j;
    return ESL_OK;
}

static void rapl_close(esl_meter *m)
{
    rapl *r = m->backend;
    if (r != NULL)
        free(r->zones);
    free(r);
    m->backend = NULL;
}

static const esl__meter_ops rapl_ops = {rapl_read, NULL, NULL, NULL, NULL, rapl_close};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int esl__rapl_open(esl_meter *m, const esl_meter_opts *opts)
{
    const char *root = opts->powercap_root;
    if (root == NULL || root[0] == '\0')
        root = getenv("ESL_POWERCAP_ROOT");
    if (root == NULL || root[0] == '\0')
        root = "/sys/class/powercap";
    rapl *r = calloc(1, sizeof *r);
    if (r == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory opening RAPL");
    m->ops = &rapl_ops;
    m->backend = r;

    DIR *dir = opendir(root);
    if (dir == NULL)
        return esl__fail(ESL_ENODEV, "rapl: cannot open %s: %s", root, strerror(errno));
    char *names[MAX_ZONES];
    size_t n_names = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n_names < MAX_ZONES) {
        /* "intel-rapl:0", "intel-rapl:0:2"; not "intel-rapl-mmio:0" */
        if (strncmp(e->d_name, "intel-rapl:", 11) != 0)
            continue;
        if ((names[n_names] = esl__strdup(e->d_name)) == NULL)
            break;
        n_names++;
    }
    closedir(dir);
    qsort(names, n_names, sizeof names[0], by_name);

    r->zones = calloc(n_names ? n_names : 1, sizeof *r->zones);
    m->devices = calloc(n_names ? n_names : 1, sizeof *m->devices);
    int rc = (r->zones == NULL || m->devices == NULL)
                 ? esl__fail(ESL_ENOMEM, "out of memory opening RAPL") : ESL_OK;
    for (size_t i = 0; i < n_names && rc == ESL_OK; i++) {
        char path[512], name[64], buf[64];
        snprintf(path, sizeof path, "%s/%s/name", root, names[i]);
        if (read_text(path, name, sizeof name) != 0)
            continue;
        bool package = strncmp(name, "package-", 8) == 0 && strchr(names[i] + 11, ':') == NULL;
        if (!package && strcmp(name, "dram") != 0)
            continue; /* core, uncore, psys: contained in, or containing, a measured zone */
        zone *z = &r->zones[m->n_devices];
        esl_device_info *d = &m->devices[m->n_devices];
        snprintf(path, sizeof path, "%s/%s/max_energy_range_uj", root, names[i]);
        char *end;
        if (read_text(path, buf, sizeof buf) != 0 || (z->max_uj = strtoull(buf, &end, 10)) == 0 ||
            *end != '\0') {
            rc = esl__fail(ESL_ENODEV, "rapl: cannot read a positive range from %s", path);
            break;
        }
        snprintf(z->path, sizeof z->path, "%s/%s/energy_uj", root, names[i]);
        unsigned long long probe;
        if ((rc = read_counter(z->path, &probe)) != ESL_OK)
            break;
        /* "package-0", or "dram" qualified by its package: "dram-0" */
        if (package)
            snprintf(d->name, sizeof d->name, "%s", name);
        else
            snprintf(d->name, sizeof d->name, "dram-%.*s", (int)strcspn(names[i] + 11, ":"),
                     names[i] + 11);
        d->index = (int)m->n_devices;
        d->caps = ESL_CAP_ENERGY_COUNTER | ESL_CAP_POWER;
        d->update_interval_s = RAPL_UPDATE_INTERVAL_S;
        d->counter_period_s = NAN;
        m->n_devices++;
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    if (rc == ESL_OK && m->n_devices == 0)
        rc = esl__fail(ESL_ENODEV, "rapl: no package or dram zone under %s", root);
    return rc;
}
