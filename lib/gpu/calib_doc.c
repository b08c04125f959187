/*
 * calib_doc.c - a planned calibration sweep (esl_calib_sweep_init) written
 * for other programs: CSV, one line per configuration, and a JSON document
 * with what the sweep covers; and the time a sweep has left as it runs.
 * The tool prints the table for people; these are the machine-read forms.
 */
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "esl/json.h"

/* ESL_OK when every point of `cp` names one of the n_models models. */
static int check(const esl_calib_sweep *cp, const esl_model *const *models, size_t n_models)
{
    if (cp == NULL || (models == NULL && cp->n_points > 0))
        return esl__fail(ESL_EINVAL, "calibration sweep: no %s", cp == NULL ? "sweep" : "models");
    for (size_t i = 0; i < cp->n_points; i++)
        if (cp->points[i].model >= n_models || models[cp->points[i].model] == NULL)
            return esl__fail(ESL_EINVAL, "calibration sweep: point %zu names model %zu of %zu",
                             i, cp->points[i].model, n_models);
    return ESL_OK;
}

int esl_calib_sweep_csv(FILE *out, const esl_calib_sweep *cp, const esl_model *const *models,
                        size_t n_models)
{
    int rc = out == NULL ? esl__fail(ESL_EINVAL, "calibration sweep: no stream")
                         : check(cp, models, n_models);
    if (rc != ESL_OK)
        return rc;
    fprintf(out, "model,height,width,steps,cfg,dtype,exec_flops,est_s\n");
    for (size_t i = 0; i < cp->n_points; i++) {
        const esl_calib_point *p = &cp->points[i];
        fprintf(out, "%s,%lld,%lld,%lld,%d,%s,%.17g,%.17g\n", models[p->model]->name,
                (long long)p->side, (long long)p->side, (long long)p->steps, p->cfg,
                esl_dtype_name(p->dtype), p->exec_flops, p->est_s);
    }
    return ferror(out) ? esl__fail(ESL_EIO, "calibration sweep: cannot write") : ESL_OK;
}

int esl_calib_sweep_table(FILE *out, const esl_calib_sweep *cp, const esl_model *const *models,
                          size_t n_models, double budget_s)
{
    int rc = out == NULL ? esl__fail(ESL_EINVAL, "calibration sweep: no stream")
                         : check(cp, models, n_models);
    if (rc != ESL_OK)
        return rc;
    char b[32];
    fprintf(out, "%-12s %-10s %5s %3s %-5s %14s %9s\n", "model", "size", "steps", "cfg", "dtype",
            "executed", "est. s");
    for (size_t i = 0; i < cp->n_points; i++) {
        const esl_calib_point *p = &cp->points[i];
        char size[32];
        snprintf(size, sizeof size, "%lldx%lld", (long long)p->side, (long long)p->side);
        fprintf(out, "%-12s %-10s %5lld %3s %-5s %14s %9.1f\n", models[p->model]->name, size,
                (long long)p->steps, p->cfg ? "yes" : "no", esl_dtype_name(p->dtype),
                esl_flops_human(b, p->exec_flops), p->est_s);
    }
    fprintf(out, "\n%zu runs, estimated %.0f s of a %.0f s budget\n", cp->n_points, cp->est_s,
            budget_s);
    fprintf(out, "covers %zu models x %zu resolutions x %zu step counts x %zu dtypes x %zu CFG "
                 "setting%s: %s the target of 3 x 3 x 2 x 2\n",
            cp->n_models, cp->n_sides, cp->n_steps, cp->n_dtypes, cp->n_cfg,
            cp->n_cfg == 1 ? "" : "s", cp->full ? "meets" : "falls short of");
    fprintf(out, "executed FLOPs per image span 10^%.2f to 10^%.2f\n", cp->log10_flops_min,
            cp->log10_flops_max);
    return ferror(out) ? esl__fail(ESL_EIO, "calibration sweep: cannot write") : ESL_OK;
}

int esl_calib_sweep_json(char **out, const esl_calib_sweep *cp, const esl_model *const *models,
                         size_t n_models, double budget_s)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "calibration sweep: no output");
    *out = NULL;
    int rc = check(cp, models, n_models);
    if (rc != ESL_OK)
        return rc;
    json_t *o = json_object(), *pts = json_array();
    json_object_set_new(o, "budget_s", json_real(budget_s));
    json_object_set_new(o, "est_s", json_real(cp->est_s));
    json_object_set_new(o, "models", json_integer((json_int_t)cp->n_models));
    json_object_set_new(o, "resolutions", json_integer((json_int_t)cp->n_sides));
    json_object_set_new(o, "step_counts", json_integer((json_int_t)cp->n_steps));
    json_object_set_new(o, "dtypes", json_integer((json_int_t)cp->n_dtypes));
    json_object_set_new(o, "cfg_levels", json_integer((json_int_t)cp->n_cfg));
    json_object_set_new(o, "full", json_boolean(cp->full));
    json_object_set_new(o, "log10_flops_min", json_real(cp->log10_flops_min));
    json_object_set_new(o, "log10_flops_max", json_real(cp->log10_flops_max));
    for (size_t i = 0; i < cp->n_points; i++) {
        const esl_calib_point *p = &cp->points[i];
        json_t *jp = json_object();
        json_object_set_new(jp, "model", json_string(models[p->model]->name));
        json_object_set_new(jp, "height", json_integer(p->side));
        json_object_set_new(jp, "width", json_integer(p->side));
        json_object_set_new(jp, "steps", json_integer(p->steps));
        json_object_set_new(jp, "cfg", json_boolean(p->cfg));
        json_object_set_new(jp, "dtype", json_string(esl_dtype_name(p->dtype)));
        json_object_set_new(jp, "exec_flops", json_real(p->exec_flops));
        json_object_set_new(jp, "est_s", json_real(p->est_s));
        json_array_append_new(pts, jp);
    }
    json_object_set_new(o, "points", pts);
    rc = esl_json_text(out, o);
    json_decref(o);
    return rc;
}

double esl_calib_time_left(const esl_calib_sweep *cp, size_t done, double elapsed_s,
                           double est_done_s)
{
    if (cp == NULL)
        return NAN;
    double left = 0;
    for (size_t i = done; i < cp->n_points; i++)
        left += cp->points[i].est_s;
    /* scale the plan's estimate by how the sweep has kept to it so far */
    if (est_done_s > 0 && done > 0)
        left *= elapsed_s / est_done_s;
    return left;
}
