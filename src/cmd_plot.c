/*
 * cmd_plot.c - `esl plot KIND`: the paper's figures as PNG, SVG or PDF.
 *
 * Each kind is a small command of its own (an option table and a run
 * function): it parses its options, reads the rows to draw and asks libesl
 * for the figure (esl/figure.h), which decides what it shows, where its law
 * comes from and which options cannot go together; the tool draws it and
 * reports. `trace` draws a stored run's power trace, built from the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
#include "law_cli.h"

/* Option keys of the kinds; the fit options are law_cli_option's own. */
enum {
    PLOT_OPT_OUTPUT = 'o', PLOT_OPT_MODEL = 'm', PLOT_OPT_STEPS = 'T', PLOT_OPT_DATA = 'd',
    PLOT_OPT_WHERE = 'w', PLOT_OPT_SPLIT = 's',
    PLOT_OPT_CFG = 256, PLOT_OPT_SIZES, PLOT_OPT_LAW, PLOT_OPT_ARCH, PLOT_OPT_SEED,
    PLOT_OPT_COLOR, PLOT_OPT_EACH, PLOT_OPT_GPU, PLOT_OPT_STORE, PLOT_OPT_RUN,
};

/* Every kind's options; a kind reads those of its table. */
typedef struct plot_cli_args {
    law_cli_opts law;      /* --data, --where, --arch, --convention and the fit options */
    int have_convention;   /* --convention given */
    const char *output;
    const char *model;     /* --model NAME(S) */
    int64_t steps;
    int cfg;
    int64_t sizes[ESL_FIGURE_MAX_SIZES];
    size_t n_sizes;
    const char *law_file;  /* --law FILE: use it instead of fitting */
    const char *split;     /* --split S */
    int64_t seed;
    int by_gpu;            /* --color gpu */
    int each_model;        /* --each model */
    const char *gpu;       /* --gpu NAME */
    const char *store;     /* --store FILE */
    int64_t run;           /* --run ID */
} plot_cli_args;

static const cli_option decomposition_options[] = {
    {"output", PLOT_OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},
    {"model", PLOT_OPT_MODEL, "NAMES", "comma-separated models (default flux-dev,qwen-image,sd35-large)"},
    {"steps", PLOT_OPT_STEPS, "T", "denoising steps (default 10, as in the paper's Figure 1)"},
    {"cfg", PLOT_OPT_CFG, NULL, "classifier-free guidance: two denoiser passes per step"},
    {"sizes", PLOT_OPT_SIZES, "LIST", "square image sides in pixels (default 256,512,768,1024)"},
    {"convention", LAW_OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"},
    {NULL, 0, NULL, NULL},
};

#define DATA_OPTIONS                                                                              \
    {"output", PLOT_OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},                        \
    {"data", PLOT_OPT_DATA, "FILE", "the dataset (CSV; default: the paper's A100 data, built in)"}, \
    {"where", PLOT_OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"}, \
    {"arch", PLOT_OPT_ARCH, "FILE", "a model description for a model the catalogue lacks"},      \
    {"convention", LAW_OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"}

/* How a law is fitted when the figure fits one (as esl fit). */
#define FIT_OPTIONS                                                                               \
    {"baseline", LAW_OPT_BASELINE, "COL=LEVEL", "baseline level: gpu=A100 and dtype=fp16 by default"}, \
    {"terms", LAW_OPT_TERMS, "SPEC", "switch terms off or on: -res, -dtype, -gpu, -flops"},       \
    {"weighted", LAW_OPT_WEIGHTED, NULL, "weighted least squares, weights = prompts per row"},    \
    {"robust", LAW_OPT_ROBUST, NULL, "robust fit (bisquare)"}

/* The cli_handler of every kind: ctx is a plot_cli_args. */
static int plot_cli_option(void *ctx, int key, const char *arg)
{
    plot_cli_args *a = ctx;
    switch (key) {
    case PLOT_OPT_OUTPUT: a->output = arg; return 0;
    case PLOT_OPT_MODEL: a->model = arg; return 0;
    case PLOT_OPT_STEPS: return cli_int("steps", arg, 1, 100000, &a->steps);
    case PLOT_OPT_CFG: a->cfg = 1; return 0;
    case PLOT_OPT_SIZES: {
        int rc = esl_figure_sizes_parse(a->sizes, &a->n_sizes, arg);
        if (rc != ESL_OK)
            cli_error("option --sizes: %s", esl_error_last());
        return cli_exit_code(rc);
    }
    case PLOT_OPT_DATA: a->law.data = arg; return 0;
    case PLOT_OPT_WHERE: return law_cli_where(&a->law, arg);
    case PLOT_OPT_ARCH: a->law.arch = arg; return 0;
    case PLOT_OPT_LAW: a->law_file = arg; return 0;
    case PLOT_OPT_SPLIT: a->split = arg; return 0;
    case PLOT_OPT_SEED: return cli_int("seed", arg, 0, INT64_C(4294967295), &a->seed);
    case PLOT_OPT_GPU: a->gpu = arg; return 0;
    case PLOT_OPT_STORE: a->store = arg; return 0;
    case PLOT_OPT_RUN: return cli_int("run", arg, 1, INT64_MAX, &a->run);
    case PLOT_OPT_COLOR:
        if (strcmp(arg, "model") != 0 && strcmp(arg, "gpu") != 0)
            return cli_error("option --color: '%s' is not one of model, gpu", arg), EXIT_USAGE;
        a->by_gpu = strcmp(arg, "gpu") == 0;
        return 0;
    case PLOT_OPT_EACH:
        if (strcmp(arg, "model") != 0)
            return cli_error("option --each: '%s' is not 'model'", arg), EXIT_USAGE;
        a->each_model = 1;
        return 0;
    }
    a->have_convention |= key == LAW_OPT_CONVENTION;
    return law_cli_option(&a->law, key, arg); /* --convention and the fit options */
}

/* 0 when `output` is given and this build can draw, else an exit code with
 * its line printed for `kind` ("trace"). */
static int plot_cli_need(const char *kind, const char *output)
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

/* Render a built figure into `output` and free it: 0, or the exit code of
 * `status` (the build's) or of the drawing, its error line printed. */
static int plot_cli_draw(int status, esl_figure *fig, const char *output)
{
    if (status == ESL_OK)
        status = esl_figure_render(fig, output);
    esl_figure_free(fig);
    return status == ESL_OK ? 0 : cli_fail(status);
}

static int run_decomposition(const cli_command *cmd, int argc, char **argv)
{
    plot_cli_args a = {0}; /* no --model, --steps or --sizes: the paper's Figure 1 */
    esl_figure *fig = NULL;
    char *note = NULL;
    int rc = cli_parse_all(cmd, argc, argv, plot_cli_option, &a);
    if (rc != 0 || (rc = plot_cli_need("decomposition", a.output)) != 0)
        return rc;
    esl_figure_decomposition_opts fo = {.steps = a.steps, .cfg = a.cfg, .sizes = a.sizes,
                                        .n_sizes = a.n_sizes, .convention = a.law.convention};
    int built = esl_figure_decomposition_named(&fig, &note, a.model, &fo, !a.have_convention);
    if (note != NULL)
        cli_error("plot decomposition: %s", note);
    free(note);
    return plot_cli_draw(built, fig, a.output);
}

/* diagnostic, scaling and contributions: the rows (and the law) to draw. */
static int run_data(const cli_command *cmd, int argc, char **argv)
{
    const char *kind = cmd->name + 5;
    plot_cli_args a = {.seed = 1};
    esl_dataset *ds = NULL;
    esl_figure *fig = NULL;
    int rc = cli_parse_all(cmd, argc, argv, plot_cli_option, &a), built;
    esl_figure_diagnostic_opts fo = {.split = a.split, .seed = (unsigned long)a.seed,
                                     .each_model = a.each_model, .by_gpu = a.by_gpu,
                                     .fit = &a.law.fit};
    if (rc != 0 || (rc = plot_cli_need(kind, a.output)) != 0)
        return rc;
    if (strcmp(kind, "diagnostic") == 0 && (built = esl_figure_diagnostic_check(&fo, a.law_file)))
        return cli_fail(built);
    if ((rc = law_cli_dataset(&a.law, 0, &ds)) != 0)
        return rc;
    if (strcmp(kind, "diagnostic") == 0)
        built = esl_figure_diagnostic_fit(&fig, ds, a.law_file, &fo);
    else if (strcmp(kind, "scaling") == 0)
        built = esl_figure_scaling_fit(&fig, ds, a.law_file, &a.law.fit, a.gpu);
    else
        built = esl_figure_contributions(&fig, ds, a.model);
    rc = plot_cli_draw(built, fig, a.output);
    esl_dataset_free(ds);
    return rc;
}

static const cli_command plot_decomposition = {
    "plot decomposition", run_decomposition,
    "text / denoise / decode FLOPs per model and image size (the paper's Figure 1)",
    "-o FILE [--model NAMES] [--steps T] [--cfg] [--sizes LIST] [--convention C]",
    "One panel per model, one group of bars per square image size: the FLOPs of text\n"
    "encoding, of the T denoising steps and of decoding one image (Eq. 1), on a log scale.",
    decomposition_options,
};

static const cli_option diagnostic_options[] = {
    DATA_OPTIONS,
    {"law", PLOT_OPT_LAW, "FILE", "draw this law file's predictions instead of fitting one"},
    {"split", PLOT_OPT_SPLIT, "S", "held-out rows of a validation: kfold:K, leave-out:model, "
                                   "leave-out:gpu or train=A,B:test=C"},
    {"seed", PLOT_OPT_SEED, "N", "seed of the k-fold shuffle (default 1, as esl validate)"},
    {"each", PLOT_OPT_EACH, "model", "fit each model on its own rows, one panel per model"},
    {"color", PLOT_OPT_COLOR, "COL", "colour points by model (default) or gpu"},
    FIT_OPTIONS,
    {NULL, 0, NULL, NULL},
};

static const cli_command plot_diagnostic = {
    "plot diagnostic", run_data,
    "actual vs predicted energy, log-log, with R\xc2\xb2, MAPE and Spearman (Figures 2-5, 7, 8)",
    "-o FILE [--data FILE] [--where COL=V,..] [--law FILE | --split S | --each model] "
    "[--color model|gpu]",
    "Without --split: the law (--law FILE, or fitted on the rows) predicting every row. With\n"
    "--split: one column per fold of that esl validate split, its training rows on top and\n"
    "its held-out rows below (four or more folds: a row per fold, training rows on the left).\n"
    "With --each model: each model fitted and drawn on its own.",
    diagnostic_options,
};

static const cli_option scaling_options[] = {
    DATA_OPTIONS,
    {"law", PLOT_OPT_LAW, "FILE", "draw this law file's lines instead of fitting one"},
    {"gpu", PLOT_OPT_GPU, "NAME", "the GPU whose rows and lines are drawn (default: the law's baseline)"},
    FIT_OPTIONS,
    {NULL, 0, NULL, NULL},
};

static const cli_command plot_scaling = {
    "plot scaling", run_data,
    "energy against FLOPs_cfg per model, with the law's lines and 95% band",
    "-o FILE [--data FILE] [--where COL=V,..] [--law FILE] [--gpu NAME]",
    "One panel per model: its rows on one GPU, coloured by image size, and the law's\n"
    "prediction and 95% prediction interval for each size, precision and CFG setting as the\n"
    "steps run from the fewest to the most measured (any form of the law).",
    scaling_options,
};

static const cli_option contributions_options[] = {
    DATA_OPTIONS,
    {"model", PLOT_OPT_MODEL, "NAME", "the model (default: flux-dev, else the data's first)"},
    {NULL, 0, NULL, NULL},
};

static const cli_command plot_contributions = {
    "plot contributions", run_data,
    "energy relative to the cheapest setting as resolution, steps, precision and CFG change "
    "(Figure 6)",
    "-o FILE [--data FILE] [--where COL=V,..] [--model NAME]",
    "One panel per precision and CFG setting, steps across, one line per image size; every\n"
    "energy is per image and divided by the model's cheapest measured setting.",
    contributions_options,
};

static const cli_option trace_options[] = {
    {"output", PLOT_OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},
    {"store", PLOT_OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"run", PLOT_OPT_RUN, "ID", "the run to draw (esl runs list shows the ids)"},
    {NULL, 0, NULL, NULL},
};

static int run_trace(const cli_command *cmd, int argc, char **argv)
{
    plot_cli_args a = {.store = "esl-runs.db"};
    esl_figure *fig = NULL;
    int rc = cli_parse_all(cmd, argc, argv, plot_cli_option, &a);
    if (rc != 0)
        return rc;
    if (a.run == 0) {
        cli_error("plot trace: name the run with --run ID (esl runs list shows the ids)");
        return EXIT_USAGE;
    }
    if ((rc = plot_cli_need("trace", a.output)) != 0)
        return rc;
    int built = esl_figure_trace_stored(&fig, a.store, a.run);
    return plot_cli_draw(built, fig, a.output);
}

static const cli_command plot_trace = {
    "plot trace", run_trace,
    "a stored run's power trace with its idle baseline and measurement window",
    "-o FILE --run ID [--store FILE]",
    "Power (W) against time (s), one line per device, from the samples the run store kept;\n"
    "each device's idle power as a dashed line; the measurement window (time 0 to the run's\n"
    "duration) shaded grey; total and dynamic energy under the legend.",
    trace_options,
};

static const cli_command *const plot_kinds[] = {
    &plot_contributions, &plot_decomposition, &plot_diagnostic, &plot_scaling, &plot_trace, NULL,
};

static int run_plot(const cli_command *self, int argc, char **argv)
{
    (void)self;
    if (argc < 2) {
        cli_error("plot: name a kind of figure (see 'esl plot --help')");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: esl plot KIND -o FILE [OPTIONS]\n\nkinds:\n");
        for (size_t i = 0; plot_kinds[i] != NULL; i++)
            printf("  %-14s %s\n", plot_kinds[i]->name + 5, plot_kinds[i]->summary);
        printf("\n'esl plot KIND --help' describes a kind's options.\n");
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
