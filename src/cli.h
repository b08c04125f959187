/*
 * cli.h - what every esl subcommand shares: the option tables that both parse
 * the command line and print help (so the two can never disagree), exit
 * codes, output formats and number parsing with one-line error messages.
 */
#ifndef ESL_CLI_H
#define ESL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "esl/esl.h"

/* Exit codes, fixed and documented in docs/esl.1.md. */
enum {
    EXIT_OK = 0,      /* success */
    EXIT_FAIL = 1,    /* the work failed */
    EXIT_USAGE = 2,   /* bad usage or bad input */
    EXIT_NODEV = 3    /* no measuring device */
};

/* One option. A printable `key` is also the short option (-q). */
typedef struct cli_option {
    const char *name; /* long name without "--" */
    int key;          /* passed to the handler */
    const char *arg;  /* placeholder of the value, NULL for a flag */
    const char *help;
} cli_option;

/* An entry of a command's table that stands for a shared option group
 * (options.c): "data", "fit", "meter" or "format". */
#define CLI_GROUP(name) {"@" name, 0, NULL, NULL}

/* The options of `table` with its groups spliced in, in order, into out
 * (at most cap). Returns how many. */
size_t cli_options(const cli_option *table, const cli_option **out, size_t cap);

typedef struct cli_command cli_command;
struct cli_command {
    const char *name;
    int (*run)(const cli_command *cmd, int argc, char **argv);
    const char *summary;      /* one line for `esl help` */
    const char *usage;        /* the synopsis; "[OPTIONS]" is generated (cli_synopsis) */
    const char *description;  /* a paragraph for `esl help NAME`, may be NULL */
    const cli_option *options;/* terminated by an entry with name NULL */
};

/* Handler called for each option in command-line order; returns 0 or an exit code. */
typedef int (*cli_handler)(void *ctx, int key, const char *arg);

/*
 * Parse argv[1..] against cmd->options. "--help"/"-h" prints help and makes
 * the call return -1 (the caller exits 0). Errors print one line and return
 * EXIT_USAGE. On success returns 0 and sets *first_arg to the index of the
 * first operand.
 */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_handler fn, void *ctx,
              int *first_arg);

/* cli_parse for a command that takes no operands: an operand left over is
 * refused with "NAME: unexpected argument 'X'" (EXIT_USAGE). Returns 0, -1
 * (help printed) or an exit code. */
int cli_parse_all(const cli_command *cmd, int argc, char **argv, cli_handler fn, void *ctx);

/* The entry of a NULL-terminated table whose name, after its first `skip`
 * characters ("plot " for the kinds of esl plot), is `name`; NULL if none. */
const cli_command *cli_find_in(const cli_command *const *table, size_t skip, const char *name);

/* The synopsis after "esl NAME ". Where cmd->usage holds "[OPTIONS]", it
 * names the operands and what is required, and every option of the table it
 * does not name (--name or -k) stands in the slot as [--name ARG], in the
 * table's order, so the synopsis cannot drift from the options; a usage
 * without the slot is printed as written. */
void cli_synopsis(const cli_command *cmd, FILE *out);

/* Print `esl NAME` help built from the option table. */
void cli_help(const cli_command *cmd, FILE *out);

/* Print a command's manual page (roff), or the index page esl(1). */
void cli_man(const cli_command *cmd, FILE *out);
void cli_man_index(FILE *out);

/* An output file never left half written (esl_outfile, esl/file.h). */
typedef esl_outfile cli_file;

/* Open o->f for `path`; `what` prefixes messages (an option's name, or NULL).
 * Returns 0, or EXIT_FAIL after printing why. */
int cli_file_open(cli_file *o, const char *path, const char *what);
/* Finish the file: check every write, close it and rename it into place.
 * Returns 0, or EXIT_FAIL after printing why (and removing the temporary). */
int cli_file_commit(cli_file *o, const char *what);
/* Give the file up (an error came first): esl_outfile_abandon. */
#define cli_file_abandon esl_outfile_abandon

/* Print "esl: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print libesl's error detail and return the exit code of `status`. */
int cli_fail(int status);

/* The exit code for an esl_status. */
int cli_exit_code(int status);

/* Parse an integer option value in [min, max]; prints the error itself. */
int cli_int(const char *option, const char *arg, int64_t min, int64_t max, int64_t *out);
/* Parse a finite double option value in [min, max]. */
int cli_double(const char *option, const char *arg, double min, double max, double *out);

/* Parse a duration option: "5s", "500ms", "2min", "0.2" (seconds) or "0", at most one hour. */
int cli_duration(const char *option, const char *arg, double *out);

/* What a KEY=VALUE option (--label, --where) checks, beyond a key before '=':
 * the key's characters, the value's, and that no key repeats. */
enum {
    CLI_KV_WORD_KEY = 1u << 0,  /* key of letters, digits, '_', '-' and '.' only */
    CLI_KV_BLANKLESS = 1u << 1, /* key without spaces, tabs or line feeds */
    CLI_KV_VISIBLE = 1u << 2,   /* value without control characters */
    CLI_KV_UNIQUE = 1u << 3     /* a key given once */
};

/* Parse --OPTION KEY=VALUE into list[*n] (at most max): the key a new copy
 * (the caller frees it), the value pointing into `arg`. Prints the error;
 * returns 0 or an exit code. */
int cli_key_value(const char *option, const char *arg, unsigned rules, esl_label *list, size_t *n,
                  size_t max, const char *what);

typedef enum cli_format { FORMAT_TABLE = 0, FORMAT_CSV = 1, FORMAT_JSON = 2 } cli_format;
int cli_format_parse(const char *arg, cli_format *out);


/* The command table (main.c). */
extern const cli_command *const cli_commands[];
const cli_command *cli_find(const char *name);

#endif
