/*
 * estimate.c - the prediction document (esl/estimate.h): a law's prediction
 * of a configuration accounted in carbon, cost and a fleet, written as the
 * table, CSV or JSON `esl predict` prints. It lives in the library so that a
 * program predicting energy gets the same numbers, the same warnings and the
 * same JSON keys (provenance included) as the tool, written once.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/estimate.h"
#include "esl/json.h"

/* What every estimate of one call shares: the options resolved once. */
typedef struct doc {
    FILE *out;
    const esl_law *law;
    esl_estimate_opts o;   /* the caller's, PUE defaulted */
    double grid;           /* gCO2e per kWh; 0 without carbon */
    double price;          /* per kWh; 0 without cost */
    int carbon;            /* carbon is reported (a zone or a given intensity) */
    char zone_note[96];    /* "WORLD 2024, Ember" or "given" */
    esl_provenance prov;   /* what every prediction rests on */
    const char *origin;    /* a file of configurations, or NULL for one */
    json_t *array;         /* a file's JSON objects */
} doc;

static const esl_estimate_opts defaults = {.pue = 1.0};

static int resolve(doc *d, FILE *out, const esl_law *law, const esl_estimate_opts *opts,
                   int with_provenance)
{
    memset(d, 0, sizeof *d);
    d->out = out;
    d->law = law;
    d->o = opts != NULL ? *opts : defaults;
    if (law == NULL)
        return esl__fail(ESL_EINVAL, "estimate: no law given");
    if (d->o.pue == 0.0)
        d->o.pue = 1.0;
    if (!(d->o.pue >= 1.0 && isfinite(d->o.pue)))
        return esl__fail(ESL_EINVAL, "estimate: PUE %g is below 1", d->o.pue);
    if (!(d->o.rate >= 0.0 && isfinite(d->o.rate)))
        return esl__fail(ESL_EINVAL, "estimate: rate %g is not a finite number >= 0", d->o.rate);
    if (d->o.zone != NULL && d->o.has_grid)
        return esl__fail(ESL_EINVAL, "estimate: give a zone or a grid intensity, not both");
    if ((unsigned)d->o.format > ESL_ESTIMATE_JSON)
        return esl__fail(ESL_EINVAL, "estimate: unknown format %d", (int)d->o.format);
    d->carbon = d->o.zone != NULL || d->o.has_grid;
    d->grid = d->o.zone != NULL ? d->o.zone->gco2e_per_kwh : d->o.has_grid ? d->o.gco2e_per_kwh : 0;
    d->price = d->o.has_price ? d->o.price_per_kwh : 0.0;
    snprintf(d->zone_note, sizeof d->zone_note, "given");
    if (d->o.zone != NULL)
        snprintf(d->zone_note, sizeof d->zone_note, "%s %d, Ember", d->o.zone->zone,
                 d->o.zone->year);
    /* The provenance hashes the whole law: only the documents that print
     * it pay for it, once per call. */
    if (with_provenance)
        esl_provenance_of(&d->prov, law, d->o.law_name, d->o.zone,
                          d->o.has_grid ? d->o.gco2e_per_kwh : NAN);
    return ESL_OK;
}

static int estimate(esl_estimate *out, const doc *d, const esl_row *row, int fleet)
{
    memset(out, 0, sizeof *out);
    int rc = esl_law_predict(&out->prediction, d->law, row, NULL);
    if (rc != ESL_OK)
        return rc;
    const esl_prediction *p = &out->prediction;
    /* Carbon and cost follow the energy paid for: the total where the law
     * predicts it, else the dynamic energy. */
    esl_footprint_of(&out->footprint, isfinite(p->total_j) ? p->total_j : p->energy_j, d->o.pue,
                     d->grid, d->price);
    if (fleet && d->o.rate > 0) {
        rc = esl_fleet_for(&out->fleet, d->o.rate, row, p, d->o.pue, d->grid, d->price);
        out->has_fleet = rc == ESL_OK;
    }
    return rc;
}

/* The names of the bits of x joined by sep. */
static void extrap_list(char *buf, size_t size, unsigned x, const char *sep)
{
    buf[0] = '\0';
    for (unsigned bit = 1; esl_extrap_name(bit) != NULL; bit <<= 1)
        if (x & bit)
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? sep : "",
                     esl_extrap_name(bit));
}

/* The names of the bits of x, a JSON array. */
static json_t *extrap_json(unsigned x)
{
    json_t *a = json_array();
    for (unsigned bit = 1; esl_extrap_name(bit) != NULL; bit <<= 1)
        if (x & bit)
            json_array_append_new(a, json_string(esl_extrap_name(bit)));
    return a;
}

static void put_warnings(FILE *f, const esl_law_training *t, const esl_row *row,
                         const esl_prediction *p)
{
    if (p->extrapolated & ESL_EXTRAP_FLOPS)
        fprintf(f, "warning: extrapolating: FLOPs_cfg outside the training range %.4g .. %.4g\n",
                t->flops_min, t->flops_max);
    if (p->extrapolated & ESL_EXTRAP_RES)
        fprintf(f, "warning: extrapolating: %lldx%lld outside the training range %.0f .. %.0f "
                "pixels\n", (long long)row->height, (long long)row->width, t->pixels_min,
                t->pixels_max);
    if (p->extrapolated & ESL_EXTRAP_STEPS)
        fprintf(f, "warning: extrapolating: %lld steps outside the training range %.0f .. %.0f\n",
                (long long)row->steps, t->steps_min, t->steps_max);
    if (p->extrapolated & ESL_EXTRAP_MODEL)
        fprintf(f, "warning: extrapolating: the law was not trained on %s\n", row->model);
    if (p->extrapolated & ESL_EXTRAP_GPU)
        fprintf(f, "warning: extrapolating: the law was not trained on %s: priced from its "
                "specifications (esl gpus)\n", row->gpu);
    if (p->extrapolated & ESL_EXTRAP_LEVEL)
        fprintf(f, "warning: extrapolating: the law was not trained on %s: priced as the "
                "precision of its class it was trained on\n", row->dtype);
    if (p->extrapolated & ESL_EXTRAP_GPUS)
        fprintf(f, "warning: extrapolating: %lld GPUs per batch priced by the derived multi-GPU "
                "model (no measured multi-GPU data; docs/law.md)\n", (long long)row->num_gpus);
    if ((p->time_extrapolated & ESL_EXTRAP_MODEL) && !(p->extrapolated & ESL_EXTRAP_MODEL))
        fprintf(f, "warning: extrapolating: the time law was not trained on %s (durations come "
                "from ML.ENERGY's models only)\n", row->model);
}

/* One configuration for a person. */
static void put_single(const doc *d, const esl_row *row, const esl_estimate *e)
{
    FILE *f = d->out;
    const esl_prediction *p = &e->prediction;
    const esl_footprint *fp = &e->footprint;
    double n = (double)row->prompts;
    char b[32];
    fprintf(f, "%s, %lldx%lld, %lld steps, %s, %s, %s, %lld prompt%s (law: %s)\n\n", row->model,
            (long long)row->height, (long long)row->width, (long long)row->steps,
            row->cfg ? "CFG" : "no CFG", row->dtype, row->gpu, (long long)row->prompts,
            row->prompts == 1 ? "" : "s", d->prov.law);
    fprintf(f, "%-22s %s\n", "FLOPs_cfg", esl_flops_human(b, row->flops_cfg));
    fprintf(f, "%-22s %.4g J (95%% prediction interval %.4g .. %.4g J)\n", "energy", p->energy_j,
            p->lo_j, p->hi_j);
    fprintf(f, "%-22s %.4g Wh (%.4g .. %.4g)\n", "per image", p->energy_j / 3600.0 / n,
            p->lo_j / 3600.0 / n, p->hi_j / 3600.0 / n);
    fprintf(f, "%-22s %.4g kWh\n", "total", p->energy_j / 3.6e6);
    if (isfinite(p->time_s)) {
        fprintf(f, "%-22s %.4g s per image (%.4g .. %.4g), %.4g images per hour per GPU\n",
                "time", p->time_s / n, p->time_lo_s / n, p->time_hi_s / n,
                3600.0 * n / p->time_s / (double)row->num_gpus);
        if (isfinite(p->total_j))
            fprintf(f, "%-22s %.4g J with idle power %.4g W over that time (%.4g .. %.4g J), "
                    "%.4g Wh per image\n", "total energy", p->total_j, p->idle_w, p->total_lo_j,
                    p->total_hi_j, p->total_j / 3600.0 / n);
    } else {
        fprintf(f, "%-22s not predicted: the law was trained on no row with a duration\n", "time");
    }
    if (d->o.pue > 1.0)
        fprintf(f, "%-22s %.4g kWh (PUE %.3g, of the %s energy)\n", "facility",
                fp->facility_energy_j / 3.6e6, d->o.pue,
                isfinite(p->total_j) ? "total" : "dynamic");
    if (d->carbon)
        fprintf(f, "%-22s %.4g gCO2e (%.2f gCO2e/kWh, %s)\n", "carbon", fp->gco2e, d->grid,
                d->zone_note);
    if (d->o.has_price)
        fprintf(f, "%-22s %.4g (at %.4g per kWh)\n", "cost", fp->cost, d->o.price_per_kwh);
    put_warnings(f, &d->law->training, row, p);
    if (!e->has_fleet)
        return;
    const esl_fleet *fl = &e->fleet;
    fprintf(f, "\nfleet for %.4g images per second (%lld GPU%s per batch of %lld):\n", d->o.rate,
            (long long)row->num_gpus, row->num_gpus == 1 ? "" : "s", (long long)row->batch_size);
    fprintf(f, "%-22s %lld (%.1f%% busy)\n", "GPUs", (long long)fl->gpus, 100.0 * fl->utilisation);
    fprintf(f, "%-22s %.4g kWh (every GPU's idle power all day, plus the images' dynamic "
            "energy%s)\n", "energy a day", fl->kwh_per_day,
            d->o.pue > 1.0 ? ", times the PUE" : "");
    if (d->carbon)
        fprintf(f, "%-22s %.4g tCO2e\n", "carbon a year", fl->tco2e_per_year);
    if (d->o.has_price)
        fprintf(f, "%-22s %.4g\n", "cost a day", fl->cost_per_day);
}

/* One CSV line: numbers in the shortest form that reads back to the same bits. */
static void put_csv(const doc *d, const esl_row *row, const esl_estimate *e)
{
    FILE *f = d->out;
    const esl_prediction *p = &e->prediction;
    char ex[64], n[6][32];
    extrap_list(ex, sizeof ex, p->extrapolated, ";");
    fprintf(f, "%s,%s,%s,%d,%lld,%lld,%lld,%lld,%s,%s,%s,%s,%s,%s,", row->model, row->gpu,
            row->dtype, row->cfg, (long long)row->height, (long long)row->width,
            (long long)row->steps, (long long)row->prompts, esl_format_double(n[0], row->flops_cfg),
            esl_format_double(n[1], p->energy_j), esl_format_double(n[2], p->lo_j),
            esl_format_double(n[3], p->hi_j),
            esl_format_double(n[4], p->energy_j / 3600.0 / (double)row->prompts),
            esl_format_double(n[5], p->energy_j / 3.6e6));
    if (d->carbon)
        fputs(esl_format_double(n[0], e->footprint.gco2e), f);
    fputc(',', f);
    if (d->o.has_price)
        fputs(esl_format_double(n[0], e->footprint.cost), f);
    fprintf(f, ",%s,", ex);
    if (isfinite(p->time_s))
        fputs(esl_format_double(n[0], p->time_s), f);
    fputc(',', f);
    if (isfinite(p->total_j))
        fputs(esl_format_double(n[0], p->total_j), f);
    fputc('\n', f);
}

/* One table line of a file of configurations. */
static void put_row(const doc *d, const esl_row *row, const esl_prediction *p)
{
    char size[32], ex[64];
    snprintf(size, sizeof size, "%lldx%lld", (long long)row->height, (long long)row->width);
    extrap_list(ex, sizeof ex, p->extrapolated, ",");
    fprintf(d->out, "%-12s %-6s %-5s %3s %-10s %5lld %7lld %11.4g %11.4g %11.4g %10.4g  %s\n",
            row->model, row->gpu, row->dtype, row->cfg ? "yes" : "no", size, (long long)row->steps,
            (long long)row->prompts, p->energy_j, p->lo_j, p->hi_j,
            p->energy_j / 3600.0 / (double)row->prompts, ex[0] ? ex : "-");
}

/* The keys that say what a prediction rests on, after its own keys so that
 * readers of the earlier keys are not disturbed. */
static void put_provenance(json_t *o, const esl_provenance *p)
{
    json_object_set_new(o, "esl_version", json_string(p->esl_version));
    json_object_set_new(o, "law", json_string(p->law));
    json_object_set_new(o, "law_form", json_string(p->law_form));
    json_object_set_new(o, "law_hash", p->law_hash[0] ? json_string(p->law_hash) : json_null());
    json_object_set_new(o, "law_training_rows", json_integer((json_int_t)p->law_training_rows));
    json_object_set_new(o, "zone", p->zone ? json_string(p->zone) : json_null());
    json_object_set_new(o, "grid_gco2e_per_kwh", esl__json_real(p->grid_gco2e_per_kwh));
    json_object_set_new(o, "grid_year", p->grid_year ? json_integer(p->grid_year) : json_null());
    json_object_set_new(o, "grid_source",
                        p->grid_source ? json_string(p->grid_source) : json_null());
}

static json_t *fleet_json(const doc *d, const esl_fleet *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "rate_images_per_s", json_real(d->o.rate));
    json_object_set_new(o, "gpus", json_integer((json_int_t)f->gpus));
    json_object_set_new(o, "sets", json_integer((json_int_t)f->sets));
    json_object_set_new(o, "set_images_per_s", json_real(f->set_images_per_s));
    json_object_set_new(o, "utilisation", json_real(f->utilisation));
    json_object_set_new(o, "kwh_per_day", json_real(f->kwh_per_day));
    json_object_set_new(o, "tco2e_per_year",
                        d->carbon ? json_real(f->tco2e_per_year) : json_null());
    json_object_set_new(o, "cost_per_day",
                        d->o.has_price ? json_real(f->cost_per_day) : json_null());
    return o;
}

static json_t *estimate_json(const doc *d, const esl_row *row, const esl_estimate *e)
{
    const esl_prediction *p = &e->prediction;
    const esl_footprint *fp = &e->footprint;
    double n = (double)row->prompts;
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(row->model));
    json_object_set_new(o, "gpu", json_string(row->gpu));
    json_object_set_new(o, "dtype", json_string(row->dtype));
    json_object_set_new(o, "cfg", json_boolean(row->cfg));
    json_object_set_new(o, "height", json_integer(row->height));
    json_object_set_new(o, "width", json_integer(row->width));
    json_object_set_new(o, "steps", json_integer(row->steps));
    json_object_set_new(o, "prompts", json_integer(row->prompts));
    json_object_set_new(o, "flops_cfg", json_real(row->flops_cfg));
    json_object_set_new(o, "energy_j", json_real(p->energy_j));
    json_object_set_new(o, "energy_lo_j", json_real(p->lo_j));
    json_object_set_new(o, "energy_hi_j", json_real(p->hi_j));
    json_object_set_new(o, "interval_pct", json_integer(95));
    json_object_set_new(o, "wh_per_image", json_real(p->energy_j / 3600.0 / n));
    json_object_set_new(o, "kwh_total", json_real(p->energy_j / 3.6e6));
    json_object_set_new(o, "energy_kind", json_string("dynamic"));
    json_object_set_new(o, "time_s", esl__json_real(p->time_s));
    json_object_set_new(o, "time_lo_s", esl__json_real(p->time_lo_s));
    json_object_set_new(o, "time_hi_s", esl__json_real(p->time_hi_s));
    json_object_set_new(o, "time_per_image_s", esl__json_real(p->time_s / n));
    json_object_set_new(o, "images_per_hour_per_gpu", esl__json_real(3600.0 * n / p->time_s));
    json_object_set_new(o, "idle_w", esl__json_real(p->idle_w));
    json_object_set_new(o, "total_j", esl__json_real(p->total_j));
    json_object_set_new(o, "total_lo_j", esl__json_real(p->total_lo_j));
    json_object_set_new(o, "total_hi_j", esl__json_real(p->total_hi_j));
    json_object_set_new(o, "time_extrapolated",
                        extrap_json(isfinite(p->time_s) ? p->time_extrapolated : 0));
    json_object_set_new(o, "pue", json_real(d->o.pue));
    json_object_set_new(o, "gco2e", d->carbon ? json_real(fp->gco2e) : json_null());
    json_object_set_new(o, "cost", d->o.has_price ? json_real(fp->cost) : json_null());
    json_object_set_new(o, "extrapolated", extrap_json(p->extrapolated));
    if (row->present & ESL_ROW_ENERGY)
        json_object_set_new(o, "measured_j", json_real(row->energy_j));
    put_provenance(o, &d->prov);
    if (e->has_fleet)
        json_object_set_new(o, "fleet", fleet_json(d, &e->fleet));
    return o;
}

static int written(FILE *f)
{
    return ferror(f) ? esl__fail(ESL_EIO, "estimate: cannot write the estimates") : ESL_OK;
}

int esl_estimate_of(esl_estimate *out, const esl_law *law, const esl_row *row,
                    const esl_estimate_opts *opts)
{
    doc d;
    memset(out, 0, sizeof *out);
    int rc = row != NULL ? resolve(&d, NULL, law, opts, 0)
                         : esl__fail(ESL_EINVAL, "estimate: no row");
    if (rc == ESL_OK && (rc = estimate(out, &d, row, 1)) != ESL_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int esl_estimate_header(FILE *out, const esl_estimate_opts *opts, int many)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "estimate: no stream given");
    esl_estimate_format format = opts != NULL ? opts->format : ESL_ESTIMATE_TABLE;
    if (format == ESL_ESTIMATE_CSV)
        fputs("model,gpu,dtype,cfg,height,width,steps,prompts,flops_cfg,energy_j,energy_lo_j,"
              "energy_hi_j,wh_per_image,kwh_total,gco2e,cost,extrapolated,time_s,total_j\n", out);
    else if (format == ESL_ESTIMATE_TABLE && many)
        fprintf(out, "%-12s %-6s %-5s %3s %-10s %5s %7s %11s %11s %11s %10s  %s\n", "model", "gpu",
                "dtype", "cfg", "size", "steps", "prompts", "energy_J", "low_J", "high_J",
                "Wh/image", "extrapolated");
    return written(out);
}

/* The JSON text of one configuration's estimate with the options of d. */
static int single_json(char **out, const doc *d, const esl_row *row)
{
    esl_estimate e;
    int rc = estimate(&e, d, row, 1);
    if (rc != ESL_OK)
        return rc;
    json_t *o = estimate_json(d, row, &e);
    rc = o != NULL ? esl_json_text(out, o) : esl__fail(ESL_ENOMEM, "estimate: out of memory");
    json_decref(o);
    return rc;
}

int esl_estimate_json(char **out, const esl_law *law, const esl_row *row,
                      const esl_estimate_opts *opts)
{
    doc d;
    *out = NULL;
    int rc = row != NULL ? resolve(&d, NULL, law, opts, 1)
                         : esl__fail(ESL_EINVAL, "estimate: no row");
    return rc != ESL_OK ? rc : single_json(out, &d, row);
}

int esl_estimate_write(FILE *out, const esl_law *law, const esl_row *row,
                       const esl_estimate_opts *opts)
{
    doc d;
    esl_estimate e;
    if (out == NULL || row == NULL)
        return esl__fail(ESL_EINVAL, "estimate: no stream or row given");
    int rc = resolve(&d, out, law, opts, 1);
    if (rc != ESL_OK)
        return rc;
    if (d.o.format == ESL_ESTIMATE_JSON) {
        char *text = NULL;
        if ((rc = single_json(&text, &d, row)) == ESL_OK)
            fputs(text, out);
        free(text);
        return rc != ESL_OK ? rc : written(out);
    }
    if ((rc = estimate(&e, &d, row, 1)) != ESL_OK)
        return rc;
    if (d.o.format == ESL_ESTIMATE_CSV)
        put_csv(&d, row, &e);
    else
        put_single(&d, row, &e);
    return written(out);
}

/* esl_row_fn: estimate and write one row of a file of configurations. */
static int config_row(void *ctx, const esl_row *row)
{
    doc *d = ctx;
    esl_estimate e;
    int rc = estimate(&e, d, row, 0);
    if (rc != ESL_OK)
        return esl__fail_prefix(rc, "%s:%lld: ", d->origin, (long long)row->line);
    if (d->o.format == ESL_ESTIMATE_JSON) {
        json_t *o = estimate_json(d, row, &e);
        if (o == NULL || json_array_append_new(d->array, o) != 0)
            return esl__fail(ESL_ENOMEM, "estimate: out of memory");
    } else if (d->o.format == ESL_ESTIMATE_CSV) {
        put_csv(d, row, &e);
    } else {
        put_row(d, row, &e.prediction);
    }
    return ESL_OK;
}

int esl_estimate_configs(FILE *out, FILE *in, const char *origin, const esl_law *law,
                         const esl_model *arch, const esl_estimate_opts *opts)
{
    doc d;
    if (out == NULL || in == NULL || origin == NULL)
        return esl__fail(ESL_EINVAL, "estimate: no stream or origin given");
    int rc = resolve(&d, out, law, opts, 1);
    if (rc != ESL_OK)
        return rc;
    d.origin = origin;
    if (d.o.format == ESL_ESTIMATE_JSON && (d.array = json_array()) == NULL)
        return esl__fail(ESL_ENOMEM, "estimate: out of memory");
    esl_data_opts dopts = {.convention = law->convention, .arch = arch, .no_energy = 1};
    rc = esl_data_read(in, origin, &dopts, config_row, &d);
    if (rc == ESL_OK && d.array != NULL) {
        char *text = NULL;
        if ((rc = esl_json_text(&text, d.array)) == ESL_OK)
            fputs(text, out);
        free(text);
    }
    json_decref(d.array);
    return rc != ESL_OK ? rc : written(out);
}

int esl_estimate_zones(FILE *out)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "estimate: no stream given");
    fprintf(out, "%-6s %-22s %10s %5s\n", "zone", "name", "gCO2e/kWh", "year");
    for (int i = 0; i < esl_grid_count(); i++) {
        esl_grid g;
        if (esl_grid_get(&g, i) == ESL_OK)
            fprintf(out, "%-6s %-22s %10.2f %5d\n", g.zone, g.name, g.gco2e_per_kwh, g.year);
    }
    fprintf(out, "\nSource: Ember Yearly Electricity Data, via Green Web Foundation co2.js "
            "(data/grid_intensity.SOURCE.md)\n");
    return written(out);
}
