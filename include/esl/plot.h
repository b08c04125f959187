/*
 * plot.h - figures: scatter plots with fitted lines and bands, and grouped
 * bar charts, drawn with PLplot into PNG, SVG or PDF files.
 *
 * The functions take plain arrays (x, y, a group index per point, group
 * names, lines, bands, bar values) and know nothing of datasets or laws, so
 * any client can draw the paper's figures from its own numbers. A figure is a
 * grid of panels sharing one legend of groups, drawn to the right of the
 * panels so that it never covers data. Colours follow the Okabe-Ito palette,
 * which stays distinguishable under the common colour-vision deficiencies.
 *
 * The output format comes from the file name's extension: .png (PLplot's
 * pngcairo device), .svg (PLplot's own svg device, which keeps text as text)
 * and .pdf (pdfcairo). PLplot keeps global state: rendering is serialised by
 * a lock inside the library, and PLplot's fatal errors are caught and turned
 * into status codes - the library never exits.
 *
 * When libesl was built without PLplot every rendering call returns
 * ESL_EUNSUPPORTED and esl_plot_available() returns 0.
 */
#ifndef ESL_PLOT_H
#define ESL_PLOT_H

#include "esl/api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most groups one figure can colour apart (the palette's size). */
#define ESL_PLOT_MAX_GROUPS 8

/* A polyline in one group's colour, e.g. a fitted law for one model. */
typedef struct esl_plot_line {
    size_t n;          /* points, >= 2 */
    const double *x;   /* n values, data units (positive on a log axis) */
    const double *y;
    size_t group;      /* colour: index into the figure's groups */
    int dashed;        /* 1 draws it dashed */
} esl_plot_line;

/* A shaded band between two curves, e.g. a 95% prediction interval. */
typedef struct esl_plot_band {
    size_t n;          /* points, >= 2, x increasing */
    const double *x;
    const double *lo;  /* lower edge, n values */
    const double *hi;  /* upper edge, n values */
    size_t group;      /* colour (drawn light): index into the figure's groups */
} esl_plot_band;

/* Grouped bars: for each category (an x tick), one bar per series. */
typedef struct esl_plot_bars {
    size_t n_categories;
    const char *const *categories; /* tick labels, n_categories strings */
    size_t n_series;               /* bars per category; series s is group s */
    const double *values;          /* n_categories * n_series, category-major */
} esl_plot_bars;

/* One panel: axes, then points, bands, lines or bars. */
typedef struct esl_plot_panel {
    const char *title;     /* above the panel, may be NULL */
    const char *x_label;   /* with its unit, e.g. "actual energy (kJ)" */
    const char *y_label;
    int x_log, y_log;      /* 1: base-10 logarithmic axis */
    double y_min, y_max;   /* a fixed y range (data units); both 0: fitted to the data */
    size_t n_points;       /* scatter points, drawn as filled discs */
    const double *x, *y;   /* n_points values each */
    const size_t *group;   /* n_points group indices, or NULL for group 0 */
    const esl_plot_line *lines;
    size_t n_lines;
    const esl_plot_band *bands;
    size_t n_bands;
    const esl_plot_bars *bars; /* a bar chart instead of points; may be NULL */
    int identity_line;     /* 1 draws y = x across the panel (diagnostic plots) */
    const char *const *notes; /* lines of text in a box in the panel's upper
                                 left corner (R^2, MAPE, ...), may be NULL */
    size_t n_notes;
    double span_x0, span_x1; /* an x range shaded grey with edge lines behind the
                                data (a measurement window); both 0: none */
} esl_plot_panel;

/* A figure: panels in a grid, row by row, and one legend of groups. */
typedef struct esl_plot_figure {
    const char *title;        /* across the top, may be NULL */
    size_t rows, cols;        /* rows * cols >= n_panels */
    const esl_plot_panel *panels;
    size_t n_panels;
    const char *const *groups; /* legend entries, n_groups names */
    size_t n_groups;           /* 1..ESL_PLOT_MAX_GROUPS */
    const char *legend_title;  /* e.g. "model", may be NULL */
    const char *const *legend_notes; /* short lines under the legend ("dashed: fp32"), may be NULL */
    size_t n_legend_notes;
    int width_px, height_px;   /* page size; 0 picks a size from the grid */
} esl_plot_figure;

/* 1 when this libesl can draw figures (built with PLplot), else 0. */
ESL_API int esl_plot_available(void);

/*
 * Draw a figure into a file; the format follows the extension of `path`
 * (.png, .svg or .pdf, any case).
 * @return ESL_OK; ESL_EINVAL for an inconsistent figure (a group index out
 *         of range, too few points for a line, a value that is not positive
 *         on a log axis, a non-finite value: the detail names the panel and
 *         item); ESL_EUNSUPPORTED for an unknown extension or a build without
 *         PLplot; ESL_EIO when the file cannot be written or PLplot fails
 *         (its message in the detail); ESL_ENOMEM
 */
ESL_API int esl_plot_figure_render(const esl_plot_figure *fig, const char *path);

#ifdef __cplusplus
}
#endif
#endif
