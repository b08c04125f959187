/*
 * test_plot.c - lib/plot: a scatter figure drawn to PNG and SVG has the
 * size asked for and one marker per point, and every kind of bad figure is
 * refused with a message naming the panel and item, before any file is made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "esl/esl.h"

#define N 37

static double xs[N], ys[N];
static size_t gs[N];
static const char *const groups[] = {"flux-dev", "sd35-large", "qwen-image"};

static esl_plot_panel scatter_panel(void)
{
    for (size_t i = 0; i < N; i++) {
        xs[i] = 1e3 * (double)(i + 1);
        ys[i] = xs[i] * (1.0 + 0.01 * (double)(i % 5));
        gs[i] = i % 3;
    }
    return (esl_plot_panel){.x_label = "actual energy (kJ)", .y_label = "predicted energy (kJ)",
                            .x_log = 1, .y_log = 1, .n_points = N, .x = xs, .y = ys,
                            .group = gs, .identity_line = 1};
}

static esl_plot_figure figure_of(const esl_plot_panel *panel)
{
    return (esl_plot_figure){.rows = 1, .cols = 1, .panels = panel, .n_panels = 1,
                             .groups = groups, .n_groups = 3, .width_px = 640, .height_px = 480};
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void png_has_the_asked_size(void **state)
{
    (void)state;
    if (!esl_plot_available())
        skip();
    esl_plot_panel p = scatter_panel();
    esl_plot_figure f = figure_of(&p);
    char path[64];
    snprintf(path, sizeof path, "/tmp/esl_test_plot_%ld.png", (long)getpid());
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_OK);
    size_t len;
    unsigned char *png = (unsigned char *)slurp(path, &len);
    assert_true(len > 24);
    assert_memory_equal(png + 12, "IHDR", 4);
    assert_int_equal(png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19], 640);
    assert_int_equal(png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23], 480);
    free(png);
    unlink(path);
}

static void svg_has_one_marker_per_point(void **state)
{
    (void)state;
    if (!esl_plot_available())
        skip();
    esl_plot_panel p = scatter_panel();
    esl_plot_figure f = figure_of(&p);
    char path[64];
    snprintf(path, sizeof path, "/tmp/esl_test_plot_%ld.svg", (long)getpid());
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_OK);
    size_t len, markers = 0;
    char *svg = slurp(path, &len);
    /* A marker is a filled 16-gon: a polyline with a fill rule and 17 vertices. */
    for (const char *s = svg; (s = strstr(s, "fill-rule")) != NULL; s++) {
        const char *pts = strstr(s, "points=\""), *end = strstr(s, "/>");
        size_t commas = 0;
        for (const char *q = pts + 8; q < end && *q != '"'; q++)
            commas += *q == ',';
        markers += commas == 17;
    }
    assert_int_equal(markers, N);
    free(svg);
    unlink(path);
}

static void bad_figures_are_refused(void **state)
{
    (void)state;
    esl_plot_panel p = scatter_panel();
    esl_plot_figure f = figure_of(&p);
    const char *path = "/nonexistent-dir/never.png";

    ys[4] = 0.0; /* not positive on a log axis */
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    assert_string_equal(esl_error_last(),
                        "panel 1: points: y value 5 ('0') is not positive on a log axis");
    p = scatter_panel();
    gs[3] = 3;
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "panel 1: point 4: group 3 is not below 3");
    p = scatter_panel();
    double lx[1] = {1.0}, ly[1] = {1.0};
    esl_plot_line line = {.n = 1, .x = lx, .y = ly};
    p.lines = &line;
    p.n_lines = 1;
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "panel 1: line 1 has fewer than 2 points");
    p = scatter_panel();
    p.span_x0 = 3.0, p.span_x1 = 2.0;
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    assert_string_equal(esl_error_last(),
                        "panel 1: shaded range '3' to '2' is not an increasing pair of finite values");
    p.x_log = 1, p.span_x0 = 0.0, p.span_x1 = 2.0;
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "panel 1: shaded range starts at '0', not positive on a log axis");
    p = scatter_panel();
    f.rows = 0;
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "a 0x1 grid cannot hold 1 panels");
    f = figure_of(&p);
    f.n_groups = ESL_PLOT_MAX_GROUPS + 1;
    assert_int_equal(esl_plot_figure_render(&f, path), ESL_EINVAL);
    f = figure_of(&p);
    assert_int_equal(esl_plot_figure_render(&f, "figure.gif"), ESL_EUNSUPPORTED);
    assert_int_equal(access("figure.gif", F_OK), -1);
    if (esl_plot_available())
        assert_int_equal(esl_plot_figure_render(&f, path), ESL_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_has_the_asked_size),
        cmocka_unit_test(svg_has_one_marker_per_point),
        cmocka_unit_test(bad_figures_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
