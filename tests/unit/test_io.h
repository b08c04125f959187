/*
 * test_io.h - the two file chores of the unit tests: what a writer put on
 * a stream, as a string, and a small file (a stand-in program, a plan)
 * written whole. Include after <cmocka.h>; each test file gets its own copy.
 */
#ifndef ESL_TEST_IO_H
#define ESL_TEST_IO_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The stream's text from its start to where it was left, as a string to
 * free(); the stream is closed. */
static inline char *captured_text(FILE *f)
{
    assert_non_null(f);
    long n = ftell(f);
    assert_true(n >= 0);
    char *text = calloc((size_t)n + 1, 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

/* Write `text` to `path`; with `executable`, make it a program (0755). */
static inline void write_file(const char *path, const char *text, int executable)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    if (executable)
        assert_int_equal(chmod(path, 0755), 0);
}

#endif
