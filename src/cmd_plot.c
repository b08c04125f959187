/*
 * cmd_plot.c - `esl plot KIND`: the paper's figures as PNG, SVG or PDF.
 *
 * Each kind is a small command of its own (an option table and a run
 * function) that turns libesl's numbers into plain arrays and hands them to
 * esl_plot_figure_render. `decomposition` needs only the FLOP engine (Figure
 * 1); the kinds that read measurements and laws are listed in the same table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
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
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    }
    return EXIT_USAGE;
}

/* Fail with one line when this build cannot draw. */
static int need_plotting(const char *kind)
{
    if (esl_plot_available())
        return 0;
    cli_error("plot %s: this esl was built without PLplot (install libplplot-dev and "
              "plplot-driver-cairo, then rebuild)", kind);
    return EXIT_FAIL;
}

static int need_output(const char *kind, const char *output)
{
    if (output != NULL)
        return 0;
    cli_error("plot %s: give the figure's file with -o FILE (.png, .svg or .pdf)", kind);
    return EXIT_USAGE;
}

int plot_cli_decomposition(const char *output, const char *model_list, int64_t steps, int cfg,
                           const int64_t *sizes, size_t n_sizes, esl_convention convention)
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
    /* Per panel (model): categories are sizes, series text / denoise / decode in GFLOP. */
    static const char *const stages[] = {"text encoding", "denoising", "decoding"};
    double values[MAX_MODELS][MAX_SIZES * 3];
    char labels[MAX_SIZES][24];
    const char *label_ptrs[MAX_SIZES];
    char notes[MAX_MODELS][2][64];
    const char *note_ptrs[MAX_MODELS][2];
    char titles[MAX_MODELS][96];
    char groups[3][64];
    const char *group_ptrs[3];
    esl_plot_bars bars[MAX_MODELS];
    esl_plot_panel panels[MAX_MODELS];

    for (size_t s = 0; s < n_sizes; s++) {
        snprintf(labels[s], sizeof labels[s], "%lld\xc2\xb2", (long long)sizes[s]);
        label_ptrs[s] = labels[s];
    }
    for (size_t m = 0; rc == 0 && m < n_models; m++) {
        double least = 1.0, most = 0.0;
        for (size_t s = 0; s < n_sizes; s++) {
            esl_request req = {.height = sizes[s], .width = sizes[s], .steps = steps,
                               .prompts = 1, .cfg = cfg};
            esl_flops f;
            if ((status = esl_flops_count(&f, models[m], &req, convention)) != ESL_OK) {
                rc = cli_fail(status);
                break;
            }
            /* Eq. 1: denoising runs T times, twice per step with CFG. */
            double denoise = (double)f.denoise_flops_per_step * (double)steps * (cfg ? 2 : 1);
            values[m][s * 3 + 0] = (double)f.text_flops / 1e9;
            values[m][s * 3 + 1] = denoise / 1e9;
            values[m][s * 3 + 2] = (double)f.decode_flops / 1e9;
            double share = denoise / (double)f.image_flops;
            least = share < least ? share : least;
            most = share > most ? share : most;
        }
        bars[m] = (esl_plot_bars){.n_categories = n_sizes, .categories = label_ptrs,
                                  .n_series = 3, .values = values[m]};
        snprintf(notes[m][0], sizeof notes[m][0], "denoising share of the total:");
        snprintf(notes[m][1], sizeof notes[m][1], "%.2f%% to %.2f%%", 100 * least, 100 * most);
        note_ptrs[m][0] = notes[m][0];
        note_ptrs[m][1] = notes[m][1];
        snprintf(titles[m], sizeof titles[m], "%s",
                 models[m]->display_name ? models[m]->display_name : models[m]->name);
        panels[m] = (esl_plot_panel){.title = titles[m], .x_label = "image size (pixels)",
                                     .y_label = "compute per image (GFLOP)", .y_log = 1,
                                     .bars = &bars[m], .notes = note_ptrs[m], .n_notes = 2};
    }
    if (rc == 0) {
        for (size_t g = 0; g < 3; g++) {
            if (g == 1)
                snprintf(groups[g], sizeof groups[g], "%s (T=%lld%s)", stages[g],
                         (long long)steps, cfg ? ", CFG" : "");
            else
                snprintf(groups[g], sizeof groups[g], "%s", stages[g]);
            group_ptrs[g] = groups[g];
        }
        char title[128];
        snprintf(title, sizeof title, "Compute per image by stage (%s convention, log scale)",
                 esl_convention_name(convention));
        esl_plot_figure fig = {.title = title, .rows = 1, .cols = n_models, .panels = panels,
                               .n_panels = n_models, .groups = group_ptrs, .n_groups = 3,
                               .legend_title = "stage"};
        if ((status = esl_plot_figure_render(&fig, output)) != ESL_OK)
            rc = cli_fail(status);
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
    int first, rc;

    if ((rc = cli_parse(cmd, argc, argv, on_decomposition_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("plot decomposition: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if ((rc = need_output("decomposition", a.output)) != 0 ||
        (rc = need_plotting("decomposition")) != 0)
        return rc;
    return plot_cli_decomposition(a.output, a.models, a.steps, a.cfg, a.sizes, a.n_sizes,
                                  a.convention);
}

static const cli_command plot_decomposition = {
    "plot decomposition", run_decomposition,
    "text / denoise / decode FLOPs per model and image size (the paper's Figure 1)",
    "-o FILE [--model NAMES] [--steps T] [--cfg] [--sizes LIST] [--convention C]",
    "One panel per model, one group of bars per square image size: the FLOPs of text\n"
    "encoding, of the T denoising steps and of decoding one image (Eq. 1), on a log scale.",
    decomposition_options,
};

/* ---- esl plot --------------------------------------------------------- */

static const cli_command *const plot_kinds[] = {
    &plot_decomposition,
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
    for (size_t i = 0; plot_kinds[i] != NULL; i++)
        if (strcmp(plot_kinds[i]->name + 5, argv[1]) == 0)
            return plot_kinds[i]->run(plot_kinds[i], argc - 1, argv + 1);
    cli_error("plot: unknown kind '%s' (see 'esl plot --help')", argv[1]);
    return EXIT_USAGE;
}

static const cli_option plot_options[] = {{NULL, 0, NULL, NULL}};

const cli_command cmd_plot = {
    "plot", run_plot, "draw the paper's figures as PNG, SVG or PDF",
    "KIND -o FILE [OPTIONS]",
    "KIND is one of: decomposition (Figure 1). The file's extension picks the format:\n"
    ".png, .svg or .pdf. 'esl plot KIND --help' lists a kind's options.",
    plot_options,
};
