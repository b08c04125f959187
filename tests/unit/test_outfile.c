/*
 * test_outfile.c - output files never left half written (esl/file.h): the
 * path holds nothing new until commit, commit publishes every byte with the
 * umask's mode, abandon and failed writes keep the old file, a directory is
 * refused by name, and a device (/dev/full) is written in place with its
 * write error reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "esl/esl.h"

#include "scratch_dir.h"

/* The whole content of `path` in buf (NUL-terminated), or "(none)". */
static const char *content(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return "(none)";
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Temporaries left in the scratch folder (there must be none). */
static int temporaries(void)
{
    char cmd[SCRATCH_PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c tmp-", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p == NULL || fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p != NULL)
        pclose(p);
    return n;
}

static void commit_publishes(void **state)
{
    (void)state;
    char path[SCRATCH_PATH_MAX], buf[64];
    in_dir(path, "out.txt");
    mode_t mask = umask(022);
    esl_outfile o;
    assert_int_equal(esl_outfile_open(&o, path), ESL_OK);
    assert_non_null(o.tmp);
    fputs("first", o.f);
    assert_string_equal(content(path, buf, sizeof buf), "(none)");
    assert_int_equal(esl_outfile_commit(&o), ESL_OK);
    assert_null(o.f);
    assert_string_equal(content(path, buf, sizeof buf), "first");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(temporaries(), 0);
    umask(mask);
}

static void abandon_keeps_old(void **state)
{
    (void)state;
    char path[SCRATCH_PATH_MAX], buf[64];
    in_dir(path, "keep.txt");
    esl_outfile o;
    assert_int_equal(esl_outfile_open(&o, path), ESL_OK);
    fputs("old", o.f);
    assert_int_equal(esl_outfile_commit(&o), ESL_OK);
    assert_int_equal(esl_outfile_open(&o, path), ESL_OK);
    fputs("half of the new", o.f);
    esl_outfile_abandon(&o);
    assert_null(o.f);
    assert_string_equal(content(path, buf, sizeof buf), "old");
    assert_int_equal(temporaries(), 0);
    esl_outfile_abandon(&o); /* a zeroed file: no-op */
    assert_int_equal(esl_outfile_commit(&o), ESL_OK);
}

static void refusals(void **state)
{
    (void)state;
    esl_outfile o;
    assert_int_equal(esl_outfile_open(&o, dir), ESL_EIO);
    assert_non_null(strstr(esl_error_last(), "is a directory"));
    assert_non_null(strstr(esl_error_last(), dir));
    assert_null(o.f);
    char path[SCRATCH_PATH_MAX];
    in_dir(path, "no/such/folder.txt");
    assert_int_equal(esl_outfile_open(&o, path), ESL_EIO);
    assert_non_null(strstr(esl_error_last(), "no/such/folder.txt: No such file or directory"));
    assert_int_equal(esl_outfile_open(NULL, path), ESL_EINVAL);
}

static void device_in_place(void **state)
{
    (void)state;
    esl_outfile o;
    if (access("/dev/full", W_OK) != 0)
        skip();
    assert_int_equal(esl_outfile_open(&o, "/dev/full"), ESL_OK);
    assert_null(o.tmp);
    for (int i = 0; i < 10000; i++)
        fputs("more than a buffer of bytes ", o.f);
    assert_int_equal(esl_outfile_commit(&o), ESL_EIO);
    assert_non_null(strstr(esl_error_last(), "/dev/full: No space left on device"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_publishes), cmocka_unit_test(abandon_keeps_old),
        cmocka_unit_test(refusals), cmocka_unit_test(device_in_place),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
