/*
 * plot_cli.h - what the kinds of `esl plot` and `esl report` share: reading
 * the rows to draw, and drawing a figure built by libesl (esl/figure.h) with
 * its error line printed.
 */
#ifndef ESL_PLOT_CLI_H
#define ESL_PLOT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "esl/esl.h"
#include "law_cli.h"

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
