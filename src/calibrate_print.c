/*
 * calibrate_print.c - the reports of `esl calibrate`: a dry run's planned
 * sweep (a table; its CSV and JSON are libesl's, esl_calib_sweep_csv and
 * esl_calib_sweep_json) and the measured calibration (table or JSON:
 * each run, what of the paper's grid it covered, the largest configuration
 * against the dense peak, and the fitted law), and the progress line on a
 * terminal while it runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "calibrate.h"
#include "emit.h"
#include "law_cli.h"

void calibrate_print_plan(const args *a, const esl_calib_sweep *cp, esl_model **models,
                          size_t n_models)
{
    const esl_model *const *m = (const esl_model *const *)models;
    char b[32];
    if (a->format == FORMAT_CSV) {
        esl_calib_sweep_csv(stdout, cp, m, n_models);
        return;
    }
    if (a->format == FORMAT_JSON) {
        char *text = NULL;
        json_t *o = NULL;
        if (esl_calib_sweep_json(&text, cp, m, n_models, a->budget_s) == ESL_OK)
            o = json_loads(text, 0, NULL);
        free(text);
        emit_json(o != NULL ? o : json_null());
        json_decref(o);
        return;
    }
    printf("%-12s %-10s %5s %3s %-5s %14s %9s\n", "model", "size", "steps", "cfg", "dtype",
           "executed", "est. s");
    for (size_t i = 0; i < cp->n_points; i++) {
        const esl_calib_point *p = &cp->points[i];
        char size[32];
        snprintf(size, sizeof size, "%lldx%lld", (long long)p->side, (long long)p->side);
        printf("%-12s %-10s %5lld %3s %-5s %14s %9.1f\n", models[p->model]->name, size,
               (long long)p->steps, p->cfg ? "yes" : "no", esl_dtype_name(p->dtype),
               cli_human_flops(b, sizeof b, p->exec_flops), p->est_s);
    }
    printf("\n%zu runs, estimated %.0f s of a %.0f s budget\n", cp->n_points, cp->est_s, a->budget_s);
    printf("covers %zu models x %zu resolutions x %zu step counts x %zu dtypes x %zu CFG "
           "setting%s: %s the target of 3 x 3 x 2 x 2\n",
           cp->n_models, cp->n_sides, cp->n_steps, cp->n_dtypes, cp->n_cfg,
           cp->n_cfg == 1 ? "" : "s", cp->full ? "meets" : "falls short of");
    printf("executed FLOPs per image span 10^%.2f to 10^%.2f\n", cp->log10_flops_min,
           cp->log10_flops_max);
}

/* Distinct values of one dimension of the runs that ran, ascending. */
void calibrate_print_progress(const sweep *s, double elapsed, size_t done, double est_done_s,
                              const esl_calib_point *next)
{
    if (s->a->quiet || !isatty(STDERR_FILENO))
        return;
    double est_left = esl_calib_time_left(&s->plan, done, elapsed, est_done_s);
    char bar[31];
    size_t fill = s->plan.n_points ? done * 30 / s->plan.n_points : 30;
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu", bar, done, s->plan.n_points);
    if (next != NULL)
        fprintf(stderr, "  %s %lldx%lld %lld steps %s%s", s->models[next->model]->name,
                (long long)next->side, (long long)next->side, (long long)next->steps,
                esl_dtype_name(next->dtype), next->cfg ? " cfg" : "");
    fprintf(stderr, "  ETA %dm%02ds\033[K", (int)(est_left / 60), (int)fmod(est_left, 60));
    if (next == NULL)
        fputc('\n', stderr);
    fflush(stderr);
}

static size_t levels(const sweep *s, int dim, int64_t *out)
{
    const esl_calib_point *pts[256];
    size_t n = s->n_runs < 256 ? s->n_runs : 256;
    for (size_t i = 0; i < n; i++)
        pts[i] = s->runs[i].point;
    size_t k = esl_calib_levels(out, 16, pts, n, (esl_calib_dim)dim);
    return k < 16 ? k : 16;
}

/* The run of most executed FLOPs per prompt of a dtype, or NULL. */
static const sweep_run *largest(const sweep *s, esl_dtype d)
{
    const sweep_run *best = NULL;
    for (size_t i = 0; i < s->n_runs; i++)
        if (s->runs[i].point->dtype == d &&
            (best == NULL || s->runs[i].point->exec_flops > best->point->exec_flops))
            best = &s->runs[i];
    return best;
}

/* The paper's grid (Tables 6-9): resolutions 256-1024, steps 10-50, CFG off
 * and on; the coverage report names what the sweep measured of it. */
static void print_coverage(const sweep *s)
{
    int64_t v[16];
    size_t n;
    printf("coverage of the paper's grid:\n  %-12s", "models");
    n = levels(s, 0, v);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", s->models[v[i]]->name);
    printf("  (%zu of %zu asked for)\n  %-12s", n, s->n_models, "resolutions");
    n = levels(s, 1, v);
    for (size_t i = 0; i < n; i++)
        printf("%s%lld", i ? ", " : "", (long long)v[i]);
    printf("  (paper: 256, 512, 768, 1024)\n  %-12s", "steps");
    n = levels(s, 2, v);
    for (size_t i = 0; i < n; i++)
        printf("%s%lld", i ? ", " : "", (long long)v[i]);
    printf("  (paper: 10, 20, 30, 40, 50)\n  %-12s", "dtypes");
    n = levels(s, 3, v);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", esl_dtype_name((esl_dtype)v[i]));
    printf("\n  %-12s", "cfg");
    n = levels(s, 4, v);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", v[i] ? "on" : "off");
    printf("  (paper: off, on)\n");
    printf("  %zu runs: %zu models x %zu resolutions x %zu step counts x %zu dtypes x %zu CFG "
           "setting%s, %s the target of 3 x 3 x 2 x 2\n",
           s->n_runs, s->plan.n_models, s->plan.n_sides, s->plan.n_steps, s->plan.n_dtypes,
           s->plan.n_cfg, s->plan.n_cfg == 1 ? "" : "s", s->plan.full ? "meeting" : "short of");
}

void calibrate_print_table(const sweep *s, double elapsed_s)
{
    char b[32], flags[256];
    printf("gpu        %s", s->device);
    if (s->driver[0] != '\0')
        printf(" (driver %s)", s->driver);
    printf("\nprobe      %s 512x512, 2 steps:", s->models[s->probe_model]->name);
    for (size_t k = 0; k < s->n_dtypes; k++)
        printf("%s %s %.2f TFLOP/s", k ? "," : "", esl_dtype_name(s->dtypes[k]),
               s->probe_tflops[s->dtypes[k]]);
    printf("; %.2f s fixed cost per run\n", s->overhead_s);
    printf("time       %.1f s of a %.0f s budget\n", elapsed_s, s->a->budget_s);
    if (s->n_failed > 0 || s->n_skipped > 0)
        printf("left out   %zu failed runs, %zu runs past the budget\n", s->n_failed, s->n_skipped);
    putchar('\n');
    printf("%5s  %-12s %-10s %5s %3s %-5s %7s %14s %10s %10s %7s %12s %12s %9s  %s\n", "run",
           "model", "size", "steps", "cfg", "dtype", "prompts", "executed", "loop s", "TFLOP/s",
           "peak", "energy J", "dynamic J", "J/TFLOP", "flags");
    for (size_t i = 0; i < s->n_runs; i++) {
        const sweep_run *r = &s->runs[i];
        const esl_calib_point *p = r->point;
        char size[32], peak[16];
        snprintf(size, sizeof size, "%lldx%lld", (long long)p->side, (long long)p->side);
        if (r->peak_tflops > 0)
            snprintf(peak, sizeof peak, "%.1f%%", 100 * r->peak_fraction);
        else
            snprintf(peak, sizeof peak, "-");
        esl_flags_string(flags, sizeof flags, r->flags);
        printf("%5lld  %-12s %-10s %5lld %3s %-5s %7lld %14s %10.4f %10.2f %7s %12.3f %12.3f "
               "%9.4f  %s%s\n",
               (long long)r->run_id, s->models[p->model]->name, size, (long long)p->steps,
               p->cfg ? "yes" : "no", esl_dtype_name(p->dtype), (long long)r->prompts,
               cli_human_flops(b, sizeof b, r->result.exec_flops), r->result.duration_s,
               r->result.exec_flops / r->result.duration_s / 1e12, peak, r->energy_j, r->dynamic_j,
               r->j_per_tflop, flags[0] ? flags : "-", r->in_fit ? "" : " (not fitted)");
    }
    printf("\n");
    print_coverage(s);
    printf("\nlargest configuration against the dense peak:\n");
    for (size_t k = 0; k < s->n_dtypes; k++) {
        const sweep_run *r = largest(s, s->dtypes[k]);
        if (r == NULL)
            continue;
        double tflops = r->result.exec_flops / r->result.duration_s / 1e12;
        printf("  %-5s %s %lldx%lld, %lld steps: %.2f TFLOP/s", esl_dtype_name(s->dtypes[k]),
               s->models[r->point->model]->name, (long long)r->point->side,
               (long long)r->point->side, (long long)r->point->steps, tflops);
        if (r->peak_tflops > 0)
            printf(", %.1f%% of the %.1f TFLOP/s dense peak\n", 100 * r->peak_fraction,
                   r->peak_tflops);
        else
            printf(" (no dense peak known for this GPU: no ratio)\n");
    }
    printf("\n");
    law_cli_print(s->law);
    printf("\nlaw written to %s\n", s->law_path);
}

static json_t *int_array(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

int calibrate_print_json(const sweep *s, double elapsed_s)
{
    char *law_text = NULL;
    int rc = esl_law_to_json(&law_text, s->law);
    if (rc != ESL_OK)
        return cli_fail(rc);
    json_t *law = json_loads(law_text, 0, NULL);
    free(law_text);
    json_t *o = json_object(), *probe = json_object(), *runs = json_array(), *cov = json_object();
    json_object_set_new(o, "gpu", json_string(s->device));
    json_object_set_new(o, "driver", json_string(s->driver));
    json_object_set_new(o, "budget_s", json_real(s->a->budget_s));
    json_object_set_new(o, "elapsed_s", json_real(elapsed_s));
    json_object_set_new(o, "failed_runs", json_integer((json_int_t)s->n_failed));
    json_object_set_new(o, "runs_left_out_by_budget", json_integer((json_int_t)s->n_skipped));
    json_object_set_new(probe, "model", json_string(s->models[s->probe_model]->name));
    json_object_set_new(probe, "overhead_s", json_real(s->overhead_s));
    for (size_t k = 0; k < s->n_dtypes; k++)
        json_object_set_new(probe, esl_dtype_name(s->dtypes[k]),
                            json_real(s->probe_tflops[s->dtypes[k]]));
    json_object_set_new(o, "probe_tflops", probe);
    for (size_t i = 0; i < s->n_runs; i++) {
        const sweep_run *r = &s->runs[i];
        const esl_calib_point *p = r->point;
        char flags[256];
        json_t *j = json_object();
        json_object_set_new(j, "run_id", r->run_id > 0 ? json_integer(r->run_id) : json_null());
        json_object_set_new(j, "model", json_string(s->models[p->model]->name));
        json_object_set_new(j, "height", json_integer(p->side));
        json_object_set_new(j, "width", json_integer(p->side));
        json_object_set_new(j, "steps", json_integer(p->steps));
        json_object_set_new(j, "cfg", json_boolean(p->cfg));
        json_object_set_new(j, "dtype", json_string(esl_dtype_name(p->dtype)));
        json_object_set_new(j, "prompts", json_integer(r->prompts));
        json_object_set_new(j, "exec_flops", json_real(r->result.exec_flops));
        json_object_set_new(j, "duration_s", json_real(r->result.duration_s));
        json_object_set_new(j, "achieved_tflops",
                            json_real(r->result.exec_flops / r->result.duration_s / 1e12));
        json_object_set_new(j, "peak_fraction",
                            r->peak_tflops > 0 ? json_real(r->peak_fraction) : json_null());
        json_object_set_new(j, "energy_j", json_real(r->energy_j));
        json_object_set_new(j, "dynamic_j", json_real(r->dynamic_j));
        json_object_set_new(j, "joules_per_tflop",
                            r->j_per_tflop > 0 ? json_real(r->j_per_tflop) : json_null());
        json_object_set_new(j, "flags", json_string(esl_flags_string(flags, sizeof flags, r->flags)));
        json_object_set_new(j, "fitted", json_boolean(r->in_fit));
        json_array_append_new(runs, j);
    }
    json_object_set_new(o, "runs", runs);
    int64_t v[16];
    size_t n = levels(s, 0, v);
    json_t *names = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(s->models[v[i]]->name));
    json_object_set_new(cov, "models", names);
    n = levels(s, 1, v);
    json_object_set_new(cov, "resolutions", int_array(v, n));
    n = levels(s, 2, v);
    json_object_set_new(cov, "steps", int_array(v, n));
    n = levels(s, 3, v);
    json_t *dt = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(dt, json_string(esl_dtype_name((esl_dtype)v[i])));
    json_object_set_new(cov, "dtypes", dt);
    n = levels(s, 4, v);
    json_t *cfg = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(cfg, json_boolean(v[i]));
    json_object_set_new(cov, "cfg", cfg);
    json_object_set_new(cov, "full", json_boolean(s->plan.full));
    json_object_set_new(o, "coverage", cov);
    json_object_set_new(o, "law_file", json_string(s->law_path));
    json_object_set_new(o, "law", law ? law : json_null());
    emit_json(o);
    json_decref(o);
    return 0;
}
