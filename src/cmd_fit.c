/*
 * cmd_fit.c - `esl fit`: fit the energy law (Eq. 3/4) on a dataset and
 * write the law file, or print it as a table or JSON.
 */
#include <stdlib.h>

#include "commands.h"
#include "law_cli.h"

enum { OPT_OUTPUT = 'o', OPT_FORMAT = 'f', OPT_FORM = 256 };

static const cli_option options[] = {
    CLI_GROUP("data"),
    {"form", OPT_FORM, "F", "the law's form: paper (default), per-image, roofline or by-kind (docs/law.md)"},
    CLI_GROUP("fit"),
    {"output", OPT_OUTPUT, "FILE", "write the law file (JSON) here"},
    CLI_GROUP("format"),
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
    case OPT_FORM: return law_cli_form(&a->law, arg);
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return law_cli_option(&a->law, key, arg);
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
    int rc;
    if ((rc = cli_parse_all(cmd, argc, argv, on_option, &a)) != 0)
        return rc;
    if (a.law.data == NULL) {
        cli_error("fit: --data FILE is required ('-' reads standard input)");
        return EXIT_USAGE;
    }
    esl_law *law = NULL;
    if ((rc = law_cli_fit(&a.law, &law)) != 0)
        return rc;
    char *text = NULL;
    int status = esl_law_to_json(&text, law);
    rc = status != ESL_OK ? cli_fail(status) : a.output != NULL ? write_file(a.output, text) : 0;
    if (rc == 0 && a.format == FORMAT_JSON)
        puts(text);
    else if (rc == 0)
        esl_law_write_text(stdout, law, a.format == FORMAT_CSV);
    free(text);
    esl_law_free(law);
    return rc;
}

const cli_command cmd_fit = {
    "fit", run_fit, "fit the energy scaling law on a dataset",
    "--data FILE|- [OPTIONS]",
    "Fits Eq. 3/4 of Iyengar et al. 2026 by least squares (GSL):\n"
    "  ln E[kWh] = ln A + alpha ln(FLOPs_cfg/1e9) + beta_dtype I_dtype + sum beta_gpu I_gpu\n"
    "              + beta_res ln(H W / 256)\n"
    "GPU and dtype levels are found in the data; a factor with one level has no term.\n"
    "--form per-image fits energy per image (linear in the prompts N); --form roofline fits\n"
    "energies per FLOP, per weight byte and per kernel launch (docs/law.md).",
    options,
};
