/*
 * cmd_calibrate.c - `esl calibrate`: a law for this GPU in minutes. A short
 * probe of the largest model measures the GPU's throughput per dtype and the
 * fixed cost of a run; the calibration planner chooses the sweep of the
 * paper's grid that fits the time budget; each configuration runs under the
 * NVML meter, repeating prompts until it lasts --min-run, and is stored; the
 * runs become a dataset and the paper-form law is fitted and written (-o).
 * All of that is libesl's (esl_calib_measure, esl_calib_fit); the tool opens
 * the meter and store (bench_cli.h), and shows progress and ETA on stderr
 * when it is a terminal. With --dry-run the sweep is only planned, from
 * assumed throughputs (--tflops) or half a GPU's dense peak (--gpu).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_cli.h"
#include "commands.h"
#include "esl/esl.h"

#define MAX_MODELS 8
/* Seconds between the probe and the idle baseline. */
#define IDLE_SETTLE_S 2.0

typedef struct args {
    double budget_s, overhead_s, min_run_s;
    int64_t order_seed;
    const char *models, *dtypes, *tflops, *gpu, *output;
    int no_cfg, dry_run, quiet, strict_fp32;
    int64_t seed, warmup;
    cli_format format;
    bench_cli_opts run;
} args;

/* The planned sweep of a dry run, as a table, CSV or JSON: 0 or an exit code. */
static int calibrate_print_plan(const args *a, const esl_calib_sweep *cp, esl_model **models,
                                size_t n_models)
{
    const esl_model *const *m = (const esl_model *const *)models;
    if (a->format == FORMAT_CSV) {
        esl_calib_sweep_csv(stdout, cp, m, n_models);
    } else if (a->format == FORMAT_JSON) {
        char *text = NULL;
        int status = esl_calib_sweep_json(&text, cp, m, n_models, a->budget_s);
        if (status != ESL_OK)
            return cli_fail(status);
        fputs(text, stdout);
        free(text);
    } else {
        esl_calib_sweep_table(stdout, cp, m, n_models, a->budget_s);
    }
    return 0;
}

/* A calibration's event (esl_calib_setup.on_event): a message on stderr,
 * or the progress line when ctx, an int, says to show it (stderr is a
 * terminal and not --quiet). */
static void calibrate_on_event(void *ctx, const esl_calib_event *ev)
{
    const int *show_progress = ctx;
    if (ev->kind != ESL_CALIB_PROGRESS) {
        if (ev->kind == ESL_CALIB_UNFITTED && *show_progress)
            fputc('\n', stderr);
        cli_error("%s", ev->message);
    } else if (*show_progress) {
        fprintf(stderr, "\r%s\033[K%s", ev->message, ev->next != NULL ? "" : "\n");
        fflush(stderr);
    }
}

/* The measured calibration as a table or JSON, its law written to
 * `law_path`. Returns 0 or an exit code. */
static int calibrate_print(const args *a, const esl_calib *c, double elapsed_s, const char *law_path)
{
    if (a->format == FORMAT_JSON) {
        char *text = NULL;
        int rc = esl_calib_json(&text, c, elapsed_s, law_path);
        if (rc != ESL_OK)
            return cli_fail(rc);
        fputs(text, stdout);
        free(text);
        return 0;
    }
    esl_calib_table(stdout, c, elapsed_s);
    esl_law_write_text(stdout, c->law, 0);
    printf("\nlaw written to %s\n", law_path);
    return 0;
}

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

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_BUDGET:
        if (esl_calib_budget_parse(&a->budget_s, arg) == ESL_OK)
            return 0;
        cli_error("option --budget: %s", esl_error_last());
        return EXIT_USAGE;
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

/* ---- the measured calibration ---- */

/* Probe, sweep and fit (esl_calib_measure, esl_calib_fit), write the law. */
static int measure(const args *a, esl_model **models, size_t n_models)
{
    esl_dtype dtypes[4];
    size_t n_dtypes;
    int rc = parse_dtypes(a, dtypes, &n_dtypes);
    if (rc != 0)
        return rc;
    /* The idle baseline is the calibration's to take, after its probe. */
    bench_cli_opts first = a->run;
    int measure_idle = !a->run.have_idle_w && a->run.idle_s > 0.0;
    if (measure_idle) {
        first.idle_s = 0.0;
        first.cooldown_s = 0.0;
    }
    char module[PATH_MAX + 64], law_buf[320];
    int show_progress = !a->quiet && isatty(STDERR_FILENO);
    esl_calib_setup setup = {
        .models = (const esl_model *const *)models, .n_models = n_models,
        .dtypes = dtypes, .n_dtypes = n_dtypes, .budget_s = a->budget_s,
        .min_run_s = a->min_run_s, .cfg_both = !a->no_cfg, .strict_fp32 = a->strict_fp32,
        .order_seed = (uint64_t)a->order_seed,
        .bench = {.module = a->run.module ? a->run.module
                                          : esl_bench_module_find(module, sizeof module, NULL),
                  .seed = a->run.seed, .warmup = a->run.warmup},
        .labels = a->run.labels, .n_labels = a->run.n_labels,
        .settle_s = IDLE_SETTLE_S + a->run.cooldown_s, .idle_s = measure_idle ? a->run.idle_s : 0,
        .on_event = calibrate_on_event, .ctx = &show_progress,
    };
    const char *law_path = a->output;
    esl_calib *c = NULL;
    bench_cli b;
    if ((rc = bench_cli_open(&b, &first, "calibrate")) != 0)
        goto out;
    if ((rc = esl_calib_measure(&c, b.meter, b.store, &setup)) != ESL_OK) {
        rc = cli_fail(rc);
        goto out;
    }
    if (esl_calib_fit(c) != ESL_OK) {
        cli_error("calibrate: %s (the runs are stored)", esl_error_last());
        rc = EXIT_FAIL;
        goto out;
    }
    if (law_path == NULL) {
        esl_calib_law_name(law_buf, sizeof law_buf, c->device);
        law_path = law_buf;
    }
    if ((rc = esl_calib_save_law(c, law_path)) != ESL_OK) {
        cli_error("calibrate: cannot write the law: %s", esl_error_last());
        rc = EXIT_FAIL;
    } else {
        rc = calibrate_print(a, c, esl_meter_clock_s(b.meter) - c->started_s, law_path);
    }
out:
    esl_calib_free(c);
    bench_cli_close(&b);
    return rc;
}

static int run_calibrate(const cli_command *cmd, int argc, char **argv)
{
    args a = {.budget_s = 300, .overhead_s = 2, .min_run_s = 5, .models = "flux-dev,sd35-large,sd2",
              .dtypes = "bf16,fp32", .seed = 1, .warmup = 1, .order_seed = 1,
              .run = {.meter = {.kind = ESL_METER_NVML, .gpus = "0"}, .idle_s = 5.0,
                      .store = "esl-runs.db"}};
    int rc, status = ESL_OK;
    esl_model *models[MAX_MODELS] = {0};
    size_t n = 0;
    esl_calib_opts o = {0};

    if ((rc = cli_parse_all(cmd, argc, argv, on_option, &a)) != 0)
        return rc;
    if (a.dry_run) {
        if ((a.tflops == NULL) == (a.gpu == NULL)) {
            cli_error("calibrate: give exactly one of --tflops LIST or --gpu NAME to estimate times");
            return EXIT_USAGE;
        }
        o = (esl_calib_opts){.budget_s = a.budget_s, .overhead_s = a.overhead_s,
                             .cfg_both = !a.no_cfg};
        esl_dtype dtypes[4];
        size_t n_dtypes;
        if ((rc = parse_dtypes(&a, dtypes, &n_dtypes)) != 0)
            return rc;
        if (esl_calib_assume(o.s_per_flop, dtypes, n_dtypes, a.tflops, a.gpu) != ESL_OK) {
            if (a.tflops != NULL)
                cli_error("option --tflops: %s", esl_error_last());
            else
                cli_error("calibrate: %s; give --tflops instead", esl_error_last());
            return EXIT_USAGE;
        }
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

    if ((status = esl_calib_models_find(models, MAX_MODELS, &n, a.models)) != ESL_OK) {
        if (status == ESL_ERANGE)
            cli_error("option --models: %s", esl_error_last());
        return status == ESL_ERANGE ? EXIT_USAGE : cli_fail(status);
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
    rc = calibrate_print_plan(&a, &cp, models, n);
    esl_calib_sweep_release(&cp);
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
