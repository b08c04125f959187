/*
 * test_report.c - the HTML report (esl/report.h): a page for the paper's
 * data and the built-in law holds the escaped title, the law's form and
 * every figure, leaves no temporary file behind, names the data's filters;
 * a bad call is refused before anything is written; the energy unit
 * follows the rows' image counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "esl/esl.h"
#include "esl/report.h"

#include "scratch_dir.h"
#include "test_io.h"

/* Occurrences of `needle` in `hay`. */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Entries of folder `path` other than . and .. */
static size_t entries(const char *path)
{
    DIR *d = opendir(path);
    size_t n = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The page for `ds` and `law` with `opts`, as a string to free(). */
static char *page(const esl_dataset *ds, const esl_law *law, const esl_report_opts *opts,
                  int expect)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_report_write(f, ds, law, opts), expect);
    return captured_text(f);
}

static void whole_page(void **state)
{
    (void)state;
    if (!esl_plot_available())
        skip();
    esl_dataset *all = NULL, *ds = NULL;
    esl_law *law = NULL;
    assert_int_equal(esl_dataset_builtin(&all, ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(esl_dataset_where(&ds, all, "gpu=A100"), ESL_OK);
    assert_int_equal(esl_law_builtin(&law, ESL_CONVENTION_PAPER, NULL), ESL_OK);
    char tmp[SCRATCH_PATH_MAX];
    assert_int_equal(mkdir(in_dir(tmp, "tmp"), 0700), 0);
    setenv("TMPDIR", tmp, 1);
    const char *where[] = {"gpu=A100"};
    esl_report_opts o = {.title = "a <b> & \"c\"", .where = where, .n_where = 1};
    char *html = page(ds, law, &o, ESL_OK);
    unsetenv("TMPDIR");
    assert_int_equal(entries(tmp), 0); /* the figures' folder is gone */
    assert_non_null(strstr(html, "<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"));
    assert_null(strstr(html, "<b>"));
    assert_non_null(strstr(html, "keeping gpu=A100"));
    /* the law's own form is named and validated beside the paper's */
    char want[128];
    assert_int_not_equal(law->form_id, ESL_FORM_PAPER);
    snprintf(want, sizeof want, "<th colspan=\"3\">%s form (the law's)</th>", law->form);
    assert_int_equal(count(html, want), 2); /* within each model, leave one model out */
    assert_int_equal(count(html, "<th colspan=\"3\">paper form</th>"), 2);
    assert_non_null(strstr(html, "One GPU in the data"));
    /* diagnostic, per model, leave-out, scaling, contributions, decomposition */
    assert_int_equal(count(html, "src=\"data:image/png;base64,iVBORw0KGgo"), 6);
    assert_non_null(strstr(html, "Wh per 100-image row"));
    size_t n = strlen(html);
    assert_true(n > 7 && strcmp(html + n - 15, "</body></html>\n") == 0);
    free(html);
    esl_law_free(law);
    esl_dataset_free(ds);
    esl_dataset_free(all);
}

static void refused(void **state)
{
    (void)state;
    esl_dataset *empty = NULL;
    esl_law *law = NULL;
    assert_int_equal(esl_dataset_new(&empty, "empty", ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(esl_law_builtin(&law, ESL_CONVENTION_PAPER, NULL), ESL_OK);
    char *html = page(empty, law, NULL, ESL_EINVAL);
    assert_string_equal(html, ""); /* nothing written */
    assert_non_null(strstr(esl_error_last(), "no row"));
    free(html);
    html = page(empty, NULL, NULL, ESL_EINVAL);
    free(html);
    assert_int_equal(esl_report_write(NULL, empty, law, NULL), ESL_EINVAL);
    esl_law_free(law);
    esl_dataset_free(empty);
}

static void energy_unit(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    char buf[32];
    assert_int_equal(esl_dataset_new(&ds, "t", ESL_CONVENTION_PAPER), ESL_OK);
    esl_row r = {.model = (char *)"sd2", .gpu = (char *)"A100", .dtype = (char *)"fp16", .height = 512, .width = 512,
                 .steps = 10, .prompts = 100, .energy_j = 7200.0};
    assert_int_equal(esl_dataset_append(ds, &r), ESL_OK);
    assert_int_equal(esl_dataset_append(ds, &r), ESL_OK);
    assert_string_equal(esl_report_energy_unit(buf, sizeof buf, ds), "Wh per 100-image row");
    assert_true(fabs(esl_report_energy_wh(ds, 1) - 2.0) < 1e-12);
    r.prompts = 4;
    assert_int_equal(esl_dataset_append(ds, &r), ESL_OK);
    assert_string_equal(esl_report_energy_unit(buf, sizeof buf, ds), "Wh per image");
    assert_true(fabs(esl_report_energy_wh(ds, 0) - 0.02) < 1e-12);
    assert_true(fabs(esl_report_energy_wh(ds, 2) - 0.5) < 1e-12);
    assert_true(isnan(esl_report_energy_wh(ds, 3)));
    esl_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_page),
        cmocka_unit_test(refused),
        cmocka_unit_test(energy_unit),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
