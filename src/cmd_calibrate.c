/*
 * cmd_calibrate.c - `esl calibrate --dry-run`: the sweep the calibration
 * planner would measure within a time budget, its estimated time and which
 * parts of the paper's grid it covers. Times come from assumed throughputs
 * (--tflops) or a fraction of the GPU's dense peak (--gpu), since a dry run
 * has no probe. Running the sweep under the energy meter is not part of
 * this build: the command says so and exits 2 without --dry-run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

enum {
    OPT_BUDGET = 'b', OPT_FORMAT = 'f',
    OPT_MODELS = 256, OPT_DTYPES, OPT_TFLOPS, OPT_GPU, OPT_OVERHEAD, OPT_NO_CFG, OPT_DRY_RUN,
};

static const cli_option options[] = {
    {"budget", OPT_BUDGET, "TIME", "time for the whole sweep: 300, 300s, 5m or 1h (default 5m)"},
    {"models", OPT_MODELS, "LIST", "comma-separated models (default flux-dev,sd35-large,sd2)"},
    {"dtypes", OPT_DTYPES, "LIST", "precisions to calibrate (default bf16,fp32)"},
    {"tflops", OPT_TFLOPS, "LIST", "assumed throughput per dtype, e.g. bf16=400,fp32=45"},
    {"gpu", OPT_GPU, "NAME", "assume half the dense peak of this GPU (data/gpu_peaks.csv)"},
    {"overhead", OPT_OVERHEAD, "S", "fixed seconds per run: allocation, warm-up (default 2)"},
    {"no-cfg", OPT_NO_CFG, NULL, "calibrate without classifier-free guidance only"},
    {"dry-run", OPT_DRY_RUN, NULL, "print the planned sweep; needs no GPU"},
    {"format", OPT_FORMAT, "F", "output: table (default), csv or json"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    double budget_s, overhead_s;
    const char *models, *dtypes, *tflops, *gpu;
    int no_cfg, dry_run;
    cli_format format;
} args;

/* "300", "300s", "5m", "1h" -> seconds. */
static int parse_budget(const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end), unit = 1;
    if (end != arg && strcmp(end, "m") == 0)
        unit = 60;
    else if (end != arg && strcmp(end, "h") == 0)
        unit = 3600;
    else if (end == arg || (*end != '\0' && strcmp(end, "s") != 0))
        v = -1;
    if (!(v > 0) || !isfinite(v)) {
        cli_error("option --budget: '%s' is not a positive time (300, 300s, 5m, 1h)", arg);
        return EXIT_USAGE;
    }
    *out = v * unit;
    return 0;
}

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_BUDGET: return parse_budget(arg, &a->budget_s);
    case OPT_MODELS: a->models = arg; return 0;
    case OPT_DTYPES: a->dtypes = arg; return 0;
    case OPT_TFLOPS: a->tflops = arg; return 0;
    case OPT_GPU: a->gpu = arg; return 0;
    case OPT_OVERHEAD: return cli_double("overhead", arg, 0, 3600, &a->overhead_s);
    case OPT_NO_CFG: a->no_cfg = 1; return 0;
    case OPT_DRY_RUN: a->dry_run = 1; return 0;
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return EXIT_USAGE;
}

/* Fill s_per_flop for the dtypes asked for, from --tflops or --gpu. */
static int throughputs(const args *a, double s_per_flop[4])
{
    char list[256];
    snprintf(list, sizeof list, "%s", a->dtypes);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        esl_dtype d;
        if (esl_dtype_parse(&d, name) != ESL_OK) {
            cli_error("option --dtypes: '%s' is not one of fp16, bf16, fp32, tf32", name);
            return EXIT_USAGE;
        }
        double tflops = 0;
        if (a->tflops != NULL) {
            const char *at = strstr(a->tflops, name);
            size_t len = strlen(name);
            while (at != NULL && !((at == a->tflops || at[-1] == ',') && at[len] == '='))
                at = strstr(at + 1, name);
            char *end = NULL;
            if (at != NULL)
                tflops = strtod(at + len + 1, &end);
            if (at == NULL || end == at + len + 1 || (*end != ',' && *end != '\0') ||
                !(tflops > 0) || !isfinite(tflops)) {
                cli_error("option --tflops: no positive throughput for %s in '%s'", name, a->tflops);
                return EXIT_USAGE;
            }
        } else {
            esl_peak peak;
            if (esl_peak_find(&peak, a->gpu, d) != ESL_OK) {
                cli_error("calibrate: %s; give --tflops instead", esl_error_last());
                return EXIT_USAGE;
            }
            tflops = 0.5 * peak.tflops;
        }
        s_per_flop[d] = 1.0 / (tflops * 1e12);
    }
    return 0;
}

static void print_plan(const args *a, const esl_calib_plan *cp, esl_model **models)
{
    char b[32];
    if (a->format == FORMAT_CSV) {
        printf("model,height,width,steps,cfg,dtype,exec_flops,est_s\n");
        for (size_t i = 0; i < cp->n_points; i++) {
            const esl_calib_point *p = &cp->points[i];
            printf("%s,%lld,%lld,%lld,%d,%s,%.17g,%.17g\n", models[p->model]->name,
                   (long long)p->side, (long long)p->side, (long long)p->steps, p->cfg,
                   esl_dtype_name(p->dtype), p->exec_flops, p->est_s);
        }
        return;
    }
    if (a->format == FORMAT_JSON) {
        json_t *o = json_object(), *pts = json_array();
        json_object_set_new(o, "budget_s", json_real(a->budget_s));
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
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        if (text != NULL)
            puts(text);
        free(text);
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

static int run_calibrate(const cli_command *cmd, int argc, char **argv)
{
    args a = {.budget_s = 300, .overhead_s = 2, .models = "flux-dev,sd35-large,sd2",
              .dtypes = "bf16,fp32"};
    int first, rc, status = ESL_OK;
    esl_model *models[8] = {0};
    size_t n = 0;

    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("calibrate: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (!a.dry_run) {
        cli_error("calibrate: only --dry-run is available in this build (the measured sweep "
                  "needs the energy meter)");
        return EXIT_USAGE;
    }
    if ((a.tflops == NULL) == (a.gpu == NULL)) {
        cli_error("calibrate: give exactly one of --tflops LIST or --gpu NAME to estimate times");
        return EXIT_USAGE;
    }
    esl_calib_opts o = {.budget_s = a.budget_s, .overhead_s = a.overhead_s, .cfg_both = !a.no_cfg};
    if ((rc = throughputs(&a, o.s_per_flop)) != 0)
        return rc;

    char list[512];
    snprintf(list, sizeof list, "%s", a.models);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL && status == ESL_OK;
         name = strtok_r(NULL, ",", &save)) {
        if (n == 8) {
            cli_error("option --models: at most 8 models");
            rc = EXIT_USAGE;
            goto done;
        }
        if ((status = esl_catalog_find(&models[n], name)) == ESL_OK)
            n++;
    }
    esl_calib_plan cp;
    if (status == ESL_OK)
        status = esl_calib_plan_make(&cp, (const esl_model *const *)models, n, &o);
    if (status != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    print_plan(&a, &cp, models);
    esl_calib_plan_release(&cp);
    rc = EXIT_OK;
done:
    for (size_t i = 0; i < n; i++)
        esl_model_free(models[i]);
    return rc;
}

const cli_command cmd_calibrate = {
    "calibrate", run_calibrate, "plan a calibration sweep of this GPU within a time budget",
    "--dry-run (--tflops LIST | --gpu NAME) [--budget TIME] [--models LIST] [--dtypes LIST] "
    "[--no-cfg] [--format table|csv|json]",
    "Chooses models x resolutions x steps x dtype x CFG from the paper's grid so that the\n"
    "sweep fits the budget, keeping the widest spread of FLOPs and aiming at 3 models x\n"
    "3 resolutions x 2 step counts x 2 dtypes (docs/calibration.md). With --dry-run the\n"
    "times are estimated from assumed throughputs; measuring needs the energy meter.",
    options,
};
