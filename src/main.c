/*
 * main.c - the esl tool's entry point and its command table.
 *
 * The table is sorted by name; each entry lives in its own cmd_<name>.c and
 * uses only libesl's public API. main() fixes the numeric locale, dispatches,
 * and makes sure standard output was really written before reporting success.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "esl/esl.h"

const cli_command *const cli_commands[] = {
    &cmd_bench,
    &cmd_calibrate,
    &cmd_fit,
    &cmd_flops,
    &cmd_gpus,
    &cmd_help,
    &cmd_measure,
    &cmd_models,
    &cmd_plot,
    &cmd_predict,
    &cmd_report,
    &cmd_runs,
    &cmd_sweep,
    &cmd_validate,
    &cmd_version,
    NULL,
};

const cli_command *cli_find(const char *name)
{
    return cli_find_in(cli_commands, 0, name);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: esl COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; cli_commands[i] != NULL; i++)
        fprintf(out, "  %-12s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out, "\n'esl help COMMAND' or 'esl COMMAND --help' describes a command.\n");
}

/* esl help [--man] [--commands] [COMMAND] */
static int run_help(const cli_command *self, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--commands") == 0) {
        for (size_t i = 0; cli_commands[i] != NULL; i++)
            puts(cli_commands[i]->name);
        return EXIT_OK;
    }
    int man = argc > 1 && strcmp(argv[1], "--man") == 0;
    if (man && argc == 2) {
        cli_man_index(stdout);
        return EXIT_OK;
    }
    if (man || (argc > 1 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)) {
        const cli_command *cmd = cli_find(argv[1 + man]);
        if (cmd == NULL) {
            cli_error("help: unknown command '%s' (see 'esl help')", argv[1 + man]);
            return EXIT_USAGE;
        }
        (man ? cli_man : cli_help)(cmd, stdout);
        return EXIT_OK;
    }
    (void)self;
    usage(stdout);
    return EXIT_OK;
}

static const cli_option no_options[] = {{NULL, 0, NULL, NULL}};

const cli_command cmd_help = {
    "help", run_help, "show the commands, or one command's options",
    "[--man] [--commands] [COMMAND]",
    "--man prints the manual page (roff) of COMMAND, or of esl itself; --commands lists the\n"
    "command names one per line.",
    no_options,
};

static int run_version(const cli_command *self, int argc, char **argv)
{
    (void)self, (void)argc, (void)argv;
    printf("esl %s\n", esl_version());
    return EXIT_OK;
}

const cli_command cmd_version = {
    "version", run_version, "print the version", "", NULL, no_options,
};

int main(int argc, char **argv)
{
    int rc;

    setlocale(LC_NUMERIC, "C");
    /* A write past `ulimit -f` fails with EFBIG and is reported like any
     * other write error, instead of SIGXFSZ killing esl without a word. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        rc = run_version(&cmd_version, argc - 1, argv + 1);
    } else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        rc = EXIT_OK;
    } else {
        const cli_command *cmd = cli_find(argv[1]);
        if (cmd == NULL) {
            cli_error("unknown command '%s' (see 'esl help')", argv[1]);
            return EXIT_USAGE;
        }
        rc = cmd->run(cmd, argc - 1, argv + 1);
        if (rc < 0) /* help was printed */
            rc = EXIT_OK;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("error writing standard output");
        return EXIT_FAIL;
    }
    return rc;
}
