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

/* Figure 1: text / denoise / decode FLOPs per model and square size. */
int plot_cli_decomposition(const char *output, const char *model_list, int64_t steps, int cfg,
                           const int64_t *sizes, size_t n_sizes, esl_convention convention);

#endif
