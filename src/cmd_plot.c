/*
 * cmd_plot.c - `esl plot KIND`: the paper's figures as PNG, SVG or PDF.
 *
 * Each kind is a small command of its own (an option table and a run
 * function) that turns libesl's numbers into plain arrays and hands them to
 * esl_plot_figure_render. `decomposition` needs only the FLOP engine (Figure
 * 1); the kinds that read measurements and laws are listed in the same table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

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
    int first, rc;
    const char *kind = cmd->name + 5;
    if ((rc = cli_parse(cmd, argc, argv, on_data_option, a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("plot %s: unexpected argument '%s'", kind, argv[first]);
        return EXIT_USAGE;
    }
    if ((rc = need_output(kind, a->output)) != 0 || (rc = need_plotting(kind)) != 0)
        return rc;
    return 0;
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

/* Distinct values of a row column, in first-seen order, for colours and panels. */
typedef struct names {
    const char *v[64];
    size_t n;
} names;

static size_t names_index(const names *ns, const char *v)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], v) == 0)
            return i;
    return ns->n;
}

static void names_add(names *ns, const char *v)
{
    if (names_index(ns, v) == ns->n && ns->n < sizeof ns->v / sizeof ns->v[0])
        ns->v[ns->n++] = v;
}

static const char *row_column(const esl_row *r, int gpu)
{
    return gpu ? r->gpu : r->model;
}

static int check_groups(const char *kind, const names *ns, const char *what)
{
    if (ns->n <= ESL_PLOT_MAX_GROUPS)
        return 0;
    cli_error("plot %s: %zu %ss are more than the %d colours a figure tells apart; narrow the rows "
              "with --where", kind, ns->n, what, ESL_PLOT_MAX_GROUPS);
    return EXIT_USAGE;
}

/* A metric for a note: "-" when it is undefined for these rows. */
static const char *metric(char *buf, size_t size, const char *fmt, double x)
{
    if (isfinite(x))
        snprintf(buf, size, fmt, x);
    else
        snprintf(buf, size, "-");
    return buf;
}

/* Rows and columns for n panels: one row up to 3, then a near-square grid. */
static void grid_shape(size_t n, size_t *rows, size_t *cols)
{
    size_t c = n <= 3 ? n : 2;
    while (c * c < n)
        c++;
    *cols = c;
    *rows = (n + c - 1) / c;
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

/* One diagnostic panel: `law` predicting the rows of `ds`. Arrays are the caller's. */
typedef struct diag_panel {
    double *actual, *predicted;
    size_t *group;
    char notes[4][64];
    const char *note_ptrs[4];
    char title[160];
} diag_panel;

static int fill_diag_panel(diag_panel *dp, esl_plot_panel *panel, const esl_law *law,
                           const esl_dataset *ds, const names *groups, int by_gpu)
{
    esl_predict_opts po = {.level = 0.95, .unseen_as_baseline = 1};
    esl_score score;
    char b1[32], b2[32], b3[32];
    int status;
    dp->actual = malloc((ds->n_rows + 1) * sizeof *dp->actual);
    dp->predicted = malloc((ds->n_rows + 1) * sizeof *dp->predicted);
    dp->group = malloc((ds->n_rows + 1) * sizeof *dp->group);
    if (dp->actual == NULL || dp->predicted == NULL || dp->group == NULL) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < ds->n_rows; i++) {
        esl_prediction pr;
        if ((status = esl_law_predict(&pr, law, &ds->rows[i], &po)) != ESL_OK)
            return cli_fail(status);
        dp->actual[i] = ds->rows[i].energy_j / 3600.0; /* J -> Wh */
        dp->predicted[i] = pr.energy_j / 3600.0;
        dp->group[i] = names_index(groups, row_column(&ds->rows[i], by_gpu));
    }
    if ((status = esl_law_score(&score, law, ds)) != ESL_OK)
        return cli_fail(status);
    snprintf(dp->notes[0], sizeof dp->notes[0], "R\xc2\xb2(ln E) = %s",
             metric(b1, sizeof b1, "%.3f", score.r2_log));
    snprintf(dp->notes[1], sizeof dp->notes[1], "MAPE = %s%%",
             metric(b2, sizeof b2, "%.1f", score.mape_pct));
    snprintf(dp->notes[2], sizeof dp->notes[2], "Spearman \xcf\x81 = %s",
             metric(b3, sizeof b3, "%.3f", score.spearman));
    snprintf(dp->notes[3], sizeof dp->notes[3], "n = %zu", ds->n_rows);
    for (int k = 0; k < 4; k++)
        dp->note_ptrs[k] = dp->notes[k];
    *panel = (esl_plot_panel){.title = dp->title, .x_label = "actual energy (Wh)",
                              .y_label = "predicted energy (Wh)", .x_log = 1, .y_log = 1,
                              .n_points = ds->n_rows, .x = dp->actual, .y = dp->predicted,
                              .group = dp->group, .identity_line = 1, .notes = dp->note_ptrs,
                              .n_notes = 4};
    return 0;
}

/* 1 when `name` is one of the comma-separated `list`. */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p != NULL && *p != '\0'; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Which rows of `ds` the fold trained and tested on, rebuilt from the split's
 * definition (esl_validate, lib/law/validate.c) and checked against the
 * fold's counts. in_fold[i] is 0 for rows a named split leaves out. */
static int fold_rows(const esl_dataset *ds, const char *split, unsigned long seed,
                     const esl_validation *v, size_t f, unsigned char *is_test,
                     unsigned char *in_fold)
{
    const esl_fold *fold = &v->folds[f];
    size_t n = ds->n_rows, n_train = 0, n_test = 0;
    if (strncmp(split, "kfold:", 6) == 0) {
        /* The same shuffle as esl_validate: GSL's mt19937 seeded with `seed`. */
        size_t *order = malloc((n + 1) * sizeof *order);
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        if (order == NULL || rng == NULL) {
            free(order);
            gsl_rng_free(rng);
            cli_error("out of memory");
            return EXIT_FAIL;
        }
        gsl_rng_set(rng, seed);
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        gsl_ran_shuffle(rng, order, n, sizeof *order);
        size_t k = v->n_folds, lo = n * f / k, hi = n * (f + 1) / k;
        for (size_t i = 0; i < n; i++) {
            is_test[order[i]] = i >= lo && i < hi;
            in_fold[i] = 1;
        }
        free(order);
        gsl_rng_free(rng);
    } else {
        /* leave-out and named splits: by the model or GPU names of the fold. */
        int by_gpu = strcmp(split, "leave-out:gpu") == 0;
        if (strncmp(split, "train=", 6) == 0) { /* models when a test name is a model */
            by_gpu = 1;
            for (size_t i = 0; i < n; i++)
                if (in_list(fold->test, ds->rows[i].model))
                    by_gpu = 0;
        }
        for (size_t i = 0; i < n; i++) {
            const char *name = row_column(&ds->rows[i], by_gpu);
            int te = in_list(fold->test, name), tr = in_list(fold->train, name);
            is_test[i] = (unsigned char)te;
            in_fold[i] = (unsigned char)(te || tr);
        }
    }
    for (size_t i = 0; i < n; i++) {
        n_test += in_fold[i] && is_test[i];
        n_train += in_fold[i] && !is_test[i];
    }
    if (n_train != fold->n_train || n_test != fold->n_test) {
        cli_error("plot diagnostic: split '%s': fold %zu has %zu/%zu training/test rows, "
                  "found %zu/%zu", split, f + 1, fold->n_train, fold->n_test, n_train, n_test);
        return EXIT_FAIL;
    }
    return 0;
}

/* A new dataset of the rows of `ds` where keep[i] (or where model == name). */
static int subset(esl_dataset **out, const esl_dataset *ds, const unsigned char *keep,
                  const char *model)
{
    int status = esl_dataset_new(out, ds->origin, ds->convention);
    for (size_t i = 0; status == ESL_OK && i < ds->n_rows; i++)
        if (keep != NULL ? keep[i] : model != NULL && strcmp(ds->rows[i].model, model) == 0)
            status = esl_dataset_append(*out, &ds->rows[i]);
    return status == ESL_OK ? 0 : cli_fail(status);
}

#define MAX_PANELS 16

int plot_cli_diagnostic(const char *output, const law_cli_opts *lo, const char *law_file,
                        const char *split, unsigned long seed, const char *each, int by_gpu)
{
    data_args a = {.law = *lo, .output = output, .law_file = law_file, .split = split,
                   .seed = (int64_t)seed, .each = each};
    esl_dataset *ds = NULL, *parts[MAX_PANELS] = {0};
    esl_law *law = NULL, *laws[MAX_PANELS] = {0};
    esl_validation *v = NULL;
    diag_panel dps[MAX_PANELS];
    esl_plot_panel panels[MAX_PANELS];
    names groups = {0}, models = {0};
    size_t n_panels = 0, rows = 1, cols = 1;
    unsigned char *is_test = NULL, *in_fold = NULL, *keep = NULL;
    char title[256];
    int rc, status;

    memset(dps, 0, sizeof dps);
    if (split != NULL && each != NULL) {
        cli_error("plot diagnostic: --split and --each are two different figures; give one");
        return EXIT_USAGE;
    }
    if (law_file != NULL && (split != NULL || each != NULL)) {
        cli_error("plot diagnostic: --%s fits its own laws; drop --law", split ? "split" : "each");
        return EXIT_USAGE;
    }
    if ((rc = plot_cli_dataset(&a.law, &ds)) != 0)
        return rc;
    for (size_t i = 0; i < ds->n_rows; i++) {
        names_add(&groups, row_column(&ds->rows[i], by_gpu));
        names_add(&models, ds->rows[i].model);
    }
    if ((rc = check_groups("diagnostic", &groups, by_gpu ? "GPU" : "model")) != 0)
        goto done;

    if (split != NULL) {
        if ((status = esl_validate(&v, ds, split, seed, &a.law.fit)) != ESL_OK) {
            rc = cli_fail(status);
            goto done;
        }
        if (2 * v->n_folds > MAX_PANELS) {
            cli_error("plot diagnostic: split '%s' has %zu folds; a figure holds at most %d",
                      split, v->n_folds, MAX_PANELS / 2);
            rc = EXIT_USAGE;
            goto done;
        }
        is_test = malloc(ds->n_rows + 1);
        in_fold = malloc(ds->n_rows + 1);
        keep = malloc(ds->n_rows + 1);
        if (is_test == NULL || in_fold == NULL || keep == NULL) {
            rc = EXIT_FAIL;
            goto done;
        }
        rows = 2;
        cols = v->n_folds;
        for (size_t f = 0; f < v->n_folds; f++) {
            if ((rc = fold_rows(ds, split, seed, v, f, is_test, in_fold)) != 0)
                goto done;
            for (int side = 0; side < 2; side++) { /* training on top, testing below */
                size_t p = (size_t)side * cols + f;
                for (size_t i = 0; i < ds->n_rows; i++)
                    keep[i] = in_fold[i] && is_test[i] == side;
                if ((rc = subset(&parts[p], ds, keep, NULL)) != 0)
                    goto done;
                snprintf(dps[p].title, sizeof dps[p].title, "%s: %s", side ? "test" : "train",
                         side ? v->folds[f].test : v->folds[f].train);
                if ((rc = fill_diag_panel(&dps[p], &panels[p], v->folds[f].law, parts[p], &groups,
                                          by_gpu)) != 0)
                    goto done;
            }
        }
        n_panels = 2 * v->n_folds;
        snprintf(title, sizeof title, "Actual vs predicted energy, held-out validation %s", split);
    } else if (each != NULL) {
        if (models.n > MAX_PANELS) {
            cli_error("plot diagnostic: %zu models; a figure holds at most %d panels", models.n,
                      MAX_PANELS);
            rc = EXIT_USAGE;
            goto done;
        }
        grid_shape(models.n, &rows, &cols);
        for (size_t m = 0; m < models.n; m++) {
            if ((rc = subset(&parts[m], ds, NULL, models.v[m])) != 0)
                goto done;
            if ((status = esl_law_fit(&laws[m], parts[m], &a.law.fit)) != ESL_OK) {
                rc = cli_fail(status);
                goto done;
            }
            snprintf(dps[m].title, sizeof dps[m].title, "%s (own fit)", models.v[m]);
            if ((rc = fill_diag_panel(&dps[m], &panels[m], laws[m], parts[m], &groups, by_gpu)) != 0)
                goto done;
        }
        n_panels = models.n;
        snprintf(title, sizeof title, "Actual vs predicted energy, one law per model (in-sample)");
    } else {
        if ((rc = get_law(&a, ds, &law)) != 0)
            goto done;
        snprintf(dps[0].title, sizeof dps[0].title, "%s", law_file ? law_file : "fitted on these rows");
        if ((rc = fill_diag_panel(&dps[0], &panels[0], law, ds, &groups, by_gpu)) != 0)
            goto done;
        n_panels = 1;
        snprintf(title, sizeof title, "Actual vs predicted energy (%s)",
                 law_file ? "law file" : "in-sample");
    }

    esl_plot_figure fig = {.title = title, .rows = rows, .cols = cols, .panels = panels,
                           .n_panels = n_panels, .groups = groups.v, .n_groups = groups.n,
                           .legend_title = by_gpu ? "GPU" : "model"};
    if (cols == 1 && rows == 1)
        fig.width_px = 980, fig.height_px = 760;
    if ((status = esl_plot_figure_render(&fig, output)) != ESL_OK)
        rc = cli_fail(status);
done:
    for (size_t p = 0; p < MAX_PANELS; p++) {
        free(dps[p].actual);
        free(dps[p].predicted);
        free(dps[p].group);
        esl_dataset_free(parts[p]);
        esl_law_free(laws[p]);
    }
    free(is_test);
    free(in_fold);
    free(keep);
    esl_validation_free(v);
    esl_law_free(law);
    esl_dataset_free(ds);
    return rc;
}

static int run_diagnostic(const cli_command *cmd, int argc, char **argv)
{
    data_args a = {.law.convention = ESL_CONVENTION_PAPER, .seed = 1, .color = "model"};
    int rc = parse_data_args(cmd, argc, argv, &a);
    if (rc != 0)
        return rc;
    return plot_cli_diagnostic(a.output, &a.law, a.law_file, a.split, (unsigned long)a.seed,
                               a.each, strcmp(a.color, "gpu") == 0);
}

static const cli_command plot_diagnostic = {
    "plot diagnostic", run_diagnostic,
    "actual vs predicted energy, log-log, with R\xc2\xb2, MAPE and Spearman (Figures 2-5, 7, 8)",
    "-o FILE [--data FILE] [--where COL=V,..] [--law FILE | --split S | --each model] "
    "[--color model|gpu]",
    "Without --split: the law (--law FILE, or fitted on the rows) predicting every row. With\n"
    "--split: one column per fold of that esl validate split, its training rows on top and\n"
    "its held-out rows below. With --each model: each model fitted and drawn on its own.",
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

#define LINE_POINTS 24
#define MAX_LINES 32

int plot_cli_scaling(const char *output, const law_cli_opts *lo, const char *law_file,
                     const char *gpu_name)
{
    data_args a = {.law = *lo, .output = output, .law_file = law_file};
    esl_dataset *all = NULL, *ds = NULL;
    esl_law *law = NULL;
    names models = {0}, sizes = {0}, dtypes = {0};
    char size_names[8][32];
    esl_plot_panel panels[MAX_PANELS];
    char titles[MAX_PANELS][96];
    static double lx[MAX_PANELS][MAX_LINES][LINE_POINTS], ly[MAX_PANELS][MAX_LINES][LINE_POINTS],
        llo[MAX_PANELS][MAX_LINES][LINE_POINTS], lhi[MAX_PANELS][MAX_LINES][LINE_POINTS];
    esl_plot_line lines[MAX_PANELS][MAX_LINES];
    esl_plot_band bands[MAX_PANELS][MAX_LINES];
    double *px = NULL, *py = NULL;
    size_t *pg = NULL;
    char title[256];
    int rc, status;

    if ((rc = plot_cli_dataset(&a.law, &all)) != 0)
        return rc;
    if ((rc = get_law(&a, all, &law)) != 0)
        goto done;
    const char *gpu = gpu_name ? gpu_name : law->factors[0].baseline;
    char spec[128];
    snprintf(spec, sizeof spec, "gpu=%s", gpu ? gpu : "");
    if ((status = esl_dataset_where(&ds, all, spec)) != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    size_t n = ds->n_rows;
    px = malloc((n + 1) * sizeof *px);
    py = malloc((n + 1) * sizeof *py);
    pg = malloc((n + 1) * sizeof *pg);
    if (px == NULL || py == NULL || pg == NULL) {
        rc = EXIT_FAIL;
        goto done;
    }
    /* Sizes sorted by pixels, so colours run from small to large images. */
    int64_t pixels[8];
    for (size_t i = 0; i < n; i++) {
        const esl_row *r = &ds->rows[i];
        char key[32];
        snprintf(key, sizeof key, "%lldx%lld", (long long)r->height, (long long)r->width);
        size_t s = 0;
        while (s < sizes.n && strcmp(size_names[s], key) != 0)
            s++;
        if (s == sizes.n && sizes.n < 8) {
            size_t at = sizes.n++;
            while (at > 0 && pixels[at - 1] > r->height * r->width) {
                memcpy(size_names[at], size_names[at - 1], sizeof size_names[at]);
                pixels[at] = pixels[at - 1];
                at--;
            }
            snprintf(size_names[at], sizeof size_names[at], "%s", key);
            pixels[at] = r->height * r->width;
        } else if (s == sizes.n) {
            cli_error("plot scaling: more than 8 image sizes; narrow the rows with --where");
            rc = EXIT_USAGE;
            goto done;
        }
        names_add(&models, r->model);
        names_add(&dtypes, r->dtype);
    }
    for (size_t s = 0; s < sizes.n; s++)
        sizes.v[s] = size_names[s];
    if (models.n > MAX_PANELS) {
        cli_error("plot scaling: %zu models; a figure holds at most %d panels", models.n, MAX_PANELS);
        rc = EXIT_USAGE;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%lldx%lld", (long long)ds->rows[i].height,
                 (long long)ds->rows[i].width);
        px[i] = ds->rows[i].flops_cfg;
        py[i] = ds->rows[i].energy_j / 3600.0;
        pg[i] = names_index(&sizes, key);
    }
    /* Sort the points by model so that each panel's points are contiguous. */
    size_t start[MAX_PANELS + 1] = {0}, filled = 0;
    double *sx = malloc((n + 1) * sizeof *sx), *sy = malloc((n + 1) * sizeof *sy);
    size_t *sg = malloc((n + 1) * sizeof *sg);
    if (sx == NULL || sy == NULL || sg == NULL) {
        free(sx), free(sy), free(sg);
        rc = EXIT_FAIL;
        goto done;
    }
    const char *base_dtype = law->factors[1].baseline;
    esl_predict_opts po = {.level = 0.95, .unseen_as_baseline = 1};
    for (size_t m = 0; m < models.n; m++) {
        start[m] = filled;
        for (size_t i = 0; i < n; i++)
            if (strcmp(ds->rows[i].model, models.v[m]) == 0) {
                sx[filled] = px[i], sy[filled] = py[i], sg[filled] = pg[i];
                filled++;
            }
        size_t n_lines = 0;
        for (size_t s = 0; s < sizes.n; s++)
            for (size_t d = 0; d < dtypes.n && n_lines < MAX_LINES; d++) {
                /* The law along this model's FLOPs range at one size and precision. */
                double fmin = INFINITY, fmax = 0;
                const esl_row *like = NULL;
                for (size_t i = 0; i < n; i++) {
                    const esl_row *r = &ds->rows[i];
                    char key[32];
                    snprintf(key, sizeof key, "%lldx%lld", (long long)r->height, (long long)r->width);
                    if (strcmp(r->model, models.v[m]) != 0 || strcmp(key, sizes.v[s]) != 0 ||
                        strcmp(r->dtype, dtypes.v[d]) != 0)
                        continue;
                    like = r;
                    fmin = r->flops_cfg < fmin ? r->flops_cfg : fmin;
                    fmax = r->flops_cfg > fmax ? r->flops_cfg : fmax;
                }
                if (like == NULL || !(fmax > fmin))
                    continue;
                for (int k = 0; k < LINE_POINTS; k++) {
                    esl_row q = *like;
                    esl_prediction pr;
                    q.flops_cfg = fmin * pow(fmax / fmin, (double)k / (LINE_POINTS - 1));
                    if ((status = esl_law_predict(&pr, law, &q, &po)) != ESL_OK) {
                        free(sx), free(sy), free(sg);
                        rc = cli_fail(status);
                        goto done;
                    }
                    lx[m][n_lines][k] = q.flops_cfg;
                    ly[m][n_lines][k] = pr.energy_j / 3600.0;
                    llo[m][n_lines][k] = pr.lo_j / 3600.0;
                    lhi[m][n_lines][k] = pr.hi_j / 3600.0;
                }
                int dashed = base_dtype != NULL && strcmp(dtypes.v[d], base_dtype) != 0;
                lines[m][n_lines] = (esl_plot_line){LINE_POINTS, lx[m][n_lines], ly[m][n_lines], s, dashed};
                bands[m][n_lines] = (esl_plot_band){LINE_POINTS, lx[m][n_lines], llo[m][n_lines],
                                                    lhi[m][n_lines], s};
                n_lines++;
            }
        snprintf(titles[m], sizeof titles[m], "%s on %s", models.v[m], gpu);
        panels[m] = (esl_plot_panel){.title = titles[m], .x_label = "FLOPs_cfg (FLOP)",
                                     .y_label = "energy (Wh)", .x_log = 1, .y_log = 1,
                                     .n_points = filled - start[m], .x = sx + start[m],
                                     .y = sy + start[m], .group = sg + start[m],
                                     .lines = lines[m], .n_lines = n_lines, .bands = bands[m],
                                     .n_bands = n_lines};
    }
    int alpha = esl_law_feature(law, "alpha");
    char alpha_text[48] = "";
    if (alpha >= 0)
        snprintf(alpha_text, sizeof alpha_text, " (alpha = %.3f)", law->coef[alpha]);
    snprintf(title, sizeof title, "Energy against FLOPs_cfg with the fitted law%s", alpha_text);
    char notes[3][64];
    const char *note_ptrs[3] = {notes[0], notes[1], notes[2]};
    snprintf(notes[0], sizeof notes[0], "lines: the law");
    snprintf(notes[1], sizeof notes[1], "solid: %s%s", base_dtype ? base_dtype : "",
             dtypes.n > 1 ? ", dashed: other" : "");
    snprintf(notes[2], sizeof notes[2], "shading: 95%% interval");
    size_t rows, cols;
    grid_shape(models.n, &rows, &cols);
    esl_plot_figure fig = {.title = title, .rows = rows, .cols = cols, .panels = panels,
                           .n_panels = models.n, .groups = sizes.v, .n_groups = sizes.n,
                           .legend_title = "image size", .legend_notes = note_ptrs,
                           .n_legend_notes = 3};
    if ((status = esl_plot_figure_render(&fig, output)) != ESL_OK)
        rc = cli_fail(status);
    free(sx), free(sy), free(sg);
done:
    free(px), free(py), free(pg);
    esl_law_free(law);
    esl_dataset_free(ds);
    esl_dataset_free(all);
    return rc;
}

static int run_scaling(const cli_command *cmd, int argc, char **argv)
{
    data_args a = {.law.convention = ESL_CONVENTION_PAPER};
    int rc = parse_data_args(cmd, argc, argv, &a);
    if (rc != 0)
        return rc;
    return plot_cli_scaling(a.output, &a.law, a.law_file, a.gpu);
}

static const cli_command plot_scaling = {
    "plot scaling", run_scaling,
    "energy against FLOPs_cfg per model, with the law's lines and 95% band",
    "-o FILE [--data FILE] [--where COL=V,..] [--law FILE] [--gpu NAME]",
    "One panel per model: its rows on one GPU, coloured by image size, and the law's\n"
    "prediction along each size's FLOPs range, per precision, with its 95% prediction interval.",
    scaling_options,
};

/* ---- esl plot contributions ------------------------------------------- */

static const cli_option contributions_options[] = {
    DATA_OPTIONS,
    {"model", OPT_MODEL, "NAME", "the model (default: flux-dev, else the data's first)"},
    {NULL, 0, NULL, NULL},
};

int plot_cli_contributions(const char *output, const law_cli_opts *lo, const char *model)
{
    data_args a = {.law = *lo, .output = output};
    esl_dataset *all = NULL, *ds = NULL;
    names sizes = {0}, gpus = {0};
    char size_names[8][32];
    int64_t pixels[8];
    double *x = NULL, *y = NULL;
    size_t *g = NULL;
    int rc, status;

    if ((rc = plot_cli_dataset(&a.law, &all)) != 0)
        return rc;
    if (all->n_rows == 0) {
        cli_error("plot contributions: no rows");
        rc = EXIT_USAGE;
        goto done;
    }
    if (model == NULL) {
        model = all->rows[0].model;
        for (size_t i = 0; i < all->n_rows; i++)
            if (strcmp(all->rows[i].model, "flux-dev") == 0)
                model = "flux-dev";
    }
    char spec[160];
    snprintf(spec, sizeof spec, "model=%s", model);
    if ((status = esl_dataset_where(&ds, all, spec)) != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    size_t n = ds->n_rows, cheapest = 0;
    for (size_t i = 0; i < n; i++) {
        const esl_row *r = &ds->rows[i];
        names_add(&gpus, r->gpu);
        if (r->energy_j / (double)r->prompts <
            ds->rows[cheapest].energy_j / (double)ds->rows[cheapest].prompts)
            cheapest = i;
        char key[32];
        snprintf(key, sizeof key, "%lldx%lld", (long long)r->height, (long long)r->width);
        size_t s = 0;
        while (s < sizes.n && strcmp(size_names[s], key) != 0)
            s++;
        if (s == sizes.n) {
            if (sizes.n == 8) {
                cli_error("plot contributions: more than 8 image sizes; narrow the rows with --where");
                rc = EXIT_USAGE;
                goto done;
            }
            size_t at = sizes.n++;
            while (at > 0 && pixels[at - 1] > r->height * r->width) {
                memcpy(size_names[at], size_names[at - 1], sizeof size_names[at]);
                pixels[at] = pixels[at - 1];
                at--;
            }
            snprintf(size_names[at], sizeof size_names[at], "%s", key);
            pixels[at] = r->height * r->width;
        }
    }
    if (gpus.n > 1) {
        cli_error("plot contributions: the rows of %s come from %zu GPUs; pick one with --where gpu=NAME",
                  model, gpus.n);
        rc = EXIT_USAGE;
        goto done;
    }
    for (size_t s = 0; s < sizes.n; s++)
        sizes.v[s] = size_names[s];

    /* Panels: each (precision, CFG) present; x steps, one line per size. */
    static const char *const dtype_order[] = {"fp16", "bf16", "fp32"};
    esl_plot_panel panels[8];
    char titles[8][96];
    static double lxs[8][8][64], lys[8][8][64];
    esl_plot_line lines[8][8];
    size_t n_panels = 0;
    x = malloc((n + 1) * sizeof *x);
    y = malloc((n + 1) * sizeof *y);
    g = malloc((n + 1) * sizeof *g);
    if (x == NULL || y == NULL || g == NULL) {
        rc = EXIT_FAIL;
        goto done;
    }
    const esl_row *base = &ds->rows[cheapest];
    double base_e = base->energy_j / (double)base->prompts, lo_rel = INFINITY, hi_rel = 0;
    size_t filled = 0;
    names dtypes = {0};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(ds->rows[i].dtype, dtype_order[k]) == 0)
                names_add(&dtypes, dtype_order[k]);
    for (size_t i = 0; i < n; i++)
        names_add(&dtypes, ds->rows[i].dtype);
    for (size_t d = 0; d < dtypes.n; d++)
        for (int cfg = 0; cfg < 2 && n_panels < 8; cfg++) {
            size_t begin = filled, n_lines = 0;
            for (size_t s = 0; s < sizes.n; s++) {
                size_t count = 0;
                for (size_t i = 0; i < n; i++) {
                    const esl_row *r = &ds->rows[i];
                    char key[32];
                    snprintf(key, sizeof key, "%lldx%lld", (long long)r->height, (long long)r->width);
                    if (strcmp(r->dtype, dtypes.v[d]) != 0 || r->cfg != cfg ||
                        strcmp(key, sizes.v[s]) != 0)
                        continue;
                    double rel = r->energy_j / (double)r->prompts / base_e;
                    x[filled] = (double)r->steps;
                    y[filled] = rel;
                    g[filled++] = s;
                    lo_rel = rel < lo_rel ? rel : lo_rel;
                    hi_rel = rel > hi_rel ? rel : hi_rel;
                    if (count < 64) {
                        /* Insert by steps so the line runs left to right. */
                        size_t at = count++;
                        while (at > 0 && lxs[n_panels][n_lines][at - 1] > (double)r->steps) {
                            lxs[n_panels][n_lines][at] = lxs[n_panels][n_lines][at - 1];
                            lys[n_panels][n_lines][at] = lys[n_panels][n_lines][at - 1];
                            at--;
                        }
                        lxs[n_panels][n_lines][at] = (double)r->steps;
                        lys[n_panels][n_lines][at] = rel;
                    }
                }
                if (count >= 2 && n_lines < 8)
                    lines[n_panels][n_lines] = (esl_plot_line){count, lxs[n_panels][n_lines],
                                                               lys[n_panels][n_lines], s, 0},
                    n_lines++;
            }
            if (filled == begin)
                continue;
            snprintf(titles[n_panels], sizeof titles[n_panels], "%s, %s", dtypes.v[d],
                     cfg ? "with CFG" : "no CFG");
            panels[n_panels] = (esl_plot_panel){
                .title = titles[n_panels], .x_label = "denoising steps T",
                .y_label = "energy per image (relative)", .y_log = 1,
                .n_points = filled - begin, .x = x + begin, .y = y + begin, .group = g + begin,
                .lines = lines[n_panels], .n_lines = n_lines};
            n_panels++;
        }
    for (size_t p = 0; p < n_panels; p++) { /* one y range, so panels compare at a glance */
        panels[p].y_min = lo_rel / 1.25;
        panels[p].y_max = hi_rel * 1.25;
    }
    char title[256], notes[3][64];
    const char *note_ptrs[3] = {notes[0], notes[1], notes[2]};
    snprintf(title, sizeof title, "%s on %s: energy per image relative to the cheapest setting",
             model, base->gpu);
    snprintf(notes[0], sizeof notes[0], "1 = cheapest measured:");
    snprintf(notes[1], sizeof notes[1], "%lldx%lld, %s, %s,", (long long)base->height,
             (long long)base->width, base->dtype, base->cfg ? "CFG" : "no CFG");
    snprintf(notes[2], sizeof notes[2], "%lld steps", (long long)base->steps);
    size_t rows, cols;
    grid_shape(n_panels, &rows, &cols);
    esl_plot_figure fig = {.title = title, .rows = rows, .cols = cols, .panels = panels,
                           .n_panels = n_panels, .groups = sizes.v, .n_groups = sizes.n,
                           .legend_title = "image size", .legend_notes = note_ptrs,
                           .n_legend_notes = 3};
    if ((status = esl_plot_figure_render(&fig, output)) != ESL_OK)
        rc = cli_fail(status);
done:
    free(x), free(y), free(g);
    esl_dataset_free(ds);
    esl_dataset_free(all);
    return rc;
}

static int run_contributions(const cli_command *cmd, int argc, char **argv)
{
    data_args a = {.law.convention = ESL_CONVENTION_PAPER};
    int rc = parse_data_args(cmd, argc, argv, &a);
    if (rc != 0)
        return rc;
    return plot_cli_contributions(a.output, &a.law, a.model);
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

/* ---- esl plot trace ---------------------------------------------------- */

enum { OPT_STORE = 768, OPT_RUN };

static const cli_option trace_options[] = {
    {"output", OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},
    {"store", OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"run", OPT_RUN, "ID", "the run to draw (esl runs list shows the ids)"},
    {NULL, 0, NULL, NULL},
};

typedef struct trace_args {
    const char *output;
    const char *store;
    int64_t run;
} trace_args;

static int on_trace_option(void *ctx, int key, const char *arg)
{
    trace_args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_STORE: a->store = arg; return 0;
    case OPT_RUN: return cli_int("run", arg, 1, INT64_MAX, &a->run);
    }
    return EXIT_USAGE;
}

/* A sample's power: the average reading, else the instantaneous one; NaN when neither. */
static double sample_power_w(const esl_sample *s)
{
    return isfinite(s->power_w) ? s->power_w : s->power_instant_w;
}

int plot_cli_trace(const char *output, const char *store_path, int64_t id)
{
    esl_store *store = NULL;
    esl_run *run = NULL;
    double *x = NULL, *y = NULL, *idle_x = NULL, *idle_y = NULL;
    int rc = 0, status;

    if ((status = esl_store_open_readonly(&store, store_path)) != ESL_OK) {
        if (status == ESL_ENOTFOUND)
            cli_error("%s: no run store here (esl measure writes one; --store chooses another)",
                      store_path);
        return status == ESL_ENOTFOUND ? EXIT_USAGE : cli_fail(status);
    }
    if ((status = esl_store_get(store, &run, id)) != ESL_OK) {
        if (status == ESL_ENOTFOUND)
            cli_error("plot trace: no run %lld in %s ('esl runs list --store %s' lists its runs)",
                      (long long)id, store_path, store_path);
        rc = status == ESL_ENOTFOUND ? EXIT_USAGE : cli_fail(status);
        goto done;
    }
    const esl_record *rec = run->record;
    size_t n_dev = rec->n_devices, n = rec->n_samples;
    if (n == 0) {
        cli_error("plot trace: run %lld in %s has no samples to draw", (long long)id, store_path);
        rc = EXIT_USAGE;
        goto done;
    }
    if (n_dev == 0 || n_dev > ESL_PLOT_MAX_GROUPS) {
        cli_error("plot trace: run %lld has %zu devices; a figure draws 1 to %d", (long long)id,
                  n_dev, ESL_PLOT_MAX_GROUPS);
        rc = EXIT_USAGE;
        goto done;
    }
    /* One line per device: its samples in time order (the store keeps them so),
     * each device's points contiguous in x and y; samples without power skipped. */
    x = malloc(n * sizeof *x);
    y = malloc(n * sizeof *y);
    idle_x = malloc(2 * n_dev * sizeof *idle_x);
    idle_y = malloc(2 * n_dev * sizeof *idle_y);
    if (x == NULL || y == NULL || idle_x == NULL || idle_y == NULL) {
        rc = EXIT_FAIL;
        goto done;
    }
    esl_plot_line lines[2 * ESL_PLOT_MAX_GROUPS];
    size_t n_lines = 0, filled = 0, unknown = 0;
    double t0 = 0.0, t1 = rec->duration_s, peak = 0.0;
    for (size_t i = 0; i < n; i++) {
        t0 = fmin(t0, rec->samples[i].time_s);
        t1 = fmax(t1, rec->samples[i].time_s);
    }
    for (size_t d = 0; d < n_dev; d++) {
        size_t start = filled;
        for (size_t i = 0; i < n; i++) {
            const esl_sample *s = &rec->samples[i];
            if (s->device != (int)d)
                continue;
            double p = sample_power_w(s);
            if (!isfinite(p) || !isfinite(s->time_s)) {
                unknown++;
                continue;
            }
            x[filled] = s->time_s;
            y[filled++] = p;
            peak = fmax(peak, p);
        }
        if (filled - start >= 2)
            lines[n_lines++] = (esl_plot_line){filled - start, x + start, y + start, d, 0};
        double idle = rec->devices[d].idle_w;
        if (idle > 0 && isfinite(idle)) { /* the baseline across the whole trace, dashed */
            idle_x[2 * d] = t0, idle_x[2 * d + 1] = t1;
            idle_y[2 * d] = idle_y[2 * d + 1] = idle;
            lines[n_lines++] = (esl_plot_line){2, idle_x + 2 * d, idle_y + 2 * d, d, 1};
            peak = fmax(peak, idle);
        }
    }
    if (filled < 2) {
        cli_error("plot trace: run %lld in %s has fewer than two samples with a power reading",
                  (long long)id, store_path);
        rc = EXIT_USAGE;
        goto done;
    }
    char groups[ESL_PLOT_MAX_GROUPS][128];
    const char *group_ptrs[ESL_PLOT_MAX_GROUPS];
    for (size_t d = 0; d < n_dev; d++) {
        snprintf(groups[d], sizeof groups[d], "%d %s", rec->devices[d].info.index,
                 rec->devices[d].info.name);
        group_ptrs[d] = groups[d];
    }
    /* Legend notes: the energies, what the dashed lines and the shading are. */
    char notes[6][96];
    const char *note_ptrs[6];
    size_t n_notes = 0;
    snprintf(notes[n_notes++], sizeof notes[0], "total %.1f J (%.4f Wh)", rec->energy_j,
             rec->energy_j / 3600.0);
    snprintf(notes[n_notes++], sizeof notes[0], "dynamic %.1f J (%.4f Wh)", rec->dynamic_j,
             rec->dynamic_j / 3600.0);
    if (rec->idle_w > 0)
        snprintf(notes[n_notes++], sizeof notes[0], "dashed: idle %.1f W%s", rec->idle_w,
                 n_dev > 1 ? " (sum)" : "");
    else
        snprintf(notes[n_notes++], sizeof notes[0], "no idle baseline");
    snprintf(notes[n_notes++], sizeof notes[0], "grey: measurement window, %.2f s", rec->duration_s);
    if (unknown > 0)
        snprintf(notes[n_notes++], sizeof notes[0], "%zu samples without power", unknown);
    for (size_t k = 0; k < n_notes; k++)
        note_ptrs[k] = notes[k];

    char title[160], command[96];
    snprintf(command, sizeof command, "%s", run->command);
    if (strlen(run->command) >= sizeof command)
        memcpy(command + sizeof command - 4, "...", 4);
    snprintf(title, sizeof title, "Run %lld: %s (%s)", (long long)id, command, run->started);
    esl_plot_panel panel = {.x_label = "time (s)", .y_label = "power (W)",
                            .y_min = 0.0, .y_max = peak > 0 ? peak * 1.1 : 1.0,
                            .lines = lines, .n_lines = n_lines,
                            .span_x0 = 0.0, .span_x1 = rec->duration_s};
    if (!(rec->duration_s > 0)) /* a window with no length has nothing to shade */
        panel.span_x1 = 0.0;
    esl_plot_figure fig = {.title = title, .rows = 1, .cols = 1, .panels = &panel, .n_panels = 1,
                           .groups = group_ptrs, .n_groups = n_dev, .legend_title = "device",
                           .legend_notes = note_ptrs, .n_legend_notes = n_notes,
                           .width_px = 1100, .height_px = 560};
    if ((status = esl_plot_figure_render(&fig, output)) != ESL_OK)
        rc = cli_fail(status);
done:
    free(x), free(y), free(idle_x), free(idle_y);
    esl_runs_free(run, run ? 1 : 0);
    esl_store_close(store);
    return rc;
}

static int run_trace(const cli_command *cmd, int argc, char **argv)
{
    trace_args a = {.store = "esl-runs.db"};
    int first, rc;

    if ((rc = cli_parse(cmd, argc, argv, on_trace_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("plot trace: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.run == 0) {
        cli_error("plot trace: name the run with --run ID (esl runs list shows the ids)");
        return EXIT_USAGE;
    }
    if ((rc = need_output("trace", a.output)) != 0 || (rc = need_plotting("trace")) != 0)
        return rc;
    return plot_cli_trace(a.output, a.store, a.run);
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
    "KIND is one of: decomposition (Figure 1), diagnostic (Figures 2-5, 7, 8), scaling,\n"
    "contributions (Figure 6), trace (a stored run's power). The file's extension picks\n"
    "the format: .png, .svg or .pdf. 'esl plot KIND --help' lists a kind's options.",
    plot_options,
};
