/*
 * calib.c - the calibration planner: which configurations of the paper's
 * grid (models x square resolutions x steps x dtype x CFG) to measure so
 * that a law can be fitted for a GPU within a time budget.
 *
 * Each dimension keeps `count` levels spread evenly (extremes first) over a
 * window of its cheapest `window` levels. Starting from the whole grid, the
 * planner gives up one thing at a time until the sweep's estimated time fits
 * the budget: first CFG on/off, then levels beyond the target of 3 models x
 * 3 resolutions x 2 step counts x 2 dtypes, then the spread of the largest
 * levels (the window), and only then coverage below the target. Spread in
 * log FLOPs is what makes a fitted slope well determined, so extremes are
 * kept as long as the budget allows. Times are estimated from a probe's
 * seconds per executed FLOP of each dtype; pure arithmetic, tested on the CPU.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/bench.h"

enum { D_MODEL, D_SIDE, D_STEPS, D_DTYPE, D_CFG, N_DIMS };

typedef struct dim {
    size_t n;        /* levels available, cheapest first */
    size_t count;    /* levels chosen */
    size_t window;   /* chosen among the first `window` levels */
    size_t order[8]; /* level index, cheapest first (models: by FLOPs) */
} dim;

/* The i-th chosen level: evenly spread over the window, both ends included. */
static size_t pick(const dim *d, size_t i)
{
    if (d->count == 1)
        return d->order[0];
    size_t pos = (i * (d->window - 1) + (d->count - 1) / 2) / (d->count - 1);
    return d->order[pos];
}

/* Per model and side: executed FLOPs of text, one denoiser pass, decode
 * (batch 1, no CFG; a CFG pass is exactly twice the denoiser's). */
typedef struct cost_table {
    int64_t (*stage)[3]; /* [model * n_sides + side][stage] */
    size_t n_sides;
} cost_table;

static double point_flops(const cost_table *c, size_t model, size_t side, int64_t steps, int cfg)
{
    const int64_t *s = c->stage[model * c->n_sides + side];
    return (double)s[ESL_STAGE_TEXT] + (double)steps * (double)s[ESL_STAGE_DENOISE] * (cfg ? 2 : 1) +
           (double)s[ESL_STAGE_DECODE];
}

typedef struct planner {
    dim d[N_DIMS];
    cost_table cost;
    const esl_calib_opts *o;
    const int64_t *sides, *steps;
    esl_dtype dtypes[4];
} planner;

/* Estimated seconds of the current selection. */
static double estimate(const planner *p)
{
    double total = 0;
    for (size_t a = 0; a < p->d[D_MODEL].count; a++)
        for (size_t b = 0; b < p->d[D_SIDE].count; b++)
            for (size_t c = 0; c < p->d[D_STEPS].count; c++)
                for (size_t e = 0; e < p->d[D_DTYPE].count; e++)
                    for (size_t g = 0; g < p->d[D_CFG].count; g++) {
                        double f = point_flops(&p->cost, pick(&p->d[D_MODEL], a),
                                               pick(&p->d[D_SIDE], b),
                                               p->steps[pick(&p->d[D_STEPS], c)],
                                               (int)pick(&p->d[D_CFG], g));
                        total += f * p->o->s_per_flop[p->dtypes[pick(&p->d[D_DTYPE], e)]] +
                                 p->o->overhead_s;
                    }
    return total;
}

/* One concession: shrink dimension `k`'s count (or window) towards `floor`.
 * Returns 1 when something changed. */
static int shrink_count(dim *d, size_t floor)
{
    if (d->count <= floor)
        return 0;
    d->count--;
    return 1;
}

static int shrink_window(dim *d, size_t floor)
{
    if (d->window <= floor || d->window <= d->count)
        return 0;
    d->window--;
    return 1;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* The next concession, in the order the file comment gives; 0 when none is left. */
static int concede(planner *p)
{
    dim *d = p->d;
    static const size_t target[N_DIMS] = {3, 3, 2, 2, 1};
    /* 1. CFG both ways -> off only; then counts beyond the target. */
    if (shrink_count(&d[D_CFG], 1))
        return 1;
    static const int count_order[] = {D_STEPS, D_SIDE, D_MODEL, D_DTYPE};
    for (size_t i = 0; i < 4; i++)
        if (shrink_count(&d[count_order[i]], min_sz(target[count_order[i]], d[count_order[i]].n)))
            return 1;
    /* 2. Narrow the spread: drop the most expensive levels, one dimension at a time. */
    static const int window_order[] = {D_STEPS, D_SIDE, D_MODEL};
    for (size_t i = 0; i < 3; i++)
        if (shrink_window(&d[window_order[i]], d[window_order[i]].count))
            return 1;
    /* 3. Coverage below the target. */
    static const int below[] = {D_STEPS, D_SIDE, D_MODEL, D_DTYPE, D_SIDE, D_MODEL};
    for (size_t i = 0; i < sizeof below / sizeof below[0]; i++) {
        dim *x = &d[below[i]];
        if (shrink_count(x, 1)) {
            x->window = x->count; /* the cheapest levels */
            return 1;
        }
    }
    return 0;
}

static int cmp_point(const void *a, const void *b)
{
    const esl_calib_point *x = a, *y = b;
    return (x->est_s > y->est_s) - (x->est_s < y->est_s);
}

static int fill_costs(planner *p, const esl_model *const *models, size_t n_models)
{
    size_t ns = p->d[D_SIDE].n;
    p->cost.n_sides = ns;
    p->cost.stage = calloc(n_models * ns, sizeof *p->cost.stage);
    if (p->cost.stage == NULL)
        return esl__fail(ESL_ENOMEM, "calibration planner: out of memory");
    for (size_t m = 0; m < n_models; m++)
        for (size_t s = 0; s < ns; s++) {
            esl_bench_config c = {
                .request = {.height = p->sides[s], .width = p->sides[s], .steps = 1, .prompts = 1},
                .batch = 1, .dtype = ESL_DTYPE_BF16,
            };
            esl_workload *plan;
            int rc = esl_workload_new(&plan, models[m], &c);
            if (rc != ESL_OK)
                return rc;
            memcpy(p->cost.stage[m * ns + s], plan->stage_exec_flops, sizeof plan->stage_exec_flops);
            esl_workload_free(plan);
        }
    return ESL_OK;
}

/* Order models cheapest first by FLOPs at the largest side. */
static void order_models(planner *p, size_t n_models)
{
    dim *d = &p->d[D_MODEL];
    for (size_t i = 0; i < n_models; i++)
        d->order[i] = i;
    for (size_t i = 1; i < n_models; i++)
        for (size_t j = i; j > 0; j--) {
            double a = point_flops(&p->cost, d->order[j - 1], p->d[D_SIDE].n - 1, 1, 0);
            double b = point_flops(&p->cost, d->order[j], p->d[D_SIDE].n - 1, 1, 0);
            if (a <= b)
                break;
            size_t t = d->order[j];
            d->order[j] = d->order[j - 1];
            d->order[j - 1] = t;
        }
}

int esl_calib_sweep_init(esl_calib_sweep *out, const esl_model *const *models, size_t n_models,
                        const esl_calib_opts *o)
{
    static const int64_t default_sides[] = {256, 512, 768, 1024};
    static const int64_t default_steps[] = {10, 20, 30, 40, 50};
    planner p;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&p, 0, sizeof p);
    p.o = o;
    if (!(o->budget_s > 0) || !isfinite(o->budget_s))
        return esl__fail(ESL_EINVAL, "calibration budget %g s: must be positive", o->budget_s);
    if (!(o->overhead_s >= 0) || !isfinite(o->overhead_s))
        return esl__fail(ESL_EINVAL, "per-run overhead %g s: must not be negative", o->overhead_s);
    if (n_models == 0 || n_models > 8)
        return esl__fail(ESL_EINVAL, "calibration needs 1 to 8 models, got %zu", n_models);
    p.sides = o->n_sides ? o->sides : default_sides;
    p.steps = o->n_steps ? o->steps : default_steps;
    p.d[D_SIDE].n = o->n_sides ? o->n_sides : 4;
    p.d[D_STEPS].n = o->n_steps ? o->n_steps : 5;
    if (p.d[D_SIDE].n > 8 || p.d[D_STEPS].n > 8)
        return esl__fail(ESL_EINVAL, "calibration grid: at most 8 resolutions and 8 step counts");
    for (size_t i = 0; i < p.d[D_SIDE].n; i++)
        if (p.sides[i] <= 0 || (i > 0 && p.sides[i] <= p.sides[i - 1]))
            return esl__fail(ESL_EINVAL, "calibration resolutions must be positive and increasing");
    for (size_t i = 0; i < p.d[D_STEPS].n; i++)
        if (p.steps[i] <= 0 || (i > 0 && p.steps[i] <= p.steps[i - 1]))
            return esl__fail(ESL_EINVAL, "calibration step counts must be positive and increasing");
    /* Probed dtypes, cheapest (fewest seconds per FLOP) first. */
    for (int t = 0; t < 4; t++) {
        double s = o->s_per_flop[t];
        if (s < 0 || !isfinite(s))
            return esl__fail(ESL_EINVAL, "probe of %s: %g s/FLOP is not a valid time",
                             esl_dtype_name((esl_dtype)t), s);
        if (s == 0)
            continue;
        size_t j = p.d[D_DTYPE].n++;
        while (j > 0 && o->s_per_flop[p.dtypes[j - 1]] > s) {
            p.dtypes[j] = p.dtypes[j - 1];
            j--;
        }
        p.dtypes[j] = (esl_dtype)t;
    }
    if (p.d[D_DTYPE].n == 0)
        return esl__fail(ESL_EINVAL, "calibration planner: no dtype has a probe measurement");
    p.d[D_MODEL].n = n_models;
    p.d[D_CFG].n = o->cfg_both ? 2 : 1;
    for (int k = 0; k < N_DIMS; k++) {
        p.d[k].count = p.d[k].window = p.d[k].n;
        if (k != D_MODEL)
            for (size_t i = 0; i < p.d[k].n; i++)
                p.d[k].order[i] = i;
    }
    if ((rc = fill_costs(&p, models, n_models)) != ESL_OK)
        goto done;
    order_models(&p, n_models);

    double est = estimate(&p);
    while (est > o->budget_s && concede(&p))
        est = estimate(&p);
    if (est > o->budget_s) {
        rc = esl__fail(ESL_ERANGE,
                       "no calibration fits in %.0f s: the cheapest configuration alone takes %.1f s",
                       o->budget_s, est);
        goto done;
    }

    size_t n = 1;
    for (int k = 0; k < N_DIMS; k++)
        n *= p.d[k].count;
    out->points = calloc(n, sizeof *out->points);
    if (out->points == NULL) {
        rc = esl__fail(ESL_ENOMEM, "calibration planner: out of memory");
        goto done;
    }
    out->log10_flops_min = INFINITY;
    out->log10_flops_max = -INFINITY;
    for (size_t a = 0; a < p.d[D_MODEL].count; a++)
        for (size_t b = 0; b < p.d[D_SIDE].count; b++)
            for (size_t c = 0; c < p.d[D_STEPS].count; c++)
                for (size_t e = 0; e < p.d[D_DTYPE].count; e++)
                    for (size_t g = 0; g < p.d[D_CFG].count; g++) {
                        esl_calib_point *pt = &out->points[out->n_points++];
                        size_t side = pick(&p.d[D_SIDE], b);
                        pt->model = pick(&p.d[D_MODEL], a);
                        pt->side = p.sides[side];
                        pt->steps = p.steps[pick(&p.d[D_STEPS], c)];
                        pt->dtype = p.dtypes[pick(&p.d[D_DTYPE], e)];
                        pt->cfg = (int)pick(&p.d[D_CFG], g);
                        pt->exec_flops = point_flops(&p.cost, pt->model, side, pt->steps, pt->cfg);
                        pt->est_s = pt->exec_flops * o->s_per_flop[pt->dtype] + o->overhead_s;
                        double l = log10(pt->exec_flops);
                        out->log10_flops_min = l < out->log10_flops_min ? l : out->log10_flops_min;
                        out->log10_flops_max = l > out->log10_flops_max ? l : out->log10_flops_max;
                    }
    qsort(out->points, out->n_points, sizeof *out->points, cmp_point);
    out->est_s = est;
    out->n_models = p.d[D_MODEL].count;
    out->n_sides = p.d[D_SIDE].count;
    out->n_steps = p.d[D_STEPS].count;
    out->n_dtypes = p.d[D_DTYPE].count;
    out->n_cfg = p.d[D_CFG].count;
    out->full = out->n_models >= 3 && out->n_sides >= 3 && out->n_steps >= 2 && out->n_dtypes >= 2;
    rc = ESL_OK;
done:
    free(p.cost.stage);
    return rc;
}

/* splitmix64: a small, well-mixed generator for the shuffle. */
static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void esl_calib_sweep_shuffle(esl_calib_sweep *sweep, uint64_t seed)
{
    if (seed == 0)
        return;
    uint64_t state = seed;
    /* Fisher-Yates; the modulo bias over a few dozen points is negligible */
    for (size_t i = sweep->n_points; i > 1; i--) {
        size_t j = (size_t)(splitmix(&state) % i);
        esl_calib_point t = sweep->points[i - 1];
        sweep->points[i - 1] = sweep->points[j];
        sweep->points[j] = t;
    }
}

void esl_calib_sweep_release(esl_calib_sweep *sweep)
{
    if (sweep == NULL)
        return;
    free(sweep->points);
    memset(sweep, 0, sizeof *sweep);
}

/* ---- what the tool asks around a sweep ---- */

size_t esl_calib_levels(int64_t *out, size_t cap, const esl_calib_point *const *points,
                        size_t n, esl_calib_dim which)
{
    int64_t v[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const esl_calib_point *p = points[i];
        int64_t x = which == ESL_CALIB_MODEL ? (int64_t)p->model
                  : which == ESL_CALIB_SIDE  ? p->side
                  : which == ESL_CALIB_STEPS ? p->steps
                  : which == ESL_CALIB_DTYPE ? (int64_t)p->dtype
                                           : p->cfg;
        size_t j = 0;
        while (j < k && v[j] != x)
            j++;
        if (j == k && k < sizeof v / sizeof v[0])
            v[k++] = x;
    }
    for (size_t i = 1; i < k; i++) /* insertion sort: a handful of levels */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    memcpy(out, v, (k < cap ? k : cap) * sizeof *out);
    return k;
}

int esl_calib_probe(size_t *model, esl_bench_config *config, const esl_model *const *models,
                    size_t n_models, esl_dtype dtype)
{
    double best = -1;
    *model = 0;
    *config = (esl_bench_config){.request = {.height = 512, .width = 512, .steps = 2, .prompts = 1},
                                 .batch = 1, .dtype = ESL_DTYPE_BF16};
    for (size_t i = 0; i < n_models; i++) {
        esl_workload *w = NULL;
        int rc = esl_workload_new(&w, models[i], config);
        if (rc != ESL_OK)
            return rc;
        if ((double)w->stage_exec_flops[ESL_STAGE_DENOISE] > best) {
            best = (double)w->stage_exec_flops[ESL_STAGE_DENOISE];
            *model = i;
        }
        esl_workload_free(w);
    }
    config->dtype = dtype;
    return ESL_OK;
}

int64_t esl_calib_prompts(const esl_calib_point *point, double tflops, double min_run_s)
{
    double per_prompt_s = point->exec_flops / (tflops * 1e12);
    int64_t prompts = 1;
    if (per_prompt_s > 0 && min_run_s > per_prompt_s)
        prompts = (int64_t)ceil(min_run_s / per_prompt_s);
    return prompts > 10000 ? 10000 : prompts;
}

int esl_calib_throughput(double *tflops, const char *list, esl_dtype dtype)
{
    const char *name = esl_dtype_name(dtype);
    size_t len = strlen(name);
    const char *at = strstr(list, name);
    while (at != NULL && !((at == list || at[-1] == ',') && at[len] == '='))
        at = strstr(at + 1, name);
    char *end = NULL;
    double v = at != NULL ? strtod(at + len + 1, &end) : 0;
    *tflops = 0;
    if (at == NULL || end == at + len + 1 || (*end != ',' && *end != '\0') || !(v > 0) ||
        !isfinite(v))
        return esl__fail(ESL_EINVAL, "no positive throughput for %s in '%s'", name, list);
    *tflops = v;
    return ESL_OK;
}

void esl_calib_law_name(char *buf, size_t size, const char *device)
{
    size_t j = (size_t)snprintf(buf, size, "law-");
    int dash = 0;
    for (const char *c = device; *c != '\0' && j + 6 < size; c++) {
        char ch = *c;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (dash && j > 4)
                buf[j++] = '-';
            buf[j++] = ch;
            dash = 0;
        } else {
            dash = 1;
        }
    }
    if (j == 4)
        j += (size_t)snprintf(buf + j, size - j, "gpu");
    snprintf(buf + j, size - j, ".json");
}
