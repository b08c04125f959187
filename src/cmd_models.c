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

enum { OPT_FORMAT = 'f' };

static const cli_option options[] = {
    {"format", OPT_FORMAT, "F", "output: table (default), csv or json"},
    {NULL, 0, NULL, NULL},
};

static int on_option(void *ctx, int key, const char *arg)
{
    return key == OPT_FORMAT ? cli_format_parse(arg, ctx) : EXIT_USAGE;
}

static void csv_field(const char *s)
{
    putchar('"');
    for (; s != NULL && *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static int list_models(cli_format fmt)
{
    json_t *array = json_array();
    if (fmt == FORMAT_TABLE)
        printf("%-12s %-28s %-7s %15s %15s  %s\n", "name", "display name", "family", "denoiser params",
               "all given", "source");
    else if (fmt == FORMAT_CSV)
        printf("name,display_name,family,parameters,source\n");
    for (size_t i = 0; i < esl_catalog_count(); i++) {
        esl_model *m;
        int status = esl_catalog_find(&m, esl_catalog_name(i));
        if (status != ESL_OK) {
            json_decref(array);
            return cli_fail(status);
        }
        long long params = (long long)esl_model_params(m), denoiser = 0;
        for (size_t c = 0; c < m->n_components; c++)
            if (m->components[c].stage == ESL_STAGE_DENOISE)
                denoiser += m->components[c].params;
        if (fmt == FORMAT_TABLE) {
            printf("%-12s %-28s %-7s %15lld %15lld  %s\n", m->name,
                   m->display_name ? m->display_name : "", m->family ? m->family : "", denoiser, params,
                   m->source ? m->source : "");
        } else if (fmt == FORMAT_CSV) {
            printf("%s,", m->name);
            csv_field(m->display_name);
            printf(",%s,%lld,", m->family ? m->family : "", params);
            csv_field(m->source);
            putchar('\n');
        } else {
            json_t *o = json_object();
            json_t *comps = json_array();
            json_object_set_new(o, "name", json_string(m->name));
            json_object_set_new(o, "display_name", json_string(m->display_name ? m->display_name : ""));
            json_object_set_new(o, "family", json_string(m->family ? m->family : ""));
            json_object_set_new(o, "parameters", json_integer(params));
            json_object_set_new(o, "source", json_string(m->source ? m->source : ""));
            for (size_t c = 0; c < m->n_components; c++) {
                json_t *jc = json_object();
                json_object_set_new(jc, "name", json_string(m->components[c].name));
                json_object_set_new(jc, "stage", json_string(esl_stage_name(m->components[c].stage)));
                json_object_set_new(jc, "parameters", json_integer(m->components[c].params));
                json_array_append_new(comps, jc);
            }
            json_object_set_new(o, "components", comps);
            json_array_append_new(array, o);
        }
        esl_model_free(m);
    }
    if (fmt == FORMAT_JSON) {
        char *text = json_dumps(array, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text != NULL)
            puts(text);
        free(text);
    }
    json_decref(array);
    return EXIT_OK;
}

static int run_models(const cli_command *cmd, int argc, char **argv)
{
    cli_format fmt = FORMAT_TABLE;
    int first, rc;
    if ((rc = cli_parse(cmd, argc, argv, on_option, &fmt, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("models: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    return list_models(fmt);
}

const cli_command cmd_models = {
    "models", run_models, "list the built-in model catalogue", "[--format table|csv|json]",
    "'all given' sums the components' published parameter counts; a component whose count\n"
    "is not given adds 0, and 'esl models --format json' shows each component's count.\n"
    "Folders in ESL_MODEL_PATH (NAME.json files) are searched before the built-in catalogue.",
    options,
};
