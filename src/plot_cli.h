/*
 * plot_cli.h - the figures of `esl plot`, callable by `esl report`: each
 * draws one figure into a file, prints its own error line and returns an
 * exit code (0 on success).
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

/* Figure 1: text / denoise / decode FLOPs per model and square size; with
 * auto_exact, a model without paper-convention terms turns the figure exact. */
int plot_cli_decomposition(const char *output, const char *model_list, int64_t steps, int cfg,
                           const int64_t *sizes, size_t n_sizes, esl_convention convention,
                           int auto_exact);

/* The rows to draw: o->data (NULL: the built-in paper data) filtered by o->where. */
int plot_cli_dataset(const law_cli_opts *o, esl_dataset **out);

/* Actual vs predicted energy: the law of `law_file` (or one fitted on the
 * rows), the folds of `split`, or one fit per model when `each` is "model". */
int plot_cli_diagnostic(const char *output, const law_cli_opts *lo, const char *law_file,
                        const char *split, unsigned long seed, const char *each, int by_gpu);

/* Energy against FLOPs_cfg per model with the law's lines and 95% bands. */
int plot_cli_scaling(const char *output, const law_cli_opts *lo, const char *law_file,
                     const char *gpu);

/* Energy relative to the cheapest setting of one model (Figure 6). */
int plot_cli_contributions(const char *output, const law_cli_opts *lo, const char *model);

/* A stored run's power trace, idle baseline and measurement window. */
int plot_cli_trace(const char *output, const char *store_path, int64_t id);

#endif
