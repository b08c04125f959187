/*
 * cmd_gpus.c - `esl gpus`: the GPU table the law prices GPUs from (dense
 * peaks per precision, memory bandwidth, power limit, idle power, sources),
 * all of it or the rows that names match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "emit.h"
#include "esl/esl.h"

enum { OPT_FORMAT = 'f' };

static const cli_option options[] = {
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

static int on_option(void *ctx, int key, const char *arg)
{
    cli_format *fmt = ctx;
    if (key == OPT_FORMAT)
        return cli_format_parse(arg, fmt);
    return EXIT_USAGE;
}

/* A peak, or "-" where the GPU has none. */
static const char *peak(char *buf, size_t size, double x)
{
    if (x > 0)
        snprintf(buf, size, "%g", x);
    else
        snprintf(buf, size, "-");
    return buf;
}

static json_t *opt_real(double x)
{
    return x > 0 ? json_real(x) : json_null();
}

static void print_gpu(const esl_gpu_spec *g, cli_format fmt, json_t *array)
{
    char b[5][32];
    if (fmt == FORMAT_TABLE) {
        printf("%-24s %7s %7s %7s %7s %7s %7g %5g %6g %6g\n", g->name,
               peak(b[0], 32, g->fp32_tflops), peak(b[1], 32, g->tf32_tflops),
               peak(b[2], 32, g->fp16_tflops), peak(b[3], 32, g->bf16_tflops),
               peak(b[4], 32, g->fp8_tflops), g->mem_bw_gbs, g->mem_gb, g->tdp_w, g->idle_w);
    } else if (fmt == FORMAT_CSV) {
        emit_csv(g->name, ',');
        printf("%g,%g,%g,%g,%g,%g,%g,%g,%g,", g->fp32_tflops, g->tf32_tflops, g->fp16_tflops,
               g->bf16_tflops, g->fp8_tflops, g->mem_bw_gbs, g->mem_gb, g->tdp_w, g->idle_w);
        emit_csv(g->device_names, ',');
        emit_csv(g->idle_status, ',');
        emit_csv(g->source, '\n');
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "gpu", json_string(g->name));
        json_object_set_new(o, "device_names", json_string(g->device_names));
        json_object_set_new(o, "fp32_tflops", opt_real(g->fp32_tflops));
        json_object_set_new(o, "tf32_tflops", opt_real(g->tf32_tflops));
        json_object_set_new(o, "fp16_tflops", opt_real(g->fp16_tflops));
        json_object_set_new(o, "bf16_tflops", opt_real(g->bf16_tflops));
        json_object_set_new(o, "fp8_tflops", opt_real(g->fp8_tflops));
        json_object_set_new(o, "mem_bw_gbs", json_real(g->mem_bw_gbs));
        json_object_set_new(o, "mem_gb", json_real(g->mem_gb));
        json_object_set_new(o, "tdp_w", json_real(g->tdp_w));
        json_object_set_new(o, "idle_w", json_real(g->idle_w));
        json_object_set_new(o, "idle_status", json_string(g->idle_status));
        json_object_set_new(o, "names_status", json_string(g->names_status));
        json_object_set_new(o, "source", json_string(g->source));
        json_array_append_new(array, o);
    }
}

static int run_gpus(const cli_command *cmd, int argc, char **argv)
{
    cli_format fmt = FORMAT_TABLE;
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &fmt, &first)) != 0)
        return rc;
    /* Every name must resolve before anything is printed. */
    esl_gpu_spec *want = calloc((size_t)(argc - first) + 1, sizeof *want);
    if (want == NULL)
        return cli_fail(ESL_ENOMEM);
    size_t n = 0;
    for (int i = first; i < argc; i++) {
        int st = esl_gpu_find(&want[n++], argv[i]);
        if (st != ESL_OK) {
            free(want);
            return cli_fail(st);
        }
    }
    if (n == 0) {
        n = esl_gpu_count();
        esl_gpu_spec *all = realloc(want, (n ? n : 1) * sizeof *all);
        if (all == NULL) {
            free(want);
            return cli_fail(ESL_ENOMEM);
        }
        want = all;
        for (size_t i = 0; i < n; i++)
            if ((rc = esl_gpu_get(&want[i], i)) != ESL_OK) {
                free(want);
                return cli_fail(rc);
            }
        if (n == 0) {
            free(want);
            return cli_fail(esl_gpu_get(&(esl_gpu_spec){0}, 0));
        }
    }
    json_t *array = json_array();
    if (fmt == FORMAT_TABLE)
        printf("%-24s %7s %7s %7s %7s %7s %7s %5s %6s %6s\n", "gpu", "fp32", "tf32", "fp16",
               "bf16", "fp8", "GB/s", "GB", "TDP_W", "idle_W");
    else if (fmt == FORMAT_CSV)
        printf("gpu,fp32_tflops,tf32_tflops,fp16_tflops,bf16_tflops,fp8_tflops,mem_bw_gbs,mem_gb,"
               "tdp_w,idle_w,device_names,idle_status,source\n");
    for (size_t i = 0; i < n; i++)
        print_gpu(&want[i], fmt, array);
    if (fmt == FORMAT_TABLE)
        printf("\nDense TFLOP/s (no sparsity); '-': no such precision. Sources and how each idle "
               "power was obtained: --format csv or json (data/gpu_peaks.csv).\n");
    if (fmt == FORMAT_JSON)
        emit_json(array);
    json_decref(array);
    free(want);
    return EXIT_OK;
}

const cli_command cmd_gpus = {
    "gpus", run_gpus, "list the GPU table: peaks per precision, bandwidth, power, idle power",
    "[NAME...] [OPTIONS]",
    "The GPUs the law knows by their specifications (data/gpu_peaks.csv): dense peak\n"
    "TFLOP/s per precision, memory bandwidth and size, power limit and typical idle power,\n"
    "each with its source. NAME is matched forgivingly: a device name as nvidia-smi prints\n"
    "it, the table's name, or its start ('H100' is the H100 SXM5 card); an unknown name\n"
    "lists the closest ones. The law prices a GPU it was not trained on from these numbers\n"
    "(docs/law.md).",
    options,
};
