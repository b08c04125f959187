/*
 * cmd_bench.c - `esl bench`: the synthetic diffusion workload. With
 * --dry-run it prints the layer plan (each paper term's GPU operations with
 * their shapes, executed FLOPs and the term's paper FLOPs) without a GPU;
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
#include "commands.h"
#include "esl/esl.h"

enum {
    OPT_MODEL = 'm', OPT_ARCH = 'a', OPT_HEIGHT = 'H', OPT_WIDTH = 'W', OPT_STEPS = 'T',
    OPT_PROMPTS = 'N', OPT_BATCH = 'B', OPT_FORMAT = 'f',
    OPT_CFG = 256, OPT_DTYPE, OPT_DRY_RUN, OPT_SEED, OPT_WARMUP, OPT_MODULE,
    OPT_IDLE, OPT_IDLE_W, OPT_HZ, OPT_GPUS, OPT_STORE, OPT_NO_STORE,
};

static const cli_option options[] = {
    {"model", OPT_MODEL, "NAME", "catalogue model"},
    {"arch", OPT_ARCH, "FILE", "a model description file (JSON, docs/model-format.md)"},
    {"height", OPT_HEIGHT, "H", "image height in pixels"},
    {"width", OPT_WIDTH, "W", "image width in pixels"},
    {"steps", OPT_STEPS, "T", "denoising steps (default 50)"},
    {"cfg", OPT_CFG, NULL, "classifier-free guidance, run as a denoiser batch of 2"},
    {"dtype", OPT_DTYPE, "D", "fp16, bf16 (default), fp32 (TF32 off) or tf32"},
    {"prompts", OPT_PROMPTS, "N", "prompt runs one after another (default 1)"},
    {"batch", OPT_BATCH, "B", "images per prompt run (default 1)"},
    {"dry-run", OPT_DRY_RUN, NULL, "print the layer plan and its FLOPs; needs no GPU"},
    {"seed", OPT_SEED, "S", "seed of the random weights (default 1)"},
    {"warmup", OPT_WARMUP, "K", "untimed denoiser passes before timing (default 2)"},
    {"module", OPT_MODULE, "FILE", "the CUDA module (default: beside esl, or $ESL_GPU_MODULE)"},
    {"idle", OPT_IDLE, "D", "measure idle power for D before the run: 1s (default), 500ms, 0 skips"},
    {"idle-w", OPT_IDLE_W, "W", "use W watts as idle power instead of measuring it"},
    {"hz", OPT_HZ, "N", "meter samples per second (default 10)"},
    {"gpus", OPT_GPUS, "LIST", "NVML indices of the GPUs to meter (default 0, the GPU that runs)"},
    {"store", OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"no-store", OPT_NO_STORE, NULL, "do not store the run"},
    {"format", OPT_FORMAT, "F", "output: table (default), csv or json"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    const char *model, *arch;
    int64_t height, width, steps, prompts, batch, seed, warmup;
    int cfg, dry_run;
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
    case OPT_IDLE: return bench_cli_duration("idle", arg, &a->run.idle_s);
    case OPT_IDLE_W:
        a->run.have_idle_w = 1;
        return cli_double("idle-w", arg, 0.0, 1e6, &a->run.idle_w);
    case OPT_HZ: return cli_double("hz", arg, 0.1, 1000.0, &a->run.meter.hz);
    case OPT_GPUS: a->run.meter.gpus = arg; return 0;
    case OPT_STORE: a->run.store = arg; return 0;
    case OPT_NO_STORE: a->run.no_store = 1; return 0;
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
    return EXIT_USAGE;
}

static const char *stage_names[] = {"text", "denoise", "decode"};

/* "MxNxK", "B x MxNxK", "MxNxK 3x3@64x64" or "ROWSxCOLS". */
static const char *shape(char *buf, size_t size, const esl_workload_op *o)
{
    if (o->kind == ESL_KERNEL_GEMM && o->batch > 1)
        snprintf(buf, size, "%lld x %lldx%lldx%lld", (long long)o->batch, (long long)o->m,
                 (long long)o->n, (long long)o->k);
    else if (o->kind == ESL_KERNEL_GEMM)
        snprintf(buf, size, "%lldx%lldx%lld", (long long)o->m, (long long)o->n, (long long)o->k);
    else if (o->kind == ESL_KERNEL_CONV)
        snprintf(buf, size, "%lldx%lldx%lld %lldx%lld@%lldx%lld", (long long)o->m,
                 (long long)o->n, (long long)o->k, (long long)o->conv_k, (long long)o->conv_k,
                 (long long)o->conv_h, (long long)o->conv_w);
    else
        snprintf(buf, size, "%lldx%lld", (long long)o->rows, (long long)o->cols);
    return buf;
}

static const char *role_name(esl_role r)
{
    static const char *const names[] = {"proj", "scores", "values", "ff", "conv", "misc"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "misc";
}

static void print_header_line(const esl_workload *p)
{
    const esl_bench_config *c = &p->config;
    printf("%s (%s), %lldx%lld, %lld steps, %s, %s, %lld prompt run%s x batch %lld\n",
           p->model->name, p->model->display_name ? p->model->display_name : p->model->name,
           (long long)c->request.height, (long long)c->request.width, (long long)c->request.steps,
           c->request.cfg ? "CFG as a denoiser batch of 2" : "no CFG", esl_dtype_name(c->dtype),
           (long long)c->request.prompts, c->request.prompts == 1 ? "" : "s", (long long)c->batch);
}

static void plan_table(const esl_workload *p)
{
    char b1[32], b2[32], sh[64];
    print_header_line(p);
    printf("executed FLOPs: GEMMs and convolutions, 2 per multiply-add; softmax, norms and\n"
           "activations count 0; paper FLOPs: Table 4 per term (docs/calibration.md)\n\n");
    printf("%-14s %-8s %-30s %-7s %-6s %-26s %6s %14s %14s\n", "component", "stage", "term", "kind",
           "role", "shape", "count", "executed/pass", "paper/pass");
    for (size_t t = 0; t < p->n_terms; t++) {
        const esl_workload_term *pt = &p->terms[t];
        const char *comp = p->model->components[pt->component].name;
        cli_human_flops(b2, sizeof b2, (double)pt->paper_flops);
        if (pt->n_ops == 0)
            printf("%-14s %-8s %-30.30s %-7s %-6s %-26s %6d %14s %14s\n", comp,
                   stage_names[pt->stage], pt->label, "-", "-", "(nothing executes)", 0,
                   cli_human_flops(b1, sizeof b1, 0), b2);
        for (size_t o = pt->first_op; o < pt->first_op + pt->n_ops; o++) {
            const esl_workload_op *op = &p->ops[o];
            char role[16];
            snprintf(role, sizeof role, "%s%s", role_name(op->role), op->stream ? "*" : "");
            printf("%-14s %-8s %-30.30s %-7s %-6s %-26s %6lld %14s %14s\n", comp,
                   stage_names[pt->stage], pt->label, esl_kernel_name(op->kind),
                   role, 
                   shape(sh, sizeof sh, op), (long long)op->count,
                   cli_human_flops(b1, sizeof b1, (double)op->flops * (double)op->count),
                   o == pt->first_op ? b2 : "");
        }
    }
    printf("\n* = MMDiT text-token stream (its own weights)\n\n%-8s %7s %7s %16s %16s\n", "stage", "batch",
           "passes", "executed/pass", "paper/pass");
    for (int s = 0; s < 3; s++)
        printf("%-8s %7lld %7lld %16s %16s\n", stage_names[s],
               (long long)(p->config.batch * (s == ESL_STAGE_DENOISE && p->config.request.cfg ? 2 : 1)),
               (long long)p->passes[s],
               cli_human_flops(b1, sizeof b1, (double)p->stage_exec_flops[s]),
               cli_human_flops(b2, sizeof b2, (double)p->stage_paper_flops[s]));
    printf("\n%-32s %16s %16s\n", "", "executed", "paper");
    printf("%-32s %16s %16s\n", "one prompt run",
           cli_human_flops(b1, sizeof b1, (double)p->prompt_exec_flops),
           cli_human_flops(b2, sizeof b2, (double)p->prompt_paper_flops));
    printf("%-32s %16s %16s\n", "the whole run", cli_human_flops(b1, sizeof b1, p->exec_flops),
           cli_human_flops(b2, sizeof b2, p->paper_flops));
    printf("executed / paper: %.4f\n", p->exec_flops / p->paper_flops);
}

static void plan_csv(const esl_workload *p)
{
    printf("model,component,stage,term,op,kind,role,stream,m,n,k,batch,rows,cols,count,passes,"
           "exec_flops_per_pass,term_paper_flops_per_pass\n");
    for (size_t t = 0; t < p->n_terms; t++) {
        const esl_workload_term *pt = &p->terms[t];
        const char *comp = p->model->components[pt->component].name;
        int has_comma = strchr(pt->label, ',') != NULL || strchr(pt->label, '"') != NULL;
        char label[256];
        if (has_comma) {
            size_t j = 0;
            label[j++] = '"';
            for (const char *c = pt->label; *c && j + 3 < sizeof label; c++) {
                if (*c == '"')
                    label[j++] = '"';
                label[j++] = *c;
            }
            label[j++] = '"';
            label[j] = '\0';
        } else {
            snprintf(label, sizeof label, "%s", pt->label);
        }
        if (pt->n_ops == 0)
            printf("%s,%s,%s,%s,%s,none,,,,,,,,,0,%lld,0,%lld\n", p->model->name, comp,
                   stage_names[pt->stage], label, esl_op_name(pt->op),
                   (long long)p->passes[pt->stage], (long long)pt->paper_flops);
        for (size_t o = pt->first_op; o < pt->first_op + pt->n_ops; o++) {
            const esl_workload_op *op = &p->ops[o];
            printf("%s,%s,%s,%s,%s,%s,%s,%d,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld\n",
                   p->model->name, comp, stage_names[pt->stage], label, esl_op_name(pt->op),
                   esl_kernel_name(op->kind), role_name(op->role), op->stream, (long long)op->m,
                   (long long)op->n, (long long)op->k, (long long)op->batch, (long long)op->rows,
                   (long long)op->cols, (long long)op->count, (long long)p->passes[pt->stage],
                   (long long)(op->flops * op->count), (long long)pt->paper_flops);
        }
    }
}

/* An exact integer in JSON when the double holds one, a real otherwise. */
static json_t *json_count(double x)
{
    if (fabs(x) < 9.0e18 && x == floor(x))
        return json_integer((json_int_t)x);
    return json_real(x);
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

static json_t *plan_json(const esl_workload *p)
{
    json_t *o = config_json(p), *terms = json_array(), *stages = json_array();
    for (size_t t = 0; t < p->n_terms; t++) {
        const esl_workload_term *pt = &p->terms[t];
        json_t *jt = json_object(), *ops = json_array();
        json_object_set_new(jt, "component", json_string(p->model->components[pt->component].name));
        json_object_set_new(jt, "stage", json_string(stage_names[pt->stage]));
        json_object_set_new(jt, "term", json_string(pt->label));
        json_object_set_new(jt, "op", json_string(esl_op_name(pt->op)));
        json_object_set_new(jt, "batch", json_integer(pt->batch));
        json_object_set_new(jt, "paper_flops_per_pass", json_integer(pt->paper_flops));
        json_object_set_new(jt, "exec_flops_per_pass", json_integer(pt->exec_flops));
        for (size_t i = pt->first_op; i < pt->first_op + pt->n_ops; i++) {
            const esl_workload_op *op = &p->ops[i];
            json_t *jo = json_object();
            json_object_set_new(jo, "kind", json_string(esl_kernel_name(op->kind)));
            json_object_set_new(jo, "role", json_string(role_name(op->role)));
            json_object_set_new(jo, "stream", json_integer(op->stream));
            if (op->kind == ESL_KERNEL_GEMM || op->kind == ESL_KERNEL_CONV) {
                json_object_set_new(jo, "m", json_integer(op->m));
                json_object_set_new(jo, "n", json_integer(op->n));
                json_object_set_new(jo, "k", json_integer(op->k));
                json_object_set_new(jo, "batch", json_integer(op->batch));
            } else {
                json_object_set_new(jo, "rows", json_integer(op->rows));
                json_object_set_new(jo, "cols", json_integer(op->cols));
            }
            if (op->kind == ESL_KERNEL_CONV) {
                json_object_set_new(jo, "kernel", json_integer(op->conv_k));
                json_object_set_new(jo, "c_in", json_integer(op->conv_c_in));
                json_object_set_new(jo, "grid_h", json_integer(op->conv_h));
                json_object_set_new(jo, "grid_w", json_integer(op->conv_w));
            }
            json_object_set_new(jo, "count", json_integer(op->count));
            json_object_set_new(jo, "flops", json_integer(op->flops));
            json_array_append_new(ops, jo);
        }
        json_object_set_new(jt, "ops", ops);
        json_array_append_new(terms, jt);
    }
    for (int s = 0; s < 3; s++) {
        json_t *js = json_object();
        json_object_set_new(js, "stage", json_string(stage_names[s]));
        json_object_set_new(js, "passes", json_integer(p->passes[s]));
        json_object_set_new(js, "exec_flops_per_pass", json_integer(p->stage_exec_flops[s]));
        json_object_set_new(js, "paper_flops_per_pass", json_integer(p->stage_paper_flops[s]));
        json_array_append_new(stages, js);
    }
    json_object_set_new(o, "terms", terms);
    json_object_set_new(o, "stages", stages);
    json_object_set_new(o, "prompt_exec_flops", json_integer(p->prompt_exec_flops));
    json_object_set_new(o, "prompt_paper_flops", json_integer(p->prompt_paper_flops));
    json_object_set_new(o, "exec_flops", json_count(p->exec_flops));
    json_object_set_new(o, "paper_flops", json_count(p->paper_flops));
    return o;
}

static void print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (text != NULL)
        puts(text);
    free(text);
    json_decref(doc);
}

/* A JSON real, or null for a figure that is not known (0 or not finite). */
static json_t *json_known(double x)
{
    return isfinite(x) && x != 0 ? json_real(x) : json_null();
}

static void print_run(const args *a, const esl_workload *p, const bench_run *run,
                      const char *store)
{
    char b1[32], b2[32], flags[256];
    const esl_bench_result *r = &run->result;
    const esl_efficiency *e = &run->total;
    const esl_record *rec = run->record;
    esl_peak peak = {0};
    int have_peak = e->peak_tflops > 0 && esl_peak_find(&peak, r->device, p->config.dtype) == ESL_OK;
    esl_flags_string(flags, sizeof flags, rec->flags);
    if (a->format == FORMAT_JSON) {
        json_t *o = config_json(p);
        json_object_set_new(o, "device", json_string(r->device));
        json_object_set_new(o, "duration_s", json_real(r->duration_s));
        json_object_set_new(o, "exec_flops", json_count(r->exec_flops));
        json_object_set_new(o, "paper_flops", json_count(r->paper_flops));
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
        printf("%-10s %s executed, %s in the paper convention\n", "compute",
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
              .run = {.meter = {.kind = ESL_METER_NVML, .gpus = "0"}, .idle_s = 1.0,
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
        .batch = a.batch, .dtype = a.dtype,
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
            plan_csv(p);
        else
            plan_table(p);
        rc = EXIT_OK;
        goto done;
    }

    bench_cli b;
    bench_run run;
    memset(&run, 0, sizeof run);
    a.run.seed = (uint64_t)a.seed;
    a.run.warmup = (int)a.warmup;
    if ((rc = bench_cli_open(&b, &a.run, "bench")) == 0 && (rc = bench_cli_run(&b, p, "bench", &run)) == 0) {
        print_run(&a, p, &run, a.run.store);
        unsigned doubtful = bench_cli_doubtful(run.record);
        if (doubtful) {
            char flags[256];
            cli_error("bench: the energy is doubtful (%s): see docs/measurement.md",
                      esl_flags_string(flags, sizeof flags, doubtful));
        }
    }
    bench_cli_run_release(&run);
    bench_cli_close(&b);
done:
    esl_workload_free(p);
    esl_model_free(m);
    return rc;
}

const cli_command cmd_bench = {
    "bench", run_bench, "run a model's real layer shapes on the GPU with random weights",
    "(--model NAME | --arch FILE) --height H --width W [--steps T] [--cfg] [--dtype D] "
    "[--prompts N] [--batch B] [--idle D | --idle-w W] [--store FILE | --no-store] [--dry-run] "
    "[--format table|csv|json]",
    "Expands the model into its GPU operations (GEMMs, attention, convolutions as implicit\n"
    "GEMM, softmax, norms, activations) and runs them with seeded random weights: text\n"
    "encoders and decoder once per image, the denoiser T times (CFG as a batch of 2), N\n"
    "prompt runs of B images one after another. The NVML meter measures idle power first,\n"
    "then the timed loop; the run is stored with the labels of a dataset row (esl runs\n"
    "export). Prints achieved TFLOP/s against the GPU's dense peak, the energy and joules per\n"
    "TFLOP. --dry-run prints the plan without a GPU. Exit status 3 when no GPU, NVIDIA\n"
    "driver or CUDA module is available; ESL_GPU_MODULE names the module (docs/esl-bench.md).",
    options,
};
