/*
 * cmd_predict.c - `esl predict`: the energy of configurations nobody
 * measured, with a 95% prediction interval, Wh per image, and optionally
 * carbon and cost, from a law file or from the built-in default law (fitted
 * at start-up on the paper's A100 data). One configuration from options, or
 * one per row of a CSV (--configs), streamed. The options are read here;
 * libesl estimates and writes the table, CSV or JSON (esl/estimate.h).
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

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

/* Refuse a combination of options: "esl: predict: ...", exit 2. */
#define USAGE(...) (cli_error("predict: " __VA_ARGS__), EXIT_USAGE)

typedef struct args {
    const char *law, *model, *arch, *diffusers, *dtype, *gpu, *zone, *configs, *form;
    int64_t height, width, steps, prompts, batch, gpus;
    int cfg;
    cli_format format;
    esl_estimate_opts est; /* PUE, intensity, price, rate */
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    esl_estimate_opts *e = &a->est;
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
    case OPT_RATE: return cli_double("rate", arg, 1e-9, 1e9, &e->rate);
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
    case OPT_GRID: e->has_grid = 1; return cli_double("grid", arg, 0, 1e5, &e->gco2e_per_kwh);
    case OPT_ZONE: a->zone = arg; return 0;
    case OPT_PUE: return cli_double("pue", arg, 1, 10, &e->pue);
    case OPT_PRICE: e->has_price = 1; return cli_double("price", arg, 0, 1e6, &e->price_per_kwh);
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return EXIT_USAGE;
}

/* The configuration of the options, priced by libesl. */
static int predict_one(const args *a, const esl_law *law)
{
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
        if (rc == ESL_EUNSUPPORTED && law->convention == ESL_CONVENTION_EXACT && a->law == NULL) {
            cli_error("%s; the %s law prices the layer plan: give the model architecture "
                      "sections, or predict with --form per-image", esl_error_last(), law->form);
            rc = cli_exit_code(rc);
        } else {
            rc = cli_fail(rc);
        }
    } else if ((rc = esl_estimate_write(stdout, law, &row, &a->est)) == ESL_EUNSUPPORTED) {
        /* esl_estimate_write's one ESL_EUNSUPPORTED: a fleet needs a time */
        rc = USAGE("--rate needs a time per image: %s", esl_error_last());
    } else {
        rc = rc != ESL_OK ? cli_fail(rc) : 0;
    }
    esl_model_free(m);
    return rc;
}

/* Each row of the --configs file, priced and written by libesl as it is read. */
static int predict_configs(const args *a, const esl_law *law)
{
    esl_model *arch = NULL;
    int st = a->arch ? esl_model_load(&arch, a->arch) : ESL_OK, piped = !strcmp(a->configs, "-");
    FILE *in = st != ESL_OK || piped ? stdin : fopen(a->configs, "rb");
    if (in == NULL) {
        esl_model_free(arch);
        cli_error("%s: cannot open", a->configs);
        return EXIT_FAIL;
    }
    if (st == ESL_OK)
        st = esl_estimate_configs(stdout, in, piped ? "<stdin>" : a->configs, law, arch, &a->est);
    if (in != stdin)
        fclose(in);
    esl_model_free(arch);
    return st != ESL_OK ? cli_fail(st) : 0;
}

static int run_predict(const cli_command *cmd, int argc, char **argv)
{
    args a = {.steps = 50, .prompts = 1, .batch = 1, .gpus = 1, .dtype = "fp16", .gpu = "A100",
              .est = {.pue = 1.0}};
    int rc = cli_parse_all(cmd, argc, argv, on_option, &a);
    if (rc != 0)
        return rc;
    if (a.zone != NULL && strcmp(a.zone, "list") == 0)
        return (rc = esl_estimate_zones(stdout)) != ESL_OK ? cli_fail(rc) : 0;
    if (a.zone != NULL && a.est.has_grid)
        return USAGE("give --grid or --zone, not both");
    if (a.configs == NULL && (a.model != NULL) + (a.arch != NULL) + (a.diffusers != NULL) != 1)
        return USAGE("give exactly one of --model NAME, --arch FILE or --from-diffusers DIR "
                     "(or --configs FILE)");
    if (a.configs == NULL && (a.height == 0 || a.width == 0))
        return USAGE("--height and --width are required");
    if (a.configs != NULL && (a.model || a.diffusers || a.height || a.width))
        return USAGE("--configs takes the configurations from the file; drop --model, "
                     "--from-diffusers, --height and --width");
    /* A batch larger than the prompts would amortise weights over images
     * that are never made, lowering the prediction without end. */
    if (a.batch > a.prompts)
        return USAGE("--batch %lld is larger than --prompts %lld: a batch holds at most the "
                     "prompts there are", (long long)a.batch, (long long)a.prompts);
    esl_grid zone;
    if (a.zone != NULL && (rc = esl_grid_find(&zone, a.zone)) != ESL_OK)
        return cli_fail(rc);
    if (a.law != NULL && a.form != NULL)
        return USAGE("--form picks the built-in law's form; a law file has its own");
    esl_law *law = NULL;
    rc = a.law ? esl_law_load(&law, a.law) : esl_law_builtin(&law, ESL_CONVENTION_PAPER, a.form);
    if (rc != ESL_OK)
        return cli_fail(rc);
    a.est.format = a.format == FORMAT_JSON  ? ESL_ESTIMATE_JSON
                   : a.format == FORMAT_CSV ? ESL_ESTIMATE_CSV : ESL_ESTIMATE_TABLE;
    a.est.law_name = a.law;
    a.est.zone = a.zone != NULL ? &zone : NULL;
    if ((rc = esl_estimate_header(stdout, &a.est, a.configs != NULL)) != ESL_OK)
        rc = cli_fail(rc);
    else
        rc = a.configs == NULL ? predict_one(&a, law) : predict_configs(&a, law);
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
