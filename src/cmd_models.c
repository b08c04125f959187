/*
 * cmd_models.c - `esl models`: the model catalogue (name, family, parameters,
 * origin, source; esl_catalog_listing), and `esl models import DIR`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

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

static int list_models(cli_format fmt)
{
    esl_catalog_listing *l = NULL;
    char *text = NULL; /* the JSON document */
    int status = esl_catalog_listing_new(&l);
    if (status != ESL_OK)
        return cli_fail(status);
    /* A broken file in a user's folder is named, not fatal to the list. */
    for (size_t i = 0; i < l->n; i++)
        if (l->models[i].model == NULL)
            cli_error("models: %s (%s): %s", l->entries[i].name,
                      l->entries[i].path ? l->entries[i].path : "", l->models[i].error);
    if (fmt == FORMAT_JSON && (status = esl_catalog_listing_json(&text, l)) == ESL_OK)
        fputs(text, stdout);
    else if (fmt != FORMAT_JSON)
        status = fmt == FORMAT_CSV ? esl_catalog_listing_csv(stdout, l)
                                   : esl_catalog_listing_table(stdout, l);
    free(text);
    esl_catalog_listing_free(l);
    return status == ESL_OK ? EXIT_OK : cli_fail(status);
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
