/*
 * plot_trace.c - `esl plot trace`: a stored run's power against time. The
 * tool checks its options; esl_figure_trace_stored opens the store, reads
 * the run and builds the figure.
 */
#include "cli.h"
#include "esl/esl.h"
#include "plot_cli.h"

static const cli_option trace_options[] = {
    {"output", PLOT_OPT_OUTPUT, "FILE", "the figure: .png, .svg or .pdf"},
    {"store", PLOT_OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"run", PLOT_OPT_RUN, "ID", "the run to draw (esl runs list shows the ids)"},
    {NULL, 0, NULL, NULL},
};

static int run_trace(const cli_command *cmd, int argc, char **argv)
{
    plot_cli_args a = {.store = "esl-runs.db"};
    esl_figure *fig = NULL;
    int rc = cli_parse_all(cmd, argc, argv, plot_cli_option, &a);
    if (rc != 0)
        return rc;
    if (a.run == 0) {
        cli_error("plot trace: name the run with --run ID (esl runs list shows the ids)");
        return EXIT_USAGE;
    }
    if ((rc = plot_cli_need("trace", a.output)) != 0)
        return rc;
    int built = esl_figure_trace_stored(&fig, a.store, a.run);
    return plot_cli_draw(built, fig, a.output);
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
