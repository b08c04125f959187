/*
 * cmd_fit.c - `esl fit`: fit the energy law (Eq. 3/4) on a dataset and
 * write the law file, or print it as a table or JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "law_cli.h"

enum {
    OPT_DATA = 'd', OPT_OUTPUT = 'o', OPT_FORMAT = 'f', OPT_ARCH = 'a',
    OPT_WHERE = 256, OPT_BASELINE, OPT_TERMS, OPT_WEIGHTED, OPT_ROBUST, OPT_CONVENTION, OPT_FORM,
    OPT_EXPAND, OPT_RESPONSE,
};

static const cli_option options[] = {
    {"data", OPT_DATA, "FILE", "the dataset (CSV, docs/data-format.md); '-' reads standard input; repeat to join files"},
    {"form", OPT_FORM, "F", "the law's form: paper (default), per-image, roofline or by-kind (docs/law.md)"},
    {"where", OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"},
    {"baseline", OPT_BASELINE, "COL=LEVEL", "baseline level: gpu=A100 and dtype=fp16 by default"},
    {"terms", OPT_TERMS, "SPEC", "switch terms off or on: -res, -dtype, -gpu, -flops, +res; by-kind: +attn, +conv, +bytes"},
    {"response", OPT_RESPONSE, "R", "energy (default) or time: a law of the rows' duration_s"},
    {"expand-prompts", OPT_EXPAND, "N,..", "copy each row to these prompt counts, energy scaled (the paper's 25,50,100 runs)"},
    {"weighted", OPT_WEIGHTED, NULL, "weighted least squares, weights = prompts per row"},
    {"robust", OPT_ROBUST, NULL, "robust fit (bisquare), resists outlying rows"},
    {"arch", OPT_ARCH, "FILE", "a model description for a model the catalogue lacks"},
    {"convention", OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"},
    {"output", OPT_OUTPUT, "FILE", "write the law file (JSON) here"},
    {"format", OPT_FORMAT, "F", "output: table (default), csv or json"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    law_cli_opts law;
    const char *output;
    cli_format format;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_DATA: return law_cli_data(&a->law, arg);
    case OPT_ARCH: a->law.arch = arg; return 0;
    case OPT_FORM: return law_cli_form(&a->law, arg);
    case OPT_WHERE: return law_cli_where(&a->law, arg);
    case OPT_BASELINE: return law_cli_baseline(&a->law, arg);
    case OPT_TERMS: return law_cli_terms(&a->law, arg);
    case OPT_EXPAND: return law_cli_expand(&a->law, arg);
    case OPT_RESPONSE: return law_cli_response(&a->law, arg);
    case OPT_WEIGHTED: a->law.fit.method = ESL_FIT_WEIGHTED; return 0;
    case OPT_ROBUST: a->law.fit.method = ESL_FIT_ROBUST; return 0;
    case OPT_CONVENTION: {
        int rc = esl_convention_parse(&a->law.convention, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return EXIT_USAGE;
}

/* The law file, written under a temporary name and renamed once complete:
 * a write error leaves the old file (or none), never an empty one. */
static int write_file(const char *path, const char *text)
{
    cli_file o;
    if (cli_file_open(&o, path, "option --output") != 0)
        return EXIT_FAIL;
    fputs(text, o.f);
    fputc('\n', o.f);
    return cli_file_commit(&o, "option --output");
}

static int run_fit(const cli_command *cmd, int argc, char **argv)
{
    args a = {.law.convention = ESL_CONVENTION_PAPER};
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("fit: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.law.data == NULL) {
        cli_error("fit: --data FILE is required ('-' reads standard input)");
        return EXIT_USAGE;
    }
    esl_dataset *ds = NULL;
    if ((rc = law_cli_dataset(&a.law, 0, &ds)) != 0)
        return rc;
    esl_law *law = NULL;
    int status = esl_law_fit(&law, ds, &a.law.fit);
    esl_dataset_free(ds);
    if (status != ESL_OK)
        return cli_fail(status);

    char *text = NULL;
    if ((status = esl_law_to_json(&text, law)) != ESL_OK) {
        esl_law_free(law);
        return cli_fail(status);
    }
    rc = a.output != NULL ? write_file(a.output, text) : 0;
    if (rc == 0) {
        if (a.format == FORMAT_JSON) {
            puts(text);
        } else if (a.format == FORMAT_CSV) {
            printf("term,coef,se\n");
            for (size_t j = 0; j < law->n_features; j++)
                printf("%s,%.17g,%.17g\n", law->features[j].name, law->coef[j], law->se[j]);
        } else {
            law_cli_print(law);
        }
    }
    free(text);
    esl_law_free(law);
    return rc;
}

const cli_command cmd_fit = {
    "fit", run_fit, "fit the energy scaling law on a dataset",
    "--data FILE|- [--form F] [--where COL=V,..] [--baseline COL=LEVEL] [--terms SPEC] "
    "[--weighted|--robust] [-o law.json] [--format table|csv|json]",
    "Fits Eq. 3/4 of Iyengar et al. 2026 by least squares (GSL):\n"
    "  ln E[kWh] = ln A + alpha ln(FLOPs_cfg/1e9) + beta_dtype I_dtype + sum beta_gpu I_gpu\n"
    "              + beta_res ln(H W / 256)\n"
    "GPU and dtype levels are found in the data; a factor with one level has no term.\n"
    "--form per-image fits energy per image (linear in the prompts N); --form roofline fits\n"
    "energies per FLOP, per weight byte and per kernel launch (docs/law.md).",
    options,
};
