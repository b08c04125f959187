/*
 * cli.c - option parsing, help, errors and number parsing for every command.
 *
 * getopt_long is driven from each command's cli_option table, and help is
 * printed from the same table, so documentation cannot drift from behaviour.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esl/esl.h"

#define MAX_OPTIONS 64

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("esl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Print the library's message of a failed output file, after `what`. */
static int file_failed(const char *what)
{
    if (what != NULL)
        cli_error("%s: %s", what, esl_error_last());
    else
        cli_error("%s", esl_error_last());
    return EXIT_FAIL;
}

int cli_file_open(cli_file *o, const char *path, const char *what)
{
    return esl_outfile_open(o, path) == ESL_OK ? 0 : file_failed(what);
}

int cli_file_commit(cli_file *o, const char *what)
{
    return esl_outfile_commit(o) == ESL_OK ? 0 : file_failed(what);
}

int cli_exit_code(int status)
{
    switch ((esl_status)status) {
    case ESL_OK: return EXIT_OK;
    case ESL_EINVAL:
    case ESL_EPARSE:
    case ESL_ERANGE:
    case ESL_ENOTFOUND:
    case ESL_EUNSUPPORTED:
    case ESL_ENUMERIC: return EXIT_USAGE;
    case ESL_ENODEV: return EXIT_NODEV;
    case ESL_ENOMEM:
    case ESL_EIO:
    case ESL_ESTORE:
    case ESL_EDEVICE: return EXIT_FAIL;
    }
    return EXIT_FAIL;
}

int cli_fail(int status)
{
    const char *detail = esl_error_last();
    cli_error("%s", detail[0] != '\0' ? detail : esl_strerror(status));
    return cli_exit_code(status);
}

/* 1 when `usage` names the option: --name (not a longer option it begins)
 * or its short form -k. */
static int names_option(const char *usage, const cli_option *o)
{
    size_t n = strlen(o->name);
    for (const char *p = strstr(usage, "--"); p != NULL; p = strstr(p + 2, "--"))
        if (strncmp(p + 2, o->name, n) == 0 &&
            !(p[2 + n] == '-' || (p[2 + n] >= 'a' && p[2 + n] <= 'z')))
            return 1;
    for (const char *p = strchr(usage, '-'); o->key > ' ' && o->key < 127 && p != NULL;
         p = strchr(p + 1, '-'))
        if ((p == usage || p[-1] == ' ' || p[-1] == '[') && p[1] == o->key &&
            (p[2] == ' ' || p[2] == ']' || p[2] == '\0'))
            return 1;
    return 0;
}

void cli_synopsis(const cli_command *cmd, FILE *out)
{
    const cli_option *all[MAX_OPTIONS];
    size_t n_all = cli_options(cmd->options, all, MAX_OPTIONS);
    const char *slot = strstr(cmd->usage, "[OPTIONS]");
    if (slot == NULL) { /* a synopsis written out in full */
        fputs(cmd->usage, out);
        return;
    }
    int sep = 0; /* a space before the next generated entry */
    fwrite(cmd->usage, 1, (size_t)(slot - cmd->usage), out);
    size_t shown = 0;
    for (size_t i = 0; i < n_all; i++) {
        if (names_option(cmd->usage, all[i]))
            continue;
        fprintf(out, "%s[--%s%s%s]", sep ? " " : "", all[i]->name, all[i]->arg ? " " : "",
                all[i]->arg ? all[i]->arg : "");
        sep = 1;
        shown++;
    }
    /* nothing left to name: the slot stays (a subcommand's options, say) */
    fputs(shown == 0 ? slot : slot + strlen("[OPTIONS]"), out);
}

void cli_help(const cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: esl %s ", cmd->name);
    cli_synopsis(cmd, out);
    fprintf(out, "\n\n%s\n", cmd->summary);
    if (cmd->description != NULL)
        fprintf(out, "\n%s\n", cmd->description);
    fprintf(out, "\noptions:\n");
    const cli_option *all[MAX_OPTIONS];
    size_t n_all = cli_options(cmd->options, all, MAX_OPTIONS);
    for (size_t i = 0; i < n_all; i++) {
        const cli_option *o = all[i];
        char left[64];
        if (o->key > ' ' && o->key < 127)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(out, "  %-28s %s\n", left, o->help);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help and exit");
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_handler fn, void *ctx,
              int *first_arg)
{
    struct option longs[MAX_OPTIONS + 2];
    char shorts[2 * MAX_OPTIONS + 4] = ":h";
    size_t n = 0, s = strlen(shorts);

    const cli_option *all[MAX_OPTIONS];
    size_t n_all = cli_options(cmd->options, all, MAX_OPTIONS);
    for (size_t i = 0; i < n_all; i++) {
        const cli_option *o = all[i];
        longs[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
        if (o->key > ' ' && o->key < 127) {
            shorts[s++] = (char)o->key;
            if (o->arg)
                shorts[s++] = ':';
        }
    }
    longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n] = (struct option){NULL, 0, NULL, 0};
    shorts[s] = '\0';

    opterr = 0;
    optind = 0; /* full re-initialisation in glibc */
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv, shorts, longs, &longindex);
        if (c == -1)
            break;
        if (c == 'h') {
            cli_help(cmd, stdout);
            return -1;
        }
        if (c == '?') {
            const char *bad = argv[optind - 1];
            if (optopt != 0 && optopt < 127)
                cli_error("%s: unknown option '-%c' (see 'esl %s --help')", cmd->name, optopt,
                          cmd->name);
            else
                cli_error("%s: unknown option '%s' (see 'esl %s --help')", cmd->name, bad,
                          cmd->name);
            return EXIT_USAGE;
        }
        if (c == ':') {
            cli_error("%s: option '%s' needs a value (see 'esl %s --help')", cmd->name,
                      argv[optind - 1], cmd->name);
            return EXIT_USAGE;
        }
        int rc = fn(ctx, c, optarg);
        if (rc != 0)
            return rc;
    }
    *first_arg = optind;
    return 0;
}

int cli_parse_all(const cli_command *cmd, int argc, char **argv, cli_handler fn, void *ctx)
{
    int first = argc;
    int rc = cli_parse(cmd, argc, argv, fn, ctx, &first);
    if (rc == 0 && first < argc) {
        cli_error("%s: unexpected argument '%s'", cmd->name, argv[first]);
        rc = EXIT_USAGE;
    }
    return rc;
}

const cli_command *cli_find_in(const cli_command *const *table, size_t skip, const char *name)
{
    for (size_t i = 0; table[i] != NULL; i++)
        if (strcmp(table[i]->name + skip, name) == 0)
            return table[i];
    return NULL;
}

int cli_int(const char *option, const char *arg, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (end == arg || *end != '\0') {
        cli_error("option --%s: '%s' is not an integer", option, arg);
        return EXIT_USAGE;
    }
    if (errno == ERANGE || v < min || v > max) {
        if (min == 1 && v < 1)
            cli_error("option --%s: '%s' is not a positive integer", option, arg);
        else if (v > max || (errno == ERANGE && v > 0))
            cli_error("option --%s: '%s' is above the maximum, %lld", option, arg, (long long)max);
        else
            cli_error("option --%s: '%s' is out of range [%lld, %lld]", option, arg,
                      (long long)min, (long long)max);
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}

int cli_double(const char *option, const char *arg, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || !isfinite(v)) {
        cli_error("option --%s: '%s' is not a finite number", option, arg);
        return EXIT_USAGE;
    }
    if (errno == ERANGE || v < min || v > max) {
        cli_error("option --%s: '%s' is out of range [%g, %g]", option, arg, min, max);
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}

int cli_duration(const char *option, const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    double scale = 1.0;
    if (end != arg && strcmp(end, "ms") == 0)
        scale = 1e-3;
    else if (end != arg && strcmp(end, "min") == 0)
        scale = 60.0;
    else if (end == arg || (strcmp(end, "s") != 0 && *end != '\0'))
        v = NAN;
    if (!isfinite(v) || errno == ERANGE || v < 0.0 || v * scale > 3600.0) {
        cli_error("option --%s: '%s' is not a duration like 5s, 500ms or 0 (at most 1 hour)",
                  option, arg);
        return EXIT_USAGE;
    }
    *out = v * scale;
    return 0;
}

int cli_key_value(const char *option, const char *arg, unsigned rules, esl_label *list, size_t *n,
                  size_t max, const char *what)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg ||
        ((rules & CLI_KV_BLANKLESS) && strcspn(arg, " \t\n") < (size_t)(eq - arg))) {
        cli_error("option --%s: '%s' is not KEY=VALUE%s", option, arg,
                  rules & CLI_KV_BLANKLESS ? " (a key without spaces)" : "");
        return EXIT_USAGE;
    }
    int klen = (int)(eq - arg);
    for (int i = 0; (rules & CLI_KV_WORD_KEY) && i < klen; i++) {
        char c = arg[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            cli_error("option --%s: key '%.*s' may hold only letters, digits, '_', '-' and '.'",
                      option, klen, arg);
            return EXIT_USAGE;
        }
    }
    for (const unsigned char *v = (const unsigned char *)eq + 1; (rules & CLI_KV_VISIBLE) && *v; v++)
        if (*v < 0x20 || *v == 0x7f) {
            cli_error("option --%s: the value of '%.*s' holds a control character (0x%02x)", option,
                      klen, arg, *v);
            return EXIT_USAGE;
        }
    for (size_t i = 0; (rules & CLI_KV_UNIQUE) && i < *n; i++)
        if (strlen(list[i].key) == (size_t)klen && strncmp(list[i].key, arg, (size_t)klen) == 0) {
            cli_error("option --%s: key '%.*s' is given twice", option, klen, arg);
            return EXIT_USAGE;
        }
    if (*n == max) {
        cli_error("option --%s: more than %zu %s", option, max, what);
        return EXIT_USAGE;
    }
    char *key = strndup(arg, (size_t)klen);
    if (key == NULL) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    list[(*n)++] = (esl_label){key, (char *)(eq + 1)};
    return 0;
}

int cli_format_parse(const char *arg, cli_format *out)
{
    if (strcmp(arg, "table") == 0)
        *out = FORMAT_TABLE;
    else if (strcmp(arg, "csv") == 0)
        *out = FORMAT_CSV;
    else if (strcmp(arg, "json") == 0)
        *out = FORMAT_JSON;
    else {
        cli_error("option --format: '%s' is not one of table, csv, json", arg);
        return EXIT_USAGE;
    }
    return 0;
}
