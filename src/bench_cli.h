/*
 * bench_cli.h - what `esl bench` and `esl calibrate` share: the "meter"
 * option group, --label, and measured GPU runs (a libesl measuring session,
 * esl_bench_session_*) whose failures are printed after the command's name.
 * The handlers live in cmd_bench.c.
 */
#ifndef ESL_BENCH_CLI_H
#define ESL_BENCH_CLI_H

#include "cli.h"
#include "esl/esl.h"

/* How runs are measured and stored; an open meter and store. */
typedef esl_bench_session_opts bench_cli_opts;
typedef esl_bench_session bench_cli;

/* Parse one --label KEY=VALUE into `o`; a key bench sets itself is refused.
 * Prints its error; returns 0 or an exit code. */
int bench_cli_label(bench_cli_opts *o, const char *arg);

/* Keys of the shared option group "meter" (options.c). */
enum { BENCH_OPT_IDLE_W = 1100, BENCH_OPT_HZ, BENCH_OPT_GPUS, BENCH_OPT_STORE };

/* Handle a key above: 0 or an exit code; BENCH_CLI_NOT_MINE for another. */
#define BENCH_CLI_NOT_MINE (-2)
int bench_cli_option(bench_cli_opts *o, int key, const char *arg);

/* esl_bench_session_open and _run: each prints its error prefixed
 * with `who` and returns 0 or an exit code. */
int bench_cli_open(bench_cli *b, const bench_cli_opts *opts, const char *who);
int bench_cli_run(bench_cli *b, const esl_workload *plan, const char *who,
                  esl_bench_measured *out);
#define bench_cli_close esl_bench_session_close

#endif
