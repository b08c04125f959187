/*
 * cmd_report.c - `esl report`: one self-contained HTML page with the
 * dataset, the fitted law, its validation (the paper's three strategies)
 * and the figures of `esl plot`, written by libesl (esl_report_write).
 * The tool reads the options, the data and the law, and publishes the page
 * only when it was written whole.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "esl/report.h"
#include "law_cli.h"

enum {
    OPT_OUTPUT = 'o', OPT_DATA = 'd', OPT_WHERE = 'w',
    OPT_TITLE = 256, OPT_LAW, OPT_ARCH, OPT_CONVENTION,
};

static const cli_option options[] = {
    {"output", OPT_OUTPUT, "FILE", "the report: an .html file"},
    {"data", OPT_DATA, "FILE", "the dataset (CSV; default: the paper's A100 data, built in)"},
    {"where", OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"},
    {"law", OPT_LAW, "FILE", "report this law file (default: the built-in law esl predict uses)"},
    {"arch", OPT_ARCH, "FILE", "a model description for a model the catalogue lacks"},
    {"convention", OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"},
    {"title", OPT_TITLE, "TEXT", "the page's title (default 'esl report')"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    law_cli_opts law; /* --data, --where, --arch, --convention, --law */
    const char *output;
    const char *title;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_TITLE: a->title = arg; return 0;
    case OPT_DATA: a->law.data = arg; return 0;
    case OPT_WHERE: return law_cli_where(&a->law, arg);
    case OPT_LAW: a->law.law_file = arg; return 0;
    case OPT_ARCH: a->law.arch = arg; return 0;
    case OPT_CONVENTION: return law_cli_option(&a->law, LAW_OPT_CONVENTION, arg);
    }
    return EXIT_USAGE;
}

static int run_report(const cli_command *cmd, int argc, char **argv)
{
    args a = {.title = "esl report", .law.convention = ESL_CONVENTION_PAPER};
    int rc;
    if ((rc = cli_parse_all(cmd, argc, argv, on_option, &a)) != 0)
        return rc;
    if (a.output == NULL) {
        cli_error("report: give the report's file with -o FILE.html");
        return EXIT_USAGE;
    }
    const char *dot = strrchr(a.output, '.');
    if (dot == NULL || (strcmp(dot, ".html") != 0 && strcmp(dot, ".htm") != 0)) {
        cli_error("report: '%s' is not an .html file (for PDF, print the HTML report: see "
                  "docs/esl-report.md)", a.output);
        return EXIT_USAGE;
    }
    if (!esl_plot_available()) {
        cli_error("report: this esl was built without PLplot (install libplplot-dev and "
                  "plplot-driver-cairo, then rebuild)");
        return EXIT_FAIL;
    }

    /* The data and the law first: bad input leaves no half-written page behind.
     * The law is the one esl predict answers with (esl_law_builtin), or --law FILE. */
    esl_dataset *ds = NULL;
    esl_law *law = NULL;
    if ((rc = law_cli_dataset(&a.law, 0, &ds)) != 0)
        return rc;
    esl_report_opts ro = {.title = a.title, .law_file = a.law.law_file, .data_file = a.law.data,
                          .where = (const char *const *)a.law.where, .n_where = a.law.n_where,
                          .fit = &a.law.fit};
    cli_file out; /* written under a temporary name and renamed: no half page */
    int status = esl_law_spec_open(&law, &a.law);
    if (status != ESL_OK) {
        rc = cli_fail(status);
    } else if (cli_file_open(&out, a.output, "report") != 0) {
        rc = EXIT_FAIL;
    } else if ((status = esl_report_write(out.f, ds, law, &ro)) != ESL_OK) {
        rc = cli_fail(status);
        cli_file_abandon(&out);
    } else {
        rc = cli_file_commit(&out, "report");
    }
    esl_law_free(law);
    esl_dataset_free(ds);
    return rc;
}

const cli_command cmd_report = {
    "report", run_report, "write a self-contained HTML report: data, law, validation, figures",
    "-o FILE.html [--data FILE] [--where COL=V,..] [--law FILE] [--title TEXT]",
    "The dataset's summary; the law esl predict uses (the built-in law, or --law FILE) with\n"
    "its form, equation, coefficients, 95% intervals and provenance; the paper's three\n"
    "validations of that form beside the paper's form; and every figure of esl plot. The page\n"
    "embeds its figures (PNG, base64) and opens with no network. For a PDF, print it with\n"
    "Debian's chromium: chromium --headless --print-to-pdf=report.pdf report.html",
    options,
};
