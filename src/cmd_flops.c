/*
 * cmd_flops.c - `esl flops`: the FLOPs of a pipeline run (Eq. 1), per
 * component and in total, for one configuration or a sweep over the paper's
 * grid, as a table, CSV or JSON.
 */
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

enum {
    OPT_MODEL = 'm', OPT_ARCH = 'a', OPT_HEIGHT = 'H', OPT_WIDTH = 'W', OPT_STEPS = 'T',
    OPT_PROMPTS = 'N', OPT_FORMAT = 'f',
    OPT_CFG = 256, OPT_SWEEP, OPT_TEXT_TOKENS, OPT_CONVENTION, OPT_DIFFUSERS,
};

static const cli_option options[] = {
    {"model", OPT_MODEL, "NAME", "catalogue model; a comma-separated list, or 'all'"},
    {"arch", OPT_ARCH, "FILE", "a model description file (JSON, docs/model-format.md)"},
    {"from-diffusers", OPT_DIFFUSERS, "DIR", "a diffusers folder's config files (exact convention)"},
    CLI_GROUP("size"),
    {"cfg", OPT_CFG, NULL, "classifier-free guidance: two denoiser passes per step"},
    {"prompts", OPT_PROMPTS, "N", "images generated one after another (default 1)"},
    {"sweep", OPT_SWEEP, NULL, "the paper's grid: 256, 512, 768, 1024 squared x 10..50 steps"},
    {"text-tokens", OPT_TEXT_TOKENS, "N", "text tokens the denoiser attends to (default: the model's)"},
    {"convention", OPT_CONVENTION, "C", "FLOP convention: paper (default; exact with --from-diffusers) or exact"},
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    esl_flops_query q;
    int have_steps;
    cli_format format;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    esl_request *r = &a->q.req;
    switch (key) {
    case OPT_MODEL: a->q.models = arg; return 0;
    case OPT_ARCH: a->q.arch = arg; return 0;
    case OPT_DIFFUSERS: a->q.diffusers = arg; return 0;
    case OPT_HEIGHT: return cli_int("height", arg, 1, INT64_MAX, &r->height);
    case OPT_WIDTH: return cli_int("width", arg, 1, INT64_MAX, &r->width);
    case OPT_STEPS: a->have_steps = 1; return cli_int("steps", arg, 1, INT64_MAX, &r->steps);
    case OPT_PROMPTS: return cli_int("prompts", arg, 1, INT64_MAX, &r->prompts);
    case OPT_TEXT_TOKENS: return cli_int("text-tokens", arg, 1, INT64_C(1) << 32, &r->text_tokens);
    case OPT_CFG: r->cfg = 1; return 0;
    case OPT_SWEEP: a->q.sweep = 1; return 0;
    case OPT_CONVENTION: {
        a->q.convention_given = 1;
        int rc = esl_convention_parse(&a->q.convention, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return EXIT_USAGE;
}

static void print_note(void *ctx, const char *text)
{
    (void)ctx;
    cli_error("%s", text);
}

static int run_flops(const cli_command *cmd, int argc, char **argv)
{
    args a = {.q = {.req = {.steps = 50, .prompts = 1}, .note = print_note}};
    int rc = cli_parse_all(cmd, argc, argv, on_option, &a);
    if (rc != 0)
        return rc;
    if ((a.q.models != NULL) + (a.q.arch != NULL) + (a.q.diffusers != NULL) != 1) {
        cli_error("flops: give exactly one of --model NAME, --arch FILE or --from-diffusers DIR");
        return EXIT_USAGE;
    }
    if (a.q.sweep && (a.q.req.height || a.q.req.width || a.have_steps)) {
        cli_error("flops: --sweep sets the sizes and steps itself; drop --height, --width and --steps");
        return EXIT_USAGE;
    }
    if (!a.q.sweep && (a.q.req.height == 0 || a.q.req.width == 0)) {
        cli_error("flops: --height and --width are required (or --sweep for the paper's grid)");
        return EXIT_USAGE;
    }
    esl_flops_report *report = NULL;
    char *text = NULL; /* the JSON document */
    int status = esl_flops_report_new(&report, &a.q);
    if (status == ESL_OK && a.format == FORMAT_JSON &&
        (status = esl_flops_report_json(&text, report)) == ESL_OK)
        fputs(text, stdout);
    else if (status == ESL_OK && a.format != FORMAT_JSON)
        status = a.format == FORMAT_CSV ? esl_flops_report_csv(stdout, report)
                                        : esl_flops_report_table(stdout, report);
    free(text);
    esl_flops_report_free(report);
    return status == ESL_OK ? EXIT_OK : cli_fail(status);
}

const cli_command cmd_flops = {
    "flops", run_flops, "count the FLOPs of generating images with a model",
    "(--model NAME | --arch FILE | --from-diffusers DIR) (--height H --width W | --sweep) "
    "[OPTIONS]",
    "Counts FLOPs (a multiply-add is 2) per Eq. 1 of Iyengar et al. 2026: text encoding once\n"
    "per prompt, the denoiser once per step (twice with --cfg), decoding once per image.\n"
    "FLOPs_cfg = N * T * denoise * 2^cfg is the regressor of the energy law.\n"
    "--convention exact counts every layer the networks run (docs/flops.md), from the\n"
    "architecture sections of the description; --from-diffusers reads only the config\n"
    "files of a diffusers folder, and such a model is counted in the exact convention.",
    options,
};
