/*
 * plot_cli.h - what the kinds of `esl plot` and `esl report` share: the
 * options of every kind (one handler fills one struct), reading the rows to
 * draw, and drawing a figure built by libesl (esl/figure.h) with its error
 * line printed.
 */
#ifndef ESL_PLOT_CLI_H
#define ESL_PLOT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
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

/* The cli_handler of every kind: ctx is a plot_cli_args. */
int plot_cli_option(void *ctx, int key, const char *arg);

/* Render a built figure into `output` and free it: 0, or the exit code of
 * `status` (the build's) or of the drawing, its error line printed. */
int plot_cli_draw(int status, esl_figure *fig, const char *output);

/* 0 when `output` is given and this build can draw, else an exit code with
 * its line printed for `kind` ("trace"). */
int plot_cli_need(const char *kind, const char *output);

/* The rows to draw: o->data (NULL: the built-in paper data) filtered by o->where. */
int plot_cli_dataset(const law_cli_opts *o, esl_dataset **out);

/* esl plot trace (plot_trace.c). */
extern const cli_command plot_trace;

#endif
