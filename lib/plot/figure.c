/*
 * figure.c - figures built from libesl's objects: the memory a figure owns,
 * the helpers the builders share (image sizes, the energy axis), and the two
 * builders that read no dataset: the FLOP decomposition (Figure 1) and a
 * stored run's power trace. The data-driven builders are in figure_data.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "plot/figure_internal.h"

int esl__figure_new(esl_figure **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
}

void *esl__figure_alloc(esl_figure *fig, size_t n, size_t size)
{
    if (fig->n_owned == fig->cap_owned) {
        size_t cap = fig->cap_owned ? 2 * fig->cap_owned : 32;
        void **grown = realloc(fig->owned, cap * sizeof *grown);
        if (grown == NULL) {
            esl__fail(ESL_ENOMEM, "out of memory");
            return NULL;
        }
        fig->owned = grown;
        fig->cap_owned = cap;
    }
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        esl__fail(ESL_ENOMEM, "out of memory");
        return NULL;
    }
    fig->owned[fig->n_owned++] = p;
    return p;
}

const char *esl__figure_printf(esl_figure *fig, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? esl__figure_alloc(fig, (size_t)n + 1, 1) : NULL;
    if (s != NULL) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

const esl_plot_figure *esl_figure_plot(const esl_figure *fig)
{
    return &fig->plot;
}

int esl_figure_render(const esl_figure *fig, const char *path)
{
    if (fig == NULL)
        return esl__fail(ESL_EINVAL, "no figure");
    return esl_plot_figure_render(&fig->plot, path);
}

void esl_figure_free(esl_figure *fig)
{
    if (fig == NULL)
        return;
    for (size_t i = 0; i < fig->n_owned; i++)
        free(fig->owned[i]);
    free(fig->owned);
    free(fig);
}

void esl_figure_grid(size_t n, size_t *rows, size_t *cols)
{
    size_t c = n <= 3 ? (n ? n : 1) : 2;
    while (c * c < n)
        c++;
    *cols = c;
    *rows = (n + c - 1) / c;
    if (*rows == 0)
        *rows = 1;
}

int esl__names_init(esl__names *ns, esl_figure *fig, size_t cap)
{
    ns->n = 0;
    ns->cap = cap;
    ns->v = esl__figure_alloc(fig, cap, sizeof *ns->v);
    return ns->v != NULL ? ESL_OK : ESL_ENOMEM;
}

size_t esl__names_index(const esl__names *ns, const char *v)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], v) == 0)
            return i;
    return ns->n;
}

void esl__names_add(esl__names *ns, const char *v)
{
    if (esl__names_index(ns, v) == ns->n && ns->n < ns->cap)
        ns->v[ns->n++] = v;
}

typedef struct size_key {
    int64_t height, width;
} size_key;

static int by_pixels(const void *a, const void *b)
{
    const size_key *x = a, *y = b;
    int64_t px = x->height * x->width, py = y->height * y->width;
    if (px != py)
        return px < py ? -1 : 1;
    return x->height < y->height ? -1 : x->height > y->height;
}

int esl__figure_sizes(esl__names *out, esl_figure *fig, const esl_dataset *ds, size_t most,
                      const char *what)
{
    size_key keys[64];
    size_t n = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        const esl_row *r = &ds->rows[i];
        size_t k = 0;
        while (k < n && (keys[k].height != r->height || keys[k].width != r->width))
            k++;
        if (k < n)
            continue;
        if (n == most || n == sizeof keys / sizeof keys[0])
            return esl__fail(ESL_EINVAL, "%s: more than %zu image sizes; narrow the rows with "
                             "--where", what, most);
        keys[n++] = (size_key){r->height, r->width};
    }
    qsort(keys, n, sizeof *keys, by_pixels);
    if (esl__names_init(out, fig, n) != ESL_OK)
        return ESL_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        const char *name = esl__figure_printf(fig, "%lldx%lld", (long long)keys[k].height,
                                              (long long)keys[k].width);
        if (name == NULL)
            return ESL_ENOMEM;
        out->v[out->n++] = name;
    }
    return ESL_OK;
}

size_t esl__figure_size_index(const esl__names *sizes, const esl_row *r)
{
    char key[48];
    snprintf(key, sizeof key, "%lldx%lld", (long long)r->height, (long long)r->width);
    return esl__names_index(sizes, key);
}

esl__energy_axis esl__figure_energy_axis(const esl_dataset *ds)
{
    esl__energy_axis ax = {0};
    for (size_t i = 1; i < ds->n_rows; i++)
        ax.per_image |= ds->rows[i].prompts != ds->rows[0].prompts;
    return ax;
}

double esl__figure_energy_wh(esl__energy_axis ax, const esl_row *r, double energy_j)
{
    double wh = energy_j / 3600.0;
    return ax.per_image && r->prompts > 0 ? wh / (double)r->prompts : wh;
}

const char *esl__figure_energy_label(esl_figure *fig, esl__energy_axis ax, const esl_dataset *ds,
                                     const char *what)
{
    long long n = ds->n_rows > 0 ? (long long)ds->rows[0].prompts : 1;
    if (ax.per_image || n == 1)
        return esl__figure_printf(fig, "%s (Wh per image)", what);
    return esl__figure_printf(fig, "%s (Wh per %lld-image row)", what, n);
}

/* ---- Figure 1: compute per image by stage ----------------------------- */

int esl_figure_decomposition(esl_figure **out, const esl_model *const *models, size_t n_models,
                             const esl_figure_decomposition_opts *o)
{
    static const char *const stages[] = {"text encoding", "denoising", "decoding"};
    *out = NULL;
    if (n_models == 0 || n_models > 16)
        return esl__fail(ESL_EINVAL, "a decomposition figure draws 1 to 16 models, not %zu",
                         n_models);
    if (o == NULL || o->n_sizes == 0 || o->sizes == NULL || o->steps < 1)
        return esl__fail(ESL_EINVAL, "a decomposition figure needs image sizes and steps >= 1");
    esl_figure *fig;
    int rc = esl__figure_new(&fig);
    if (rc != ESL_OK)
        return rc;
    const char **labels = esl__figure_alloc(fig, o->n_sizes, sizeof *labels);
    const char **groups = esl__figure_alloc(fig, 3, sizeof *groups);
    esl_plot_panel *panels = esl__figure_alloc(fig, n_models, sizeof *panels);
    esl_plot_bars *bars = esl__figure_alloc(fig, n_models, sizeof *bars);
    rc = labels && groups && panels && bars ? ESL_OK : ESL_ENOMEM;
    for (size_t s = 0; rc == ESL_OK && s < o->n_sizes; s++)
        if ((labels[s] = esl__figure_printf(fig, "%lld\xc2\xb2", (long long)o->sizes[s])) == NULL)
            rc = ESL_ENOMEM;
    for (size_t m = 0; rc == ESL_OK && m < n_models; m++) {
        double least = 1.0, most = 0.0;
        double *values = esl__figure_alloc(fig, 3 * o->n_sizes, sizeof *values);
        const char **notes = esl__figure_alloc(fig, 2, sizeof *notes);
        if (values == NULL || notes == NULL) {
            rc = ESL_ENOMEM;
            break;
        }
        for (size_t s = 0; rc == ESL_OK && s < o->n_sizes; s++) {
            esl_request req = {.height = o->sizes[s], .width = o->sizes[s], .steps = o->steps,
                               .prompts = 1, .cfg = o->cfg};
            esl_flops f;
            if ((rc = esl_flops_count(&f, models[m], &req, o->convention)) != ESL_OK)
                break;
            /* Eq. 1: denoising runs T times, twice per step with CFG. */
            double denoise = (double)f.denoise_flops_per_step * (double)o->steps * (o->cfg ? 2 : 1);
            values[s * 3 + 0] = (double)f.text_flops / 1e9;
            values[s * 3 + 1] = denoise / 1e9;
            values[s * 3 + 2] = (double)f.decode_flops / 1e9;
            double share = denoise / (double)f.image_flops;
            least = fmin(least, share);
            most = fmax(most, share);
        }
        if (rc != ESL_OK)
            break;
        bars[m] = (esl_plot_bars){.n_categories = o->n_sizes, .categories = labels,
                                  .n_series = 3, .values = values};
        notes[0] = "denoising share of the total:";
        notes[1] = esl__figure_printf(fig, "%.2f%% to %.2f%%", 100 * least, 100 * most);
        const char *title = esl__figure_printf(fig, "%s", models[m]->display_name
                                                               ? models[m]->display_name
                                                               : models[m]->name);
        if (notes[1] == NULL || title == NULL)
            rc = ESL_ENOMEM;
        panels[m] = (esl_plot_panel){.title = title, .x_label = "image size (pixels)",
                                     .y_label = "compute per image (GFLOP)", .y_log = 1,
                                     .bars = &bars[m], .notes = notes, .n_notes = 2};
    }
    for (size_t g = 0; rc == ESL_OK && g < 3; g++) {
        groups[g] = g != 1 ? stages[g]
                           : esl__figure_printf(fig, "%s (T=%lld%s)", stages[g],
                                                (long long)o->steps, o->cfg ? ", CFG" : "");
        if (groups[g] == NULL)
            rc = ESL_ENOMEM;
    }
    const char *title = rc == ESL_OK ? esl__figure_printf(fig, "Compute per image by stage (%s "
                                                          "convention, log scale)",
                                                          esl_convention_name(o->convention))
                                     : NULL;
    if (rc == ESL_OK && title == NULL)
        rc = ESL_ENOMEM;
    if (rc != ESL_OK) {
        esl_figure_free(fig);
        return rc;
    }
    esl_figure_grid(n_models, &fig->plot.rows, &fig->plot.cols);
    if (n_models <= 4) /* a row of bar charts reads best side by side */
        fig->plot.rows = 1, fig->plot.cols = n_models;
    fig->plot.title = title;
    fig->plot.panels = panels;
    fig->plot.n_panels = n_models;
    fig->plot.groups = groups;
    fig->plot.n_groups = 3;
    fig->plot.legend_title = "stage";
    *out = fig;
    return ESL_OK;
}

/* ---- a stored run's power trace --------------------------------------- */

/* A sample's power: the average reading, else the instantaneous one; NaN when neither. */
static double sample_power_w(const esl_sample *s)
{
    return isfinite(s->power_w) ? s->power_w : s->power_instant_w;
}

int esl_figure_trace(esl_figure **out, const esl_run *run)
{
    *out = NULL;
    const esl_record *rec = run->record;
    size_t n_dev = rec->n_devices, n = rec->n_samples;
    if (n == 0)
        return esl__fail(ESL_EINVAL, "run %lld has no samples to draw", (long long)run->id);
    if (n_dev == 0 || n_dev > ESL_PLOT_MAX_GROUPS)
        return esl__fail(ESL_EINVAL, "run %lld has %zu devices; a figure draws 1 to %d",
                         (long long)run->id, n_dev, ESL_PLOT_MAX_GROUPS);
    esl_figure *fig;
    int rc = esl__figure_new(&fig);
    if (rc != ESL_OK)
        return rc;
    /* One line per device: its samples in time order (the store keeps them so),
     * each device's points contiguous in x and y; samples without power skipped. */
    double *x = esl__figure_alloc(fig, n, sizeof *x), *y = esl__figure_alloc(fig, n, sizeof *y);
    double *idle_x = esl__figure_alloc(fig, 2 * n_dev, sizeof *idle_x);
    double *idle_y = esl__figure_alloc(fig, 2 * n_dev, sizeof *idle_y);
    esl_plot_line *lines = esl__figure_alloc(fig, 2 * n_dev, sizeof *lines);
    const char **groups = esl__figure_alloc(fig, n_dev, sizeof *groups);
    const char **notes = esl__figure_alloc(fig, 6, sizeof *notes);
    esl_plot_panel *panel = esl__figure_alloc(fig, 1, sizeof *panel);
    if (!x || !y || !idle_x || !idle_y || !lines || !groups || !notes || !panel) {
        esl_figure_free(fig);
        return ESL_ENOMEM;
    }
    size_t n_lines = 0, filled = 0, unknown = 0, n_notes = 0;
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
        groups[d] = esl__figure_printf(fig, "%d %s", rec->devices[d].info.index,
                                       rec->devices[d].info.name);
    }
    if (filled < 2) {
        esl_figure_free(fig);
        return esl__fail(ESL_EINVAL, "run %lld has fewer than two samples with a power reading",
                         (long long)run->id);
    }
    /* Legend notes: the energies, what the dashed lines and the shading are. */
    notes[n_notes++] = esl__figure_printf(fig, "total %.1f J (%.4f Wh)", rec->energy_j,
                                          rec->energy_j / 3600.0);
    notes[n_notes++] = esl__figure_printf(fig, "dynamic %.1f J (%.4f Wh)", rec->dynamic_j,
                                          rec->dynamic_j / 3600.0);
    notes[n_notes++] = rec->idle_w > 0 ? esl__figure_printf(fig, "dashed: idle %.1f W%s",
                                                            rec->idle_w, n_dev > 1 ? " (sum)" : "")
                                       : "no idle baseline";
    notes[n_notes++] = esl__figure_printf(fig, "grey: measurement window, %.2f s", rec->duration_s);
    if (unknown > 0)
        notes[n_notes++] = esl__figure_printf(fig, "%zu samples without power", unknown);
    char command[96];
    snprintf(command, sizeof command, "%s", run->command);
    if (strlen(run->command) >= sizeof command)
        memcpy(command + sizeof command - 4, "...", 4);
    const char *title = esl__figure_printf(fig, "Run %lld: %s (%s)", (long long)run->id, command,
                                           run->started);
    for (size_t k = 0; k < n_notes; k++)
        rc = notes[k] == NULL ? ESL_ENOMEM : rc;
    for (size_t d = 0; d < n_dev; d++)
        rc = groups[d] == NULL ? ESL_ENOMEM : rc;
    if (rc != ESL_OK || title == NULL) {
        esl_figure_free(fig);
        return ESL_ENOMEM;
    }
    *panel = (esl_plot_panel){.x_label = "time (s)", .y_label = "power (W)",
                              .y_min = 0.0, .y_max = peak > 0 ? peak * 1.1 : 1.0,
                              .lines = lines, .n_lines = n_lines,
                              .span_x0 = 0.0, .span_x1 = rec->duration_s};
    if (!(rec->duration_s > 0)) /* a window with no length has nothing to shade */
        panel->span_x1 = 0.0;
    fig->plot = (esl_plot_figure){.title = title, .rows = 1, .cols = 1, .panels = panel,
                                  .n_panels = 1, .groups = groups, .n_groups = n_dev,
                                  .legend_title = "device", .legend_notes = notes,
                                  .n_legend_notes = n_notes, .width_px = 1400, .height_px = 600};
    *out = fig;
    return ESL_OK;
}
