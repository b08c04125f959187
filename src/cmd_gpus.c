/*
 * cmd_gpus.c - `esl gpus`: the GPU table the law prices GPUs from (dense
 * peaks per precision, memory bandwidth, power limit, idle power, sources),
 * all of it or the rows that names match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "esl/esl.h"
#include "table.h"

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

/* The columns of every format: the table leaves out the names and
 * sources, CSV the names' status; JSON names the devices second. */
static const table_col cols[] = {
    {"gpu", COL_STR, IN_ALL, NULL, -24, NULL, NULL, NULL, 0},
    {"device_names", COL_STR, IN_JSON, NULL, 0, NULL, NULL, NULL, 0},
    {"fp32_tflops", COL_NUM, IN_ALL, "fp32", 7, NULL, NULL, NULL, 0},
    {"tf32_tflops", COL_NUM, IN_ALL, "tf32", 7, NULL, NULL, NULL, 0},
    {"fp16_tflops", COL_NUM, IN_ALL, "fp16", 7, NULL, NULL, NULL, 0},
    {"bf16_tflops", COL_NUM, IN_ALL, "bf16", 7, NULL, NULL, NULL, 0},
    {"fp8_tflops", COL_NUM, IN_ALL, "fp8", 7, NULL, NULL, NULL, 0},
    {"mem_bw_gbs", COL_NUM, IN_ALL, "GB/s", 7, NULL, NULL, NULL, 0},
    {"mem_gb", COL_NUM, IN_ALL, "GB", 5, NULL, NULL, NULL, 0},
    {"tdp_w", COL_NUM, IN_ALL, "TDP_W", 6, NULL, NULL, NULL, 0},
    {"idle_w", COL_NUM, IN_ALL, "idle_W", 6, NULL, NULL, NULL, 0},
    {"device_names", COL_STR, IN_CSV, NULL, 0, NULL, NULL, NULL, 0},
    {"idle_status", COL_STR, IN_CSV | IN_JSON, NULL, 0, NULL, NULL, NULL, 0},
    {"names_status", COL_STR, IN_JSON, NULL, 0, NULL, NULL, NULL, 0},
    {"source", COL_STR, IN_CSV | IN_JSON, NULL, 0, NULL, NULL, NULL, 0},
};

/* A peak: missing ('-', null) where the GPU has none. */
static table_cell peak(double x)
{
    return (table_cell){NULL, x, 0, !(x > 0)};
}

static void print_gpu(table *t, const esl_gpu_spec *g)
{
    table_cell row[] = {
        {g->name, 0, 0, 0}, {g->device_names, 0, 0, 0},
        peak(g->fp32_tflops), peak(g->tf32_tflops), peak(g->fp16_tflops),
        peak(g->bf16_tflops), peak(g->fp8_tflops),
        {NULL, g->mem_bw_gbs, 0, 0}, {NULL, g->mem_gb, 0, 0}, {NULL, g->tdp_w, 0, 0},
        {NULL, g->idle_w, 0, 0}, {g->device_names, 0, 0, 0}, {g->idle_status, 0, 0, 0},
        {g->names_status, 0, 0, 0}, {g->source, 0, 0, 0},
    };
    table_row(t, row);
}

static int run_gpus(const cli_command *cmd, int argc, char **argv)
{
    cli_format fmt = FORMAT_TABLE;
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &fmt, &first)) != 0)
        return rc;
    /* Every name must resolve before anything is printed. */
    esl_gpu_spec *want;
    size_t n;
    if ((rc = esl_gpu_select(&want, &n, (const char *const *)argv + first,
                             (size_t)(argc - first))) != ESL_OK)
        return cli_fail(rc);
    table t;
    table_begin(&t, cols, sizeof cols / sizeof cols[0], fmt);
    for (size_t i = 0; i < n; i++)
        print_gpu(&t, &want[i]);
    if (fmt == FORMAT_TABLE)
        printf("\nDense TFLOP/s (no sparsity); '-': no such precision. Sources and how each idle "
               "power was obtained: --format csv or json (data/gpu_peaks.csv).\n");
    table_end(&t);
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
