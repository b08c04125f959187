/*
 * cmd_plot.c - `esl plot KIND`: the paper's figures as PNG, SVG or PDF.
 *
 * Each kind is a small command of its own (an option table and a run
 * function): it parses its options, reads the rows (and the law) to draw,
 * asks libesl to build the figure (esl_figure_*, esl/figure.h) and draws it.
 * What a figure shows is decided in the library; `trace` is in plot_trace.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
#include "law_cli.h"
#include "plot_cli.h"

/* ---- esl plot decomposition ------------------------------------------- */

enum { OPT_OUTPUT = 'o', OPT_MODEL = 'm', OPT_STEPS = 'T', OPT_CFG = 256, OPT_SIZES, OPT_CONVENTION };

static const cli_option decomposition_options[] = {
    {"output", OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},
    {"model", OPT_MODEL, "NAMES", "comma-separated models (default flux-dev,qwen-image,sd35-large)"},
    {"steps", OPT_STEPS, "T", "denoising steps (default 10, as in the paper's Figure 1)"},
    {"cfg", OPT_CFG, NULL, "classifier-free guidance: two denoiser passes per step"},
    {"sizes", OPT_SIZES, "LIST", "square image sides in pixels (default 256,512,768,1024)"},
    {"convention", OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"},
    {NULL, 0, NULL, NULL},
};

#define MAX_MODELS 8
#define MAX_SIZES 8

typedef struct decomposition_args {
    const char *output;
    const char *models;
    int64_t steps;
    int cfg;
    int64_t sizes[MAX_SIZES];
    size_t n_sizes;
    esl_convention convention;
    int have_convention;
} decomposition_args;

static int parse_sizes(decomposition_args *a, const char *arg)
{
    char *copy = strdup(arg);
    int rc = 0;
    a->n_sizes = 0;
    if (copy == NULL)
        return EXIT_FAIL;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        if (a->n_sizes == MAX_SIZES) {
            cli_error("option --sizes: more than %d sizes in '%s'", MAX_SIZES, arg);
            rc = EXIT_USAGE;
        } else {
            rc = cli_int("sizes", tok, 1, 65536, &a->sizes[a->n_sizes++]);
        }
    }
    if (rc == 0 && a->n_sizes == 0) {
        cli_error("option --sizes: '%s' names no size", arg);
        rc = EXIT_USAGE;
    }
    free(copy);
    return rc;
}

static int on_decomposition_option(void *ctx, int key, const char *arg)
{
    decomposition_args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_MODEL: a->models = arg; return 0;
    case OPT_STEPS: return cli_int("steps", arg, 1, 100000, &a->steps);
    case OPT_CFG: a->cfg = 1; return 0;
    case OPT_SIZES: return parse_sizes(a, arg);
    case OPT_CONVENTION: {
        int rc = esl_convention_parse(&a->convention, arg);
        a->have_convention = 1;
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    }
    return EXIT_USAGE;
}

int plot_cli_need(const char *kind, const char *output)
{
    if (output == NULL) {
        cli_error("plot %s: give the figure's file with -o FILE (.png, .svg or .pdf)", kind);
        return EXIT_USAGE;
    }
    if (esl_plot_available())
        return 0;
    cli_error("plot %s: this esl was built without PLplot (install libplplot-dev and "
              "plplot-driver-cairo, then rebuild)", kind);
    return EXIT_FAIL;
}

/* Render a built figure into `output`: 0, or the exit code of the build or the drawing. */
int plot_cli_draw(int status, esl_figure *fig, const char *output)
{
    if (status == ESL_OK)
        status = esl_figure_render(fig, output);
    esl_figure_free(fig);
    return status == ESL_OK ? 0 : cli_fail(status);
}

static int draw_decomposition(const char *output, const char *model_list, int64_t steps, int cfg,
                           const int64_t *sizes, size_t n_sizes, esl_convention convention,
                           int auto_exact)
{
    esl_model *models[MAX_MODELS] = {0};
    size_t n_models = 0;
    int rc = 0;

    char *names = strdup(model_list);
    if (names == NULL)
        return EXIT_FAIL;
    int status = ESL_OK;
    for (char *save = NULL, *name = strtok_r(names, ",", &save); name != NULL && status == ESL_OK;
         name = strtok_r(NULL, ",", &save)) {
        if (n_models == MAX_MODELS) {
            cli_error("plot decomposition: more than %d models in '%s'", MAX_MODELS, model_list);
            rc = EXIT_USAGE;
            break;
        }
        if ((status = esl_catalog_find(&models[n_models], name)) == ESL_OK)
            n_models++;
    }
    free(names);
    if (status != ESL_OK)
        rc = cli_fail(status);
    if (rc == 0 && n_models == 0) {
        cli_error("plot decomposition: option --model: '%s' names no model", model_list);
        rc = EXIT_USAGE;
    }
    /* No --convention given and a model without paper-convention terms (an
     * imported or --arch model): the figure is drawn in the exact one. */
    for (size_t m = 0; rc == 0 && auto_exact && convention == ESL_CONVENTION_PAPER && m < n_models; m++)
        for (size_t c = 0; c < models[m]->n_components; c++)
            if (models[m]->components[c].n_terms == 0) {
                cli_error("plot decomposition: %s has no paper-convention terms: drawing every model "
                          "in the exact convention", models[m]->name);
                convention = ESL_CONVENTION_EXACT;
                break;
            }
    if (rc == 0) {
        esl_figure_decomposition_opts fo = {.steps = steps, .cfg = cfg, .sizes = sizes,
                                            .n_sizes = n_sizes, .convention = convention};
        esl_figure *fig = NULL;
        int built = esl_figure_decomposition(&fig, (const esl_model *const *)models, n_models, &fo);
        rc = plot_cli_draw(built, fig, output);
    }
    for (size_t m = 0; m < n_models; m++)
        esl_model_free(models[m]);
    return rc;
}

static int run_decomposition(const cli_command *cmd, int argc, char **argv)
{
    decomposition_args a = {.models = "flux-dev,qwen-image,sd35-large", .steps = 10,
                            .sizes = {256, 512, 768, 1024}, .n_sizes = 4,
                            .convention = ESL_CONVENTION_PAPER};
    int rc;

    if ((rc = cli_parse_all(cmd, argc, argv, on_decomposition_option, &a)) != 0 ||
        (rc = plot_cli_need("decomposition", a.output)) != 0)
        return rc;
    return draw_decomposition(a.output, a.models, a.steps, a.cfg, a.sizes, a.n_sizes,
                                  a.convention, !a.have_convention);
}

static const cli_command plot_decomposition = {
    "plot decomposition", run_decomposition,
    "text / denoise / decode FLOPs per model and image size (the paper's Figure 1)",
    "-o FILE [--model NAMES] [--steps T] [--cfg] [--sizes LIST] [--convention C]",
    "One panel per model, one group of bars per square image size: the FLOPs of text\n"
    "encoding, of the T denoising steps and of decoding one image (Eq. 1), on a log scale.",
    decomposition_options,
};

/* ---- what the data-driven kinds share --------------------------------- */

enum {
    OPT_DATA = 'd', OPT_WHERE = 'w', OPT_SPLIT = 's',
    OPT_LAW = 512, OPT_ARCH, OPT_SEED, OPT_COLOR, OPT_EACH, OPT_GPU, OPT_DATA_CONVENTION,
    OPT_BASELINE, OPT_TERMS, OPT_WEIGHTED, OPT_ROBUST,
};

#define DATA_OPTIONS                                                                              \
    {"output", OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},                             \
    {"data", OPT_DATA, "FILE", "the dataset (CSV; default: the paper's A100 data, built in)"},   \
    {"where", OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"}, \
    {"arch", OPT_ARCH, "FILE", "a model description for a model the catalogue lacks"},           \
    {"convention", OPT_DATA_CONVENTION, "C", "FLOP convention: paper (default) or exact"}

/* How a law is fitted when the figure fits one (as esl fit). */
#define FIT_OPTIONS                                                                               \
    {"baseline", OPT_BASELINE, "COL=LEVEL", "baseline level: gpu=A100 and dtype=fp16 by default"}, \
    {"terms", OPT_TERMS, "SPEC", "switch terms off or on: -res, -dtype, -gpu, -flops"},           \
    {"weighted", OPT_WEIGHTED, NULL, "weighted least squares, weights = prompts per row"},        \
    {"robust", OPT_ROBUST, NULL, "robust fit (bisquare)"}

typedef struct data_args {
    law_cli_opts law;     /* --data, --where, --arch, --convention */
    const char *output;
    const char *law_file; /* --law FILE: use it instead of fitting */
    const char *split;    /* --split S */
    int64_t seed;
    const char *color;    /* "model" or "gpu" */
    const char *each;     /* "model": one fit and one panel per model */
    const char *gpu;      /* --gpu NAME */
    const char *model;    /* --model NAME */
} data_args;

static int on_data_option(void *ctx, int key, const char *arg)
{
    data_args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_DATA: a->law.data = arg; return 0;
    case OPT_WHERE: return law_cli_where(&a->law, arg);
    case OPT_ARCH: a->law.arch = arg; return 0;
    case OPT_LAW: a->law_file = arg; return 0;
    case OPT_SPLIT: a->split = arg; return 0;
    case OPT_SEED: return cli_int("seed", arg, 0, INT64_C(4294967295), &a->seed);
    case OPT_GPU: a->gpu = arg; return 0;
    case OPT_BASELINE: return law_cli_baseline(&a->law, arg);
    case OPT_TERMS: return law_cli_terms(&a->law, arg);
    case OPT_WEIGHTED: a->law.fit.method = ESL_FIT_WEIGHTED; return 0;
    case OPT_ROBUST: a->law.fit.method = ESL_FIT_ROBUST; return 0;
    case OPT_MODEL: a->model = arg; return 0;
    case OPT_COLOR:
        if (strcmp(arg, "model") != 0 && strcmp(arg, "gpu") != 0) {
            cli_error("option --color: '%s' is not one of model, gpu", arg);
            return EXIT_USAGE;
        }
        a->color = arg;
        return 0;
    case OPT_EACH:
        if (strcmp(arg, "model") != 0) {
            cli_error("option --each: '%s' is not 'model'", arg);
            return EXIT_USAGE;
        }
        a->each = arg;
        return 0;
    case OPT_DATA_CONVENTION: {
        int rc = esl_convention_parse(&a->law.convention, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    }
    return EXIT_USAGE;
}

/* Parse a data-driven kind's command line; 0 to go on, else an exit code. */
static int parse_data_args(const cli_command *cmd, int argc, char **argv, data_args *a)
{
    int rc = cli_parse_all(cmd, argc, argv, on_data_option, a);
    return rc != 0 ? rc : plot_cli_need(cmd->name + 5, a->output);
}

/* The rows to draw: --data (or the built-in paper data) filtered by --where. */
int plot_cli_dataset(const law_cli_opts *o, esl_dataset **out)
{
    if (o->data != NULL)
        return law_cli_dataset(o, 0, out);
    esl_dataset *ds = NULL;
    int rc = esl_dataset_builtin(&ds, o->convention);
    return law_cli_filter(o, rc, ds, out);
}

/* The law to draw: --law FILE, or fitted here on `ds`. */
static int get_law(const data_args *a, const esl_dataset *ds, esl_law **out)
{
    int status = a->law_file != NULL ? esl_law_load(out, a->law_file)
                                     : esl_law_fit(out, ds, &a->law.fit);
    return status == ESL_OK ? 0 : cli_fail(status);
}


/* ---- esl plot diagnostic ---------------------------------------------- */

static const cli_option diagnostic_options[] = {
    DATA_OPTIONS,
    {"law", OPT_LAW, "FILE", "draw this law file's predictions instead of fitting one"},
    {"split", OPT_SPLIT, "S", "held-out rows of a validation: kfold:K, leave-out:model, "
                              "leave-out:gpu or train=A,B:test=C"},
    {"seed", OPT_SEED, "N", "seed of the k-fold shuffle (default 1, as esl validate)"},
    {"each", OPT_EACH, "model", "fit each model on its own rows, one panel per model"},
    {"color", OPT_COLOR, "COL", "colour points by model (default) or gpu"},
    FIT_OPTIONS,
    {NULL, 0, NULL, NULL},
};

static int run_diagnostic(const cli_command *cmd, int argc, char **argv)
{
    data_args a = {.law.convention = ESL_CONVENTION_PAPER, .seed = 1, .color = "model"};
    esl_dataset *ds = NULL;
    esl_law *law = NULL;
    esl_figure *fig = NULL;
    int rc = parse_data_args(cmd, argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.split != NULL && a.each != NULL) {
        cli_error("plot diagnostic: --split and --each are two different figures; give one");
        return EXIT_USAGE;
    }
    if (a.law_file != NULL && (a.split != NULL || a.each != NULL)) {
        cli_error("plot diagnostic: --%s fits its own laws; drop --law", a.split ? "split" : "each");
        return EXIT_USAGE;
    }
    if ((rc = plot_cli_dataset(&a.law, &ds)) != 0)
        return rc;
    if (a.split != NULL || a.each != NULL || (rc = get_law(&a, ds, &law)) == 0) {
        esl_figure_diagnostic_opts fo = {.split = a.split, .seed = (unsigned long)a.seed,
                                         .each_model = a.each != NULL,
                                         .by_gpu = strcmp(a.color, "gpu") == 0,
                                         .fit = &a.law.fit, .law_name = a.law_file};
        int built = esl_figure_diagnostic(&fig, ds, law, &fo);
        rc = plot_cli_draw(built, fig, a.output);
    }
    esl_law_free(law);
    esl_dataset_free(ds);
    return rc;
}

static const cli_command plot_diagnostic = {
    "plot diagnostic", run_diagnostic,
    "actual vs predicted energy, log-log, with R\xc2\xb2, MAPE and Spearman (Figures 2-5, 7, 8)",
    "-o FILE [--data FILE] [--where COL=V,..] [--law FILE | --split S | --each model] "
    "[--color model|gpu]",
    "Without --split: the law (--law FILE, or fitted on the rows) predicting every row. With\n"
    "--split: one column per fold of that esl validate split, its training rows on top and\n"
    "its held-out rows below (four or more folds: a row per fold, training rows on the left).\n"
    "With --each model: each model fitted and drawn on its own.",
    diagnostic_options,
};

/* ---- esl plot scaling ------------------------------------------------- */

static const cli_option scaling_options[] = {
    DATA_OPTIONS,
    {"law", OPT_LAW, "FILE", "draw this law file's lines instead of fitting one"},
    {"gpu", OPT_GPU, "NAME", "the GPU whose rows and lines are drawn (default: the law's baseline)"},
    FIT_OPTIONS,
    {NULL, 0, NULL, NULL},
};

static int run_scaling(const cli_command *cmd, int argc, char **argv)
{
    data_args a = {.law.convention = ESL_CONVENTION_PAPER};
    esl_dataset *ds = NULL;
    esl_law *law = NULL;
    esl_figure *fig = NULL;
    int rc = parse_data_args(cmd, argc, argv, &a);
    if (rc != 0 || (rc = plot_cli_dataset(&a.law, &ds)) != 0)
        return rc;
    if ((rc = get_law(&a, ds, &law)) == 0) {
        int built = esl_figure_scaling(&fig, ds, law, a.gpu);
        rc = plot_cli_draw(built, fig, a.output);
    }
    esl_law_free(law);
    esl_dataset_free(ds);
    return rc;
}

static const cli_command plot_scaling = {
    "plot scaling", run_scaling,
    "energy against FLOPs_cfg per model, with the law's lines and 95% band",
    "-o FILE [--data FILE] [--where COL=V,..] [--law FILE] [--gpu NAME]",
    "One panel per model: its rows on one GPU, coloured by image size, and the law's\n"
    "prediction and 95% prediction interval for each size, precision and CFG setting as the\n"
    "steps run from the fewest to the most measured (any form of the law).",
    scaling_options,
};

/* ---- esl plot contributions ------------------------------------------- */

static const cli_option contributions_options[] = {
    DATA_OPTIONS,
    {"model", OPT_MODEL, "NAME", "the model (default: flux-dev, else the data's first)"},
    {NULL, 0, NULL, NULL},
};

static int run_contributions(const cli_command *cmd, int argc, char **argv)
{
    data_args a = {.law.convention = ESL_CONVENTION_PAPER};
    esl_dataset *ds = NULL;
    esl_figure *fig = NULL;
    int rc = parse_data_args(cmd, argc, argv, &a);
    if (rc != 0 || (rc = plot_cli_dataset(&a.law, &ds)) != 0)
        return rc;
    int built = esl_figure_contributions(&fig, ds, a.model);
    rc = plot_cli_draw(built, fig, a.output);
    esl_dataset_free(ds);
    return rc;
}

static const cli_command plot_contributions = {
    "plot contributions", run_contributions,
    "energy relative to the cheapest setting as resolution, steps, precision and CFG change "
    "(Figure 6)",
    "-o FILE [--data FILE] [--where COL=V,..] [--model NAME]",
    "One panel per precision and CFG setting, steps across, one line per image size; every\n"
    "energy is per image and divided by the model's cheapest measured setting.",
    contributions_options,
};

/* ---- esl plot --------------------------------------------------------- */

static const cli_command *const plot_kinds[] = {
    &plot_contributions,
    &plot_decomposition,
    &plot_diagnostic,
    &plot_scaling,
    &plot_trace,
    NULL,
};

static void plot_usage(FILE *out)
{
    fprintf(out, "usage: esl plot KIND -o FILE [OPTIONS]\n\nkinds:\n");
    for (size_t i = 0; plot_kinds[i] != NULL; i++)
        fprintf(out, "  %-14s %s\n", plot_kinds[i]->name + 5, plot_kinds[i]->summary);
    fprintf(out, "\n'esl plot KIND --help' describes a kind's options.\n");
}

static int run_plot(const cli_command *self, int argc, char **argv)
{
    (void)self;
    if (argc < 2) {
        cli_error("plot: name a kind of figure (see 'esl plot --help')");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        plot_usage(stdout);
        return -1;
    }
    const cli_command *kind = cli_find_in(plot_kinds, 5, argv[1]);
    if (kind != NULL)
        return kind->run(kind, argc - 1, argv + 1);
    cli_error("plot: unknown kind '%s' (see 'esl plot --help')", argv[1]);
    return EXIT_USAGE;
}

static const cli_option plot_options[] = {{NULL, 0, NULL, NULL}};

const cli_command cmd_plot = {
    "plot", run_plot, "draw the paper's figures as PNG, SVG or PDF",
    "KIND -o FILE [OPTIONS]",
    "KIND is one of: decomposition (Figure 1), diagnostic (Figures 2-5, 7, 8), scaling,\n"
    "contributions (Figure 6), trace (a stored run's power). The file's extension picks\n"
    "the format: .png, .svg or .pdf. 'esl plot KIND --help' lists a kind's options.",
    plot_options,
};
