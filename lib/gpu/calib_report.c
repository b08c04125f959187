/*
 * calib_report.c - calibrations written for people and programs: a planned
 * sweep as a table, and a measured calibration (esl_calib_measure) as a
 * table or a JSON document - each run, what of the paper's grid the runs
 * cover, the largest configuration per dtype against the dense peak, and
 * the law. The machine-read forms of a planned sweep live in calib_doc.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "esl/json.h"

static int written(FILE *out, const char *what)
{
    return ferror(out) ? esl__fail(ESL_EIO, "%s: cannot write", what) : ESL_OK;
}

/* Distinct values of one dimension of the runs that ran, ascending. */
static size_t levels(const esl_calib *c, esl_calib_dim dim, int64_t *out)
{
    const esl_calib_point *pts[256];
    size_t n = c->n_runs < 256 ? c->n_runs : 256;
    for (size_t i = 0; i < n; i++)
        pts[i] = c->runs[i].point;
    size_t k = esl_calib_levels(out, 16, pts, n, dim);
    return k < 16 ? k : 16;
}

/* The run of most executed FLOPs per prompt of a dtype, or NULL. */
static const esl_calib_run *largest(const esl_calib *c, esl_dtype d)
{
    const esl_calib_run *best = NULL;
    for (size_t i = 0; i < c->n_runs; i++)
        if (c->runs[i].point->dtype == d &&
            (best == NULL || c->runs[i].point->exec_flops > best->point->exec_flops))
            best = &c->runs[i];
    return best;
}

/* The paper's grid (Tables 6-9): resolutions 256-1024, steps 10-50, CFG off
 * and on; the coverage report names what the sweep measured of it. */
static void coverage(FILE *out, const esl_calib *c)
{
    int64_t v[16];
    size_t n;
    fprintf(out, "coverage of the paper's grid:\n  %-12s", "models");
    n = levels(c, ESL_CALIB_MODEL, v);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", c->models[v[i]]->name);
    fprintf(out, "  (%zu of %zu asked for)\n  %-12s", n, c->n_models, "resolutions");
    n = levels(c, ESL_CALIB_SIDE, v);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%lld", i ? ", " : "", (long long)v[i]);
    fprintf(out, "  (paper: 256, 512, 768, 1024)\n  %-12s", "steps");
    n = levels(c, ESL_CALIB_STEPS, v);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%lld", i ? ", " : "", (long long)v[i]);
    fprintf(out, "  (paper: 10, 20, 30, 40, 50)\n  %-12s", "dtypes");
    n = levels(c, ESL_CALIB_DTYPE, v);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", esl_dtype_name((esl_dtype)v[i]));
    fprintf(out, "\n  %-12s", "cfg");
    n = levels(c, ESL_CALIB_CFG, v);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", v[i] ? "on" : "off");
    fprintf(out, "  (paper: off, on)\n");
    fprintf(out, "  %zu runs: %zu models x %zu resolutions x %zu step counts x %zu dtypes x %zu "
                 "CFG setting%s, %s the target of 3 x 3 x 2 x 2\n",
            c->n_runs, c->plan.n_models, c->plan.n_sides, c->plan.n_steps, c->plan.n_dtypes,
            c->plan.n_cfg, c->plan.n_cfg == 1 ? "" : "s", c->plan.full ? "meeting" : "short of");
}

static void run_line(FILE *out, const esl_calib *c, const esl_calib_run *r)
{
    const esl_calib_point *p = r->point;
    char b[32], flags[256], size[32], peak[16];
    snprintf(size, sizeof size, "%lldx%lld", (long long)p->side, (long long)p->side);
    if (r->peak_tflops > 0)
        snprintf(peak, sizeof peak, "%.1f%%", 100 * r->peak_fraction);
    else
        snprintf(peak, sizeof peak, "-");
    esl_flags_string(flags, sizeof flags, r->flags);
    fprintf(out,
            "%5lld  %-12s %-10s %5lld %3s %-5s %7lld %14s %10.4f %10.2f %7s %12.3f %12.3f "
            "%9.4f  %s%s\n",
            (long long)r->run_id, c->models[p->model]->name, size, (long long)p->steps,
            p->cfg ? "yes" : "no", esl_dtype_name(p->dtype), (long long)r->prompts,
            esl_flops_human(b, r->result.exec_flops), r->result.duration_s,
            r->result.exec_flops / r->result.duration_s / 1e12, peak, r->energy_j, r->dynamic_j,
            r->j_per_tflop, flags[0] ? flags : "-", r->in_fit ? "" : " (not fitted)");
}

int esl_calib_table(FILE *out, const esl_calib *c, double elapsed_s)
{
    if (out == NULL || c == NULL)
        return esl__fail(ESL_EINVAL, "calibration: no stream or calibration");
    fprintf(out, "gpu        %s", c->device);
    if (c->driver[0] != '\0')
        fprintf(out, " (driver %s)", c->driver);
    fprintf(out, "\nprobe      %s 512x512, 2 steps:", c->models[c->probe_model]->name);
    for (size_t k = 0; k < c->n_dtypes; k++)
        fprintf(out, "%s %s %.2f TFLOP/s", k ? "," : "", esl_dtype_name(c->dtypes[k]),
                c->probe_tflops[c->dtypes[k]]);
    fprintf(out, "; %.2f s fixed cost per run\n", c->overhead_s);
    fprintf(out, "time       %.1f s of a %.0f s budget\n", elapsed_s, c->budget_s);
    if (c->n_failed > 0 || c->n_skipped > 0)
        fprintf(out, "left out   %zu failed runs, %zu runs past the budget\n", c->n_failed,
                c->n_skipped);
    fputc('\n', out);
    fprintf(out, "%5s  %-12s %-10s %5s %3s %-5s %7s %14s %10s %10s %7s %12s %12s %9s  %s\n",
            "run", "model", "size", "steps", "cfg", "dtype", "prompts", "executed", "loop s",
            "TFLOP/s", "peak", "energy J", "dynamic J", "J/TFLOP", "flags");
    for (size_t i = 0; i < c->n_runs; i++)
        run_line(out, c, &c->runs[i]);
    fprintf(out, "\n");
    coverage(out, c);
    fprintf(out, "\nlargest configuration against the dense peak:\n");
    for (size_t k = 0; k < c->n_dtypes; k++) {
        const esl_calib_run *r = largest(c, c->dtypes[k]);
        if (r == NULL)
            continue;
        double tflops = r->result.exec_flops / r->result.duration_s / 1e12;
        fprintf(out, "  %-5s %s %lldx%lld, %lld steps: %.2f TFLOP/s", esl_dtype_name(c->dtypes[k]),
                c->models[r->point->model]->name, (long long)r->point->side,
                (long long)r->point->side, (long long)r->point->steps, tflops);
        if (r->peak_tflops > 0)
            fprintf(out, ", %.1f%% of the %.1f TFLOP/s dense peak\n", 100 * r->peak_fraction,
                    r->peak_tflops);
        else
            fprintf(out, " (no dense peak known for this GPU: no ratio)\n");
    }
    fprintf(out, "\n");
    return written(out, "calibration");
}

static json_t *run_json(const esl_calib *c, const esl_calib_run *r)
{
    const esl_calib_point *p = r->point;
    char flags[256];
    json_t *j = json_object();
    json_object_set_new(j, "run_id", r->run_id > 0 ? json_integer(r->run_id) : json_null());
    json_object_set_new(j, "model", json_string(c->models[p->model]->name));
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
    return j;
}

static json_t *coverage_json(const esl_calib *c)
{
    json_t *cov = json_object(), *names = json_array(), *res = json_array(),
           *steps = json_array(), *dt = json_array(), *cfg = json_array();
    int64_t v[16];
    size_t n = levels(c, ESL_CALIB_MODEL, v);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(c->models[v[i]]->name));
    n = levels(c, ESL_CALIB_SIDE, v);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(res, json_integer(v[i]));
    n = levels(c, ESL_CALIB_STEPS, v);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(steps, json_integer(v[i]));
    n = levels(c, ESL_CALIB_DTYPE, v);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(dt, json_string(esl_dtype_name((esl_dtype)v[i])));
    n = levels(c, ESL_CALIB_CFG, v);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(cfg, json_boolean(v[i]));
    json_object_set_new(cov, "models", names);
    json_object_set_new(cov, "resolutions", res);
    json_object_set_new(cov, "steps", steps);
    json_object_set_new(cov, "dtypes", dt);
    json_object_set_new(cov, "cfg", cfg);
    json_object_set_new(cov, "full", json_boolean(c->plan.full));
    return cov;
}

int esl_calib_json(char **out, const esl_calib *c, double elapsed_s, const char *law_file)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "calibration: no output");
    *out = NULL;
    if (c == NULL || c->law == NULL || law_file == NULL)
        return esl__fail(ESL_EINVAL, "calibration: no fitted calibration or law file");
    json_t *law = esl__law_json(c->law);
    if (law == NULL)
        return esl__fail(ESL_ENOMEM, "calibration: out of memory");
    json_t *o = json_object(), *probe = json_object(), *runs = json_array();
    json_object_set_new(o, "gpu", json_string(c->device));
    json_object_set_new(o, "driver", json_string(c->driver));
    json_object_set_new(o, "budget_s", json_real(c->budget_s));
    json_object_set_new(o, "elapsed_s", json_real(elapsed_s));
    json_object_set_new(o, "failed_runs", json_integer((json_int_t)c->n_failed));
    json_object_set_new(o, "runs_left_out_by_budget", json_integer((json_int_t)c->n_skipped));
    json_object_set_new(probe, "model", json_string(c->models[c->probe_model]->name));
    json_object_set_new(probe, "overhead_s", json_real(c->overhead_s));
    for (size_t k = 0; k < c->n_dtypes; k++)
        json_object_set_new(probe, esl_dtype_name(c->dtypes[k]),
                            json_real(c->probe_tflops[c->dtypes[k]]));
    json_object_set_new(o, "probe_tflops", probe);
    for (size_t i = 0; i < c->n_runs; i++)
        json_array_append_new(runs, run_json(c, &c->runs[i]));
    json_object_set_new(o, "runs", runs);
    json_object_set_new(o, "coverage", coverage_json(c));
    json_object_set_new(o, "law_file", json_string(law_file));
    json_object_set_new(o, "law", law);
    int rc = esl_json_text(out, o);
    json_decref(o);
    return rc;
}
