/*
 * test_sweep_run.c - the cluster side of a sweep: tasks run as their own
 * processes with the shard and labels added, failures leave a marker with
 * their reason and do not stop the others, an unreadable line costs its
 * task only; a task marked running whose Slurm job the queue no longer
 * lists is failed with sacct's reason; sbatch's job id comes back. Fake
 * esl, squeue, sacct and sbatch programs stand in for the real ones.
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
#include "test_io.h"

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void read_line(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, (int)size, f));
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

typedef struct seen {
    int outcome[8];
    int status[8];
    size_t n;
} seen;

static void on_task(void *ctx, const esl_sweep_task *t, int outcome, int status)
{
    (void)t;
    seen *s = ctx;
    if (s->n < 8) {
        s->outcome[s->n] = outcome;
        s->status[s->n++] = status;
    }
}

/* Three tasks: one exits 0, one 3, one cannot be read; each outcome is
 * told, the markers say what failed, and the program got the shard, the
 * task label, the job's labels and the task's own words. */
static void runs_tasks_and_marks_failures(void **state)
{
    (void)state;
    char prog[SCRATCH_PATH_MAX], manifest[SCRATCH_PATH_MAX], shards[SCRATCH_PATH_MAX];
    char path[SCRATCH_PATH_MAX + 64], line[512];
    /* the fake esl writes its words to SHARD.args and exits with the last word */
    write_file(in_dir(prog, "fake-esl"),
               "#!/bin/sh\nfor w in \"$@\"; do last=$w; done\necho \"$@\" > \"$3.args\"\n"
               "exit $last\n", 1);
    write_file(in_dir(manifest, "sweep.txt"),
               "# esl sweep 1\ngood\tbench --code 0\nbad\tbench --code 3\n"
               "broken\tbench 'unclosed\n", 0);
    in_dir(shards, "shards");
    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_read(&sw, manifest), ESL_OK);
    assert_int_equal(sw.n, 3);
    esl_sweep_job job = {0};
    snprintf(job.words[job.n++], sizeof job.words[0], "node=n1");
    seen s = {0};
    size_t failed = 99;
    assert_int_equal(esl_sweep_run_tasks(&sw, prog, shards, 0, 10, &job, on_task, &s, &failed),
                     ESL_OK);
    assert_int_equal(failed, 2);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.outcome[0], ESL_SWEEP_TASK_RAN);
    assert_int_equal(s.outcome[1], ESL_SWEEP_TASK_FAILED);
    assert_int_equal(s.status[1], 3);
    assert_int_equal(s.outcome[2], ESL_SWEEP_TASK_UNREADABLE);

    snprintf(path, sizeof path, "%s/good.db.args", shards);
    read_line(path, line, sizeof line);
    char want[1024];
    snprintf(want, sizeof want, "bench --store %s/good.db --label sweep_task=good --label node=n1 "
                                "--code 0", shards);
    assert_string_equal(line, want);
    snprintf(path, sizeof path, "%s/good.failed", shards);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/bad.failed", shards);
    read_line(path, line, sizeof line);
    assert_string_equal(line, "exit status 3");
    snprintf(path, sizeof path, "%s/bad.running", shards);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/broken.failed", shards);
    read_line(path, line, sizeof line);
    assert_non_null(strstr(line, "manifest line 4"));

    /* a slice: only the second task */
    s.n = 0;
    assert_int_equal(esl_sweep_run_tasks(&sw, prog, shards, 1, 1, NULL, on_task, &s, &failed),
                     ESL_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(failed, 1);
    assert_int_equal(esl_sweep_run_tasks(&sw, prog, shards, 3, 1, NULL, NULL, NULL, &failed),
                     ESL_EINVAL);
    esl_sweep_release(&sw);
}

/* The queue decides whether a running marker is believed. */
static void running_task_whose_job_is_gone(void **state)
{
    (void)state;
    char manifest[SCRATCH_PATH_MAX], shards[SCRATCH_PATH_MAX], bin[SCRATCH_PATH_MAX];
    char path[SCRATCH_PATH_MAX + 64], env[SCRATCH_PATH_MAX + 32];
    write_file(in_dir(manifest, "sweep.txt"), "# esl sweep 1\nt1\tbench --steps 1\n"
                                              "t2\tbench --steps 2\n", 0);
    assert_int_equal(mkdir(in_dir(shards, "shards"), 0777), 0);
    assert_int_equal(mkdir(in_dir(bin, "bin"), 0777), 0);
    snprintf(path, sizeof path, "%s/t1.running", shards);
    write_file(path, "pid=1 slurm_job_id=42\n", 0);
    snprintf(path, sizeof path, "%s/t2.failed", shards);
    write_file(path, "exit status 9\n", 0);
    snprintf(path, sizeof path, "%s/squeue", bin);
    write_file(path, "#!/bin/sh\necho 7\necho 420\n", 1);
    snprintf(path, sizeof path, "%s/sacct", bin);
    write_file(path, "#!/bin/sh\necho TIMEOUT\n", 1);
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    snprintf(env, sizeof env, "%s", bin);
    setenv("PATH", env, 1);

    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_read(&sw, manifest), ESL_OK);
    esl_task_state st[2];
    char why[2][ESL_SWEEP_WHY];
    assert_int_equal(esl_sweep_states_live(&sw, shards, st, why), ESL_OK);
    assert_int_equal(st[0], ESL_TASK_FAILED);
    assert_string_equal(why[0], "its Slurm job 42 is gone: TIMEOUT");
    assert_int_equal(st[1], ESL_TASK_FAILED);
    assert_string_equal(why[1], "exit status 9");

    /* listed in the queue: still running */
    snprintf(path, sizeof path, "%s/squeue", bin);
    write_file(path, "#!/bin/sh\necho 7\necho 42\n", 1);
    assert_int_equal(esl_sweep_states_live(&sw, shards, st, NULL), ESL_OK);
    assert_int_equal(st[0], ESL_TASK_RUNNING);
    /* no squeue at all: the marker is believed */
    unlink(path);
    assert_int_equal(esl_sweep_states_live(&sw, shards, st, why), ESL_OK);
    assert_int_equal(st[0], ESL_TASK_RUNNING);
    assert_string_equal(why[0], "");

    setenv("PATH", saved ? saved : "/usr/bin:/bin", 1);
    free(saved);
    esl_sweep_release(&sw);
}

static void sbatch_job_id(void **state)
{
    (void)state;
    char bin[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX + 64], job[16];
    assert_int_equal(mkdir(in_dir(bin, "bin2"), 0777), 0);
    snprintf(path, sizeof path, "%s/sbatch", bin);
    write_file(path, "#!/bin/sh\n[ \"$1\" = --parsable ] || exit 5\necho '1234;cluster'\n", 1);
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", bin, 1);
    assert_int_equal(esl_sweep_sbatch(job, sizeof job, "/x/sweep.sbatch"), ESL_OK);
    assert_string_equal(job, "1234");
    assert_int_equal(esl_sweep_sbatch(job, 3, "/x/sweep.sbatch"), ESL_ERANGE);
    unlink(path);
    assert_int_equal(esl_sweep_sbatch(job, sizeof job, "/x/sweep.sbatch"), ESL_EIO);
    assert_non_null(strstr(esl_error_last(), "sbatch not found"));
    setenv("PATH", saved ? saved : "/usr/bin:/bin", 1);
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(runs_tasks_and_marks_failures, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(running_task_whose_job_is_gone, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(sbatch_job_id, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
