/*
 * cmd_predict.c - `esl predict`: the energy of configurations nobody
 * measured, with a 95% prediction interval, Wh per image, and optionally
 * carbon and cost, from a law file or from the built-in default law (fitted
 * at start-up on the paper's A100 data). One configuration from options, or
 * one per row of a CSV (--configs), streamed.
 */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "law_cli.h"
#include "provenance.h"

enum {
    OPT_MODEL = 'm', OPT_HEIGHT = 'H', OPT_WIDTH = 'W', OPT_STEPS = 'T', OPT_PROMPTS = 'N',
    OPT_FORMAT = 'f', OPT_LAW = 'l', OPT_ARCH = 'a',
    OPT_CFG = 256, OPT_DTYPE, OPT_GPU, OPT_GRID, OPT_ZONE, OPT_PUE, OPT_PRICE, OPT_CONFIGS,
    OPT_FORM, OPT_BATCH, OPT_DIFFUSERS, OPT_GPUS, OPT_RATE,
};

static const cli_option options[] = {
    {"law", OPT_LAW, "FILE", "a law file from 'esl fit' (default: fitted on the paper's data)"},
    {"form", OPT_FORM, "F", "without --law: the built-in law's form (default by-kind; paper, per-image, roofline)"},
    {"model", OPT_MODEL, "NAME", "catalogue or imported model"},
    {"arch", OPT_ARCH, "FILE", "a model description file instead of --model"},
    {"from-diffusers", OPT_DIFFUSERS, "DIR", "a diffusers folder's config files instead of --model"},
    CLI_GROUP("size"),
    {"cfg", OPT_CFG, NULL, "classifier-free guidance"},
    {"dtype", OPT_DTYPE, "D", "precision (default fp16)"},
    {"gpu", OPT_GPU, "GPU", "GPU (default A100)"},
    {"prompts", OPT_PROMPTS, "N", "images (default 1)"},
    {"batch", OPT_BATCH, "B", "images per batch, 1 to 4096 (default 1; the roofline and by-kind forms amortise launches)"},
    {"gpus", OPT_GPUS, "K", "GPUs running each batch together (sequence parallel), 1 to 1024 (default 1)"},
    {"rate", OPT_RATE, "IMG_PER_S", "size a fleet for this steady rate: GPUs, kWh a day, tCO2e a year, cost"},
    {"configs", OPT_CONFIGS, "FILE", "predict each row of a CSV (dataset columns, energy optional)"},
    {"grid", OPT_GRID, "G", "grid carbon intensity, gCO2e per kWh"},
    {"zone", OPT_ZONE, "CODE", "grid intensity of a zone: WORLD, US, DE, DEU, Germany, us-east-1, ... (--zone list)"},
    {"pue", OPT_PUE, "P", "data-centre power usage effectiveness (default 1)"},
    {"price", OPT_PRICE, "PER_KWH", "electricity price per kWh"},
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    const char *law, *model, *arch, *diffusers, *dtype, *gpu, *zone, *configs, *form;
    int64_t height, width, steps, prompts, batch, gpus;
    int cfg, have_grid, have_price;
    double grid, pue, price, rate;
    cli_format format;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_LAW: a->law = arg; return 0;
    case OPT_FORM:
        if (!esl_law_form_known(arg)) {
            cli_error("option --form: unknown form '%s' (forms: %s)", arg, esl_law_forms());
            return EXIT_USAGE;
        }
        a->form = arg;
        return 0;
    case OPT_BATCH: return cli_int("batch", arg, 1, 4096, &a->batch);
    case OPT_GPUS: return cli_int("gpus", arg, 1, ESL_MAX_GPUS, &a->gpus);
    case OPT_RATE: return cli_double("rate", arg, 1e-9, 1e9, &a->rate);
    case OPT_MODEL: a->model = arg; return 0;
    case OPT_ARCH: a->arch = arg; return 0;
    case OPT_DIFFUSERS: a->diffusers = arg; return 0;
    case OPT_HEIGHT: return cli_int("height", arg, 1, INT64_MAX, &a->height);
    case OPT_WIDTH: return cli_int("width", arg, 1, INT64_MAX, &a->width);
    case OPT_STEPS: return cli_int("steps", arg, 1, INT64_MAX, &a->steps);
    case OPT_PROMPTS: return cli_int("prompts", arg, 1, INT64_MAX, &a->prompts);
    case OPT_CFG: a->cfg = 1; return 0;
    case OPT_DTYPE: a->dtype = arg; return 0;
    case OPT_GPU: a->gpu = arg; return 0;
    case OPT_CONFIGS: a->configs = arg; return 0;
    case OPT_GRID: a->have_grid = 1; return cli_double("grid", arg, 0, 1e5, &a->grid);
    case OPT_ZONE: a->zone = arg; return 0;
    case OPT_PUE: return cli_double("pue", arg, 1, 10, &a->pue);
    case OPT_PRICE: a->have_price = 1; return cli_double("price", arg, 0, 1e6, &a->price);
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return EXIT_USAGE;
}

typedef struct run {
    const args *a;
    const esl_law *law;
    const char *law_name;
    const esl_provenance *prov; /* what every prediction rests on */
    const char *origin;   /* --configs file, or NULL */
    const char *zone_note;/* "WORLD 2024" or "given" */
    json_t *array;
    size_t count;
    const esl_grid *grid; /* the --zone's table entry, or NULL */
} run;

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

static void print_single(const run *r, const esl_row *row, const esl_prediction *p,
                         const esl_footprint *fp)
{
    const args *a = r->a;
    const esl_law_training *t = &r->law->training;
    char b[32];
    printf("%s, %lldx%lld, %lld steps, %s, %s, %s, %lld prompt%s (law: %s)\n\n", row->model,
           (long long)row->height, (long long)row->width, (long long)row->steps,
           row->cfg ? "CFG" : "no CFG", row->dtype, row->gpu, (long long)row->prompts,
           row->prompts == 1 ? "" : "s", r->law_name);
    printf("%-22s %s\n", "FLOPs_cfg", cli_human_flops(b, sizeof b, row->flops_cfg));
    printf("%-22s %.4g J (95%% prediction interval %.4g .. %.4g J)\n", "energy", p->energy_j,
           p->lo_j, p->hi_j);
    printf("%-22s %.4g Wh (%.4g .. %.4g)\n", "per image", p->energy_j / 3600.0 / (double)row->prompts,
           p->lo_j / 3600.0 / (double)row->prompts, p->hi_j / 3600.0 / (double)row->prompts);
    printf("%-22s %.4g kWh\n", "total", p->energy_j / 3.6e6);
    double n = (double)row->prompts;
    if (isfinite(p->time_s)) {
        printf("%-22s %.4g s per image (%.4g .. %.4g), %.4g images per hour per GPU\n", "time",
               p->time_s / n, p->time_lo_s / n, p->time_hi_s / n,
               3600.0 * n / p->time_s / (double)row->num_gpus);
        if (isfinite(p->total_j))
            printf("%-22s %.4g J with idle power %.4g W over that time (%.4g .. %.4g J), "
                   "%.4g Wh per image\n", "total energy", p->total_j, p->idle_w, p->total_lo_j,
                   p->total_hi_j, p->total_j / 3600.0 / n);
    } else {
        printf("%-22s not predicted: the law was trained on no row with a duration\n", "time");
    }
    if (a->pue > 1.0)
        printf("%-22s %.4g kWh (PUE %.3g, of the %s energy)\n", "facility",
               fp->facility_energy_j / 3.6e6, a->pue, isfinite(p->total_j) ? "total" : "dynamic");
    if (a->have_grid || a->zone)
        printf("%-22s %.4g gCO2e (%.2f gCO2e/kWh, %s)\n", "carbon", fp->gco2e, a->grid,
               r->zone_note);
    if (a->have_price)
        printf("%-22s %.4g (at %.4g per kWh)\n", "cost", fp->cost, a->price);
    if (p->extrapolated & ESL_EXTRAP_FLOPS)
        printf("warning: extrapolating: FLOPs_cfg outside the training range %.4g .. %.4g\n",
               t->flops_min, t->flops_max);
    if (p->extrapolated & ESL_EXTRAP_RES)
        printf("warning: extrapolating: %lldx%lld outside the training range %.0f .. %.0f pixels\n",
               (long long)row->height, (long long)row->width, t->pixels_min, t->pixels_max);
    if (p->extrapolated & ESL_EXTRAP_STEPS)
        printf("warning: extrapolating: %lld steps outside the training range %.0f .. %.0f\n",
               (long long)row->steps, t->steps_min, t->steps_max);
    if (p->extrapolated & ESL_EXTRAP_MODEL)
        printf("warning: extrapolating: the law was not trained on %s\n", row->model);
    if (p->extrapolated & ESL_EXTRAP_GPU)
        printf("warning: extrapolating: the law was not trained on %s: priced from its "
               "specifications (esl gpus)\n", row->gpu);
    if (p->extrapolated & ESL_EXTRAP_LEVEL)
        printf("warning: extrapolating: the law was not trained on %s: priced as the precision "
               "of its class it was trained on\n", row->dtype);
    if (p->extrapolated & ESL_EXTRAP_GPUS)
        printf("warning: extrapolating: %lld GPUs per batch priced by the derived multi-GPU model "
               "(no measured multi-GPU data; docs/law.md)\n", (long long)row->num_gpus);
    if ((p->time_extrapolated & ESL_EXTRAP_MODEL) && !(p->extrapolated & ESL_EXTRAP_MODEL))
        printf("warning: extrapolating: the time law was not trained on %s (durations come "
               "from ML.ENERGY's models only)\n", row->model);
}

static json_t *prediction_json(const run *r, const esl_row *row, const esl_prediction *p,
                               const esl_footprint *fp)
{
    const args *a = r->a;
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
    json_object_set_new(o, "wh_per_image", json_real(p->energy_j / 3600.0 / (double)row->prompts));
    json_object_set_new(o, "kwh_total", json_real(p->energy_j / 3.6e6));
    json_object_set_new(o, "energy_kind", json_string("dynamic"));
    double n = (double)row->prompts;
    json_object_set_new(o, "time_s", emit_real(p->time_s));
    json_object_set_new(o, "time_lo_s", emit_real(p->time_lo_s));
    json_object_set_new(o, "time_hi_s", emit_real(p->time_hi_s));
    json_object_set_new(o, "time_per_image_s", emit_real(p->time_s / n));
    json_object_set_new(o, "images_per_hour_per_gpu", emit_real(3600.0 * n / p->time_s));
    json_object_set_new(o, "idle_w", emit_real(p->idle_w));
    json_object_set_new(o, "total_j", emit_real(p->total_j));
    json_object_set_new(o, "total_lo_j", emit_real(p->total_lo_j));
    json_object_set_new(o, "total_hi_j", emit_real(p->total_hi_j));
    json_object_set_new(o, "time_extrapolated",
                        extrap_json(isfinite(p->time_s) ? p->time_extrapolated : 0));
    json_object_set_new(o, "pue", json_real(a->pue));
    json_object_set_new(o, "gco2e", a->have_grid || a->zone ? json_real(fp->gco2e) : json_null());
    json_object_set_new(o, "cost", a->have_price ? json_real(fp->cost) : json_null());
    json_object_set_new(o, "extrapolated", extrap_json(p->extrapolated));
    if (row->present & ESL_ROW_ENERGY)
        json_object_set_new(o, "measured_j", json_real(row->energy_j));
    predict_provenance(o, r->prov);
    return o;
}

static json_t *fleet_json(const args *a, const esl_fleet *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "rate_images_per_s", json_real(a->rate));
    json_object_set_new(o, "gpus", json_integer((json_int_t)f->gpus));
    json_object_set_new(o, "sets", json_integer((json_int_t)f->sets));
    json_object_set_new(o, "set_images_per_s", json_real(f->set_images_per_s));
    json_object_set_new(o, "utilisation", json_real(f->utilisation));
    json_object_set_new(o, "kwh_per_day", json_real(f->kwh_per_day));
    json_object_set_new(o, "tco2e_per_year",
                        a->have_grid || a->zone ? json_real(f->tco2e_per_year) : json_null());
    json_object_set_new(o, "cost_per_day", a->have_price ? json_real(f->cost_per_day) : json_null());
    return o;
}

static void print_fleet(const args *a, const esl_row *row, const esl_fleet *f)
{
    printf("\nfleet for %.4g images per second (%lld GPU%s per batch of %lld):\n", a->rate,
           (long long)row->num_gpus, row->num_gpus == 1 ? "" : "s", (long long)row->batch_size);
    printf("%-22s %lld (%.1f%% busy)\n", "GPUs", (long long)f->gpus, 100.0 * f->utilisation);
    printf("%-22s %.4g kWh (every GPU's idle power all day, plus the images' dynamic energy%s)\n",
           "energy a day", f->kwh_per_day, a->pue > 1.0 ? ", times the PUE" : "");
    if (a->have_grid || a->zone)
        printf("%-22s %.4g tCO2e\n", "carbon a year", f->tco2e_per_year);
    if (a->have_price)
        printf("%-22s %.4g\n", "cost a day", f->cost_per_day);
}

static int predict_row(void *ctx, const esl_row *row)
{
    run *r = ctx;
    const args *a = r->a;
    esl_prediction p;
    esl_footprint fp;
    int rc = esl_law_predict(&p, r->law, row, NULL);
    if (rc != ESL_OK) {
        if (r->origin != NULL)
            return cli_error("%s:%lld: %s", r->origin, (long long)row->line, esl_error_last()),
                   -cli_exit_code(rc);
        return -cli_fail(rc);
    }
    /* Carbon and cost follow the energy paid for: the total where the law
     * predicts it, else the dynamic energy. */
    esl_footprint_of(&fp, isfinite(p.total_j) ? p.total_j : p.energy_j, a->pue, a->grid, a->price);
    esl_fleet fleet;
    int have_fleet = a->rate > 0 && r->origin == NULL;
    if (have_fleet && (rc = esl_fleet_for(&fleet, a->rate, row, &p, a->pue, a->grid, a->price)) ==
                          ESL_EUNSUPPORTED) {
        cli_error("predict: --rate needs a time per image: %s", esl_error_last());
        return -EXIT_USAGE;
    }
    if (have_fleet && rc != ESL_OK)
        return -cli_fail(rc);
    if (a->format == FORMAT_JSON) {
        json_t *o = prediction_json(r, row, &p, &fp);
        if (have_fleet)
            json_object_set_new(o, "fleet", fleet_json(a, &fleet));
        json_array_append_new(r->array, o);
    } else if (r->origin == NULL && a->format == FORMAT_TABLE) {
        print_single(r, row, &p, &fp);
        if (have_fleet)
            print_fleet(a, row, &fleet);
    } else if (a->format == FORMAT_CSV) {
        char ex[64], n[6][32];
        extrap_list(ex, sizeof ex, p.extrapolated, ";");
        /* numbers in the shortest form that reads back to the same bits */
        printf("%s,%s,%s,%d,%lld,%lld,%lld,%lld,%s,%s,%s,%s,%s,%s,", row->model, row->gpu,
               row->dtype, row->cfg, (long long)row->height, (long long)row->width,
               (long long)row->steps, (long long)row->prompts, cli_num(n[0], row->flops_cfg),
               cli_num(n[1], p.energy_j), cli_num(n[2], p.lo_j), cli_num(n[3], p.hi_j),
               cli_num(n[4], p.energy_j / 3600.0 / (double)row->prompts),
               cli_num(n[5], p.energy_j / 3.6e6));
        if (a->have_grid || a->zone)
            fputs(cli_num(n[0], fp.gco2e), stdout);
        putchar(',');
        if (a->have_price)
            fputs(cli_num(n[0], fp.cost), stdout);
        printf(",%s,", ex);
        if (isfinite(p.time_s))
            fputs(cli_num(n[0], p.time_s), stdout);
        putchar(',');
        if (isfinite(p.total_j))
            fputs(cli_num(n[0], p.total_j), stdout);
        putchar('\n');
    } else {
        char size[32], ex[64];
        snprintf(size, sizeof size, "%lldx%lld", (long long)row->height, (long long)row->width);
        extrap_list(ex, sizeof ex, p.extrapolated, ",");
        printf("%-12s %-6s %-5s %3s %-10s %5lld %7lld %11.4g %11.4g %11.4g %10.4g  %s\n",
               row->model, row->gpu, row->dtype, row->cfg ? "yes" : "no", size,
               (long long)row->steps, (long long)row->prompts, p.energy_j, p.lo_j, p.hi_j,
               p.energy_j / 3600.0 / (double)row->prompts, ex[0] ? ex : "-");
    }
    r->count++;
    return 0;
}

static int predict_one(run *r, const esl_law *law)
{
    const args *a = r->a;
    esl_model *m = NULL;
    int rc;
    if (a->diffusers != NULL) {
        /* The model is named after the folder, as `esl flops` names it. */
        char *copy = strdup(a->diffusers);
        rc = copy != NULL ? esl_model_from_diffusers(&m, a->diffusers, basename(copy)) : ESL_ENOMEM;
        free(copy);
    } else {
        rc = a->arch ? esl_model_load(&m, a->arch) : esl_catalog_find(&m, a->model);
    }
    if (rc != ESL_OK)
        return cli_fail(rc);
    esl_row row = {.model = m->name, .gpu = (char *)a->gpu, .dtype = (char *)a->dtype,
                   .cfg = a->cfg, .height = a->height, .width = a->width, .steps = a->steps,
                   .prompts = a->prompts, .batch_size = a->batch, .num_gpus = a->gpus};
    if ((rc = esl_row_set_work(&row, m, law->convention)) != ESL_OK) {
        esl_model_free(m);
        if (rc == ESL_EUNSUPPORTED && law->convention == ESL_CONVENTION_EXACT && a->law == NULL) {
            cli_error("%s; the %s law prices the layer plan: give the model architecture "
                      "sections, or predict with --form per-image", esl_error_last(), law->form);
            return cli_exit_code(rc);
        }
        return cli_fail(rc);
    }
    rc = predict_row(r, &row);
    esl_model_free(m);
    return rc < 0 ? -rc : rc;
}

static int list_zones(void)
{
    printf("%-6s %-22s %10s %5s\n", "zone", "name", "gCO2e/kWh", "year");
    for (int i = 0; i < esl_grid_count(); i++) {
        esl_grid g;
        if (esl_grid_get(&g, i) == ESL_OK)
            printf("%-6s %-22s %10.2f %5d\n", g.zone, g.name, g.gco2e_per_kwh, g.year);
    }
    printf("\nSource: Ember Yearly Electricity Data, via Green Web Foundation co2.js "
           "(data/grid_intensity.SOURCE.md)\n");
    return 0;
}

static int run_predict(const cli_command *cmd, int argc, char **argv)
{
    args a = {.steps = 50, .prompts = 1, .batch = 1, .gpus = 1, .dtype = "fp16", .gpu = "A100",
              .pue = 1.0};
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("predict: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.zone != NULL && strcmp(a.zone, "list") == 0)
        return list_zones();
    if (a.zone != NULL && a.have_grid) {
        cli_error("predict: give --grid or --zone, not both");
        return EXIT_USAGE;
    }
    if (a.configs == NULL && (a.model != NULL) + (a.arch != NULL) + (a.diffusers != NULL) != 1) {
        cli_error("predict: give exactly one of --model NAME, --arch FILE or --from-diffusers DIR "
                  "(or --configs FILE)");
        return EXIT_USAGE;
    }
    if (a.configs == NULL && (a.height == 0 || a.width == 0)) {
        cli_error("predict: --height and --width are required");
        return EXIT_USAGE;
    }
    if (a.configs != NULL && (a.model || a.diffusers || a.height || a.width)) {
        cli_error("predict: --configs takes the configurations from the file; drop --model, "
                  "--from-diffusers, --height and --width");
        return EXIT_USAGE;
    }
    /* A batch larger than the prompts would amortise weights over images
     * that are never made, lowering the prediction without end. */
    if (a.batch > a.prompts) {
        cli_error("predict: --batch %lld is larger than --prompts %lld: a batch holds at most "
                  "the prompts there are", (long long)a.batch, (long long)a.prompts);
        return EXIT_USAGE;
    }
    char zone_note[96] = "given";
    esl_grid zone_grid;
    if (a.zone != NULL) {
        esl_grid g;
        int st = esl_grid_find(&g, a.zone);
        if (st != ESL_OK)
            return cli_fail(st);
        a.grid = g.gco2e_per_kwh;
        zone_grid = g;
        snprintf(zone_note, sizeof zone_note, "%s %d, Ember", g.zone, g.year);
    }

    if (a.law != NULL && a.form != NULL) {
        cli_error("predict: --form picks the built-in law's form; a law file has its own");
        return EXIT_USAGE;
    }
    esl_law *law = NULL;
    int status = a.law ? esl_law_load(&law, a.law)
                       : esl_law_builtin(&law, ESL_CONVENTION_PAPER, a.form);
    if (status != ESL_OK)
        return cli_fail(status);
    esl_provenance prov;
    esl_provenance_of(&prov, law, a.law, a.zone != NULL ? &zone_grid : NULL,
                      a.have_grid ? a.grid : NAN);
    run r = {.a = &a, .law = law, .prov = &prov, .law_name = prov.law,
             .zone_note = zone_note, .array = json_array(),
             .grid = a.zone != NULL ? &zone_grid : NULL};
    if (a.configs == NULL) {
        if (a.format == FORMAT_CSV)
            printf("model,gpu,dtype,cfg,height,width,steps,prompts,flops_cfg,energy_j,energy_lo_j,"
                   "energy_hi_j,wh_per_image,kwh_total,gco2e,cost,extrapolated,time_s,total_j\n");
        rc = predict_one(&r, law);
    } else {
        law_cli_opts lo = {.data = a.configs, .arch = a.arch, .convention = law->convention};
        r.origin = strcmp(a.configs, "-") == 0 ? "<stdin>" : a.configs;
        if (a.format == FORMAT_CSV)
            printf("model,gpu,dtype,cfg,height,width,steps,prompts,flops_cfg,energy_j,energy_lo_j,"
                   "energy_hi_j,wh_per_image,kwh_total,gco2e,cost,extrapolated,time_s,total_j\n");
        else if (a.format == FORMAT_TABLE)
            printf("%-12s %-6s %-5s %3s %-10s %5s %7s %11s %11s %11s %10s  %s\n", "model", "gpu",
                   "dtype", "cfg", "size", "steps", "prompts", "energy_J", "low_J", "high_J",
                   "Wh/image", "extrapolated");
        esl_model *arch = NULL;
        status = lo.arch ? esl_model_load(&arch, lo.arch) : ESL_OK;
        esl_data_opts dopts = {.convention = law->convention, .arch = arch, .no_energy = 1};
        if (status == ESL_OK) {
            FILE *in = strcmp(a.configs, "-") == 0 ? stdin : fopen(a.configs, "rb");
            if (in == NULL) {
                cli_error("%s: cannot open", a.configs);
                rc = EXIT_FAIL;
            } else {
                status = esl_data_read(in, r.origin, &dopts, predict_row, &r);
                if (in != stdin)
                    fclose(in);
                rc = status < 0 ? -status : status != ESL_OK ? cli_fail(status) : 0;
            }
        } else {
            rc = cli_fail(status);
        }
        esl_model_free(arch);
    }
    if (rc == 0 && a.format == FORMAT_JSON)
        emit_json(a.configs ? r.array : json_array_get(r.array, 0));
    json_decref(r.array);
    esl_law_free(law);
    return rc;
}

const cli_command cmd_predict = {
    "predict", run_predict, "predict the energy, carbon and cost of generating images",
    "[--law FILE] (--model NAME | --arch FILE | --from-diffusers DIR) --height H --width W "
    "[OPTIONS]\n       esl predict [--law FILE] --configs FILE|- [...]",
    "Energy in joules with a 95% prediction interval (t quantile on the law's residual\n"
    "degrees of freedom, from the coefficient covariance, the model's own residual variance\n"
    "and, for a model the law was not trained on, the between-model variance).\n"
    "Without --law, the law is fitted at start-up on the paper's A100 data (four models),\n"
    "in the by-kind form unless --form says otherwise (docs/law.md); it counts FLOPs from\n"
    "the layer plan, so any model esl can count (catalogue, imported, --arch,\n"
    "--from-diffusers) can be predicted. The per-image, roofline and by-kind forms are\n"
    "linear in --prompts, the paper form is not.\n"
    "Configurations outside the law's training ranges, and models it was not trained on,\n"
    "are flagged.",
    options,
};
