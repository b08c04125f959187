/*
 * figure.h - the paper's figures built from libesl's own objects: a
 * dataset, a law, a model list, a stored run.
 *
 * Each builder works out what its figure shows - which rows go in which
 * panel, the law's lines and bands, the notes, the titles and axis labels -
 * and returns it as an esl_figure, which esl_figure_render draws through
 * esl_plot_figure_render (PLplot). The plain esl_plot_figure behind it can be
 * read with esl_figure_plot, so a client can check or redraw what a figure
 * holds. Builders never print; errors are status codes with the detail in
 * esl_error_last().
 *
 * Energies are drawn in Wh as the dataset stores them, one row's energy: the
 * axis says so ("energy (Wh per 100-image row)" when every row is 100
 * images). When rows hold different numbers of images every energy is
 * divided by its row's images and the axis says "energy (Wh per image)".
 */
#ifndef ESL_FIGURE_H
#define ESL_FIGURE_H

#include <stddef.h>
#include <stdint.h>

#include "esl/api.h"
#include "esl/data.h"
#include "esl/flops.h"
#include "esl/law.h"
#include "esl/model.h"
#include "esl/plot.h"
#include "esl/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A built figure: its panels, series and labels, and the memory behind them. */
typedef struct esl_figure esl_figure;

/* The figure as plain arrays, owned by `fig` (valid until esl_figure_free). */
ESL_API const esl_plot_figure *esl_figure_plot(const esl_figure *fig);

/*
 * Draw the figure into `path` (.png, .svg or .pdf).
 * @return as esl_plot_figure_render
 */
ESL_API int esl_figure_render(const esl_figure *fig, const char *path);

/* Release a figure. NULL is a no-op. */
ESL_API void esl_figure_free(esl_figure *fig);

/* Rows and columns for n panels: one row up to 3, then a near-square grid
 * (4 -> 2x2, 5 and 6 -> 2x3, 7 to 9 -> 3x3). */
ESL_API void esl_figure_grid(size_t n, size_t *rows, size_t *cols);

/* Figure 1: FLOPs of text encoding, the T denoising steps and decoding per
 * image, one panel per model, one group of bars per square image side. */
typedef struct esl_figure_decomposition_opts {
    int64_t steps;          /* T, >= 1 */
    int cfg;                /* 1: two denoiser passes per step */
    const int64_t *sizes;   /* square sides in pixels, n_sizes of them */
    size_t n_sizes;
    esl_convention convention;
} esl_figure_decomposition_opts;

/*
 * @param models  n_models models (1 to 16), borrowed
 * @return ESL_OK; ESL_EINVAL for no model, no size, too many; any code of
 *         esl_flops_count (a size the model cannot draw); ESL_ENOMEM
 */
ESL_API int esl_figure_decomposition(esl_figure **out, const esl_model *const *models, size_t n_models,
                                     const esl_figure_decomposition_opts *opts);

/* Actual against predicted energy (Figures 2-5, 7, 8). */
typedef struct esl_figure_diagnostic_opts {
    const char *split;        /* a split of esl_validate: up to 3 folds one column each,
                                 training rows on top, test rows below; 4 or more folds
                                 one row each, training left, test right; NULL: none */
    unsigned long seed;       /* the k-fold shuffle's seed */
    int each_model;           /* 1: each model fitted on its own rows, a panel each */
    int by_gpu;               /* 1: points coloured by GPU, else by model */
    const esl_fit_opts *fit;  /* how split and per-model laws are fitted; NULL: defaults */
    const char *law_name;     /* the single panel's title (e.g. the law file); NULL:
                                 "fitted on these rows" */
} esl_figure_diagnostic_opts;

/*
 * Without split or each_model, `law` predicts every row of `ds` in one
 * panel; with them `law` may be NULL (each fold or model is fitted).
 * @return ESL_OK; ESL_EINVAL for split and each_model together, no law for
 *         one panel, more groups than ESL_PLOT_MAX_GROUPS or panels than 16;
 *         any code of esl_validate, esl_law_fit or esl_law_predict; ESL_ENOMEM
 */
ESL_API int esl_figure_diagnostic(esl_figure **out, const esl_dataset *ds, const esl_law *law,
                                  const esl_figure_diagnostic_opts *opts);

/*
 * Energy against FLOPs_cfg, one panel per model, the rows of one GPU (`gpu`;
 * NULL: the law's baseline GPU) coloured by image size, and the law's
 * prediction and 95% interval for each size, precision and CFG setting as
 * the steps run from the fewest to the most measured: the lines follow any
 * form of the law, since every row field but steps and FLOPs_cfg stays that
 * of a measured row.
 * @return ESL_OK; ESL_ENOTFOUND when no row has that GPU; ESL_EINVAL for more
 *         than 8 image sizes or 16 models; any code of esl_law_predict; ESL_ENOMEM
 */
ESL_API int esl_figure_scaling(esl_figure **out, const esl_dataset *ds, const esl_law *law,
                               const char *gpu);

/*
 * Figure 6: energy per image of one model (`model`; NULL: flux-dev when
 * present, else the first row's) relative to its cheapest measured setting,
 * one panel per precision and CFG setting, steps across, a line per size.
 * @return ESL_OK; ESL_ENOTFOUND when no row has the model; ESL_EINVAL for
 *         rows of several GPUs or more than 8 sizes; ESL_ENOMEM
 */
ESL_API int esl_figure_contributions(esl_figure **out, const esl_dataset *ds, const char *model);

/*
 * A stored run's power against time, a line per device, each device's idle
 * power dashed, the measurement window shaded; its energies in the legend.
 * @param run  a run read with its samples (esl_store_get), borrowed
 * @return ESL_OK; ESL_EINVAL for a run without samples or with fewer than
 *         two power readings, or with more devices than ESL_PLOT_MAX_GROUPS;
 *         ESL_ENOMEM
 */
ESL_API int esl_figure_trace(esl_figure **out, const esl_run *run);


/* ---- figures asked for by name (lib/plot/figure_request.c) ------------- */

/* The most image sizes a decomposition figure is asked for by list. */
#define ESL_FIGURE_MAX_SIZES 8

/*
 * Parse a decomposition figure's square image sides, "256,512,768": each an
 * integer from 1 to 65536 pixels, at most ESL_FIGURE_MAX_SIZES of them.
 * @param out  the sides, *n of them
 * @return ESL_OK; ESL_EINVAL for a side that is not such an integer, too
 *         many sides or none, the detail quoting it; ESL_ENOMEM
 */
ESL_API int esl_figure_sizes_parse(int64_t out[ESL_FIGURE_MAX_SIZES], size_t *n, const char *list);

/*
 * Figure 1 for the catalogue models named in `names`, comma-separated (at
 * most 8, found with esl_catalog_find). What is not given is the paper's:
 * NULL names are flux-dev, qwen-image and sd35-large; NULL opts, steps 0 or
 * no sizes mean T = 10 and sides 256, 512, 768 and 1024. With `auto_exact`
 * and the paper convention, a model without paper-convention terms (an
 * imported one) has every model drawn in the exact convention instead, and
 * *note says so ("NAME has no paper-convention terms: ..."), even when the
 * build then fails.
 * @param note  NULL, or a message the caller frees
 * @return ESL_OK; ESL_EINVAL for no name or more than 8; any code of
 *         esl_catalog_find or esl_figure_decomposition; ESL_ENOMEM
 */
ESL_API int esl_figure_decomposition_named(esl_figure **out, char **note, const char *names,
                                           const esl_figure_decomposition_opts *opts,
                                           int auto_exact);

/*
 * Whether the options of a diagnostic figure go together: a split and one
 * law per model are two figures, and both fit their own laws, so neither
 * takes a law file (`law_file`, may be NULL).
 * @return ESL_OK or ESL_EINVAL
 */
ESL_API int esl_figure_diagnostic_check(const esl_figure_diagnostic_opts *opts,
                                        const char *law_file);

/*
 * esl_figure_diagnostic with its law found: for one panel the law file
 * `law_file` (esl_law_load; it also titles the panel unless opts->law_name
 * does), else the law fitted on `ds` with opts->fit.
 * @return ESL_OK; ESL_EINVAL as esl_figure_diagnostic_check; any code of
 *         esl_law_load, esl_law_fit or esl_figure_diagnostic
 */
ESL_API int esl_figure_diagnostic_fit(esl_figure **out, const esl_dataset *ds,
                                      const char *law_file,
                                      const esl_figure_diagnostic_opts *opts);

/*
 * esl_figure_scaling with the law of `law_file` (NULL: fitted on `ds` with
 * `fit`, NULL for the defaults).
 * @return any code of esl_law_load, esl_law_fit or esl_figure_scaling
 */
ESL_API int esl_figure_scaling_fit(esl_figure **out, const esl_dataset *ds, const char *law_file,
                                   const esl_fit_opts *fit, const char *gpu);

/*
 * The power trace of run `id` of the run store at `store_path`, opened
 * read-only.
 * @return ESL_OK; ESL_ENOTFOUND for no store there or no such run; ESL_EINVAL
 *         for a run without samples; any code of esl_store_open_readonly,
 *         esl_store_get or esl_figure_trace
 */
ESL_API int esl_figure_trace_stored(esl_figure **out, const char *store_path, int64_t id);

#ifdef __cplusplus
}
#endif
#endif
