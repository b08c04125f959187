/*
 * cmd_bench.c - `esl bench`: the synthetic diffusion workload. With
 * --dry-run it prints the workload without a GPU: the exact-convention layer
 * plan grouped by component and layer kind, with shapes and executed FLOPs,
 * and beside the totals the paper convention's FLOPs and FLOPs_cfg;
 * otherwise it runs the plan through the CUDA module under the NVML meter
 * (bench_cli.c), stores the run as a dataset row and prints the time, the
 * achieved TFLOP/s against the GPU's dense peak, the energy and joules per
 * TFLOP.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_cli.h"
#include "cli.h"
#include "emit.h"
#include "commands.h"
#include "esl/esl.h"

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

static const char *stage_names[] = {"text", "denoise", "decode"};

static void print_header_line(const esl_workload *p)
{
    const esl_bench_config *c = &p->config;
    printf("%s (%s), %lldx%lld, %lld steps, %s, %s, %lld prompt run%s x batch %lld\n",
           p->model->name, p->model->display_name ? p->model->display_name : p->model->name,
           (long long)c->request.height, (long long)c->request.width, (long long)c->request.steps,
           c->request.cfg ? "CFG as a denoiser batch of 2" : "no CFG", esl_dtype_name(c->dtype),
           (long long)c->request.prompts, c->request.prompts == 1 ? "" : "s", (long long)c->batch);
}

/* A paper-convention count, or "-" for a model without paper terms. */
static const char *paper_text(char *buf, size_t size, const esl_workload *p, double flops)
{
    if (!p->has_paper)
        return "-";
    return cli_human_flops(buf, size, flops);
}

/* Calls `fn` for every op, grouped by component, then by layer kind. */
/* The table's running group: a subtotal line when the kind changes. */
typedef struct table_group {
    size_t component;
    int kind;        /* -1 before the first op */
    int64_t flops;
    size_t layers;
} table_group;

/* "= N layers" and their executed FLOPs, closing a group. */
static void table_subtotal(const table_group *g)
{
    char b[32], total[48];
    if (g->kind < 0)
        return;
    snprintf(total, sizeof total, "= %zu layer%s", g->layers, g->layers == 1 ? "" : "s");
    printf("%-14s %-8s %-11s %-40s %-26s %6s %5s %14s\n", "", "", "", total, "", "", "",
           cli_human_flops(b, sizeof b, (double)g->flops));
}

static void table_row(const esl_workload *p, const esl_workload_op *op, void *ctx)
{
    table_group *g = ctx;
    const esl_layer *l = op->layer;
    char b[32], sh[64];
    if (g->kind != (int)l->kind || g->component != op->component) {
        table_subtotal(g);
        g->component = op->component;
        g->kind = (int)l->kind;
        g->flops = 0;
        g->layers = 0;
    }
    g->flops += op->flops;
    g->layers++;
    printf("%-14s %-8s %-11s %-40.40s %-26s %6lld %5lld %14s\n",
           p->layers->components[op->component].name, esl_stage_name(op->stage),
           esl_layer_kind_name(l->kind), l->name, esl_layer_shape(sh, sizeof sh, l), (long long)l->count,
           (long long)op->batch, cli_human_flops(b, sizeof b, (double)op->flops));
}

static void plan_table(const esl_workload *p)
{
    char b1[32], b2[32], b3[32];
    print_header_line(p);
    printf("executed FLOPs: the exact convention (docs/flops.md), every layer of the model's layer\n"
           "plan, 2 per multiply-add; element passes count the plan's FLOPs per element by definition.\n"
           "paper FLOPs: the paper convention (Table 4 terms), whose FLOPs_cfg the law uses.\n\n");
    printf("%-14s %-8s %-11s %-40s %-26s %6s %5s %14s\n", "component", "stage", "kind", "layer",
           "shape", "count", "batch", "executed/pass");
    table_group g = {0, -1, 0, 0};
    esl_workload_each_op(p, table_row, &g);
    table_subtotal(&g);
    printf("\n%-8s %7s %7s %16s\n", "stage", "batch", "passes", "executed/pass");
    for (int s = 0; s < 3; s++)
        printf("%-8s %7lld %7lld %16s\n", stage_names[s], (long long)p->batch[s],
               (long long)p->passes[s], cli_human_flops(b1, sizeof b1, (double)p->stage_exec_flops[s]));
    printf("\n%-36s %16s\n", "executed, one prompt run",
           cli_human_flops(b1, sizeof b1, (double)p->prompt_exec_flops));
    printf("%-36s %16s\n", "executed, the whole run (exact)", cli_human_flops(b1, sizeof b1, p->exec_flops));
    printf("%-36s %16s\n", "paper convention, the whole run", paper_text(b2, sizeof b2, p, p->paper_flops));
    printf("%-36s %16s\n", "paper FLOPs_cfg, the law's regressor",
           paper_text(b3, sizeof b3, p, p->paper_flops_cfg));
    if (p->has_paper)
        printf("executed / paper: %.4f\n", p->exec_flops / p->paper_flops);
}

static json_t *config_json(const esl_workload *p)
{
    const esl_bench_config *c = &p->config;
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(p->model->name));
    json_object_set_new(o, "height", json_integer(c->request.height));
    json_object_set_new(o, "width", json_integer(c->request.width));
    json_object_set_new(o, "steps", json_integer(c->request.steps));
    json_object_set_new(o, "cfg", json_boolean(c->request.cfg));
    json_object_set_new(o, "dtype", json_string(esl_dtype_name(c->dtype)));
    json_object_set_new(o, "prompts", json_integer(c->request.prompts));
    json_object_set_new(o, "batch", json_integer(c->batch));
    return o;
}

static void json_row(const esl_workload *p, const esl_workload_op *op, void *ctx)
{
    const esl_layer *l = op->layer;
    json_t *jl = json_object();
    json_object_set_new(jl, "component", json_string(p->layers->components[op->component].name));
    json_object_set_new(jl, "stage", json_string(esl_stage_name(op->stage)));
    json_object_set_new(jl, "kind", json_string(esl_layer_kind_name(l->kind)));
    json_object_set_new(jl, "layer", json_string(l->name));
    json_object_set_new(jl, "kernel", json_string(esl_workload_kernel_name(op->kind)));
    json_object_set_new(jl, "count", json_integer(l->count));
    json_object_set_new(jl, "batch", json_integer(op->batch));
    switch (l->kind) {
    case ESL_LAYER_LINEAR:
        json_object_set_new(jl, "m", json_integer(l->m));
        json_object_set_new(jl, "n", json_integer(l->n));
        json_object_set_new(jl, "k", json_integer(l->k));
        json_object_set_new(jl, "bias", json_boolean(l->bias));
        break;
    case ESL_LAYER_ATTENTION:
        json_object_set_new(jl, "heads", json_integer(l->heads));
        json_object_set_new(jl, "q_len", json_integer(l->q_len));
        json_object_set_new(jl, "kv_len", json_integer(l->kv_len));
        json_object_set_new(jl, "head_dim", json_integer(l->head_dim));
        json_object_set_new(jl, "linear_attention", json_boolean(l->linear_attention));
        break;
    case ESL_LAYER_CONV:
        json_object_set_new(jl, "c_in", json_integer(l->c_in));
        json_object_set_new(jl, "c_out", json_integer(l->c_out));
        json_object_set_new(jl, "kernel", json_integer(l->kh));
        json_object_set_new(jl, "stride", json_integer(l->stride));
        json_object_set_new(jl, "groups", json_integer(l->groups));
        json_object_set_new(jl, "kt", json_integer(l->kt));
        json_object_set_new(jl, "h_out", json_integer(l->h_out));
        json_object_set_new(jl, "w_out", json_integer(l->w_out));
        json_object_set_new(jl, "bias", json_boolean(l->bias));
        break;
    default:
        json_object_set_new(jl, "elements", json_integer(l->elements));
        json_object_set_new(jl, "flops_per_element", json_integer(l->flops_per_element));
    }
    json_object_set_new(jl, "exec_flops_per_pass", json_integer(op->flops));
    json_array_append_new(ctx, jl);
}

static json_t *plan_json(const esl_workload *p)
{
    json_t *o = config_json(p), *layers = json_array(), *stages = json_array();
    esl_workload_each_op(p, json_row, layers);
    for (int s = 0; s < 3; s++) {
        json_t *js = json_object();
        json_object_set_new(js, "stage", json_string(stage_names[s]));
        json_object_set_new(js, "batch", json_integer(p->batch[s]));
        json_object_set_new(js, "passes", json_integer(p->passes[s]));
        json_object_set_new(js, "exec_flops_per_pass", json_integer(p->stage_exec_flops[s]));
        json_array_append_new(stages, js);
    }
    json_object_set_new(o, "convention", json_string("exact"));
    json_object_set_new(o, "layers", layers);
    json_object_set_new(o, "stages", stages);
    json_object_set_new(o, "prompt_exec_flops", json_integer(p->prompt_exec_flops));
    json_object_set_new(o, "exec_flops", emit_count(p->exec_flops));
    json_object_set_new(o, "paper_flops", p->has_paper ? emit_count(p->paper_flops) : json_null());
    json_object_set_new(o, "paper_flops_cfg",
                        p->has_paper ? emit_count(p->paper_flops_cfg) : json_null());
    return o;
}

static void print_json(json_t *doc)
{
    emit_json(doc);
    json_decref(doc);
}

/* A JSON real, or null for a figure that is not known (0 or not finite). */
static json_t *json_known(double x)
{
    return isfinite(x) && x != 0 ? json_real(x) : json_null();
}

static void print_run(const args *a, const esl_workload *p, const esl_bench_measured *run,
                      const char *store)
{
    char b1[32], b2[32], flags[256];
    const esl_bench_result *r = &run->result;
    const esl_bench_efficiency *e = &run->total;
    const esl_record *rec = run->record;
    esl_bench_peak peak = {0};
    int have_peak = e->peak_tflops > 0 && esl_bench_peak_find(&peak, r->device, p->config.dtype) == ESL_OK;
    esl_flags_string(flags, sizeof flags, rec->flags);
    if (a->format == FORMAT_JSON) {
        json_t *o = config_json(p);
        json_object_set_new(o, "device", json_string(r->device));
        json_object_set_new(o, "duration_s", json_real(r->duration_s));
        json_object_set_new(o, "exec_flops", emit_count(r->exec_flops));
        json_object_set_new(o, "paper_flops", emit_count(r->paper_flops));
        json_object_set_new(o, "achieved_tflops", json_real(e->achieved_tflops));
        json_object_set_new(o, "peak_tflops", have_peak ? json_real(e->peak_tflops) : json_null());
        json_object_set_new(o, "peak_fraction", have_peak ? json_real(e->peak_fraction) : json_null());
        json_object_set_new(o, "meter_duration_s", json_real(rec->duration_s));
        json_object_set_new(o, "energy_j", json_real(rec->energy_j));
        json_object_set_new(o, "idle_w", json_real(rec->idle_w));
        json_object_set_new(o, "dynamic_j", json_real(rec->dynamic_j));
        json_object_set_new(o, "joules_per_tflop", json_known(e->joules_per_tflop));
        json_object_set_new(o, "dynamic_joules_per_tflop",
                            json_known(run->dynamic.joules_per_tflop));
        json_object_set_new(o, "flags", json_string(flags));
        json_object_set_new(o, "run_id", run->run_id > 0 ? json_integer(run->run_id) : json_null());
        print_json(o);
    } else if (a->format == FORMAT_CSV) {
        printf("model,height,width,steps,cfg,dtype,prompts,batch,device,duration_s,exec_flops,"
               "paper_flops,achieved_tflops,peak_tflops,peak_fraction,energy_j,dynamic_j,idle_w,"
               "joules_per_tflop,run_id\n");
        printf("%s,%lld,%lld,%lld,%d,%s,%lld,%lld,\"%s\",%.17g,%.17g,%.17g,%.17g,", p->model->name,
               (long long)p->config.request.height, (long long)p->config.request.width,
               (long long)p->config.request.steps, p->config.request.cfg,
               esl_dtype_name(p->config.dtype), (long long)p->config.request.prompts,
               (long long)p->config.batch, r->device, r->duration_s, r->exec_flops, r->paper_flops,
               e->achieved_tflops);
        if (have_peak)
            printf("%.17g,%.17g,", e->peak_tflops, e->peak_fraction);
        else
            printf(",,");
        printf("%.17g,%.17g,%.17g,", rec->energy_j, rec->dynamic_j, rec->idle_w);
        if (e->joules_per_tflop > 0)
            printf("%.17g", e->joules_per_tflop);
        if (run->run_id > 0)
            printf(",%lld\n", (long long)run->run_id);
        else
            printf(",\n");
    } else {
        print_header_line(p);
        printf("%-10s %s (compute capability %d.%d)\n", "device", r->device, r->cc_major,
               r->cc_minor);
        printf("%-10s %.6f s (the timed loop; meter window %.6f s)\n", "duration", r->duration_s,
               rec->duration_s);
        printf("%-10s %s executed (exact convention), %s in the paper convention\n", "compute",
               cli_human_flops(b1, sizeof b1, r->exec_flops),
               cli_human_flops(b2, sizeof b2, r->paper_flops));
        if (have_peak)
            printf("%-10s %.2f TFLOP/s, %.1f%% of the %.1f TFLOP/s dense %s peak of %s\n",
                   "achieved", e->achieved_tflops, 100.0 * e->peak_fraction, e->peak_tflops,
                   esl_dtype_name(p->config.dtype), peak.gpu);
        else
            printf("%-10s %.2f TFLOP/s (no %s peak known for this GPU: no ratio)\n", "achieved",
                   e->achieved_tflops, esl_dtype_name(p->config.dtype));
        printf("%-10s %.3f J total, %.3f J dynamic (idle %.2f W subtracted)\n", "energy",
               rec->energy_j, rec->dynamic_j, rec->idle_w);
        if (e->joules_per_tflop > 0)
            printf("%-10s %.4f J/TFLOP total", "efficiency", e->joules_per_tflop);
        else
            printf("%-10s - J/TFLOP total", "efficiency");
        if (run->dynamic.joules_per_tflop > 0)
            printf(", %.4f J/TFLOP dynamic\n", run->dynamic.joules_per_tflop);
        else
            printf(", - J/TFLOP dynamic (no energy above idle)\n");
        printf("%-10s %s\n", "flags", flags[0] ? flags : "-");
        if (run->run_id > 0)
            printf("%-10s run %lld in %s\n", "stored", (long long)run->run_id, store);
    }
}

static int run_bench(const cli_command *cmd, int argc, char **argv)
{
    args a = {.steps = 50, .prompts = 1, .batch = 1, .seed = 1, .warmup = 2,
              .dtype = ESL_DTYPE_BF16,
              .run = {.meter = {.kind = ESL_METER_NVML, .gpus = "0"}, .idle_s = 5.0,
                      .store = "esl-runs.db"}};
    int first, rc, status;

    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("bench: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
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
    status = a.arch ? esl_model_load(&m, a.arch) : esl_catalog_find(&m, a.model);
    esl_bench_config c = {
        .request = {.height = a.height, .width = a.width, .steps = a.steps, .prompts = a.prompts,
                    .cfg = a.cfg},
        .batch = a.batch, .dtype = a.dtype, .strict_fp32 = a.strict_fp32,
    };
    if (status == ESL_OK)
        status = esl_workload_new(&p, m, &c);
    if (status != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    if (a.dry_run) {
        if (a.format == FORMAT_JSON)
            print_json(plan_json(p));
        else if (a.format == FORMAT_CSV)
            status = esl_workload_csv(stdout, p);
        else
            plan_table(p);
        rc = status == ESL_OK ? EXIT_OK : cli_fail(status);
        goto done;
    }

    bench_cli b;
    esl_bench_measured run;
    memset(&run, 0, sizeof run);
    a.run.seed = (uint64_t)a.seed;
    a.run.warmup = (int)a.warmup;
    if ((rc = bench_cli_open(&b, &a.run, "bench")) == 0 && (rc = bench_cli_run(&b, p, "bench", &run)) == 0) {
        print_run(&a, p, &run, a.run.store);
        unsigned doubtful = run.record->flags & ESL_FLAGS_DOUBTFUL;
        if (doubtful) {
            char flags[256];
            cli_error("bench: the energy is doubtful (%s): see docs/measurement.md",
                      esl_flags_string(flags, sizeof flags, doubtful));
        }
    }
    esl_bench_measured_release(&run);
    bench_cli_close(&b);
done:
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
