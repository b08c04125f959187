/*
 * test_catalog_listing.c - the catalogue listing (esl_catalog_listing_*):
 * parameter counts per model and component, published or counted from the
 * architecture; a broken user file kept with its error and left out of the
 * layouts; the table, CSV and JSON against the tool's golden outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

static char dir[] = "/tmp/esl-listing-XXXXXX";

static char *slurp(FILE *f)
{
    static char buf[1 << 17];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

/* Line `key` starts of the golden file NAME, newline included. */
static char *golden_line(const char *name, const char *key)
{
    static char line[4096];
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/cli/cases/%s", ESL_SOURCE_DIR, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0) {
            fclose(f);
            return line;
        }
    fail_msg("%s: no line %s", name, key);
    return NULL;
}

static void put(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const esl_catalog_model *find(const esl_catalog_listing *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->entries[i].name, name) == 0)
            return &l->models[i];
    fail_msg("no entry %s", name);
    return NULL;
}

static void listing(void **state)
{
    (void)state;
    esl_catalog_listing *l = NULL;
    assert_int_equal(esl_catalog_listing_new(&l), ESL_OK);
    assert_int_equal(l->n, esl_catalog_count() + 1);

    const esl_catalog_model *flux = find(l, "flux-dev");
    assert_non_null(flux->model);
    assert_null(flux->error);
    assert_int_equal(flux->params, INT64_C(16836324931));
    assert_int_equal(flux->denoiser_params, INT64_C(11901408320));
    assert_string_equal(flux->params_from[0], "published");

    /* FLUX's VAE decoder has no published count: its architecture's is used */
    size_t last = flux->model->n_components - 1;
    assert_string_equal(flux->model->components[last].name, "vae-decoder");
    assert_string_equal(flux->params_from[last], "architecture");
    assert_int_equal(flux->component_params[last], INT64_C(49545475));

    const esl_catalog_model *broken = find(l, "broken");
    assert_null(broken->model);
    assert_non_null(broken->error);
    assert_int_equal(broken->entry->origin, ESL_ORIGIN_PATH);

    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_catalog_listing_table(f, l), ESL_OK);
    char *text = slurp(f);
    assert_null(strstr(text, "broken"));
    char *nl = strchr(text, '\n');
    assert_memory_equal(text, golden_line("models.out", "name "), (size_t)(nl - text + 1));
    assert_non_null(strstr(text, golden_line("models.out", "flux-dev ")));
    assert_non_null(strstr(text, golden_line("models.out", "sd2 ")));
    fclose(f);

    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_catalog_listing_csv(f, l), ESL_OK);
    text = slurp(f);
    assert_true(strncmp(text, "name,display_name,family,parameters,origin,source\n", 50) == 0);
    assert_non_null(strstr(text, "\nflux-dev,\"FLUX.1-dev\",mmdit,16836324931,built-in,"
                                 "\"Iyengar et al. 2026, Table 5 (FLUX row); "
                                 "black-forest-labs/FLUX.1-dev\"\n"));
    assert_null(strstr(text, "broken"));
    fclose(f);

    assert_int_equal(esl_catalog_listing_json(&text, l), ESL_OK);
    assert_true(strncmp(text, "[\n  {\n    \"name\": \"auraflow\",\n", 30) == 0);
    assert_non_null(strstr(text, "\"parameters\": 16836324931,"));
    assert_non_null(strstr(text, "\"parameters_from\": \"architecture\""));
    assert_null(strstr(text, "broken"));
    free(text);
    esl_catalog_listing_free(l);
}

static void errors(void **state)
{
    (void)state;
    assert_int_equal(esl_catalog_listing_new(NULL), ESL_EINVAL);
    assert_int_equal(esl_catalog_listing_table(stdout, NULL), ESL_EINVAL);
    assert_int_equal(esl_catalog_listing_csv(NULL, NULL), ESL_EINVAL);
    assert_int_equal(esl_catalog_listing_json(NULL, NULL), ESL_EINVAL);
    esl_catalog_listing_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(listing), cmocka_unit_test(errors)};
    if (mkdtemp(dir) == NULL)
        return 1;
    put("broken.json", "{ not json\n");
    setenv("ESL_MODEL_PATH", dir, 1);
    setenv("XDG_DATA_HOME", "/nonexistent/esl-test", 1);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/broken.json", dir);
    remove(path);
    remove(dir);
    return rc;
}
