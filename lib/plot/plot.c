/*
 * plot.c - drawing figures with PLplot: panels of points, lines, bands and
 * bars, one shared legend to the right, into PNG, SVG or PDF.
 *
 * Everything a figure holds is checked before PLplot is started, so bad
 * input is reported as ESL_EINVAL with the panel and item named. PLplot is a
 * library with global state that prints to stderr and calls exit() on fatal
 * errors: rendering holds a lock, plsabort() collects PLplot's complaints
 * into the error detail instead of stderr, and plsexit() jumps back out of
 * plexit() (longjmp) before it can exit, so a failure becomes ESL_EIO.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/plot.h"

/* The extension of a path, lower-cased into buf ("png"), or "" without one. */
static const char *extension(char *buf, size_t size, const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    size_t i = 0;
    if (dot != NULL && (slash == NULL || dot > slash))
        for (dot++; *dot != '\0' && i + 1 < size; dot++)
            buf[i++] = (char)tolower((unsigned char)*dot);
    buf[i] = '\0';
    return buf;
}

static int check_values(const double *v, size_t n, int log_axis, const char *what, size_t panel,
                        const char *axis)
{
    if (n > 0 && v == NULL)
        return esl__fail(ESL_EINVAL, "panel %zu: %s: %s values missing", panel + 1, what, axis);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return esl__fail(ESL_EINVAL, "panel %zu: %s: %s value %zu is not finite", panel + 1,
                             what, axis, i + 1);
        if (log_axis && v[i] <= 0)
            return esl__fail(ESL_EINVAL,
                             "panel %zu: %s: %s value %zu ('%g') is not positive on a log axis",
                             panel + 1, what, axis, i + 1, v[i]);
    }
    return ESL_OK;
}

/* Every check a figure must pass before PLplot sees it. */
static int check_figure(const esl_plot_figure *fig)
{
    int rc;
    if (fig->n_panels == 0 || fig->panels == NULL)
        return esl__fail(ESL_EINVAL, "figure has no panels");
    if (fig->rows == 0 || fig->cols == 0 || fig->rows * fig->cols < fig->n_panels)
        return esl__fail(ESL_EINVAL, "a %zux%zu grid cannot hold %zu panels", fig->rows, fig->cols,
                         fig->n_panels);
    if (fig->n_groups == 0 || fig->n_groups > ESL_PLOT_MAX_GROUPS || fig->groups == NULL)
        return esl__fail(ESL_EINVAL, "a figure needs 1 to %d groups, not %zu", ESL_PLOT_MAX_GROUPS,
                         fig->n_groups);
    if (fig->n_legend_notes > 0 && fig->legend_notes == NULL)
        return esl__fail(ESL_EINVAL, "legend notes missing");
    if (fig->width_px < 0 || fig->height_px < 0 || fig->width_px > 20000 || fig->height_px > 20000)
        return esl__fail(ESL_EINVAL, "page size %dx%d is out of range", fig->width_px,
                         fig->height_px);
    for (size_t p = 0; p < fig->n_panels; p++) {
        const esl_plot_panel *pa = &fig->panels[p];
        if ((rc = check_values(pa->x, pa->n_points, pa->x_log, "points", p, "x")) != ESL_OK ||
            (rc = check_values(pa->y, pa->n_points, pa->y_log, "points", p, "y")) != ESL_OK)
            return rc;
        for (size_t i = 0; pa->group != NULL && i < pa->n_points; i++)
            if (pa->group[i] >= fig->n_groups)
                return esl__fail(ESL_EINVAL, "panel %zu: point %zu: group %zu is not below %zu",
                                 p + 1, i + 1, pa->group[i], fig->n_groups);
        for (size_t l = 0; l < pa->n_lines; l++) {
            const esl_plot_line *li = &pa->lines[l];
            if (li->n < 2)
                return esl__fail(ESL_EINVAL, "panel %zu: line %zu has fewer than 2 points", p + 1,
                                 l + 1);
            if (li->group >= fig->n_groups)
                return esl__fail(ESL_EINVAL, "panel %zu: line %zu: group %zu is not below %zu",
                                 p + 1, l + 1, li->group, fig->n_groups);
            if ((rc = check_values(li->x, li->n, pa->x_log, "line", p, "x")) != ESL_OK ||
                (rc = check_values(li->y, li->n, pa->y_log, "line", p, "y")) != ESL_OK)
                return rc;
        }
        for (size_t b = 0; b < pa->n_bands; b++) {
            const esl_plot_band *ba = &pa->bands[b];
            if (ba->n < 2)
                return esl__fail(ESL_EINVAL, "panel %zu: band %zu has fewer than 2 points", p + 1,
                                 b + 1);
            if (ba->group >= fig->n_groups)
                return esl__fail(ESL_EINVAL, "panel %zu: band %zu: group %zu is not below %zu",
                                 p + 1, b + 1, ba->group, fig->n_groups);
            if ((rc = check_values(ba->x, ba->n, pa->x_log, "band", p, "x")) != ESL_OK ||
                (rc = check_values(ba->lo, ba->n, pa->y_log, "band", p, "lower")) != ESL_OK ||
                (rc = check_values(ba->hi, ba->n, pa->y_log, "band", p, "upper")) != ESL_OK)
                return rc;
        }
        if (pa->bars != NULL) {
            const esl_plot_bars *bars = pa->bars;
            if (bars->n_categories == 0 || bars->categories == NULL || bars->n_series == 0)
                return esl__fail(ESL_EINVAL, "panel %zu: bars need categories and series", p + 1);
            if (bars->n_series > fig->n_groups)
                return esl__fail(ESL_EINVAL, "panel %zu: %zu bar series but %zu groups", p + 1,
                                 bars->n_series, fig->n_groups);
            if ((rc = check_values(bars->values, bars->n_categories * bars->n_series, pa->y_log,
                                   "bars", p, "y")) != ESL_OK)
                return rc;
        }
        if (pa->y_min < pa->y_max && pa->y_log && pa->y_min <= 0)
            return esl__fail(ESL_EINVAL, "panel %zu: y range starts at '%g', not positive on a log axis",
                             p + 1, pa->y_min);
        if (pa->n_notes > 0 && pa->notes == NULL)
            return esl__fail(ESL_EINVAL, "panel %zu: notes missing", p + 1);
        if (pa->span_x0 != 0 || pa->span_x1 != 0) {
            if (!isfinite(pa->span_x0) || !isfinite(pa->span_x1) || !(pa->span_x0 < pa->span_x1))
                return esl__fail(ESL_EINVAL, "panel %zu: shaded range '%g' to '%g' is not an "
                                 "increasing pair of finite values", p + 1, pa->span_x0, pa->span_x1);
            if (pa->x_log && pa->span_x0 <= 0)
                return esl__fail(ESL_EINVAL, "panel %zu: shaded range starts at '%g', not "
                                 "positive on a log axis", p + 1, pa->span_x0);
        }
    }
    return ESL_OK;
}

#ifndef ESL_HAVE_PLPLOT

int esl_plot_available(void)
{
    return 0;
}

int esl_plot_figure_render(const esl_plot_figure *fig, const char *path)
{
    char ext[8];
    int rc;
    if (fig == NULL || path == NULL)
        return esl__fail(ESL_EINVAL, "no figure or no output path");
    if ((rc = check_figure(fig)) != ESL_OK)
        return rc;
    (void)extension(ext, sizeof ext, path);
    return esl__fail(ESL_EUNSUPPORTED,
                     "cannot draw '%s': this libesl was built without PLplot (install "
                     "libplplot-dev and plplot-driver-cairo, then rebuild)",
                     path);
}

#else /* ESL_HAVE_PLPLOT */

#include <pthread.h>
#include <setjmp.h>

#include <plplot.h>

/* cmap0 layout: fixed colours first, then each group's colour, opaque and light. */
enum {
    COL_BG = 0, COL_FG = 1, COL_GRID = 2, COL_REF = 3, COL_WHITE = 4,
    COL_GROUP = 5,                               /* 8 group colours */
    COL_LIGHT = COL_GROUP + ESL_PLOT_MAX_GROUPS, /* the same, translucent, for bands */
    COL_SPAN = COL_LIGHT + ESL_PLOT_MAX_GROUPS,  /* a shaded x range */
    COL_COUNT = COL_SPAN + 1,
};

/* Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish
 * green, orange, reddish purple, sky blue, yellow, black. */
static const int palette[ESL_PLOT_MAX_GROUPS][3] = {
    {0, 114, 178}, {213, 94, 0}, {0, 158, 115}, {230, 159, 0},
    {204, 121, 167}, {86, 180, 233}, {240, 228, 66}, {0, 0, 0},
};

/* Vertices of a point marker: the SVG tests count polygons of this size. */
#define MARKER_VERTICES 16
#define MARKER_RADIUS_PX 5.5
#define PI 3.14159265358979323846
/* Text sizes in pixels of the page, whatever its size: PLplot scales its
 * characters with the page, so each size is converted (text_px) once the
 * page exists. NOTE_LINE_PX is the height of one line of panel notes. */
#define TEXT_PX 28.0        /* tick labels, axis labels, legend entries */
#define TITLE_PX 34.0       /* the figure's title */
#define PANEL_TITLE_PX 28.0 /* each panel's title */
#define NOTE_PX 25.0        /* notes in a panel */
#define LEGEND_NOTE_PX 24.0 /* notes under the legend */
#define NOTE_LINE_PX 31.0
/* A DejaVu Sans glyph's mean advance in font sizes, rounded up: text is
 * measured with it to size cells and to shrink what would not fit. */
#define GLYPH_EM 0.62
/* A panel's cell: its least size, and the margins around the axes. */
#define CELL_W_PX 600.0
#define CELL_H_PX 600.0
#define LEFT_PX 140.0   /* tick labels and the y label */
#define RIGHT_PX 34.0
#define BOTTOM_PX 110.0 /* tick labels and the x label */
#define LEGEND_W_PX 300.0

static pthread_mutex_t plot_lock = PTHREAD_MUTEX_INITIALIZER;
static double unit_px = 1.0; /* pixels of PLplot's character scale 1 on this page */
static jmp_buf *plot_escape;
static char plot_message[512];
static PLINT plot_errcode;          /* plsError: set by plabort instead of printing */
static char plot_errmsg[512];

/* plexit() calls this and then exit(): jump out before it can. */
static int on_plexit(const char *message)
{
    if (plot_message[0] == '\0')
        snprintf(plot_message, sizeof plot_message, "%s", message ? message : "");
    longjmp(*plot_escape, 1);
    return 1; /* not reached */
}

/* plabort() calls this instead of printing; keep the first message. */
static void on_plabort(const char *message)
{
    if (plot_message[0] == '\0')
        snprintf(plot_message, sizeof plot_message, "%s", message ? message : "");
}

int esl_plot_available(void)
{
    return 1;
}

/* A panel's data extent on each axis, in plotted units (log10 on log axes). */
typedef struct extent {
    double x0, x1, y0, y1;
} extent;

static void widen(double *lo, double *hi, double v)
{
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

static double axis_value(double v, int log_axis)
{
    return log_axis ? log10(v) : v;
}

static extent panel_extent(const esl_plot_panel *pa, double vh_px)
{
    extent e = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < pa->n_points; i++) {
        widen(&e.x0, &e.x1, axis_value(pa->x[i], pa->x_log));
        widen(&e.y0, &e.y1, axis_value(pa->y[i], pa->y_log));
    }
    for (size_t l = 0; l < pa->n_lines; l++)
        for (size_t i = 0; i < pa->lines[l].n; i++) {
            widen(&e.x0, &e.x1, axis_value(pa->lines[l].x[i], pa->x_log));
            widen(&e.y0, &e.y1, axis_value(pa->lines[l].y[i], pa->y_log));
        }
    for (size_t b = 0; b < pa->n_bands; b++)
        for (size_t i = 0; i < pa->bands[b].n; i++) {
            widen(&e.x0, &e.x1, axis_value(pa->bands[b].x[i], pa->x_log));
            widen(&e.y0, &e.y1, axis_value(pa->bands[b].lo[i], pa->y_log));
            widen(&e.y0, &e.y1, axis_value(pa->bands[b].hi[i], pa->y_log));
        }
    if (pa->span_x0 < pa->span_x1) {
        widen(&e.x0, &e.x1, axis_value(pa->span_x0, pa->x_log));
        widen(&e.x0, &e.x1, axis_value(pa->span_x1, pa->x_log));
    }
    if (pa->bars != NULL) {
        e.x0 = 0;
        e.x1 = (double)pa->bars->n_categories;
        for (size_t i = 0; i < pa->bars->n_categories * pa->bars->n_series; i++)
            widen(&e.y0, &e.y1, axis_value(pa->bars->values[i], pa->y_log));
    }
    if (!isfinite(e.x0)) { /* an empty panel: 0..1, or 1..10 on a log axis */
        e.x0 = e.y0 = 0;
        e.x1 = e.y1 = 1;
    }
    if (pa->identity_line) { /* actual vs predicted: the same range on both axes */
        double lo = fmin(e.x0, e.y0), hi = fmax(e.x1, e.y1);
        e.x0 = e.y0 = lo;
        e.x1 = e.y1 = hi;
    }
    /* Room around the data: 6% each side, and a non-empty range. */
    double dx = e.x1 - e.x0, dy = e.y1 - e.y0;
    if (dx <= 0)
        dx = fabs(e.x0) > 0 ? fabs(e.x0) * 0.2 : 1;
    if (dy <= 0)
        dy = fabs(e.y0) > 0 ? fabs(e.y0) * 0.2 : 1;
    double pad = pa->identity_line ? 0.12 : 0.06; /* the diagonal keeps clear of the corners */
    if (pa->bars == NULL) {
        e.x0 -= pad * dx;
        e.x1 += pad * dx;
    }
    e.y0 -= (pa->bars != NULL && !pa->y_log ? 0 : pad) * dy;
    /* The notes box sits above the data: keep the top `room` of the panel free. */
    /* (Not on actual-vs-predicted panels: their upper left corner is empty.) */
    double room = pa->n_notes > 0 && !pa->identity_line
                      ? (NOTE_LINE_PX * ((double)pa->n_notes + 0.8)) / vh_px
                      : 0.0;
    if (room > 0.5)
        room = 0.5;
    e.y1 += pad * dy + (e.y1 - e.y0 + pad * dy) * room / (1.0 - room);
    if (pa->bars != NULL && !pa->y_log && e.y0 > 0)
        e.y0 = 0;
    /* A decade just above the lower end of both log axes would put its two
     * tick labels into one another at the lower left corner: start lower. */
    if (pa->x_log && pa->y_log && pa->bars == NULL) {
        double kx = ceil(e.x0), ky = ceil(e.y0), rx = e.x1 - e.x0, ry = e.y1 - e.y0;
        if (kx - e.x0 < 0.06 * rx && ky - e.y0 < 0.06 * ry) {
            e.x0 = kx - 0.08 * rx;
            if (pa->identity_line) /* the same range on both axes */
                e.y0 = e.x0;
        }
    }
    if (pa->y_min < pa->y_max) { /* a range the caller fixed, e.g. shared by panels */
        e.y0 = axis_value(pa->y_min, pa->y_log);
        e.y1 = axis_value(pa->y_max, pa->y_log);
    }
    return e;
}

/* The width of `s` drawn `px` high: its characters (UTF-8 code points)
 * times a mean glyph advance. */
static double text_width_px(const char *s, double px)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; p != NULL && *p != '\0'; p++)
        n += (*p & 0xc0) != 0x80;
    return (double)n * GLYPH_EM * px;
}

/* The size `s` can be drawn at within `room` pixels: px, or less. */
static double fit_px(const char *s, double px, double room)
{
    double w = text_width_px(s, px);
    return w > room && w > 0 ? px * room / w : px;
}

/* Page geometry, all in normalised page coordinates [0, 1]. */
typedef struct layout {
    double width_px, height_px;
    double grid_x0, grid_x1, grid_y0, grid_y1; /* where the panels go */
    double legend_x0;                          /* the legend column's left edge */
    double legend_w_px;                        /* its width */
    double legend_px;                          /* the legend entries' text size */
    double legend_note_px;                     /* the notes' under it */
    double top_px;                             /* above each panel: its title, if any has one */
    size_t rows, cols;
} layout;

/* The viewport of panel p: the cell minus room for tick labels and titles. */
static void panel_viewport(const layout *lo, size_t p, double *vx0, double *vx1, double *vy0,
                           double *vy1)
{
    size_t r = p / lo->cols, c = p % lo->cols;
    double cw = (lo->grid_x1 - lo->grid_x0) / (double)lo->cols;
    double ch = (lo->grid_y1 - lo->grid_y0) / (double)lo->rows;
    double cx0 = lo->grid_x0 + (double)c * cw;
    double cy1 = lo->grid_y1 - (double)r * ch;
    *vx0 = cx0 + LEFT_PX / lo->width_px;
    *vx1 = cx0 + cw - RIGHT_PX / lo->width_px;
    *vy1 = cy1 - lo->top_px / lo->height_px;
    *vy0 = cy1 - ch + BOTTOM_PX / lo->height_px;
}

/* Set PLplot's character height to `px` pixels. */
static void text_px(double px)
{
    plschr(0, px / unit_px);
}

static void set_palette(void)
{
    plscmap0n(COL_COUNT);
    plscol0a(COL_BG, 255, 255, 255, 1.0);
    plscol0a(COL_FG, 0, 0, 0, 1.0);
    plscol0a(COL_GRID, 225, 225, 225, 1.0);
    plscol0a(COL_REF, 110, 110, 110, 1.0);
    plscol0a(COL_WHITE, 255, 255, 255, 1.0);
    plscol0a(COL_SPAN, 120, 120, 120, 0.12);
    for (int g = 0; g < ESL_PLOT_MAX_GROUPS; g++) {
        plscol0a(COL_GROUP + g, palette[g][0], palette[g][1], palette[g][2], 0.85);
        plscol0a(COL_LIGHT + g, palette[g][0], palette[g][1], palette[g][2], 0.20);
    }
}

/* Axis options for plbox: frame, ticks, labels, and 'l' on log axes. */
static void draw_axes(const esl_plot_panel *pa, double vw_px, double vh_px)
{
    char xopt[16], yopt[16], xgrid[8], ygrid[8];
    snprintf(xgrid, sizeof xgrid, "g%s", pa->x_log ? "l" : "");
    snprintf(ygrid, sizeof ygrid, "g%s", pa->y_log ? "l" : "");
    snprintf(xopt, sizeof xopt, "bc%s%s", pa->bars ? "" : "nst", pa->x_log ? "l" : "");
    snprintf(yopt, sizeof yopt, "bcnstv%s", pa->y_log ? "l" : "");

    plcol0(COL_GRID);
    plwidth(1.0);
    if (pa->bars == NULL)
        plbox(xgrid, 0, 0, "", 0, 0);
    plbox("", 0, 0, ygrid, 0, 0);
    plcol0(COL_FG);
    plwidth(1.2);
    plbox(xopt, 0, 0, yopt, 0, 0);
    if (pa->bars != NULL)
        for (size_t i = 0; i < pa->bars->n_categories; i++)
            plmtex("b", 1.6, ((double)i + 0.5) / (double)pa->bars->n_categories, 0.5,
                   pa->bars->categories[i]);
    /* Labels and title placed in pixels from the axes (plmtex counts in
     * character heights), each shrunk to the panel's side when too long. */
    double px;
    if (pa->x_label != NULL && pa->x_label[0] != '\0') {
        text_px(px = fit_px(pa->x_label, TEXT_PX, vw_px + LEFT_PX - 24.0));
        plmtex("b", (BOTTOM_PX - 20.0) / px, 0.5, 0.5, pa->x_label);
    }
    if (pa->y_label != NULL && pa->y_label[0] != '\0') {
        text_px(px = fit_px(pa->y_label, TEXT_PX, vh_px));
        plmtex("l", (LEFT_PX - 0.3 * px - 8.0) / px, 0.5, 0.5, pa->y_label);
    }
    if (pa->title != NULL && pa->title[0] != '\0') {
        text_px(px = fit_px(pa->title, PANEL_TITLE_PX, vw_px + 2.0 * RIGHT_PX - 8.0));
        plmtex("t", 1.45, 0.5, 0.5, pa->title);
    }
    text_px(TEXT_PX);
}

/* The shaded x range: a grey rectangle over the panel's height, edged by two lines. */
static void draw_span(const esl_plot_panel *pa, const extent *e)
{
    if (!(pa->span_x0 < pa->span_x1))
        return;
    PLFLT x0 = axis_value(pa->span_x0, pa->x_log), x1 = axis_value(pa->span_x1, pa->x_log);
    PLFLT sx[4] = {x0, x1, x1, x0}, sy[4] = {e->y0, e->y0, e->y1, e->y1};
    plcol0(COL_SPAN);
    plfill(4, sx, sy);
    plcol0(COL_REF);
    plwidth(1.0);
    for (int k = 0; k < 2; k++) {
        PLFLT ex[2] = {k ? x1 : x0, k ? x1 : x0}, ey[2] = {e->y0, e->y1};
        plline(2, ex, ey);
    }
}

static void draw_bands(const esl_plot_panel *pa, PLFLT *bx, PLFLT *by)
{
    for (size_t b = 0; b < pa->n_bands; b++) {
        const esl_plot_band *ba = &pa->bands[b];
        for (size_t i = 0; i < ba->n; i++) {
            bx[i] = axis_value(ba->x[i], pa->x_log);
            by[i] = axis_value(ba->lo[i], pa->y_log);
            bx[2 * ba->n - 1 - i] = bx[i];
            by[2 * ba->n - 1 - i] = axis_value(ba->hi[i], pa->y_log);
        }
        plcol0(COL_LIGHT + (PLINT)ba->group);
        plfill((PLINT)(2 * ba->n), bx, by);
    }
}

static void draw_lines(const esl_plot_panel *pa, const extent *e, PLFLT *lx, PLFLT *ly)
{
    if (pa->identity_line) {
        PLFLT ix[2] = {e->x0, e->x1}, iy[2] = {e->x0, e->x1};
        plcol0(COL_REF);
        plwidth(1.5);
        pllsty(2);
        plline(2, ix, iy);
        pllsty(1);
    }
    for (size_t l = 0; l < pa->n_lines; l++) {
        const esl_plot_line *li = &pa->lines[l];
        for (size_t i = 0; i < li->n; i++) {
            lx[i] = axis_value(li->x[i], pa->x_log);
            ly[i] = axis_value(li->y[i], pa->y_log);
        }
        plcol0(COL_GROUP + (PLINT)li->group);
        plwidth(2.5);
        pllsty(li->dashed ? 2 : 1);
        plline((PLINT)li->n, lx, ly);
        pllsty(1);
    }
}

/* Filled discs, MARKER_RADIUS_PX across on the page whatever the axis scales. */
static void draw_points(const esl_plot_panel *pa, const extent *e, double vw_px, double vh_px)
{
    double rx = MARKER_RADIUS_PX * (e->x1 - e->x0) / vw_px;
    double ry = MARKER_RADIUS_PX * (e->y1 - e->y0) / vh_px;
    PLFLT mx[MARKER_VERTICES + 1], my[MARKER_VERTICES + 1];
    for (size_t i = 0; i < pa->n_points; i++) {
        double cx = axis_value(pa->x[i], pa->x_log), cy = axis_value(pa->y[i], pa->y_log);
        for (int k = 0; k < MARKER_VERTICES; k++) {
            double a = 2.0 * PI * k / MARKER_VERTICES;
            mx[k] = cx + rx * cos(a);
            my[k] = cy + ry * sin(a);
        }
        plcol0(COL_GROUP + (PLINT)(pa->group ? pa->group[i] : 0));
        plfill(MARKER_VERTICES, mx, my);
        mx[MARKER_VERTICES] = mx[0];
        my[MARKER_VERTICES] = my[0];
        plcol0(COL_WHITE);
        plwidth(0.8);
        plline(MARKER_VERTICES + 1, mx, my);
    }
}

static void draw_bars(const esl_plot_panel *pa, const extent *e)
{
    const esl_plot_bars *bars = pa->bars;
    double w = 0.8 / (double)bars->n_series;
    for (size_t c = 0; c < bars->n_categories; c++)
        for (size_t s = 0; s < bars->n_series; s++) {
            double x0 = (double)c + 0.1 + (double)s * w, x1 = x0 + w * 0.92;
            double top = axis_value(bars->values[c * bars->n_series + s], pa->y_log);
            PLFLT bx[5] = {x0, x1, x1, x0, x0}, by[5] = {e->y0, e->y0, top, top, e->y0};
            plcol0(COL_GROUP + (PLINT)s);
            plfill(4, bx, by);
            plcol0(COL_FG);
            plwidth(0.8);
            plline(5, bx, by);
        }
}

/* Lines of text in the panel's upper left corner, which panel_extent keeps
 * free of data (and which is empty above an actual-vs-predicted diagonal). */
static void draw_notes(const esl_plot_panel *pa, const extent *e, double vw_px, double vh_px)
{
    double line = NOTE_LINE_PX / vh_px * (e->y1 - e->y0);
    double x = e->x0 + 0.04 * (e->x1 - e->x0);
    plcol0(COL_FG);
    for (size_t i = 0; i < pa->n_notes; i++) {
        text_px(fit_px(pa->notes[i], NOTE_PX, 0.92 * vw_px));
        plptex(x, e->y1 - line * ((double)i + 1.1), 1, 0, 0.0, pa->notes[i]);
    }
    text_px(TEXT_PX);
}

/* The groups' legend in its own column to the right of the panels. */
static void draw_legend(const esl_plot_figure *fig, const layout *lo)
{
    PLINT opts[ESL_PLOT_MAX_GROUPS], text_col[ESL_PLOT_MAX_GROUPS], col[ESL_PLOT_MAX_GROUPS];
    PLINT styles[ESL_PLOT_MAX_GROUPS], fill_styles[ESL_PLOT_MAX_GROUPS];
    PLINT n_symbols[ESL_PLOT_MAX_GROUPS];
    PLFLT widths[ESL_PLOT_MAX_GROUPS], scales[ESL_PLOT_MAX_GROUPS];
    const char *symbols[ESL_PLOT_MAX_GROUPS];
    int have_bars = 0, have_lines = 0, have_points = 0;
    PLFLT w, h;

    for (size_t p = 0; p < fig->n_panels; p++) {
        have_bars |= fig->panels[p].bars != NULL;
        have_lines |= fig->panels[p].n_lines > 0;
        have_points |= fig->panels[p].n_points > 0;
    }
    for (size_t g = 0; g < fig->n_groups; g++) {
        opts[g] = have_bars ? PL_LEGEND_COLOR_BOX
                            : (have_points ? PL_LEGEND_SYMBOL : 0) | (have_lines ? PL_LEGEND_LINE : 0);
        if (opts[g] == 0)
            opts[g] = PL_LEGEND_LINE;
        text_col[g] = COL_FG;
        col[g] = COL_GROUP + (PLINT)g;
        styles[g] = 1;
        fill_styles[g] = 0;
        n_symbols[g] = 1;
        widths[g] = 2.5;
        scales[g] = have_bars ? 0.6 : 1.4 * TEXT_PX / unit_px;
        symbols[g] = "\xe2\x97\x8f"; /* U+25CF black circle */
    }
    plvpor(lo->legend_x0, 0.995, lo->grid_y0, lo->grid_y1 - (lo->top_px - 6.0) / lo->height_px);
    plwind(0, 1, 0, 1);
    if (fig->legend_title != NULL) {
        plcol0(COL_FG);
        text_px(fit_px(fig->legend_title, TEXT_PX, lo->legend_w_px - 20.0));
        plptex(0.04, 0.98, 1, 0, 0.0, fig->legend_title);
        text_px(TEXT_PX);
    }
    pllegend(&w, &h, 0, PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_INSIDE, 0.0,
             fig->legend_title ? 0.07 : 0.0, 0.08, COL_BG, COL_FG, 1, 0, 0,
             (PLINT)fig->n_groups, opts, 0.35, lo->legend_px / unit_px, 2.4, 0.0, text_col,
             (const char *const *)fig->groups, col, fill_styles, scales, widths, col, styles,
             widths, col, scales, n_symbols, symbols);
    /* Notes under the legend: h is its height as a fraction of this viewport. */
    double y = 1.0 - (fig->legend_title ? 0.07 : 0.0) - h - 0.05;
    double step = 1.45 * LEGEND_NOTE_PX / ((lo->grid_y1 - lo->grid_y0) * lo->height_px);
    plcol0(COL_FG);
    for (size_t i = 0; i < fig->n_legend_notes; i++, y -= step) {
        text_px(lo->legend_note_px);
        plptex(0.04, y, 1, 0, 0.0, fig->legend_notes[i]);
    }
    text_px(TEXT_PX);
}

/* The drawing itself; runs between plinit and plend, under the lock. */
static void draw_figure(const esl_plot_figure *fig, const layout *lo, PLFLT *scratch_x,
                        PLFLT *scratch_y)
{
    pladv(0);
    /* PLplot's character height grows with the page: measure it once. A
     * character "height" of h mm is drawn in a font of 4/3 h (its em; the
     * ratio PLplot 5.15's svg and cairo devices show), on a page of
     * width_px / (sx1 - sx0) pixels per mm. */
    PLFLT def_mm, ht_mm, sx0, sx1, sy0, sy1;
    plgchr(&def_mm, &ht_mm);
    plgspa(&sx0, &sx1, &sy0, &sy1);
    unit_px = def_mm > 0 && sx1 > sx0 ? 4.0 / 3.0 * def_mm * lo->width_px / (sx1 - sx0) : 1.0;
    text_px(TEXT_PX);
    if (fig->title != NULL) {
        plvpor(0, 1, 0, 1);
        plwind(0, 1, 0, 1);
        plcol0(COL_FG);
        text_px(fit_px(fig->title, TITLE_PX, lo->width_px - 40.0));
        plptex(0.5, 1.0 - 34.0 / lo->height_px, 1, 0, 0.5, fig->title);
        text_px(TEXT_PX);
    }
    for (size_t p = 0; p < fig->n_panels; p++) {
        const esl_plot_panel *pa = &fig->panels[p];
        double vx0, vx1, vy0, vy1;
        panel_viewport(lo, p, &vx0, &vx1, &vy0, &vy1);
        extent e = panel_extent(pa, (vy1 - vy0) * lo->height_px);
        plvpor(vx0, vx1, vy0, vy1);
        plwind(e.x0, e.x1, e.y0, e.y1);
        draw_axes(pa, (vx1 - vx0) * lo->width_px, (vy1 - vy0) * lo->height_px);
        draw_span(pa, &e);
        draw_bands(pa, scratch_x, scratch_y);
        draw_lines(pa, &e, scratch_x, scratch_y);
        if (pa->bars != NULL)
            draw_bars(pa, &e);
        draw_points(pa, &e, (vx1 - vx0) * lo->width_px, (vy1 - vy0) * lo->height_px);
        plcol0(COL_FG);
        plwidth(1.2);
        plbox("bc", 0, 0, "bc", 0, 0); /* the frame again, over the data */
        draw_notes(pa, &e, (vx1 - vx0) * lo->width_px, (vy1 - vy0) * lo->height_px);
    }
    draw_legend(fig, lo);
}

/* Whether the file PLplot wrote is whole: PLplot ignores its own write
 * errors (a full disk, `ulimit -f`), so the end of the file is checked for
 * the format's last mark: SVG's closing tag, PNG's IEND chunk, PDF's EOF. */
static int whole(const char *file, const char *ext)
{
    FILE *f = fopen(file, "rb");
    char tail[64];
    size_t n = 0;
    if (f == NULL)
        return 0;
    if (fseek(f, -(long)sizeof tail, SEEK_END) != 0)
        rewind(f);
    n = fread(tail, 1, sizeof tail, f);
    fclose(f);
    const char *mark = strcmp(ext, "svg") == 0 ? "</svg>" : strcmp(ext, "png") == 0 ? "IEND" : "%%EOF";
    size_t m = strlen(mark);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(tail + i, mark, m) == 0)
            return 1;
    return 0;
}

/* The page: cells wide enough for each panel's title and x label (within
 * limits: what is still too long is drawn smaller), a legend column as wide
 * as its longest entry or note, unless the figure fixes the page size. */
static void page_size(const esl_plot_figure *fig, layout *lo)
{
    double cw = CELL_W_PX, lw = LEGEND_W_PX;
    for (size_t p = 0; p < fig->n_panels; p++) {
        const esl_plot_panel *pa = &fig->panels[p];
        if (pa->title != NULL)
            cw = fmax(cw, text_width_px(pa->title, PANEL_TITLE_PX) + LEFT_PX - RIGHT_PX + 8.0);
        if (pa->x_label != NULL)
            cw = fmax(cw, text_width_px(pa->x_label, TEXT_PX) + RIGHT_PX + 40.0);
    }
    cw = fmin(cw, 1.6 * CELL_W_PX);
    /* An entry is its symbol or colour box (about 3.4 text heights) and its text. */
    for (size_t g = 0; g < fig->n_groups; g++)
        lw = fmax(lw, text_width_px(fig->groups[g], TEXT_PX) + 3.4 * TEXT_PX + 30.0);
    if (fig->legend_title != NULL)
        lw = fmax(lw, text_width_px(fig->legend_title, TEXT_PX) + 30.0);
    for (size_t i = 0; i < fig->n_legend_notes; i++)
        lw = fmax(lw, text_width_px(fig->legend_notes[i], LEGEND_NOTE_PX) + 30.0);
    lw = fmin(lw, 2.0 * LEGEND_W_PX);
    double title_px = fig->title ? 70.0 : 0.0;
    lo->width_px = fig->width_px > 0 ? fig->width_px : cw * (double)fig->cols + lw;
    lo->height_px = fig->height_px > 0 ? fig->height_px
                                       : CELL_H_PX * (double)fig->rows + title_px + 6.0;
    if (fig->width_px > 0) /* a fixed page: the legend takes what it needs, up to 45% */
        lw = fmin(lw, 0.45 * lo->width_px);
    lo->legend_w_px = lw;
    lo->legend_x0 = 1.0 - lw / lo->width_px;
    /* Legend entries, and the notes under them, shrink together when the
     * longest does not fit. */
    lo->legend_px = TEXT_PX;
    for (size_t g = 0; g < fig->n_groups; g++)
        lo->legend_px = fmin(lo->legend_px, fit_px(fig->groups[g], TEXT_PX,
                                                   lw - 3.4 * TEXT_PX - 30.0));
    lo->legend_note_px = LEGEND_NOTE_PX;
    for (size_t i = 0; i < fig->n_legend_notes; i++)
        lo->legend_note_px = fmin(lo->legend_note_px,
                                  fit_px(fig->legend_notes[i], LEGEND_NOTE_PX, lw - 20.0));
}

int esl_plot_figure_render(const esl_plot_figure *fig, const char *path)
{
    char ext[8];
    const char *device;
    int rc;

    if (fig == NULL || path == NULL)
        return esl__fail(ESL_EINVAL, "no figure or no output path");
    extension(ext, sizeof ext, path);
    if (strcmp(ext, "png") == 0)
        device = "pngcairo";
    else if (strcmp(ext, "svg") == 0)
        device = "svg";
    else if (strcmp(ext, "pdf") == 0)
        device = "pdfcairo";
    else
        return esl__fail(ESL_EUNSUPPORTED, "%s: unknown figure format '%s' (use .png, .svg or .pdf)",
                         path, ext);
    if ((rc = check_figure(fig)) != ESL_OK)
        return rc;

    /* Scratch space for the longest line or band (a band is 2n vertices). */
    size_t longest = 4;
    for (size_t p = 0; p < fig->n_panels; p++) {
        for (size_t l = 0; l < fig->panels[p].n_lines; l++)
            if (fig->panels[p].lines[l].n > longest)
                longest = fig->panels[p].lines[l].n;
        for (size_t b = 0; b < fig->panels[p].n_bands; b++)
            if (2 * fig->panels[p].bands[b].n > longest)
                longest = 2 * fig->panels[p].bands[b].n;
    }
    PLFLT *sx = malloc(longest * sizeof *sx), *sy = malloc(longest * sizeof *sy);
    if (sx == NULL || sy == NULL) {
        free(sx);
        free(sy);
        return esl__fail(ESL_ENOMEM, "out of memory drawing '%s'", path);
    }

    /* Fail early, with the system's reason, when the file cannot be written;
     * PLplot ignores its own write errors, so it draws into a private file
     * that is then copied into place with every write checked. */
    if ((rc = esl__check_writable(path)) != ESL_OK) {
        free(sx);
        free(sy);
        return rc;
    }
    const char *tmpdir = getenv("TMPDIR");
    char scratch[4200];
    snprintf(scratch, sizeof scratch, "%s/esl-plot-XXXXXX",
             tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
    int scratch_fd = mkstemp(scratch);
    if (scratch_fd < 0) {
        rc = esl__fail(ESL_EIO, "cannot draw '%s': %s: %s", path, scratch, strerror(errno));
        free(sx);
        free(sy);
        return rc;
    }
    close(scratch_fd);

    layout lo = {.rows = fig->rows, .cols = fig->cols};
    page_size(fig, &lo);
    lo.grid_x0 = 0.0;
    lo.grid_x1 = lo.legend_x0;
    lo.grid_y0 = 0.0;
    lo.grid_y1 = 1.0 - (fig->title ? 70.0 : 0.0) / lo.height_px;
    /* Room for panel titles only where a panel has one: panels in a row stay aligned. */
    lo.top_px = 20.0;
    for (size_t p = 0; p < fig->n_panels; p++)
        if (fig->panels[p].title != NULL && fig->panels[p].title[0] != '\0')
            lo.top_px = 70.0;

    pthread_mutex_lock(&plot_lock);
    jmp_buf escape;
    volatile int cleaning = 0, missing = 0;
    plot_message[0] = '\0';
    plot_escape = &escape;
    if (setjmp(escape) != 0) {
        /* plexit() was called: end the stream (once: plend may fail again). */
        if (!cleaning) {
            cleaning = 1;
            plend();
        }
        plsexit(NULL);
        plsabort(NULL);
        if (missing)
            rc = esl__fail(ESL_EUNSUPPORTED, "cannot draw '%s': PLplot has no '%s' device "
                           "(install plplot-driver-cairo)", path, device);
        else
            rc = esl__fail(ESL_EIO, "cannot draw '%s': PLplot: %s", path,
                           plot_message[0] ? plot_message : "unknown error");
        pthread_mutex_unlock(&plot_lock);
        unlink(scratch);
        free(sx);
        free(sy);
        return rc;
    }
    plot_errcode = 0;
    plot_errmsg[0] = '\0';
    plsError(&plot_errcode, plot_errmsg);
    plsexit(on_plexit);
    plsabort(on_plabort);
    /* PLplot asks on stdin for a device it lacks: look it up first. */
    const char *menus[128], *devices[128];
    const char **pm = menus, **pd = devices;
    int n_devices = 128, found = 0;
    plgDevs(&pm, &pd, &n_devices);
    for (int i = 0; i < n_devices && !found; i++)
        found = pd[i] != NULL && strcmp(pd[i], device) == 0;
    if (!found) {
        missing = 1;
        longjmp(escape, 1);
    }
    plsdev(device);
    plsfnam(scratch);
    plspage(0, 0, (PLINT)lo.width_px, (PLINT)lo.height_px, 0, 0);
    set_palette();
    plinit();
    draw_figure(fig, &lo, sx, sy);
    plend();
    plsexit(NULL);
    plsabort(NULL);
    rc = ESL_OK;
    if (plot_message[0] != '\0' || plot_errcode != 0) {
        rc = esl__fail(ESL_EIO, "cannot draw '%s': PLplot: %s", path,
                       plot_message[0] ? plot_message : plot_errmsg);
    }
    pthread_mutex_unlock(&plot_lock);
    if (rc == ESL_OK && !whole(scratch, ext))
        rc = esl__fail(ESL_EIO, "cannot draw '%s': the figure was cut short writing it to %s "
                       "(a full disk or a file size limit)", path, scratch);
    if (rc == ESL_OK)
        rc = esl__publish_file(scratch, path);
    unlink(scratch);
    free(sx);
    free(sy);
    return rc;
}

#endif /* ESL_HAVE_PLPLOT */
