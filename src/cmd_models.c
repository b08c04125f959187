/*
 * cmd_models.c - `esl models`: the model catalogue (name, family, parameters,
 * source), and `esl models show NAME` for one description's terms.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
#include "table.h"

enum { OPT_FORMAT = 'f', OPT_NAME = 256 };

static const cli_option options[] = {
    CLI_GROUP("format"),
    {"name", OPT_NAME, "NAME", "models import: the name the imported model gets"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    cli_format format;
    const char *name;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    if (key == OPT_NAME) {
        a->name = arg;
        return 0;
    }
    return key == OPT_FORMAT ? cli_format_parse(arg, &a->format) : EXIT_USAGE;
}

/* `esl models import DIR --name NAME`: describe a diffusers folder into the
 * user catalogue. */
static int import_model(const char *dir, const char *name)
{
    char *path = NULL;
    if (name == NULL) {
        cli_error("models import: --name NAME is required");
        return EXIT_USAGE;
    }
    int status = esl_catalog_import(&path, dir, name);
    if (status != ESL_OK)
        return cli_fail(status);
    printf("%s\n", path);
    free(path);
    return EXIT_OK;
}

/* The list's columns: the table shows the denoiser's parameters too. */
static const table_col cols[] = {
    {"name", COL_STR, IN_ALL, NULL, -12, NULL, NULL, NULL, 0},
    {"display_name", COL_STR, IN_ALL, "display name", -28, NULL, NULL, NULL, 1},
    {"family", COL_STR, IN_ALL, NULL, -7, NULL, NULL, NULL, 0},
    {"denoiser_parameters", COL_INT, IN_TABLE, "denoiser params", 15, NULL, NULL, NULL, 0},
    {"parameters", COL_INT, IN_ALL, "all params", 15, NULL, NULL, NULL, 0},
    {"source", COL_STR, IN_JSON, NULL, 0, NULL, NULL, NULL, 0},
    {"origin", COL_STR, IN_ALL, NULL, -14, NULL, NULL, "  ", 0},
    {"source", COL_STR, IN_TABLE | IN_CSV, NULL, 0, NULL, NULL, NULL, 1},
    {"path", COL_STR, IN_JSON, NULL, 0, NULL, NULL, NULL, 0},
};

/* A component's parameter count: the published one from the description, or
 * else the count of its architecture's layer plan, or 0 when neither exists.
 * `origin` says which. */
static long long component_params(const esl_model *m, const esl_plan *plan, size_t c,
                                  const char **origin)
{
    if (m->components[c].params > 0) {
        *origin = "published";
        return (long long)m->components[c].params;
    }
    if (plan != NULL && plan->components[c].params > 0) {
        *origin = "architecture";
        return (long long)plan->components[c].params;
    }
    *origin = "unknown";
    return 0;
}

static int list_models(cli_format fmt)
{
    esl_catalog_entry *entries = NULL;
    size_t n_entries = 0;
    int status = esl_catalog_list(&entries, &n_entries);
    if (status != ESL_OK)
        return cli_fail(status);
    table t;
    table_begin(&t, cols, sizeof cols / sizeof cols[0], fmt);
    for (size_t i = 0; i < n_entries; i++) {
        esl_model *m;
        const char *origin_name = esl_model_origin_name(entries[i].origin);
        /* A broken file in a user's folder is named, not fatal to the list. */
        if ((status = esl_catalog_find(&m, entries[i].name)) != ESL_OK) {
            cli_error("models: %s (%s): %s", entries[i].name, entries[i].path ? entries[i].path : "",
                      esl_error_last());
            continue;
        }
        /* Parameters do not depend on the image size; any valid size builds the plan. */
        esl_request req = {.height = 4 * m->pixel_multiple, .width = 4 * m->pixel_multiple,
                           .steps = 1, .prompts = 1};
        esl_plan *plan = NULL;
        if (esl_plan_build(&plan, m, &req) != ESL_OK)
            plan = NULL;
        long long params = 0, denoiser = 0;
        const char *origin;
        for (size_t c = 0; c < m->n_components; c++) {
            long long n = component_params(m, plan, c, &origin);
            params += n;
            if (m->components[c].stage == ESL_STAGE_DENOISE)
                denoiser += n;
        }
        const char *source = m->source ? m->source : "";
        table_cell row[] = {
            {m->name, 0, 0, 0}, {m->display_name ? m->display_name : "", 0, 0, 0},
            {m->family ? m->family : "", 0, 0, 0}, {NULL, 0, denoiser, 0}, {NULL, 0, params, 0},
            {source, 0, 0, 0}, {origin_name, 0, 0, 0}, {source, 0, 0, 0},
            {entries[i].path, 0, 0, 0},
        };
        json_t *o = table_row(&t, row);
        if (o != NULL) {
            json_t *comps = json_array();
            json_object_set_new(o, "shadows_builtin", json_boolean(entries[i].shadows_builtin));
            for (size_t c = 0; c < m->n_components; c++) {
                json_t *jc = json_object();
                json_object_set_new(jc, "name", json_string(m->components[c].name));
                json_object_set_new(jc, "stage", json_string(esl_stage_name(m->components[c].stage)));
                json_object_set_new(jc, "parameters", json_integer(component_params(m, plan, c, &origin)));
                json_object_set_new(jc, "parameters_from", json_string(origin));
                json_array_append_new(comps, jc);
            }
            json_object_set_new(o, "components", comps);
        }
        esl_plan_free(plan);
        esl_model_free(m);
    }
    table_end(&t);
    esl_catalog_list_free(entries, n_entries);
    return EXIT_OK;
}

static int run_models(const cli_command *cmd, int argc, char **argv)
{
    args a = {.format = FORMAT_TABLE};
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc && strcmp(argv[first], "import") == 0) {
        if (argc - first != 2) {
            cli_error("models import: give one diffusers folder");
            return EXIT_USAGE;
        }
        return import_model(argv[first + 1], a.name);
    }
    if (first < argc) {
        cli_error("models: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.name != NULL) {
        cli_error("models: --name applies only to 'models import'");
        return EXIT_USAGE;
    }
    return list_models(a.format);
}

const cli_command cmd_models = {
    "models", run_models, "list the model catalogue with each model's origin, or import a diffusers folder",
    "[--format table|csv|json] | import DIR --name NAME",
    "Lists every model --model can name: built-in ones, NAME.json files in the folders of\n"
    "ESL_MODEL_PATH, and imported ones in the user catalogue folder, each with its origin.\n"
    "Each component counts with its published parameter count, or else the count of its\n"
    "architecture's layers (--format json says which: parameters_from published|architecture).\n"
    "Folders in ESL_MODEL_PATH (NAME.json files), then the user catalogue folder, are searched\n"
    "before the built-in catalogue. 'esl models import DIR --name NAME' reads a diffusers\n"
    "folder's config files and writes NAME.json into the user catalogue folder (the first\n"
    "folder of ESL_MODEL_PATH, else $XDG_DATA_HOME/esl/models or ~/.local/share/esl/models).",
    options,
};
