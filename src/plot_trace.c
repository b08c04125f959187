/*
 * plot_trace.c - `esl plot trace`: a stored run's power against time. The
 * tool opens the store and reads the run; esl_figure_trace builds the figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esl/esl.h"
#include "plot_cli.h"

enum { OPT_OUTPUT = 'o', OPT_STORE = 768, OPT_RUN };

static const cli_option trace_options[] = {
    {"output", OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},
    {"store", OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"run", OPT_RUN, "ID", "the run to draw (esl runs list shows the ids)"},
    {NULL, 0, NULL, NULL},
};

typedef struct trace_args {
    const char *output;
    const char *store;
    int64_t run;
} trace_args;

static int on_trace_option(void *ctx, int key, const char *arg)
{
    trace_args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_STORE: a->store = arg; return 0;
    case OPT_RUN: return cli_int("run", arg, 1, INT64_MAX, &a->run);
    }
    return EXIT_USAGE;
}

static int draw_trace(const char *output, const char *store_path, int64_t id)
{
    esl_store *store = NULL;
    esl_run *run = NULL;
    esl_figure *fig = NULL;
    int rc = 0, status;

    if ((status = esl_store_open_readonly(&store, store_path)) != ESL_OK) {
        if (status == ESL_ENOTFOUND)
            cli_error("%s: no run store here (esl measure writes one; --store chooses another)",
                      store_path);
        return status == ESL_ENOTFOUND ? EXIT_USAGE : cli_fail(status);
    }
    if ((status = esl_store_get(store, &run, id)) != ESL_OK) {
        if (status == ESL_ENOTFOUND)
            cli_error("plot trace: no run %lld in %s ('esl runs list --store %s' lists its runs)",
                      (long long)id, store_path, store_path);
        rc = status == ESL_ENOTFOUND ? EXIT_USAGE : cli_fail(status);
    } else if (run->record->n_samples == 0) {
        cli_error("plot trace: run %lld in %s has no samples to draw", (long long)id, store_path);
        rc = EXIT_USAGE;
    } else {
        int built = esl_figure_trace(&fig, run);
        rc = plot_cli_draw(built, fig, output);
    }
    esl_runs_free(run, run ? 1 : 0);
    esl_store_close(store);
    return rc;
}

static int run_trace(const cli_command *cmd, int argc, char **argv)
{
    trace_args a = {.store = "esl-runs.db"};
    int rc;

    if ((rc = cli_parse_all(cmd, argc, argv, on_trace_option, &a)) != 0)
        return rc;
    if (a.run == 0) {
        cli_error("plot trace: name the run with --run ID (esl runs list shows the ids)");
        return EXIT_USAGE;
    }
    if ((rc = plot_cli_need("trace", a.output)) != 0)
        return rc;
    return draw_trace(a.output, a.store, a.run);
}

const cli_command plot_trace = {
    "plot trace", run_trace,
    "a stored run's power trace with its idle baseline and measurement window",
    "-o FILE --run ID [--store FILE]",
    "Power (W) against time (s), one line per device, from the samples the run store kept;\n"
    "each device's idle power as a dashed line; the measurement window (time 0 to the run's\n"
    "duration) shaded grey; total and dynamic energy under the legend.",
    trace_options,
};
