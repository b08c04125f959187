/*
 * options.c - the option groups several commands share, each option and its
 * help text written once. A command's table names a group with an entry
 * CLI_GROUP("name"); parsing, help and manual pages splice the group's
 * options in at that place (cli_options). The handler of a group's keys is
 * beside the state it fills: law_cli_option (law_cli.c) for "data" and
 * "fit", bench_cli_option (cmd_bench.c) for "meter"; "size" (keys 'H',
 * 'W', 'T') and "format" (key 'f', cli_format_parse) are the command's own.
 */
#include <string.h>

#include "bench_cli.h"
#include "cli.h"
#include "law_cli.h"

static const cli_option data_group[] = {
    {"data", LAW_OPT_DATA, "FILE", "the dataset (CSV, docs/data-format.md); '-' reads standard input; repeat to join files"},
    {NULL, 0, NULL, NULL},
};

static const cli_option fit_group[] = {
    {"where", LAW_OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"},
    {"baseline", LAW_OPT_BASELINE, "COL=LEVEL", "baseline level: gpu=A100 and dtype=fp16 by default"},
    {"terms", LAW_OPT_TERMS, "SPEC", "switch terms off or on: -res, -dtype, -gpu, -flops, +res; by-kind: +attn, +conv, +bytes"},
    {"response", LAW_OPT_RESPONSE, "R", "energy (default) or time: a law of the rows' duration_s"},
    {"expand-prompts", LAW_OPT_EXPAND, "N,..", "copy each row to these prompt counts, energy scaled (the paper's 25,50,100 runs)"},
    {"weighted", LAW_OPT_WEIGHTED, NULL, "weighted least squares, weights = prompts per row"},
    {"robust", LAW_OPT_ROBUST, NULL, "robust fit (bisquare), resists outlying rows"},
    {"arch", LAW_OPT_ARCH, "FILE", "a model description for a model the catalogue lacks"},
    {"convention", LAW_OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"},
    {NULL, 0, NULL, NULL},
};

static const cli_option meter_group[] = {
    {"idle-w", BENCH_OPT_IDLE_W, "W", "use W watts as idle power instead of measuring it"},
    {"hz", BENCH_OPT_HZ, "N", "meter samples per second (default 10)"},
    {"gpus", BENCH_OPT_GPUS, "LIST", "GPUs to meter, numbered as CUDA does (default 0, the GPU that runs)"},
    {"store", BENCH_OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {NULL, 0, NULL, NULL},
};

/* The image size and steps of a request: the command handles the keys. */
static const cli_option size_group[] = {
    {"height", 'H', "H", "image height in pixels"},
    {"width", 'W', "W", "image width in pixels"},
    {"steps", 'T', "T", "denoising steps (default 50)"},
    {NULL, 0, NULL, NULL},
};

static const cli_option format_group[] = {
    {"format", 'f', "F", "output: table (default), csv or json"},
    {NULL, 0, NULL, NULL},
};

static const struct {
    const char *name;
    const cli_option *options;
} groups[] = {
    {"data", data_group},   {"fit", fit_group},       {"meter", meter_group},
    {"size", size_group},   {"format", format_group},
};

static const cli_option *group(const char *name)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(groups[i].name, name) == 0)
            return groups[i].options;
    return NULL;
}

size_t cli_options(const cli_option *table, const cli_option **out, size_t cap)
{
    size_t n = 0;
    for (const cli_option *o = table; o != NULL && o->name != NULL; o++) {
        const cli_option *g = o->name[0] == '@' ? group(o->name + 1) : NULL;
        if (o->name[0] != '@')
            g = o; /* a one-option "group": the entry itself */
        for (const cli_option *p = g; p != NULL && p->name != NULL && n < cap; p++) {
            out[n++] = p;
            if (g == o)
                break;
        }
    }
    return n;
}
