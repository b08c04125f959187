/*
 * cmd_gpus.c - `esl gpus`: the GPU table the law prices GPUs from (dense
 * peaks per precision, memory bandwidth, power limit, idle power, sources),
 * all of it or the rows that names match (esl_gpu_select), printed by libesl
 * (esl_gpu_table, esl_gpu_csv, esl_gpu_json).
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "esl/esl.h"

static const cli_option options[] = {
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

static int on_option(void *ctx, int key, const char *arg)
{
    return key == 'f' ? cli_format_parse(arg, ctx) : EXIT_USAGE;
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
    char *text = NULL;
    if ((rc = esl_gpu_select(&want, &n, (const char *const *)argv + first,
                             (size_t)(argc - first))) != ESL_OK)
        return cli_fail(rc);
    rc = fmt == FORMAT_JSON  ? esl_gpu_json(&text, want, n)
         : fmt == FORMAT_CSV ? esl_gpu_csv(stdout, want, n)
                             : esl_gpu_table(stdout, want, n);
    if (text != NULL)
        fputs(text, stdout);
    if (rc == ESL_OK && fmt == FORMAT_TABLE)
        printf("\nDense TFLOP/s (no sparsity); '-': no such precision. Sources and how each idle "
               "power was obtained: --format csv or json (data/gpu_peaks.csv).\n");
    free(text);
    free(want);
    return rc == ESL_OK ? EXIT_OK : cli_fail(rc);
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
