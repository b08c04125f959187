/*
 * bench_doc.c - a workload and its measured run written out, the forms
 * `esl bench` prints: the layer plan as a table for people (grouped by
 * component and layer kind, with subtotals and both conventions' totals)
 * and as a JSON document; a measured run as a JSON document, one CSV line
 * and a short report. They live beside the workload so that any program
 * running one shows it exactly as the tool does. The plan's CSV is
 * esl_workload_csv (plan.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "esl/json.h"
#include "esl/meter.h"

/* A paper-convention count, or "-" for a model without paper terms. */
static const char *paper_text(char buf[32], const esl_workload *p, double flops)
{
    return p->has_paper ? esl_flops_human(buf, flops) : "-";
}

static void header_line(FILE *out, const esl_workload *p)
{
    const esl_bench_config *c = &p->config;
    fprintf(out, "%s (%s), %lldx%lld, %lld steps, %s, %s, %lld prompt run%s x batch %lld\n",
            p->model->name, p->model->display_name ? p->model->display_name : p->model->name,
            (long long)c->request.height, (long long)c->request.width,
            (long long)c->request.steps, c->request.cfg ? "CFG as a denoiser batch of 2" : "no CFG",
            esl_dtype_name(c->dtype), (long long)c->request.prompts,
            c->request.prompts == 1 ? "" : "s", (long long)c->batch);
}

/* The table's running group: a subtotal line when the kind changes. */
typedef struct table_group {
    FILE *out;
    size_t component;
    int kind; /* -1 before the first op */
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
    fprintf(g->out, "%-14s %-8s %-11s %-40s %-26s %6s %5s %14s\n", "", "", "", total, "", "", "",
            esl_flops_human(b, (double)g->flops));
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
    fprintf(g->out, "%-14s %-8s %-11s %-40.40s %-26s %6lld %5lld %14s\n",
            p->layers->components[op->component].name, esl_stage_name(op->stage),
            esl_layer_kind_name(l->kind), l->name, esl_layer_shape(sh, sizeof sh, l),
            (long long)l->count, (long long)op->batch, esl_flops_human(b, (double)op->flops));
}

int esl_workload_table(FILE *out, const esl_workload *p)
{
    if (out == NULL || p == NULL)
        return esl__fail(ESL_EINVAL, "workload table: no stream or workload");
    char b1[32], b2[32], b3[32];
    header_line(out, p);
    fprintf(out, "executed FLOPs: the exact convention (docs/flops.md), every layer of the model's "
                 "layer\nplan, 2 per multiply-add; element passes count the plan's FLOPs per "
                 "element by definition.\npaper FLOPs: the paper convention (Table 4 terms), "
                 "whose FLOPs_cfg the law uses.\n\n");
    fprintf(out, "%-14s %-8s %-11s %-40s %-26s %6s %5s %14s\n", "component", "stage", "kind",
            "layer", "shape", "count", "batch", "executed/pass");
    table_group g = {out, 0, -1, 0, 0};
    esl_workload_each_op(p, table_row, &g);
    table_subtotal(&g);
    fprintf(out, "\n%-8s %7s %7s %16s\n", "stage", "batch", "passes", "executed/pass");
    for (int s = 0; s < 3; s++)
        fprintf(out, "%-8s %7lld %7lld %16s\n", esl_stage_name((esl_stage)s), (long long)p->batch[s],
                (long long)p->passes[s], esl_flops_human(b1, (double)p->stage_exec_flops[s]));
    fprintf(out, "\n%-36s %16s\n", "executed, one prompt run",
            esl_flops_human(b1, (double)p->prompt_exec_flops));
    fprintf(out, "%-36s %16s\n", "executed, the whole run (exact)", esl_flops_human(b1, p->exec_flops));
    fprintf(out, "%-36s %16s\n", "paper convention, the whole run",
            paper_text(b2, p, p->paper_flops));
    fprintf(out, "%-36s %16s\n", "paper FLOPs_cfg, the law's regressor",
            paper_text(b3, p, p->paper_flops_cfg));
    if (p->has_paper)
        fprintf(out, "executed / paper: %.4f\n", p->exec_flops / p->paper_flops);
    return ferror(out) ? esl__fail(ESL_EIO, "workload table: cannot write") : ESL_OK;
}

/* The run's configuration, the head of both documents. */
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

static void set_int(json_t *o, const char *key, int64_t v)
{
    json_object_set_new(o, key, json_integer(v));
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
    set_int(jl, "count", l->count);
    set_int(jl, "batch", op->batch);
    switch (l->kind) {
    case ESL_LAYER_LINEAR:
        set_int(jl, "m", l->m);
        set_int(jl, "n", l->n);
        set_int(jl, "k", l->k);
        json_object_set_new(jl, "bias", json_boolean(l->bias));
        break;
    case ESL_LAYER_ATTENTION:
        set_int(jl, "heads", l->heads);
        set_int(jl, "q_len", l->q_len);
        set_int(jl, "kv_len", l->kv_len);
        set_int(jl, "head_dim", l->head_dim);
        json_object_set_new(jl, "linear_attention", json_boolean(l->linear_attention));
        break;
    case ESL_LAYER_CONV:
        set_int(jl, "c_in", l->c_in);
        set_int(jl, "c_out", l->c_out);
        set_int(jl, "kernel", l->kh);
        set_int(jl, "stride", l->stride);
        set_int(jl, "groups", l->groups);
        set_int(jl, "kt", l->kt);
        set_int(jl, "h_out", l->h_out);
        set_int(jl, "w_out", l->w_out);
        json_object_set_new(jl, "bias", json_boolean(l->bias));
        break;
    default:
        set_int(jl, "elements", l->elements);
        set_int(jl, "flops_per_element", l->flops_per_element);
    }
    set_int(jl, "exec_flops_per_pass", op->flops);
    json_array_append_new(ctx, jl);
}

/* Lay out `doc` as text into *out and release it. */
static int finish(char **out, json_t *doc)
{
    int rc = doc != NULL ? esl_json_text(out, doc) : esl__fail(ESL_ENOMEM, "out of memory");
    json_decref(doc);
    return rc;
}

int esl_workload_json(char **out, const esl_workload *p)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL)
        return esl__fail(ESL_EINVAL, "workload document: no output or workload");
    json_t *o = config_json(p), *layers = json_array(), *stages = json_array();
    esl_workload_each_op(p, json_row, layers);
    for (int s = 0; s < 3; s++) {
        json_t *js = json_object();
        json_object_set_new(js, "stage", json_string(esl_stage_name((esl_stage)s)));
        set_int(js, "batch", p->batch[s]);
        set_int(js, "passes", p->passes[s]);
        set_int(js, "exec_flops_per_pass", p->stage_exec_flops[s]);
        json_array_append_new(stages, js);
    }
    json_object_set_new(o, "convention", json_string("exact"));
    json_object_set_new(o, "layers", layers);
    json_object_set_new(o, "stages", stages);
    set_int(o, "prompt_exec_flops", p->prompt_exec_flops);
    json_object_set_new(o, "exec_flops", esl__json_count(p->exec_flops));
    json_object_set_new(o, "paper_flops", p->has_paper ? esl__json_count(p->paper_flops) : json_null());
    json_object_set_new(o, "paper_flops_cfg",
                        p->has_paper ? esl__json_count(p->paper_flops_cfg) : json_null());
    return finish(out, o);
}

/* A measured run's dense peak, when the GPU and its peak at the run's
 * dtype are known (otherwise no ratio is shown). */
static int find_peak(esl_bench_peak *peak, const esl_workload *p, const esl_bench_measured *run)
{
    esl_bench_peak none = {0};
    *peak = none;
    return run->total.peak_tflops > 0 &&
           esl_bench_peak_find(peak, run->result.device, p->config.dtype) == ESL_OK;
}

/* A JSON real, or null for a figure that is not known (0 or not finite). */
static json_t *json_known(double x)
{
    return isfinite(x) && x != 0 ? json_real(x) : json_null();
}

static int check_run(const void *out, const esl_workload *p, const esl_bench_measured *run,
                     const char *what)
{
    if (out == NULL || p == NULL || run == NULL || run->record == NULL)
        return esl__fail(ESL_EINVAL, "measured run %s: no output, workload or record", what);
    return ESL_OK;
}

int esl_bench_measured_json(char **out, const esl_workload *p, const esl_bench_measured *run)
{
    if (out != NULL)
        *out = NULL;
    int rc = check_run(out, p, run, "document");
    if (rc != ESL_OK)
        return rc;
    char flags[256];
    const esl_bench_result *r = &run->result;
    const esl_bench_efficiency *e = &run->total;
    const esl_record *rec = run->record;
    esl_bench_peak peak;
    int have_peak = find_peak(&peak, p, run);
    json_t *o = config_json(p);
    json_object_set_new(o, "device", json_string(r->device));
    json_object_set_new(o, "duration_s", json_real(r->duration_s));
    json_object_set_new(o, "exec_flops", esl__json_count(r->exec_flops));
    json_object_set_new(o, "paper_flops", esl__json_count(r->paper_flops));
    json_object_set_new(o, "achieved_tflops", json_real(e->achieved_tflops));
    json_object_set_new(o, "peak_tflops", have_peak ? json_real(e->peak_tflops) : json_null());
    json_object_set_new(o, "peak_fraction", have_peak ? json_real(e->peak_fraction) : json_null());
    json_object_set_new(o, "meter_duration_s", json_real(rec->duration_s));
    json_object_set_new(o, "energy_j", json_real(rec->energy_j));
    json_object_set_new(o, "idle_w", json_real(rec->idle_w));
    json_object_set_new(o, "dynamic_j", json_real(rec->dynamic_j));
    json_object_set_new(o, "joules_per_tflop", json_known(e->joules_per_tflop));
    json_object_set_new(o, "dynamic_joules_per_tflop", json_known(run->dynamic.joules_per_tflop));
    json_object_set_new(o, "flags", json_string(esl_flags_string(flags, sizeof flags, rec->flags)));
    json_object_set_new(o, "run_id", run->run_id > 0 ? json_integer(run->run_id) : json_null());
    return finish(out, o);
}

int esl_bench_measured_csv(FILE *out, const esl_workload *p, const esl_bench_measured *run)
{
    int rc = check_run(out, p, run, "CSV");
    if (rc != ESL_OK)
        return rc;
    const esl_bench_config *c = &p->config;
    const esl_bench_result *r = &run->result;
    const esl_bench_efficiency *e = &run->total;
    const esl_record *rec = run->record;
    esl_bench_peak peak;
    fprintf(out, "model,height,width,steps,cfg,dtype,prompts,batch,device,duration_s,exec_flops,"
                 "paper_flops,achieved_tflops,peak_tflops,peak_fraction,energy_j,dynamic_j,idle_w,"
                 "joules_per_tflop,run_id\n");
    fprintf(out, "%s,%lld,%lld,%lld,%d,%s,%lld,%lld,\"%s\",%.17g,%.17g,%.17g,%.17g,",
            p->model->name, (long long)c->request.height, (long long)c->request.width,
            (long long)c->request.steps, c->request.cfg, esl_dtype_name(c->dtype),
            (long long)c->request.prompts, (long long)c->batch, r->device, r->duration_s,
            r->exec_flops, r->paper_flops, e->achieved_tflops);
    if (find_peak(&peak, p, run))
        fprintf(out, "%.17g,%.17g,", e->peak_tflops, e->peak_fraction);
    else
        fprintf(out, ",,");
    fprintf(out, "%.17g,%.17g,%.17g,", rec->energy_j, rec->dynamic_j, rec->idle_w);
    if (e->joules_per_tflop > 0)
        fprintf(out, "%.17g", e->joules_per_tflop);
    if (run->run_id > 0)
        fprintf(out, ",%lld\n", (long long)run->run_id);
    else
        fprintf(out, ",\n");
    return ferror(out) ? esl__fail(ESL_EIO, "measured run CSV: cannot write") : ESL_OK;
}

int esl_bench_measured_table(FILE *out, const esl_workload *p, const esl_bench_measured *run,
                             const char *store)
{
    int rc = check_run(out, p, run, "report");
    if (rc == ESL_OK && run->run_id > 0 && store == NULL)
        rc = esl__fail(ESL_EINVAL, "measured run report: a stored run needs its store's name");
    if (rc != ESL_OK)
        return rc;
    char b1[32], b2[32], flags[256];
    const esl_bench_result *r = &run->result;
    const esl_bench_efficiency *e = &run->total;
    const esl_record *rec = run->record;
    const char *dtype = esl_dtype_name(p->config.dtype);
    esl_bench_peak peak;
    header_line(out, p);
    fprintf(out, "%-10s %s (compute capability %d.%d)\n", "device", r->device, r->cc_major,
            r->cc_minor);
    fprintf(out, "%-10s %.6f s (the timed loop; meter window %.6f s)\n", "duration",
            r->duration_s, rec->duration_s);
    fprintf(out, "%-10s %s executed (exact convention), %s in the paper convention\n", "compute",
            esl_flops_human(b1, r->exec_flops), esl_flops_human(b2, r->paper_flops));
    if (find_peak(&peak, p, run))
        fprintf(out, "%-10s %.2f TFLOP/s, %.1f%% of the %.1f TFLOP/s dense %s peak of %s\n",
                "achieved", e->achieved_tflops, 100.0 * e->peak_fraction, e->peak_tflops, dtype,
                peak.gpu);
    else
        fprintf(out, "%-10s %.2f TFLOP/s (no %s peak known for this GPU: no ratio)\n", "achieved",
                e->achieved_tflops, dtype);
    fprintf(out, "%-10s %.3f J total, %.3f J dynamic (idle %.2f W subtracted)\n", "energy",
            rec->energy_j, rec->dynamic_j, rec->idle_w);
    if (e->joules_per_tflop > 0)
        fprintf(out, "%-10s %.4f J/TFLOP total", "efficiency", e->joules_per_tflop);
    else
        fprintf(out, "%-10s - J/TFLOP total", "efficiency");
    if (run->dynamic.joules_per_tflop > 0)
        fprintf(out, ", %.4f J/TFLOP dynamic\n", run->dynamic.joules_per_tflop);
    else
        fprintf(out, ", - J/TFLOP dynamic (no energy above idle)\n");
    esl_flags_string(flags, sizeof flags, rec->flags);
    fprintf(out, "%-10s %s\n", "flags", flags[0] ? flags : "-");
    if (run->run_id > 0)
        fprintf(out, "%-10s run %lld in %s\n", "stored", (long long)run->run_id, store);
    return ferror(out) ? esl__fail(ESL_EIO, "measured run report: cannot write") : ESL_OK;
}
