/*
 * cmd_bench.c - `esl bench`: the synthetic diffusion workload. With
 * --dry-run it prints the workload without a GPU (esl_workload_table, _csv,
 * _json); otherwise it runs it in a libesl measuring session (the NVML
 * meter, the run store, the CUDA module), stored as a dataset row, and
 * prints the run (esl_bench_measured_table, _csv, _json). The "meter"
 * option group and --label, which `esl calibrate` shares, are handled here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cli.h"
#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

/* Print libesl's detail after `who: ` and return the exit code of rc. */
static int fail(const char *who, int rc)
{
    cli_error("%s: %s", who, esl_error_last());
    return cli_exit_code(rc);
}

int bench_cli_option(bench_cli_opts *o, int key, const char *arg)
{
    switch (key) {
    case BENCH_OPT_IDLE_W:
        o->have_idle_w = 1;
        return cli_double("idle-w", arg, 0.0, 1e6, &o->idle_w);
    case BENCH_OPT_HZ: return cli_double("hz", arg, 0.1, 1000.0, &o->meter.hz);
    case BENCH_OPT_GPUS: o->meter.gpus = arg; return 0;
    case BENCH_OPT_STORE: o->store = arg; return 0;
    }
    return BENCH_CLI_NOT_MINE;
}

int bench_cli_label(bench_cli_opts *o, const char *arg)
{
    return esl_bench_session_label(o, arg) == ESL_OK ? 0 : fail("option --label", ESL_EINVAL);
}

int bench_cli_open(bench_cli *b, const bench_cli_opts *opts, const char *who)
{
    int rc = esl_bench_session_open(b, opts);
    return rc == ESL_OK ? 0 : fail(who, rc);
}

int bench_cli_run(bench_cli *b, const esl_workload *plan, const char *who, esl_bench_measured *out)
{
    int rc = esl_bench_session_run(out, b, plan);
    return rc == ESL_OK ? 0 : fail(who, rc);
}

enum {
    OPT_MODEL = 'm', OPT_ARCH = 'a', OPT_HEIGHT = 'H', OPT_WIDTH = 'W', OPT_STEPS = 'T',
    OPT_PROMPTS = 'N', OPT_BATCH = 'B', OPT_FORMAT = 'f',
    OPT_CFG = 256, OPT_DTYPE, OPT_DRY_RUN, OPT_SEED, OPT_WARMUP, OPT_MODULE,
    OPT_IDLE, OPT_NO_STORE, OPT_STRICT_FP32, OPT_LABEL,
};

static const cli_option options[] = {
    {"model", OPT_MODEL, "NAME", "catalogue model"},
    {"arch", OPT_ARCH, "FILE", "a model description file (JSON, docs/model-format.md)"},
    CLI_GROUP("size"),
    {"cfg", OPT_CFG, NULL, "classifier-free guidance, run as a denoiser batch of 2"},
    {"dtype", OPT_DTYPE, "D", "fp16, bf16 (default), fp32 (PyTorch's defaults: TF32 convolutions) or tf32"},
    {"strict-fp32", OPT_STRICT_FP32, NULL, "fp32: convolutions in true FP32 too (cudnn.allow_tf32 off)"},
    {"prompts", OPT_PROMPTS, "N", "prompt runs one after another (default 1)"},
    {"batch", OPT_BATCH, "B", "images per prompt run (default 1)"},
    {"dry-run", OPT_DRY_RUN, NULL, "print the layer plan and its FLOPs; needs no GPU"},
    {"seed", OPT_SEED, "S", "seed of the random weights (default 1)"},
    {"warmup", OPT_WARMUP, "K", "untimed denoiser passes before timing (default 2)"},
    {"module", OPT_MODULE, "FILE", "the CUDA module (default: beside esl, or $ESL_GPU_MODULE)"},
    {"idle", OPT_IDLE, "D", "measure idle power for D before the run: 5s (default), 500ms, 0 skips"},
    CLI_GROUP("meter"),
    {"no-store", OPT_NO_STORE, NULL, "do not store the run"},
    {"label", OPT_LABEL, "KEY=VALUE", "one more label for the stored run; repeatable"},
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    const char *model, *arch;
    int64_t height, width, steps, prompts, batch, seed, warmup;
    int cfg, dry_run, strict_fp32;
    esl_dtype dtype;
    cli_format format;
    bench_cli_opts run;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_MODEL: a->model = arg; return 0;
    case OPT_ARCH: a->arch = arg; return 0;
    case OPT_MODULE: a->run.module = arg; return 0;
    case OPT_IDLE: return cli_duration("idle", arg, &a->run.idle_s);
    case OPT_NO_STORE: a->run.no_store = 1; return 0;
    case OPT_LABEL: return bench_cli_label(&a->run, arg);
    case OPT_STRICT_FP32: a->strict_fp32 = 1; return 0;
    case OPT_HEIGHT: return cli_int("height", arg, 1, INT64_MAX, &a->height);
    case OPT_WIDTH: return cli_int("width", arg, 1, INT64_MAX, &a->width);
    case OPT_STEPS: return cli_int("steps", arg, 1, INT64_MAX, &a->steps);
    case OPT_PROMPTS: return cli_int("prompts", arg, 1, INT64_MAX, &a->prompts);
    case OPT_BATCH: return cli_int("batch", arg, 1, 1 << 20, &a->batch);
    case OPT_SEED: return cli_int("seed", arg, 0, INT64_MAX, &a->seed);
    case OPT_WARMUP: return cli_int("warmup", arg, 0, 1000, &a->warmup);
    case OPT_CFG: a->cfg = 1; return 0;
    case OPT_DRY_RUN: a->dry_run = 1; return 0;
    case OPT_DTYPE:
        if (esl_dtype_parse(&a->dtype, arg) != ESL_OK) {
            cli_error("option --dtype: '%s' is not one of fp16, bf16, fp32, tf32", arg);
            return EXIT_USAGE;
        }
        return 0;
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return bench_cli_option(&a->run, key, arg);
}

/* Print a document the library wrote into *text (a table or CSV went
 * straight to stdout): the exit code of `status`. */
static int printed(char **text, int status)
{
    if (*text != NULL)
        fputs(*text, stdout);
    free(*text);
    return status == ESL_OK ? EXIT_OK : cli_fail(status);
}

static int run_bench(const cli_command *cmd, int argc, char **argv)
{
    args a = {.steps = 50, .prompts = 1, .batch = 1, .seed = 1, .warmup = 2,
              .dtype = ESL_DTYPE_BF16,
              .run = {.meter = {.kind = ESL_METER_NVML, .gpus = "0"}, .idle_s = 5.0,
                      .store = "esl-runs.db"}};
    int rc, status;

    if ((rc = cli_parse_all(cmd, argc, argv, on_option, &a)) != 0)
        return rc;
    if ((a.model == NULL) == (a.arch == NULL)) {
        cli_error("bench: give exactly one of --model NAME or --arch FILE");
        return EXIT_USAGE;
    }
    if (a.height == 0 || a.width == 0) {
        cli_error("bench: --height and --width are required");
        return EXIT_USAGE;
    }

    esl_model *m = NULL;
    esl_workload *p = NULL;
    char *text = NULL;
    status = a.arch ? esl_model_load(&m, a.arch) : esl_catalog_find(&m, a.model);
    esl_bench_config c = {
        .request = {.height = a.height, .width = a.width, .steps = a.steps, .prompts = a.prompts,
                    .cfg = a.cfg},
        .batch = a.batch, .dtype = a.dtype, .strict_fp32 = a.strict_fp32,
    };
    if (status == ESL_OK)
        status = esl_workload_new(&p, m, &c);
    if (status != ESL_OK)
        rc = cli_fail(status);
    else if (a.dry_run)
        rc = printed(&text, a.format == FORMAT_JSON  ? esl_workload_json(&text, p)
                            : a.format == FORMAT_CSV ? esl_workload_csv(stdout, p)
                                                     : esl_workload_table(stdout, p));
    else {
        bench_cli b;
        esl_bench_measured run;
        memset(&run, 0, sizeof run);
        a.run.seed = (uint64_t)a.seed;
        a.run.warmup = (int)a.warmup;
        if ((rc = bench_cli_open(&b, &a.run, "bench")) == 0 &&
            (rc = bench_cli_run(&b, p, "bench", &run)) == 0) {
            status = a.format == FORMAT_JSON  ? esl_bench_measured_json(&text, p, &run)
                     : a.format == FORMAT_CSV ? esl_bench_measured_csv(stdout, p, &run)
                                              : esl_bench_measured_table(stdout, p, &run, a.run.store);
            rc = printed(&text, status);
        }
        unsigned doubtful = rc == 0 ? run.record->flags & ESL_FLAGS_DOUBTFUL : 0;
        if (doubtful) {
            char flags[256];
            cli_error("bench: the energy is doubtful (%s): see docs/measurement.md",
                      esl_flags_string(flags, sizeof flags, doubtful));
        }
        esl_bench_measured_release(&run);
        bench_cli_close(&b);
    }
    esl_workload_free(p);
    esl_model_free(m);
    return rc;
}

const cli_command cmd_bench = {
    "bench", run_bench, "run a model's real layer shapes on the GPU with random weights",
    "(--model NAME | --arch FILE) --height H --width W [OPTIONS]",
    "Runs the model's exact layer plan (the layers esl flops --convention exact sums) on the\n"
    "GPU with seeded random weights: linear layers as GEMMs, attention as batched GEMMs\n"
    "around a softmax, convolutions as implicit GEMM, norms, activations and the rest as\n"
    "element kernels; text encoders and decoder once per image, the denoiser T times (CFG\n"
    "as a batch of 2), N prompt runs of B images one after another. The executed FLOPs are\n"
    "the exact convention's. The NVML meter measures idle power first, then the timed loop;\n"
    "the run is stored with the labels of a dataset row (esl runs export). Prints achieved\n"
    "TFLOP/s against the GPU's dense peak, the energy and joules per TFLOP. --dry-run prints\n"
    "the layer plan without a GPU. Exit status 3 when no GPU, NVIDIA driver or CUDA module\n"
    "is available; ESL_GPU_MODULE names the module (docs/esl-bench.md).",
    options,
};
