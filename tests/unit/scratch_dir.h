/*
 * scratch_dir.h - a private temporary folder for each test of a cmocka
 * group (scratch_setup and scratch_teardown), and paths inside it. Each
 * test file that includes it gets its own copy: the folder is static.
 */
#ifndef ESL_TEST_SCRATCH_DIR_H
#define ESL_TEST_SCRATCH_DIR_H

#include <stdio.h>
#include <stdlib.h>

/* The size of a path buffer given to in_dir. */
#define SCRATCH_PATH_MAX 256

static char dir[64];

/* Make the folder (mkdtemp); -1 when it cannot be made. */
static int scratch_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/esl-unit-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

/* Remove the folder and all in it. */
static int scratch_teardown(void **state)
{
    (void)state;
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* DIR/name in buf, which holds SCRATCH_PATH_MAX bytes. */
static const char *in_dir(char buf[SCRATCH_PATH_MAX], const char *name)
{
    snprintf(buf, SCRATCH_PATH_MAX, "%s/%s", dir, name);
    return buf;
}

#endif
