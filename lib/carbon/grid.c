/*
 * grid.c - the built-in grid carbon intensity table (data/grid_intensity.csv,
 * embedded at build time and split with libcsv on first use) and the
 * energy-to-carbon-and-cost arithmetic.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "carbon/zones.h"
#include "core/internal.h"
#include "esl/carbon.h"

extern const char esl__grid_intensity_csv[];
extern const size_t esl__grid_intensity_csv_len;

#define MAX_ZONES 256

typedef struct table {
    esl_grid zones[MAX_ZONES];
    int n;
    int field;
    int record;
} table;

static void on_field(void *s, size_t len, void *data)
{
    table *t = data;
    char cell[128];
    size_t n = len < sizeof cell - 1 ? len : sizeof cell - 1;
    memcpy(cell, s, n);
    cell[n] = '\0';
    if (t->record > 0 && t->n < MAX_ZONES) {
        esl_grid *g = &t->zones[t->n];
        switch (t->field) {
        case 0: memcpy(g->zone, cell, n < sizeof g->zone ? n : sizeof g->zone - 1); break;
        case 1: memcpy(g->name, cell, n < sizeof g->name ? n : sizeof g->name - 1); break;
        case 2: g->gco2e_per_kwh = strtod(cell, NULL); break;
        case 3: g->year = atoi(cell); break;
        }
    }
    t->field++;
}

static void on_record(int c, void *data)
{
    table *t = data;
    (void)c;
    if (t->record > 0 && t->n < MAX_ZONES)
        t->n++;
    t->record++;
    t->field = 0;
}

/* Parsed once per thread, on first use: the table is shipped data, checked by tests. */
static const table *load(void)
{
    static _Thread_local table t;
    static _Thread_local int loaded;
    if (!loaded) {
        struct csv_parser p;
        memset(&t, 0, sizeof t);
        if (csv_init(&p, CSV_STRICT) == 0) {
            csv_parse(&p, esl__grid_intensity_csv, esl__grid_intensity_csv_len, on_field,
                      on_record, &t);
            csv_fini(&p, on_field, on_record, &t);
            csv_free(&p);
        }
        loaded = 1;
    }
    return &t;
}

int esl_grid_count(void)
{
    return load()->n;
}

int esl_grid_get(esl_grid *out, int i)
{
    const table *t = load();
    if (i < 0 || i >= t->n)
        return esl__fail(ESL_ERANGE, "grid zone index %d out of range", i);
    *out = t->zones[i];
    return ESL_OK;
}

int esl_grid_find(esl_grid *out, const char *zone)
{
    const table *t = load();
    char known[1024] = "";
    /* An alpha-3 code, a country name or a cloud region stands for its
     * alpha-2 zone (zones.c); the table's own names match too. */
    const char *kind = NULL, *alias = esl__zone_alias(zone, &kind);
    for (int i = 0; i < t->n; i++) {
        if (strcasecmp(t->zones[i].zone, alias ? alias : zone) == 0 ||
            (alias == NULL && strcasecmp(t->zones[i].name, zone) == 0)) {
            *out = t->zones[i];
            return ESL_OK;
        }
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 t->zones[i].zone);
    }
    return esl__fail(ESL_ENOTFOUND, "unknown grid zone '%s' (known: %s; or their ISO alpha-3 "
                     "codes, country names, cloud regions)", zone, known);
}

void esl_footprint_of(esl_footprint *out, double energy_j, double pue, double gco2e_per_kwh,
                      double price_per_kwh)
{
    out->facility_energy_j = energy_j * pue;
    double kwh = out->facility_energy_j / 3.6e6;
    out->gco2e = kwh * gco2e_per_kwh;
    out->cost = kwh * price_per_kwh;
}

int esl_fleet_plan(esl_fleet *out, double rate, double images, double time_s, double dynamic_j,
                   double idle_w, int64_t gpus_per_set, double pue, double gco2e_per_kwh,
                   double price_per_kwh)
{
    *out = (esl_fleet){0};
    if (!(rate > 0) || !isfinite(rate) || !(images > 0) || !(time_s > 0) || !isfinite(time_s) ||
        !(dynamic_j > 0) || !isfinite(dynamic_j) || !(idle_w >= 0) || !isfinite(idle_w) ||
        gpus_per_set < 1)
        return esl__fail(ESL_EINVAL, "a fleet needs a positive rate, image count, time and "
                         "energy (rate %g, time %g s, energy %g J)", rate, time_s, dynamic_j);
    out->set_images_per_s = images / time_s;
    double sets = ceil(rate / out->set_images_per_s);
    if (sets * (double)gpus_per_set > 1e9)
        return esl__fail(ESL_EINVAL, "%g images per second need more than 10^9 GPUs", rate);
    out->sets = (int64_t)sets;
    out->gpus = out->sets * gpus_per_set;
    out->utilisation = rate / (sets * out->set_images_per_s);
    double joules = 86400.0 * (rate * dynamic_j / images + (double)out->gpus * idle_w);
    out->kwh_per_day = joules * pue / 3.6e6;
    out->tco2e_per_year = out->kwh_per_day * 365.0 * gco2e_per_kwh / 1e6;
    out->cost_per_day = out->kwh_per_day * price_per_kwh;
    return ESL_OK;
}

int esl_fleet_for(esl_fleet *out, double rate, const esl_row *row, const esl_prediction *p,
                  double pue, double gco2e_per_kwh, double price_per_kwh)
{
    *out = (esl_fleet){0};
    if (!isfinite(p->time_s))
        return esl__fail(ESL_EUNSUPPORTED, "the law was trained on no row with a duration "
                         "(docs/law.md)");
    return esl_fleet_plan(out, rate, (double)row->prompts, p->time_s, p->energy_j,
                          isfinite(p->idle_w) ? p->idle_w : 0.0, row->num_gpus, pue,
                          gco2e_per_kwh, price_per_kwh);
}
