/*
 * cmd_calibrate.c - `esl calibrate`: a law for this GPU in minutes. A short
 * probe of the largest model measures the GPU's throughput per dtype and the
 * fixed cost of a run; the calibration planner chooses the sweep of the
 * paper's grid that fits the time budget; each configuration runs under the
 * NVML meter (bench_cli.c), repeating prompts until it lasts --min-run, and
 * is stored; the runs become a dataset and the paper-form law is fitted and
 * written (-o). Progress and ETA go to stderr when it is a terminal. With
 * --dry-run the sweep is only planned, from assumed throughputs (--tflops)
 * or half a GPU's dense peak (--gpu).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "calibrate.h"
#include "commands.h"
#include "law_cli.h"
#include "esl/esl.h"

#define MAX_MODELS 8
/* Seconds between the probe and the idle baseline. */
#define IDLE_SETTLE_S 2.0
/* The least a run may overrun the budget by before the guard stops a sweep. */
#define BUDGET_SLACK_MIN_S 10.0

enum {
    OPT_BUDGET = 'b', OPT_FORMAT = 'f', OPT_OUTPUT = 'o', OPT_QUIET = 'q',
    OPT_MODELS = 256, OPT_DTYPES, OPT_TFLOPS, OPT_GPU, OPT_OVERHEAD, OPT_NO_CFG, OPT_DRY_RUN,
    OPT_IDLE, OPT_MODULE, OPT_MIN_RUN, OPT_WARMUP,
    OPT_SEED, OPT_STRICT_FP32, OPT_ORDER_SEED, OPT_COOLDOWN,
};

static const cli_option options[] = {
    {"budget", OPT_BUDGET, "TIME", "time for the whole calibration: 300, 300s, 5m or 1h (default 5m)"},
    {"models", OPT_MODELS, "LIST", "comma-separated models (default flux-dev,sd35-large,sd2)"},
    {"dtypes", OPT_DTYPES, "LIST", "precisions to calibrate (default bf16,fp32)"},
    {"no-cfg", OPT_NO_CFG, NULL, "calibrate without classifier-free guidance only"},
    {"strict-fp32", OPT_STRICT_FP32, NULL, "fp32 convolutions in true FP32 too (default: TF32, as PyTorch)"},
    {"output", OPT_OUTPUT, "FILE", "write the fitted law here (default law-GPU.json, GPU's name)"},
    {"min-run", OPT_MIN_RUN, "S", "repeat prompts until a run lasts S seconds (default 5)"},
    {"idle", OPT_IDLE, "D", "measure idle power for D first: 5s (default), 500ms, 0 skips"},
    {"cooldown", OPT_COOLDOWN, "D", "wait D before the idle window, for the GPU to cool (default 0)"},
    {"order-seed", OPT_ORDER_SEED, "S", "seed of the random order of the runs (default 1; 0: grid order)"},
    CLI_GROUP("meter"),
    {"module", OPT_MODULE, "FILE", "the CUDA module (default: beside esl, or $ESL_GPU_MODULE)"},
    {"warmup", OPT_WARMUP, "K", "untimed denoiser passes before each run (default 1)"},
    {"seed", OPT_SEED, "S", "seed of the random weights (default 1)"},
    {"quiet", OPT_QUIET, NULL, "no progress bar"},
    {"dry-run", OPT_DRY_RUN, NULL, "print the planned sweep; needs no GPU"},
    {"tflops", OPT_TFLOPS, "LIST", "dry run: assumed throughput per dtype, e.g. bf16=400,fp32=45"},
    {"gpu", OPT_GPU, "NAME", "dry run: assume half the dense peak of this GPU (data/gpu_peaks.csv)"},
    {"overhead", OPT_OVERHEAD, "S", "dry run: fixed seconds per run (default 2)"},
    {"format", OPT_FORMAT, "F", "output: table (default) or json; csv for a dry run's plan"},
    {NULL, 0, NULL, NULL},
};

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
    case OPT_STRICT_FP32: a->strict_fp32 = 1; return 0;
    case OPT_DRY_RUN: a->dry_run = 1; return 0;
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_QUIET: a->quiet = 1; return 0;
    case OPT_MIN_RUN: return cli_double("min-run", arg, 0, 600, &a->min_run_s);
    case OPT_IDLE: return cli_duration("idle", arg, &a->run.idle_s);
    case OPT_MODULE: a->run.module = arg; return 0;
    case OPT_WARMUP: return cli_int("warmup", arg, 0, 1000, &a->warmup);
    case OPT_SEED: return cli_int("seed", arg, 0, INT64_MAX, &a->seed);
    case OPT_ORDER_SEED: return cli_int("order-seed", arg, 0, INT64_MAX, &a->order_seed);
    case OPT_COOLDOWN: return cli_duration("cooldown", arg, &a->run.cooldown_s);
    }
    return bench_cli_option(&a->run, key, arg);
}

/* The dtypes of --dtypes, each once. Returns 0 or an exit code. */
static int parse_dtypes(const args *a, esl_dtype out[4], size_t *n)
{
    if (esl_dtype_list_parse(out, n, a->dtypes) != ESL_OK) {
        cli_error("option --dtypes: %s", esl_error_last());
        return EXIT_USAGE;
    }
    return 0;
}

static int throughputs(const args *a, double s_per_flop[4])
{
    esl_dtype dtypes[4];
    size_t n;
    int rc = parse_dtypes(a, dtypes, &n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        esl_dtype d = dtypes[i];
        double tflops = 0;
        if (a->tflops != NULL) {
            if (esl_calib_throughput(&tflops, a->tflops, d) != ESL_OK) {
                cli_error("option --tflops: %s", esl_error_last());
                return EXIT_USAGE;
            }
        } else {
            esl_bench_peak peak;
            if (esl_bench_peak_find(&peak, a->gpu, d) != ESL_OK) {
                cli_error("calibrate: %s; give --tflops instead", esl_error_last());
                return EXIT_USAGE;
            }
            tflops = 0.5 * peak.tflops;
        }
        s_per_flop[d] = 1.0 / (tflops * 1e12);
    }
    return 0;
}

/* ---- the measured calibration ---- */

/* The probe: the model with the most denoiser FLOPs at 512x512, 2 steps,
 * once per dtype, unmetered: seconds per executed FLOP and the fixed cost
 * of a run (the call's wall time beyond the timed loop). */
static int probe(sweep *s, bench_cli *b, esl_calib_opts *o)
{
    esl_bench_config c;
    int rc = esl_calib_probe(&s->probe_model, &c, (const esl_model *const *)s->models,
                             s->n_models, ESL_DTYPE_BF16);
    if (rc != ESL_OK)
        return cli_fail(rc);
    for (size_t k = 0; k < s->n_dtypes; k++) {
        esl_workload *p = NULL;
        esl_bench_result r;
        c.dtype = s->dtypes[k];
        double wall_s;
        if ((rc = esl_workload_new(&p, s->models[s->probe_model], &c)) != ESL_OK)
            return cli_fail(rc);
        rc = bench_cli_probe(b, p, "calibrate: probe", &r, &wall_s);
        esl_workload_free(p);
        if (rc != 0)
            return rc;
        if (!(r.duration_s > 0) || !(r.exec_flops > 0)) {
            cli_error("calibrate: probe: the GPU module reported %g s for %g FLOPs", r.duration_s,
                      r.exec_flops);
            return EXIT_FAIL;
        }
        o->s_per_flop[s->dtypes[k]] = r.duration_s / r.exec_flops;
        s->probe_tflops[s->dtypes[k]] = r.exec_flops / r.duration_s / 1e12;
        if (wall_s - r.duration_s > s->overhead_s)
            s->overhead_s = wall_s - r.duration_s;
        snprintf(s->device, sizeof s->device, "%s", r.device);
    }
    return 0;
}

/* Run every planned point under the meter, store it, and append the rows
 * of those fit for a law to s->data (esl_dataset_append_run). */
static int run_points(sweep *s, bench_cli *b, double min_run_s)
{
    double est_done = 0;
    s->runs = calloc(s->plan.n_points ? s->plan.n_points : 1, sizeof *s->runs);
    if (s->runs == NULL) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    int consecutive = 0;
    for (size_t i = 0; i < s->plan.n_points; i++) {
        const esl_calib_point *pt = &s->plan.points[i];
        /* The budget guard: a run that would end well past the budget is
         * not started, and the law is fitted on what was measured. The
         * estimates are guesses, so "well past" allows a quarter of the
         * budget (10 s at least); callers with a hard deadline (check.sh)
         * leave that room. */
        double elapsed = esl_meter_clock_s(b->meter) - s->started_s;
        double slack = fmax(0.25 * s->a->budget_s, BUDGET_SLACK_MIN_S);
        if (s->n_runs > 0 && elapsed + pt->est_s > s->a->budget_s + slack) {
            s->n_skipped = s->plan.n_points - i;
            cli_error("calibrate: the budget of %g s is spent after %.0f s: %zu of %zu runs are "
                      "left out, the law is fitted on the %zu measured", s->a->budget_s, elapsed,
                      s->n_skipped, s->plan.n_points, s->n_runs);
            break;
        }
        calibrate_print_progress(s, esl_meter_clock_s(b->meter) - s->started_s, i, est_done, pt);
        int64_t prompts = esl_calib_prompts(pt, s->probe_tflops[pt->dtype], min_run_s);
        esl_bench_config c = {
            .request = {.height = pt->side, .width = pt->side, .steps = pt->steps,
                        .prompts = prompts, .cfg = pt->cfg},
            .batch = 1, .dtype = pt->dtype, .strict_fp32 = s->a->strict_fp32,
        };
        esl_workload *p = NULL;
        esl_bench_measured r;
        int rc = esl_workload_new(&p, s->models[pt->model], &c);
        if (rc != ESL_OK) {
            cli_fail(rc);
            return cli_exit_code(rc);
        }
        memset(&r, 0, sizeof r);
        rc = bench_cli_run(b, p, "calibrate", &r);
        esl_workload_free(p);
        if (rc != 0) {
            /* A failed point is reported (above) and skipped: the law is
             * fitted on the others. No device, or three failures in a row,
             * ends the sweep. */
            esl_bench_measured_release(&r);
            s->n_failed++;
            consecutive++;
            cli_error("calibrate: run of %s %lldx%lld, %lld steps, %s failed; going on",
                      s->models[pt->model]->name, (long long)pt->side, (long long)pt->side,
                      (long long)pt->steps, esl_dtype_name(pt->dtype));
            if (rc == EXIT_NODEV || consecutive >= 3) {
                cli_error("calibrate: %s: stopping after %zu runs",
                          rc == EXIT_NODEV ? "the GPU is gone" : "three runs failed in a row",
                          s->n_runs + s->n_failed);
                s->n_skipped = s->plan.n_points - i - 1;
                break;
            }
            est_done += pt->est_s;
            continue;
        }
        consecutive = 0;
        sweep_run *sr = &s->runs[s->n_runs++];
        sr->point = pt;
        sr->prompts = prompts;
        sr->run_id = r.run_id;
        sr->result = r.result;
        sr->energy_j = r.record->energy_j;
        sr->dynamic_j = r.record->dynamic_j;
        sr->meter_s = r.record->duration_s;
        sr->j_per_tflop = r.total.joules_per_tflop;
        sr->peak_tflops = r.total.peak_tflops;
        sr->peak_fraction = r.total.peak_fraction;
        sr->flags = r.record->flags;
        unsigned why = r.record->flags & ESL_FLAGS_DOUBTFUL;
        sr->in_fit = !why && r.record->dynamic_j > 0;
        if (!sr->in_fit) {
            char flags[256];
            if (!s->a->quiet && isatty(STDERR_FILENO))
                fputc('\n', stderr);
            cli_error("calibrate: run %lld (%s %lldx%lld, %lld steps, %s) kept out of the fit: %s",
                      (long long)r.run_id, s->models[pt->model]->name, (long long)pt->side,
                      (long long)pt->side, (long long)pt->steps, esl_dtype_name(pt->dtype),
                      why ? esl_flags_string(flags, sizeof flags, why) : "no energy above idle");
        }
        if (s->driver[0] == '\0')
            snprintf(s->driver, sizeof s->driver, "%s", r.record->driver_version);
        if (sr->in_fit) {
            esl_run run = {.id = r.run_id, .labels = r.labels.labels, .n_labels = r.labels.n,
                           .record = r.record};
            if ((rc = esl_dataset_append_run(s->data, &run, s->models[pt->model])) != ESL_OK) {
                esl_bench_measured_release(&r);
                return cli_fail(rc);
            }
        }
        esl_bench_measured_release(&r);
        est_done += pt->est_s;
    }
    double elapsed = esl_meter_clock_s(b->meter) - s->started_s;
    calibrate_print_progress(s, elapsed, s->plan.n_points, est_done, NULL);
    return 0;
}

/* Fit the paper-form law on the runs' rows and write it. */
static int fit_and_write(sweep *s)
{
    char *json = NULL;
    int rc = esl_law_fit(&s->law, s->data, NULL);
    if (rc != ESL_OK) {
        size_t fitted = 0;
        for (size_t i = 0; i < s->n_runs; i++)
            fitted += (size_t)s->runs[i].in_fit;
        cli_error("calibrate: fitting the law on %zu of %zu runs: %s (the runs are stored)",
                  fitted, s->n_runs, esl_error_last());
        return EXIT_FAIL;
    }
    if ((rc = esl_law_to_json(&json, s->law)) != ESL_OK)
        return cli_fail(rc);
    s->law_path = s->a->output;
    if (s->law_path == NULL) {
        esl_calib_law_name(s->law_path_buf, sizeof s->law_path_buf, s->device);
        s->law_path = s->law_path_buf;
    }
    /* written under a temporary name and renamed: an error leaves no half law */
    cli_file f;
    if (cli_file_open(&f, s->law_path, "calibrate: cannot write the law") != 0) {
        free(json);
        return EXIT_FAIL;
    }
    fputs(json, f.f);
    fputc('\n', f.f);
    free(json);
    return cli_file_commit(&f, "calibrate: cannot write the law");
}

static int measure(const args *a, esl_model **models, size_t n_models)
{
    sweep s;
    bench_cli b;
    int rc;
    memset(&s, 0, sizeof s);
    s.a = a;
    s.models = models;
    s.n_models = n_models;
    if ((rc = parse_dtypes(a, s.dtypes, &s.n_dtypes)) != 0)
        return rc;
    esl_calib_opts o = {.cfg_both = !a->no_cfg};
    /* The idle baseline is taken after the probe, with the CUDA context
     * resident as it is during the runs, once NVML's utilisation (an
     * average over up to a second) has let go of the probe's work. */
    bench_cli_opts first = a->run;
    int measure_idle = !a->run.have_idle_w && a->run.idle_s > 0.0;
    if (measure_idle) {
        first.idle_s = 0.0;
        first.cooldown_s = 0.0;
    }
    if ((rc = bench_cli_open(&b, &first, "calibrate")) != 0)
        goto out;
    /* the budget runs on the meter's clock, from the meter's opening on */
    s.started_s = esl_meter_clock_s(b.meter);
    if ((rc = probe(&s, &b, &o)) != 0)
        goto out;
    if (measure_idle) {
        double wait_s = IDLE_SETTLE_S + a->run.cooldown_s;
        struct timespec ts = {(time_t)wait_s, (long)((wait_s - (double)(time_t)wait_s) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        int e = esl_meter_measure_idle(b.meter, a->run.idle_s);
        if (e != ESL_OK) {
            cli_error("calibrate: %s", esl_error_last());
            rc = cli_exit_code(e);
            goto out;
        }
    }
    /* Each run costs the probe's fixed cost plus at least --min-run: the
     * planner's per-run overhead, so that the estimate stays an upper bound. */
    o.overhead_s = s.overhead_s + a->min_run_s;
    o.budget_s = a->budget_s - (esl_meter_clock_s(b.meter) - s.started_s);
    if (o.budget_s <= 0) {
        cli_error("calibrate: the budget of %g s is spent by the idle window and the probe",
                  a->budget_s);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = esl_calib_sweep_init(&s.plan, (const esl_model *const *)models, n_models, &o)) != ESL_OK) {
        cli_error("calibrate: %s", esl_error_last());
        rc = cli_exit_code(rc);
        goto out;
    }
    s.have_plan = 1;
    esl_calib_sweep_shuffle(&s.plan, (uint64_t)a->order_seed);
    if ((rc = esl_dataset_new(&s.data, "calibration runs", ESL_CONVENTION_PAPER)) != ESL_OK) {
        rc = cli_fail(rc);
        goto out;
    }
    rc = run_points(&s, &b, a->min_run_s);
    if (rc == 0)
        rc = fit_and_write(&s);
    if (rc == 0 && a->format == FORMAT_JSON)
        rc = calibrate_print_json(&s, esl_meter_clock_s(b.meter) - s.started_s);
    else if (rc == 0)
        calibrate_print_table(&s, esl_meter_clock_s(b.meter) - s.started_s);
out:
    esl_dataset_free(s.data);
    free(s.runs);
    esl_law_free(s.law);
    if (s.have_plan)
        esl_calib_sweep_release(&s.plan);
    bench_cli_close(&b);
    return rc;
}

static int run_calibrate(const cli_command *cmd, int argc, char **argv)
{
    args a = {.budget_s = 300, .overhead_s = 2, .min_run_s = 5, .models = "flux-dev,sd35-large,sd2",
              .dtypes = "bf16,fp32", .seed = 1, .warmup = 1, .order_seed = 1,
              .run = {.meter = {.kind = ESL_METER_NVML, .gpus = "0"}, .idle_s = 5.0,
                      .store = "esl-runs.db"}};
    int first, rc, status = ESL_OK;
    esl_model *models[MAX_MODELS] = {0};
    size_t n = 0;
    esl_calib_opts o = {0};

    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("calibrate: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.dry_run) {
        if ((a.tflops == NULL) == (a.gpu == NULL)) {
            cli_error("calibrate: give exactly one of --tflops LIST or --gpu NAME to estimate times");
            return EXIT_USAGE;
        }
        o = (esl_calib_opts){.budget_s = a.budget_s, .overhead_s = a.overhead_s,
                             .cfg_both = !a.no_cfg};
        if ((rc = throughputs(&a, o.s_per_flop)) != 0)
            return rc;
    } else {
        if (a.tflops != NULL || a.gpu != NULL) {
            cli_error("calibrate: --tflops and --gpu are for --dry-run (a measured calibration "
                      "probes the GPU)");
            return EXIT_USAGE;
        }
        if (a.format == FORMAT_CSV) {
            cli_error("calibrate: --format csv is for --dry-run (esl runs export writes the "
                      "measured runs as CSV)");
            return EXIT_USAGE;
        }
        a.run.seed = (uint64_t)a.seed;
        a.run.warmup = (int)a.warmup;
    }

    char list[512];
    snprintf(list, sizeof list, "%s", a.models);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL && status == ESL_OK;
         name = strtok_r(NULL, ",", &save)) {
        if (n == MAX_MODELS) {
            cli_error("option --models: at most %d models", MAX_MODELS);
            rc = EXIT_USAGE;
            goto done;
        }
        if ((status = esl_catalog_find(&models[n], name)) == ESL_OK)
            n++;
    }
    if (status != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    if (!a.dry_run) {
        rc = measure(&a, models, n);
        goto done;
    }
    esl_calib_sweep cp;
    if ((status = esl_calib_sweep_init(&cp, (const esl_model *const *)models, n, &o)) != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    calibrate_print_plan(&a, &cp, models, n);
    esl_calib_sweep_release(&cp);
    rc = EXIT_OK;
done:
    for (size_t i = 0; i < n; i++)
        esl_model_free(models[i]);
    return rc;
}

const cli_command cmd_calibrate = {
    "calibrate", run_calibrate, "fit the energy law for this GPU within a time budget",
    "[OPTIONS] | --dry-run (--tflops LIST | --gpu NAME) [--overhead S]",
    "Probes the GPU's throughput with the largest model, then chooses models x resolutions x\n"
    "steps x dtype x CFG from the paper's grid so that the sweep fits the budget, keeping the\n"
    "widest spread of FLOPs and aiming at 3 models x 3 resolutions x 2 step counts x 2 dtypes\n"
    "(docs/calibration.md). Each configuration runs under the NVML meter like esl bench,\n"
    "repeating prompts until it lasts --min-run, and is stored; the runs are fitted with the\n"
    "paper's law (Eq. 3/4) and the law is written with -o. Progress and ETA go to stderr when\n"
    "it is a terminal. With --dry-run the times are estimated from assumed throughputs.\n"
    "Exit status 3 when no GPU, NVIDIA driver or CUDA module is available.",
    options,
};
