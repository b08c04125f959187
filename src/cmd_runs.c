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
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "emit.h"
#include "table.h"
#include "commands.h"
#include "esl/esl.h"
#include "esl/export.h"

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

/* A stored run as libesl writes it (esl_run_json), to be emitted with the others. */
static json_t *run_json(const esl_run *r, int with_trace)
{
    char *text = NULL;
    json_t *o = esl_run_json(&text, r, with_trace) == ESL_OK ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return o != NULL ? o : json_null();
}

static void print_json(json_t *o)
{
    emit_json(o);
    json_decref(o);
}

/* `runs list` as a table or CSV (JSON is run_json's, with the devices). */
static const table_col list_cols[] = {
    {"id", COL_INT, IN_ALL, NULL, 5, NULL, NULL, NULL, 0},
    {"started", COL_STR, IN_ALL, NULL, -20, NULL, NULL, "  ", 0},
    {"exit_status", COL_INT, IN_ALL, "exit", 4, NULL, NULL, NULL, 0},
    {"duration_s", COL_NUM, IN_ALL, "duration s", 10, "%.3f", "%.17g", NULL, 0},
    {"energy_j", COL_NUM, IN_ALL, "energy J", 12, "%.3f", "%.17g", NULL, 0},
    {"idle_w", COL_NUM, IN_ALL, "idle W", 8, "%.2f", "%.17g", NULL, 0},
    {"dynamic_j", COL_NUM, IN_ALL, "dynamic J", 12, "%.3f", "%.17g", NULL, 0},
    {"flags", COL_STR, IN_ALL, NULL, -16, NULL, NULL, "  ", 0},
    {"labels", COL_STR, IN_ALL, NULL, 0, NULL, NULL, NULL, 0},
    {"command", COL_STR, IN_CSV, NULL, 0, NULL, NULL, NULL, 0},
};

static void list(const esl_run *runs, size_t n, cli_format fmt)
{
    char flags[256], labels[1024];
    if (fmt == FORMAT_JSON) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, run_json(&runs[i], 0));
        print_json(a);
        return;
    }
    table t;
    table_begin(&t, list_cols, sizeof list_cols / sizeof list_cols[0], fmt);
    for (size_t i = 0; i < n; i++) {
        const esl_run *r = &runs[i];
        const esl_record *rec = r->record;
        esl_flags_string(flags, sizeof flags, rec->flags);
        esl_run_labels_text(labels, sizeof labels, r);
        table_cell row[] = {
            {NULL, 0, r->id, 0}, {r->started, 0, 0, 0}, {NULL, 0, r->exit_status, 0},
            {NULL, rec->duration_s, 0, 0}, {NULL, rec->energy_j, 0, 0},
            {NULL, rec->idle_w, 0, 0}, {NULL, rec->dynamic_j, 0, 0},
            {flags, 0, 0, flags[0] == '\0'}, {labels, 0, 0, 0}, {r->command, 0, 0, 0},
        };
        table_row(&t, row);
    }
    table_end(&t);
}

static void show(const esl_run *r, cli_format fmt)
{
    const esl_record *rec = r->record;
    if (fmt == FORMAT_JSON) {
        print_json(run_json(r, 1));
        return;
    }
    if (fmt == FORMAT_CSV) { /* the trace */
        esl_record_trace_csv(stdout, rec);
        return;
    }
    (void)esl_run_text(stdout, r);
}

/* Rows of the law's dataset (esl_run_row_of); runs that cannot be rows are
 * skipped, saying why. */
static void export(const esl_run *runs, size_t n)
{
    esl_row_write_header(stdout);
    for (size_t i = 0; i < n; i++) {
        esl_run_row rr;
        if (esl_run_row_of(&rr, &runs[i]) != ESL_OK)
            cli_error("runs export: run %" PRId64 " skipped: %s", runs[i].id, esl_error_last());
        else
            esl_row_write(stdout, &rr.row);
    }
}

/* `esl runs import|merge|upgrade`: libesl reads, stores and merges (esl/import.h,
 * esl_store_merge_into); the tool says what was done. */
static int runs_import(const char *store_path, const char *from, const char *file,
                       const esl_label *labels, size_t n_labels)
{
    esl_import_format fmt;
    int rc = esl_import_format_parse(&fmt, from);
    if (rc != ESL_OK) {
        cli_error("runs import: option --from: %s", esl_error_last());
        return EXIT_USAGE;
    }
    esl_import *imp = NULL;
    if ((rc = esl_import_read(&imp, file, fmt)) != ESL_OK)
        return cli_fail(rc);
    int64_t *ids = calloc(imp->n_runs ? imp->n_runs : 1, sizeof *ids);
    esl_store *store = NULL;
    int exit_code = EXIT_FAIL;
    if (ids == NULL) {
        cli_error("out of memory");
        goto out;
    }
    if ((rc = esl_store_open(&store, store_path)) != ESL_OK ||
        (rc = esl_import_put(store, ids, imp, labels, n_labels)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    printf("imported %zu run%s from %s (%s): ", imp->n_runs, imp->n_runs == 1 ? "" : "s", file,
           from);
    if (imp->n_runs == 1)
        printf("id %" PRId64 "\n", ids[0]);
    else
        printf("ids %" PRId64 " to %" PRId64 "\n", ids[0], ids[imp->n_runs - 1]);
    exit_code = EXIT_OK;
out:
    esl_store_close(store);
    free(ids);
    esl_import_free(imp);
    return exit_code;
}

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

static int runs_upgrade(const char *store_path)
{
    esl_store *s = NULL;
    int rc = esl_store_open(&s, store_path);
    if (rc != ESL_OK)
        return cli_fail(rc);
    esl_store_close(s);
    printf("%s: schema version %d\n", store_path, ESL_STORE_SCHEMA_VERSION);
    return EXIT_OK;
}

static int runs_merge_verb(const char *verb, const char *store, const char *output, int stray,
                           int n, char **rest)
{
    if (stray) {
        cli_error("runs %s: --from, --label, --where and --format do not apply", verb);
        return EXIT_USAGE;
    }
    if (strcmp(verb, "upgrade") == 0) {
        if (n > 0 || output != NULL) {
            cli_error("runs upgrade: give the store with --store, nothing else");
            return EXIT_USAGE;
        }
        if (access(store, F_OK) != 0) {
            cli_error("%s: no run store here (--store chooses another)", store);
            return EXIT_USAGE;
        }
        return runs_upgrade(store);
    }
    if (output == NULL || n == 0) {
        cli_error("runs merge: give the shards and the store to merge into (esl runs merge "
                  "SHARD... -o STORE)");
        return EXIT_USAGE;
    }
    return runs_merge(output, rest, (size_t)n);
}

static int run_runs(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.store = "esl-runs.db";
    int first, rc = cli_parse(cmd, argc, argv, on_option, &a, &first);
    int exit_code = EXIT_USAGE;
    esl_store *store = NULL;
    esl_run *runs = NULL;
    size_t n = 0;
    if (rc != 0) {
        exit_code = rc;
        goto out;
    }
    const char *verb = first < argc ? argv[first] : "list";
    int is_show = strcmp(verb, "show") == 0, is_export = strcmp(verb, "export") == 0;
    int is_check = strcmp(verb, "check") == 0;
    if (strcmp(verb, "import") == 0) {
        if (a.from == NULL || first + 1 >= argc) {
            cli_error("runs import: give --from codecarbon|zeus|mlenergy and a FILE");
            goto out;
        }
        if (first + 2 < argc) {
            cli_error("runs import: unexpected argument '%s'", argv[first + 2]);
            goto out;
        }
        if (a.n_where > 0 || a.have_format) {
            cli_error("runs import: --where and --format apply to list, show and export");
            goto out;
        }
        exit_code = runs_import(a.store, a.from, argv[first + 1], a.labels, a.n_labels);
        goto out;
    }
    if (strcmp(verb, "merge") == 0 || strcmp(verb, "upgrade") == 0) {
        int stray = a.from != NULL || a.n_labels > 0 || a.n_where > 0 || a.have_format;
        exit_code = runs_merge_verb(verb, a.store, a.output, stray, argc - first - 1,
                                    argv + first + 1);
        goto out;
    }
    if (a.output != NULL) {
        cli_error("runs %s: -o applies to merge", verb);
        goto out;
    }
    if (a.from != NULL || a.n_labels > 0) {
        cli_error("runs %s: --from and --label apply to import", verb);
        goto out;
    }
    if (a.export_format != NULL && !is_export) {
        cli_error("runs %s: option --format: '%s' is an export format", verb, a.export_format);
        goto out;
    }
    if (!is_show && !is_export && !is_check && strcmp(verb, "list") != 0) {
        cli_error("runs: unknown action '%s' (list, show ID, export, check, import, merge, "
                  "upgrade)", verb);
        goto out;
    }
    int64_t id = 0;
    if (is_show) {
        if (first + 1 >= argc) {
            cli_error("runs show: which run? (esl runs show ID)");
            goto out;
        }
        char *end;
        errno = 0;
        long long v = strtoll(argv[first + 1], &end, 10);
        if (end == argv[first + 1] || *end != '\0' || errno == ERANGE || v < 1) {
            cli_error("runs show: '%s' is not a run id (a positive integer)", argv[first + 1]);
            goto out;
        }
        id = v;
    }
    int extra = first + (is_show ? 2 : 1);
    if (extra < argc) {
        cli_error("runs %s: unexpected argument '%s'", verb, argv[extra]);
        goto out;
    }
    if (is_export && a.have_format && a.export_format == NULL && a.format != FORMAT_CSV) {
        cli_error("runs export: option --format: csv (dataset rows), codecarbon or openmetrics");
        goto out;
    }
    if (is_show && a.n_where > 0) {
        cli_error("runs show: --where applies to list and export");
        goto out;
    }
    if (access(a.store, F_OK) != 0) {
        cli_error("%s: no run store here (esl measure writes one; --store chooses another)", a.store);
        exit_code = EXIT_USAGE; /* a missing input file, as for every command */
        goto out;
    }
    /* listing, showing, exporting and checking never change the file */
    if ((rc = esl_store_open_readonly(&store, a.store)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (is_check) {
        if ((rc = esl_store_check(store)) != ESL_OK) {
            exit_code = cli_fail(rc);
            goto out;
        }
        printf("%s: ok\n", a.store);
        exit_code = EXIT_OK;
        goto out;
    }
    if (is_show) {
        n = 1;
        rc = esl_store_get(store, &runs, id);
        if (rc != ESL_OK)
            n = 0;
    } else {
        rc = esl_store_list(store, &runs, &n, a.where, a.n_where);
    }
    if (rc != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (is_export && a.export_format != NULL)
        esl_runs_export(stdout, runs, n, strcmp(a.export_format, "codecarbon") == 0
                                             ? ESL_EXPORT_CODECARBON : ESL_EXPORT_OPENMETRICS);
    else if (is_export)
        export(runs, n);
    else if (is_show)
        show(&runs[0], a.format);
    else
        list(runs, n, a.format);
    exit_code = EXIT_OK;
out:
    esl_runs_free(runs, n);
    esl_store_close(store);
    for (size_t i = 0; i < a.n_where; i++)
        free(a.where[i].key);
    for (size_t i = 0; i < a.n_labels; i++)
        free(a.labels[i].key);
    return exit_code;
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
