/*
 * calib_run.c - a measured calibration: the probe of the GPU's throughput
 * and of a run's fixed cost, the idle baseline taken once the probe's work
 * has left NVML's utilisation, the sweep planned for what is left of the
 * budget and run point by point under the meter (failed runs skipped, the
 * budget guarded on the meter's clock), and the paper-form law fitted on
 * the runs. The caller hears of progress and of skipped runs through an
 * event callback, so that the library itself never prints; and the CUDA
 * module installed beside the running program.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/bench.h"

/* The least a run may overrun the budget by before the guard stops a sweep. */
#define BUDGET_SLACK_MIN_S 10.0

typedef struct calib_state {
    esl_calib *c;
    esl_meter *meter;
    const esl_calib_setup *setup;
} calib_state;

static double elapsed(const calib_state *st)
{
    return esl_meter_clock_s(st->meter) - st->c->started_s;
}

/* The progress line: a bar of the points done, the next point, the time left. */
static void progress(const calib_state *st, size_t done, double est_done_s,
                     const esl_calib_point *next)
{
    if (st->setup->on_event == NULL)
        return;
    size_t n = st->c->plan.n_points;
    double el = elapsed(st), left = esl_calib_time_left(&st->c->plan, done, el, est_done_s);
    char line[512], bar[31];
    size_t fill = n ? done * 30 / n : 30;
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    int k = snprintf(line, sizeof line, "[%s] %zu/%zu", bar, done, n);
    if (next != NULL)
        k += snprintf(line + k, sizeof line - (size_t)k, "  %s %lldx%lld %lld steps %s%s",
                      st->c->models[next->model]->name, (long long)next->side,
                      (long long)next->side, (long long)next->steps, esl_dtype_name(next->dtype),
                      next->cfg ? " cfg" : "");
    if (k < 0 || k > (int)sizeof line - 32) /* a name too long: cut, the ETA kept */
        k = k < 0 ? 0 : (int)sizeof line - 32;
    snprintf(line + k, sizeof line - (size_t)k, "  ETA %dm%02ds", (int)(left / 60),
             (int)fmod(left, 60));
    esl_calib_event ev = {.kind = ESL_CALIB_PROGRESS, .done = done, .n_points = n,
                          .elapsed_s = el, .left_s = left, .next = next, .message = line};
    st->setup->on_event(st->setup->ctx, &ev);
}

static void note(const calib_state *st, esl_calib_event_kind kind, const char *fmt, ...)
    ESL_PRINTF(3, 4);
static void note(const calib_state *st, esl_calib_event_kind kind, const char *fmt, ...)
{
    if (st->setup->on_event == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    esl_calib_event ev = {.kind = kind, .n_points = st->c->plan.n_points, .message = msg};
    st->setup->on_event(st->setup->ctx, &ev);
}

/* The probe: the model with the most denoiser FLOPs at 512x512, 2 steps,
 * once per dtype, unmetered: seconds per executed FLOP and the fixed cost
 * of a run (the call's wall time beyond the timed loop). */
static int probe(calib_state *st, esl_calib_opts *o)
{
    esl_calib *c = st->c;
    esl_bench_config cfg;
    int rc = esl_calib_probe(&c->probe_model, &cfg, c->models, c->n_models, ESL_DTYPE_BF16);
    if (rc != ESL_OK)
        return rc;
    for (size_t k = 0; k < c->n_dtypes; k++) {
        esl_workload *p = NULL;
        esl_bench_result r;
        cfg.dtype = c->dtypes[k];
        if ((rc = esl_workload_new(&p, c->models[c->probe_model], &cfg)) != ESL_OK)
            return rc;
        double t0 = esl_meter_clock_s(st->meter);
        rc = esl_bench_run(&r, p, &st->setup->bench);
        double wall_s = esl_meter_clock_s(st->meter) - t0;
        esl_workload_free(p);
        if (rc != ESL_OK)
            return esl__fail_prefix(rc, "calibrate: probe: ");
        if (!(r.duration_s > 0) || !(r.exec_flops > 0))
            return esl__fail(ESL_EDEVICE,
                             "calibrate: probe: the GPU module reported %g s for %g FLOPs",
                             r.duration_s, r.exec_flops);
        o->s_per_flop[cfg.dtype] = r.duration_s / r.exec_flops;
        c->probe_tflops[cfg.dtype] = r.exec_flops / r.duration_s / 1e12;
        if (wall_s - r.duration_s > c->overhead_s)
            c->overhead_s = wall_s - r.duration_s;
        snprintf(c->device, sizeof c->device, "%s", r.device);
    }
    return ESL_OK;
}

/* Keep a measured run; its row joins the fit when nothing casts doubt on it. */
static int keep(calib_state *st, const esl_calib_point *pt, int64_t prompts,
                esl_bench_measured *r)
{
    esl_calib *c = st->c;
    const esl_model *m = c->models[pt->model];
    esl_calib_run *cr = &c->runs[c->n_runs++];
    *cr = (esl_calib_run){
        .point = pt, .prompts = prompts, .run_id = r->run_id, .result = r->result,
        .energy_j = r->record->energy_j, .dynamic_j = r->record->dynamic_j,
        .j_per_tflop = r->total.joules_per_tflop,
        .peak_tflops = r->total.peak_tflops, .peak_fraction = r->total.peak_fraction,
        .flags = r->record->flags,
    };
    unsigned why = r->record->flags & ESL_FLAGS_DOUBTFUL;
    cr->in_fit = !why && r->record->dynamic_j > 0;
    if (!cr->in_fit) {
        char flags[256];
        note(st, ESL_CALIB_UNFITTED,
             "calibrate: run %lld (%s %lldx%lld, %lld steps, %s) kept out of the fit: %s",
             (long long)r->run_id, m->name, (long long)pt->side, (long long)pt->side,
             (long long)pt->steps, esl_dtype_name(pt->dtype),
             why ? esl_flags_string(flags, sizeof flags, why) : "no energy above idle");
    }
    if (c->driver[0] == '\0')
        snprintf(c->driver, sizeof c->driver, "%s", r->record->driver_version);
    if (!cr->in_fit)
        return ESL_OK;
    esl_run run = {.id = r->run_id, .labels = r->labels.labels, .n_labels = r->labels.n,
                   .record = r->record};
    return esl_dataset_append_run(c->data, &run, m);
}

/* Run every planned point under the meter, in the sweep's order. */
static int run_points(calib_state *st, esl_store *store)
{
    esl_calib *c = st->c;
    const esl_calib_setup *su = st->setup;
    double est_done = 0;
    int consecutive = 0;
    for (size_t i = 0; i < c->plan.n_points; i++) {
        const esl_calib_point *pt = &c->plan.points[i];
        /* The budget guard: a run that would end well past the budget is
         * not started, and the law is fitted on what was measured. The
         * estimates are guesses, so "well past" allows a quarter of the
         * budget (10 s at least); callers with a hard deadline (check.sh)
         * leave that room. */
        double el = elapsed(st);
        double slack = fmax(0.25 * c->budget_s, BUDGET_SLACK_MIN_S);
        if (c->n_runs > 0 && el + pt->est_s > c->budget_s + slack) {
            c->n_skipped = c->plan.n_points - i;
            note(st, ESL_CALIB_NOTE,
                 "calibrate: the budget of %g s is spent after %.0f s: %zu of %zu runs are left "
                 "out, the law is fitted on the %zu measured",
                 c->budget_s, el, c->n_skipped, c->plan.n_points, c->n_runs);
            break;
        }
        progress(st, i, est_done, pt);
        int64_t prompts = esl_calib_prompts(pt, c->probe_tflops[pt->dtype], su->min_run_s);
        esl_bench_config cfg = {
            .request = {.height = pt->side, .width = pt->side, .steps = pt->steps,
                        .prompts = prompts, .cfg = pt->cfg},
            .batch = 1, .dtype = pt->dtype, .strict_fp32 = su->strict_fp32,
        };
        esl_workload *p = NULL;
        esl_bench_measured r;
        int rc = esl_workload_new(&p, c->models[pt->model], &cfg);
        if (rc != ESL_OK)
            return rc;
        rc = esl_bench_measure(&r, p, &su->bench, st->meter, store, su->labels, su->n_labels);
        esl_workload_free(p);
        if (rc != ESL_OK) {
            /* A failed point is reported and skipped: the law is fitted on
             * the others. No device, or three failures in a row, ends the
             * sweep. */
            esl_bench_measured_release(&r);
            c->n_failed++;
            consecutive++;
            note(st, ESL_CALIB_NOTE, "calibrate: %s", esl_error_last());
            note(st, ESL_CALIB_NOTE, "calibrate: run of %s %lldx%lld, %lld steps, %s failed; going on",
                 c->models[pt->model]->name, (long long)pt->side, (long long)pt->side,
                 (long long)pt->steps, esl_dtype_name(pt->dtype));
            if (rc == ESL_ENODEV || consecutive >= 3) {
                note(st, ESL_CALIB_NOTE, "calibrate: %s: stopping after %zu runs",
                     rc == ESL_ENODEV ? "the GPU is gone" : "three runs failed in a row",
                     c->n_runs + c->n_failed);
                c->n_skipped = c->plan.n_points - i - 1;
                break;
            }
            est_done += pt->est_s;
            continue;
        }
        consecutive = 0;
        rc = keep(st, pt, prompts, &r);
        esl_bench_measured_release(&r);
        if (rc != ESL_OK)
            return rc;
        est_done += pt->est_s;
    }
    progress(st, c->plan.n_points, est_done, NULL);
    return ESL_OK;
}

static int measure(calib_state *st, esl_store *store)
{
    esl_calib *c = st->c;
    const esl_calib_setup *su = st->setup;
    esl_calib_opts o = {.cfg_both = su->cfg_both};
    int rc = probe(st, &o);
    if (rc != ESL_OK)
        return rc;
    /* The idle baseline is taken after the probe, with the CUDA context
     * resident as it is during the runs, once NVML's utilisation (an
     * average over up to a second) has let go of the probe's work. */
    if ((rc = esl_meter_baseline(st->meter, su->settle_s, su->idle_s, NAN)) != ESL_OK)
        return esl__fail_prefix(rc, "calibrate: ");
    /* Each run costs the probe's fixed cost plus at least min_run_s: the
     * planner's per-run overhead, so that the estimate stays an upper bound. */
    o.overhead_s = c->overhead_s + su->min_run_s;
    o.budget_s = c->budget_s - elapsed(st);
    if (o.budget_s <= 0)
        return esl__fail(ESL_ERANGE,
                         "calibrate: the budget of %g s is spent by the idle window and the probe",
                         c->budget_s);
    if ((rc = esl_calib_sweep_init(&c->plan, c->models, c->n_models, &o)) != ESL_OK)
        return esl__fail_prefix(rc, "calibrate: ");
    esl_calib_sweep_shuffle(&c->plan, su->order_seed);
    c->runs = calloc(c->plan.n_points ? c->plan.n_points : 1, sizeof *c->runs);
    if (c->runs == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    if ((rc = esl_dataset_new(&c->data, "calibration runs", ESL_CONVENTION_PAPER)) != ESL_OK)
        return rc;
    return run_points(st, store);
}

int esl_calib_measure(esl_calib **out, esl_meter *meter, esl_store *store,
                      const esl_calib_setup *setup)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "calibrate: no output");
    *out = NULL;
    if (meter == NULL || setup == NULL || setup->models == NULL || setup->n_models == 0 ||
        setup->dtypes == NULL || setup->n_dtypes == 0 || setup->n_dtypes > 4)
        return esl__fail(ESL_EINVAL, "calibrate: no meter, models or dtypes");
    esl_calib *c = calloc(1, sizeof *c);
    if (c == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    c->models = setup->models;
    c->n_models = setup->n_models;
    memcpy(c->dtypes, setup->dtypes, setup->n_dtypes * sizeof *c->dtypes);
    c->n_dtypes = setup->n_dtypes;
    c->budget_s = setup->budget_s;
    /* the budget runs on the meter's clock */
    c->started_s = esl_meter_clock_s(meter);
    calib_state st = {c, meter, setup};
    int rc = measure(&st, store);
    if (rc != ESL_OK) {
        esl_calib_free(c);
        return rc;
    }
    *out = c;
    return ESL_OK;
}

int esl_calib_fit(esl_calib *c)
{
    if (c == NULL || c->data == NULL)
        return esl__fail(ESL_EINVAL, "calibrate: no calibration to fit");
    esl_law_free(c->law);
    c->law = NULL;
    int rc = esl_law_fit(&c->law, c->data, NULL);
    if (rc != ESL_OK) {
        size_t fitted = 0;
        for (size_t i = 0; i < c->n_runs; i++)
            fitted += (size_t)c->runs[i].in_fit;
        return esl__fail_prefix(rc, "fitting the law on %zu of %zu runs: ", fitted, c->n_runs);
    }
    return ESL_OK;
}

void esl_calib_free(esl_calib *c)
{
    if (c == NULL)
        return;
    esl_dataset_free(c->data);
    esl_law_free(c->law);
    free(c->runs);
    esl_calib_sweep_release(&c->plan);
    free(c);
}
