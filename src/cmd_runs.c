/*
 * cmd_runs.c - `esl runs list | show ID | export`: read the run store.
 * export writes runs as rows of the law's dataset (the columns of
 * data/paper_a100.csv plus batch_size, energy_kind, duration_s, idle_w and
 * source), with the dynamic energy as energy_j, so that
 * `esl runs export | esl fit --data -` fits a law to measured runs. `esl
 * runs import|merge|upgrade` move runs between stores and tools.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

#define MAX_WHERE 32

enum { OPT_FORMAT = 'f', OPT_WHERE = 'w', OPT_OUTPUT = 'o', OPT_STORE = 256, OPT_FROM, OPT_LABEL };

static const cli_option options[] = {
    {"store", OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"where", OPT_WHERE, "KEY=VALUE", "only runs with this label (list, export); repeatable"},
    {"format", OPT_FORMAT, "F", "output: table, csv or json (default: table; csv for export; "
                                "export also codecarbon, openmetrics)"},
    {"from", OPT_FROM, "FORMAT", "import: the file's format, codecarbon, zeus or mlenergy"},
    {"label", OPT_LABEL, "KEY=VALUE", "import: a label for every imported run; repeatable"},
    {"output", OPT_OUTPUT, "FILE", "merge: the store to merge into (created if needed)"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    const char *store;
    esl_label where[MAX_WHERE];
    size_t n_where;
    cli_format format;
    int have_format;
    const char *export_format; /* "codecarbon" or "openmetrics", else NULL */
    const char *from;
    const char *output;
    esl_label labels[MAX_WHERE];
    size_t n_labels;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_STORE: a->store = arg; return 0;
    case OPT_FORMAT:
        a->have_format = 1;
        if (strcmp(arg, "codecarbon") == 0 || strcmp(arg, "openmetrics") == 0) {
            a->export_format = arg;
            return 0;
        }
        return cli_format_parse(arg, &a->format);
    case OPT_FROM: a->from = arg; return 0;
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_LABEL:
        return cli_key_value("label", arg, CLI_KV_BLANKLESS, a->labels, &a->n_labels, MAX_WHERE,
                             "labels");
    case OPT_WHERE:
        return cli_key_value("where", arg, 0, a->where, &a->n_where, MAX_WHERE, "conditions");
    }
    return EXIT_USAGE;
}

/* Say a usage error and give its exit code. */
#define USAGE(...) (cli_error(__VA_ARGS__), EXIT_USAGE)

/* `runs export`: a run that cannot be a dataset row is skipped, saying why. */
static void skipped(void *ctx, const esl_run *r, const char *why)
{
    (void)ctx;
    cli_error("runs export: run %" PRId64 " skipped: %s", r->id, why);
}

/* `esl runs list|show|export|check`: read the store, never changing it. */
static int runs_read(const args *a, const char *verb, int64_t id)
{
    if (access(a->store, F_OK) != 0) /* a missing input file, as for every command */
        return USAGE("%s: no run store here (esl measure writes one; --store chooses another)",
                     a->store);
    esl_store *store = NULL;
    esl_run *runs = NULL;
    size_t n = 0;
    int rc = esl_store_open_readonly(&store, a->store);
    if (rc == ESL_OK && strcmp(verb, "check") == 0) {
        if ((rc = esl_store_check(store)) == ESL_OK)
            printf("%s: ok\n", a->store);
    } else if (rc == ESL_OK && strcmp(verb, "show") == 0) {
        if ((rc = esl_store_get(store, &runs, id)) == ESL_OK) {
            n = 1;
            (void)esl_run_write(stdout, runs, (esl_runs_form)a->format);
        }
    } else if (rc == ESL_OK &&
               (rc = esl_store_list(store, &runs, &n, a->where, a->n_where)) == ESL_OK) {
        if (strcmp(verb, "list") == 0)
            (void)esl_runs_list_write(stdout, runs, n, (esl_runs_form)a->format);
        else if (a->export_format == NULL)
            (void)esl_runs_rows_write(stdout, runs, n, skipped, NULL);
        else
            (void)esl_runs_export(stdout, runs, n, a->export_format[0] == 'c'
                                                       ? ESL_EXPORT_CODECARBON
                                                       : ESL_EXPORT_OPENMETRICS);
    }
    esl_runs_free(runs, n);
    esl_store_close(store);
    return rc == ESL_OK ? EXIT_OK : cli_fail(rc);
}

/* `esl runs import`: libesl reads and stores (esl_import_into); the tool says what was done. */
static int runs_import(const args *a, const char *file)
{
    esl_import_format fmt;
    if (esl_import_format_parse(&fmt, a->from) != ESL_OK)
        return USAGE("runs import: option --from: %s", esl_error_last());
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = esl_import_into(&ids, &n, a->store, file, fmt, a->labels, a->n_labels);
    if (rc != ESL_OK)
        return cli_fail(rc);
    printf("imported %zu run%s from %s (%s): ", n, n == 1 ? "" : "s", file, a->from);
    if (n == 1)
        printf("id %" PRId64 "\n", ids[0]);
    else
        printf("ids %" PRId64 " to %" PRId64 "\n", ids[0], ids[n - 1]);
    free(ids);
    return EXIT_OK;
}

/* `esl runs merge`: libesl merges (esl_store_merge_into); the tool says what was done. */
static int runs_merge(const char *store_path, char *const *shards, size_t n)
{
    esl_merge_result res;
    int rc = esl_store_merge_into(store_path, (const char *const *)shards, n, &res);
    if (rc != ESL_OK) {
        cli_error("runs merge: %s", esl_error_last());
        return cli_exit_code(rc);
    }
    for (size_t i = 0; i < res.n_conflicts; i++) {
        const esl_merge_conflict *c = &res.conflicts[i];
        cli_error("runs merge: conflict: run %s of %s (id %" PRId64 ") differs from run %" PRId64
                  " of %s, which was kept", c->uuid, c->shard, c->shard_id, c->store_id,
                  store_path);
    }
    printf("%s: %zu stores merged: %zu runs added, %zu already there, %zu conflicts\n",
           store_path, res.shards, res.added, res.skipped, res.n_conflicts);
    int code = res.n_conflicts > 0 ? EXIT_FAIL : EXIT_OK;
    esl_merge_result_release(&res);
    return code;
}

/* `esl runs upgrade`: opening a store for writing brings it to this schema. */
static int runs_upgrade(const args *a, int n)
{
    esl_store *s = NULL;
    if (n > 0 || a->output != NULL)
        return USAGE("runs upgrade: give the store with --store, nothing else");
    if (access(a->store, F_OK) != 0)
        return USAGE("%s: no run store here (--store chooses another)", a->store);
    int rc = esl_store_open(&s, a->store);
    if (rc != ESL_OK)
        return cli_fail(rc);
    esl_store_close(s);
    printf("%s: schema version %d\n", a->store, ESL_STORE_SCHEMA_VERSION);
    return EXIT_OK;
}

/* The action `verb` with its n operands `rest`, once the options are read. */
static int runs_verb(const args *a, const char *verb, int n, char **rest)
{
    int is_show = strcmp(verb, "show") == 0, is_export = strcmp(verb, "export") == 0;
    if (strcmp(verb, "import") == 0) {
        if (a->from == NULL || n < 1)
            return USAGE("runs import: give --from codecarbon|zeus|mlenergy and a FILE");
        if (n > 1)
            return USAGE("runs import: unexpected argument '%s'", rest[1]);
        if (a->n_where > 0 || a->have_format)
            return USAGE("runs import: --where and --format apply to list, show and export");
        return runs_import(a, rest[0]);
    }
    if (strcmp(verb, "merge") == 0 || strcmp(verb, "upgrade") == 0) {
        if (a->from != NULL || a->n_labels > 0 || a->n_where > 0 || a->have_format)
            return USAGE("runs %s: --from, --label, --where and --format do not apply", verb);
        if (verb[0] == 'u')
            return runs_upgrade(a, n);
        if (a->output == NULL || n == 0)
            return USAGE("runs merge: give the shards and the store to merge into (esl runs merge "
                         "SHARD... -o STORE)");
        return runs_merge(a->output, rest, (size_t)n);
    }
    if (a->output != NULL)
        return USAGE("runs %s: -o applies to merge", verb);
    if (a->from != NULL || a->n_labels > 0)
        return USAGE("runs %s: --from and --label apply to import", verb);
    if (a->export_format != NULL && !is_export)
        return USAGE("runs %s: option --format: '%s' is an export format", verb, a->export_format);
    if (!is_show && !is_export && strcmp(verb, "check") != 0 && strcmp(verb, "list") != 0)
        return USAGE("runs: unknown action '%s' (list, show ID, export, check, import, merge, "
                     "upgrade)", verb);
    long long id = 0;
    if (is_show && n < 1)
        return USAGE("runs show: which run? (esl runs show ID)");
    if (is_show) {
        char *end;
        errno = 0;
        id = strtoll(rest[0], &end, 10);
        if (end == rest[0] || *end != '\0' || errno == ERANGE || id < 1)
            return USAGE("runs show: '%s' is not a run id (a positive integer)", rest[0]);
    }
    if (n > is_show)
        return USAGE("runs %s: unexpected argument '%s'", verb, rest[is_show]);
    if (is_export && a->have_format && a->export_format == NULL && a->format != FORMAT_CSV)
        return USAGE("runs export: option --format: csv (dataset rows), codecarbon or openmetrics");
    if (is_show && a->n_where > 0)
        return USAGE("runs show: --where applies to list and export");
    return runs_read(a, verb, id);
}

static int run_runs(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.store = "esl-runs.db";
    int first, rc = cli_parse(cmd, argc, argv, on_option, &a, &first);
    if (rc == 0)
        rc = first < argc ? runs_verb(&a, argv[first], argc - first - 1, argv + first + 1)
                          : runs_verb(&a, "list", 0, argv + argc);
    for (size_t i = 0; i < a.n_where; i++)
        free(a.where[i].key);
    for (size_t i = 0; i < a.n_labels; i++)
        free(a.labels[i].key);
    return rc;
}

const cli_command cmd_runs = {
    "runs", run_runs, "list, show and export the stored runs",
    "[list | show ID | export | check] [OPTIONS]\n"
    "       esl runs import --from codecarbon|zeus|mlenergy FILE [--label KEY=VALUE]... [--store FILE]\n"
    "       esl runs merge SHARD... -o STORE\n"
    "       esl runs upgrade [--store FILE]",
    "list (the default) prints one line per run; show ID prints one run, its devices and labels\n"
    "(--format csv: its trace; json: everything); export writes the runs as dataset rows for\n"
    "esl fit: the labels model, dtype, cfg, height, width, steps and prompts are required (gpu\n"
    "defaults to the first device's name, batch_size to 1), energy_j is the dynamic energy, and\n"
    "runs that failed, are flagged no-change, too-short or device-lost, or whose dynamic energy\n"
    "is not positive are skipped with a note.\n"
    "check verifies the store (SQLite integrity check, every run complete).\n"
    "export --format codecarbon writes emissions.csv rows, --format openmetrics a text exposition.\n"
    "import stores every record of a CodeCarbon emissions.csv, a Zeus JSON file or ML.ENERGY\n"
    "leaderboard results in one transaction (all or nothing), as runs of total GPU energy\n"
    "(docs/esl-runs.md).\n"
    "merge copies every run of the SHARD stores into STORE (created if needed) in one\n"
    "transaction; runs are known by their UUID: one already in STORE is skipped, so merging\n"
    "again adds nothing, and one whose content differs is a conflict (STORE's is kept, exit 1).\n"
    "upgrade brings a store written by an older esl to this one's schema (run UUIDs).",
    options,
};
