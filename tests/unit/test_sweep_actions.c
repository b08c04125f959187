/*
 * test_sweep_actions.c - the actions of a sweep from option values: the
 * settings are taken by their option names and checked as the command line
 * checks them, a plan of comma-separated lists becomes its grid, the status
 * is the same table, CSV and JSON `esl sweep status` prints, a job's slice
 * comes from its index (given or from the environment), and submitting
 * writes the script or the Indexed Job and hands the script to sbatch. Fake
 * esl and sbatch programs stand in for the real ones; without squeue in
 * PATH the markers are believed.
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

/* PATH set to the scratch folder's bin (a fake sbatch, no squeue); the old
 * one is given back, to restore. */
static char *path_to_bin(char bin[SCRATCH_PATH_MAX])
{
    char path[SCRATCH_PATH_MAX + 16];
    assert_int_equal(mkdir(in_dir(bin, "bin"), 0777), 0);
    snprintf(path, sizeof path, "%s/sbatch", bin);
    write_file(path, "#!/bin/sh\n[ \"$1\" = --parsable ] || exit 5\necho '77;c'\n", 1);
    const char *old = getenv("PATH");
    char *saved = strdup(old ? old : "/usr/bin:/bin");
    setenv("PATH", bin, 1);
    return saved;
}

static void restore_path(char *saved)
{
    setenv("PATH", saved, 1);
    free(saved);
}

static void settings_by_name(void **state)
{
    (void)state;
    esl_sweep_settings s = {0};
    assert_int_equal(esl_sweep_set(&s, "models", "sd2,,flux-dev"), ESL_OK);
    assert_string_equal(s.plan.models, "sd2,,flux-dev");
    assert_int_equal(esl_sweep_set(&s, "cfg", "0,1"), ESL_OK);
    assert_string_equal(s.plan.cfgs, "0,1");
    assert_int_equal(esl_sweep_set(&s, "prompts", "4"), ESL_OK);
    assert_int_equal(s.plan.prompts, 4);
    assert_int_equal(esl_sweep_set(&s, "per-job", "3"), ESL_OK);
    assert_int_equal(s.per_job, 3);
    assert_int_equal(esl_sweep_set(&s, "partition", "gpu"), ESL_OK);
    assert_string_equal(s.partition, "gpu");
    assert_int_equal(esl_sweep_set(&s, "k8s-manifest", "job.yaml"), ESL_OK);
    assert_string_equal(s.k8s_manifest, "job.yaml");
    assert_int_equal(esl_sweep_set(&s, "slurm", NULL), ESL_OK);
    assert_int_equal(s.slurm, 1);
    assert_int_equal(esl_sweep_set(&s, "resume", NULL), ESL_OK);
    assert_int_equal(esl_sweep_set(&s, "dry-run", NULL), ESL_OK);
    assert_int_equal(s.flags, ESL_SWEEP_RESUME | ESL_SWEEP_DRY_RUN);
    assert_int_equal(s.index_given, 0);
    assert_int_equal(esl_sweep_set(&s, "index", "0"), ESL_OK);
    assert_int_equal(s.index_given, 1);
    assert_int_equal(s.index, 0);

    /* refused as the command line refuses them */
    assert_int_equal(esl_sweep_set(&s, "sizes", ","), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --sizes: no value");
    assert_null(s.plan.sizes);
    assert_int_equal(esl_sweep_set(&s, "per-job", "0"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --per-job: '0' is not a positive integer");
    assert_int_equal(s.per_job, 3);
    assert_int_equal(esl_sweep_set(&s, "index", "-2"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --index: '-2' is out of range [0, 2147483647]");
    assert_int_equal(esl_sweep_set(&s, "array-max", "2000000"), ESL_EINVAL);
    assert_string_equal(esl_error_last(),
                        "option --array-max: '2000000' is above the maximum, 1000000");
    assert_int_equal(esl_sweep_set(&s, "colour", "red"), ESL_EINVAL);
    assert_int_equal(esl_sweep_set(&s, "gres", NULL), ESL_EINVAL);
    for (int i = 0; i < ESL_SWEEP_MAX_SBATCH; i++)
        assert_int_equal(esl_sweep_set(&s, "sbatch", "--account=x"), ESL_OK);
    assert_int_equal(esl_sweep_set(&s, "sbatch", "--account=y"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --sbatch: more than 16 lines");
    assert_int_equal(s.n_sbatch, ESL_SWEEP_MAX_SBATCH);
}

static void plan_from_lists(void **state)
{
    (void)state;
    const char *extra[] = {"--idle", "0"};
    esl_sweep_plan p = {"sd2,flux-dev", "256,,512", "10", NULL, "0,1", 0, NULL, extra, 2};
    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_add_plan(&sw, &p), ESL_OK);
    assert_int_equal(sw.n, 8);
    /* models outermost, cfg innermost, bf16 by default, the extra words last */
    const esl_sweep_task *t = &sw.tasks[3];
    assert_int_equal(t->argc, 14);
    assert_string_equal(t->argv[2], "sd2");
    assert_string_equal(t->argv[4], "512");
    assert_string_equal(t->argv[10], "bf16");
    assert_string_equal(t->argv[11], "--cfg");
    assert_string_equal(t->argv[13], "0");
    assert_string_equal(sw.tasks[4].argv[2], "flux-dev");
    esl_sweep_release(&sw);

    esl_sweep_plan bad = p;
    bad.csv = "plan.csv";
    assert_int_equal(esl_sweep_add_plan(&sw, &bad), ESL_EINVAL);
    assert_string_equal(esl_error_last(),
                        "sweep plan: give a grid (--models, --sizes, --steps) or --csv FILE");
    esl_sweep_plan none = {0};
    assert_int_equal(esl_sweep_add_plan(&sw, &none), ESL_EINVAL);
    bad = p;
    bad.steps = NULL;
    assert_int_equal(esl_sweep_add_plan(&sw, &bad), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "sweep plan: a grid needs --models, --sizes and --steps");
    bad = p;
    bad.sizes = "256,x";
    assert_int_equal(esl_sweep_add_plan(&sw, &bad), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --sizes: 'x' is not an integer");
    bad = p;
    bad.steps = "0";
    assert_int_equal(esl_sweep_add_plan(&sw, &bad), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --steps: '0' is not a positive integer");
    bad = p;
    bad.cfgs = "1,2";
    assert_int_equal(esl_sweep_add_plan(&sw, &bad), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --cfg: '2' is not 0 or 1");
    assert_int_equal(sw.n, 0);
}

/* The text esl_sweep_status writes in `fmt`, in buf. */
static void status_text(char *buf, size_t size, const esl_sweep *sw, const char *shards,
                        esl_sweep_format fmt)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_sweep_status(f, sw, shards, fmt), ESL_OK);
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void status_formats(void **state)
{
    (void)state;
    char manifest[SCRATCH_PATH_MAX], shards[SCRATCH_PATH_MAX], bin[SCRATCH_PATH_MAX];
    char path[SCRATCH_PATH_MAX + 32], text[2048];
    write_file(in_dir(manifest, "sweep.txt"),
               "# esl sweep 1\nt1\tbench --steps 1\nt2\tbench --steps 2\nt3\trm \"x\"\n", 0);
    assert_int_equal(mkdir(in_dir(shards, "shards"), 0777), 0);
    snprintf(path, sizeof path, "%s/t1.failed", shards);
    write_file(path, "exit status 9\n", 0);
    snprintf(path, sizeof path, "%s/t2.running", shards);
    write_file(path, "pid=1 slurm_job_id=42\n", 0);
    char *saved = path_to_bin(bin);
    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_read(&sw, manifest), ESL_OK);

    status_text(text, sizeof text, &sw, shards, ESL_SWEEP_TABLE);
    assert_string_equal(text, "t1             failed   line 2: exit status 9\n"
                              "t2             running  line 3\n"
                              "t3             missing  line 4: the command is not bench or "
                              "measure ('rm')\n"
                              "3 tasks: 0 done, 1 running, 1 failed, 1 missing\n");
    status_text(text, sizeof text, &sw, shards, ESL_SWEEP_CSV);
    assert_string_equal(text, "id,state,line,reason\nt1,failed,2,\"exit status 9\"\n"
                              "t2,running,3,\"\"\nt3,missing,4,\"the command is not bench or "
                              "measure ('rm')\"\n");
    status_text(text, sizeof text, &sw, shards, ESL_SWEEP_JSON);
    assert_non_null(strstr(text, "[\n  {\n    \"id\": \"t1\",\n    \"state\": \"failed\",\n"
                                 "    \"line\": 2,\n    \"reason\": \"exit status 9\"\n  },"));
    assert_int_equal(esl_sweep_status(stdout, &sw, shards, (esl_sweep_format)7), ESL_EINVAL);
    restore_path(saved);
    esl_sweep_release(&sw);
}

static void notes(void **state)
{
    (void)state;
    char id[] = "t1", bench[] = "bench", why[] = "an unclosed quote", buf[256];
    char *words[] = {bench};
    esl_sweep_task t = {id, 4, 1, words, why};
    assert_null(esl_sweep_note(buf, sizeof buf, &t, ESL_SWEEP_TASK_RAN, 0));
    assert_string_equal(esl_sweep_note(buf, sizeof buf, &t, ESL_SWEEP_TASK_FAILED, 3),
                        "sweep: task t1 (manifest line 4) failed with exit status 3; going on");
    assert_string_equal(esl_sweep_note(buf, sizeof buf, &t, ESL_SWEEP_TASK_UNREADABLE, 0),
                        "sweep: task t1 (manifest line 4): an unclosed quote; going on");
    assert_string_equal(esl_sweep_note(buf, sizeof buf, &t, ESL_SWEEP_TASK_DONE_ALREADY, 0),
                        "sweep: task t1 is done already");
}

static void run_job_slices(void **state)
{
    (void)state;
    char prog[SCRATCH_PATH_MAX], manifest[SCRATCH_PATH_MAX], shards[SCRATCH_PATH_MAX];
    char path[SCRATCH_PATH_MAX + 32];
    write_file(in_dir(prog, "fake-esl"), "#!/bin/sh\nfor w in \"$@\"; do last=$w; done\n"
                                         "exit $last\n", 1);
    write_file(in_dir(manifest, "sweep.txt"),
               "# esl sweep 1\na\tbench --code 0\nb\tbench --code 3\nc\tbench --code 0\n", 0);
    in_dir(shards, "shards");
    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_read(&sw, manifest), ESL_OK);
    size_t failed = 9;
    /* job 0 of two tasks each: a and b */
    assert_int_equal(esl_sweep_run_job(&sw, prog, shards, 0, 2, NULL, NULL, &failed), ESL_OK);
    assert_int_equal(failed, 1);
    snprintf(path, sizeof path, "%s/b.failed", shards);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/c.failed", shards);
    assert_int_not_equal(access(path, F_OK), 0);
    /* the index from the environment */
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("JOB_COMPLETION_INDEX");
    assert_int_equal(esl_sweep_run_job(&sw, prog, shards, -1, 2, NULL, NULL, &failed), ESL_EINVAL);
    assert_string_equal(esl_error_last(),
                        "sweep run: which array job? (--index, or $SLURM_ARRAY_TASK_ID)");
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    assert_int_equal(esl_sweep_run_job(&sw, prog, shards, -1, 2, NULL, NULL, &failed), ESL_OK);
    assert_int_equal(failed, 0);
    setenv("SLURM_ARRAY_TASK_ID", "2", 1); /* Slurm's first */
    assert_int_equal(esl_sweep_run_job(&sw, prog, shards, -1, 2, NULL, NULL, &failed), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "sweep run: array job 2 is past the manifest's 3 tasks");
    setenv("SLURM_ARRAY_TASK_ID", "x", 1);
    assert_int_equal(esl_sweep_run_job(&sw, prog, shards, -1, 2, NULL, NULL, &failed), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "option --SLURM_ARRAY_TASK_ID: 'x' is not an integer");
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("JOB_COMPLETION_INDEX");
    esl_sweep_release(&sw);
}

static void submits(void **state)
{
    (void)state;
    char prog[SCRATCH_PATH_MAX], manifest[SCRATCH_PATH_MAX], shards[SCRATCH_PATH_MAX];
    char bin[SCRATCH_PATH_MAX], yaml[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX + 32];
    write_file(in_dir(prog, "fake-esl"), "#!/bin/sh\nexit 0\n", 1);
    write_file(in_dir(manifest, "sweep.txt"),
               "# esl sweep 1\na\tbench --code 0\nb\tbench --code 1\nc\tbench --code 2\n", 0);
    in_dir(shards, "shards");
    char *saved = path_to_bin(bin);
    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_read(&sw, manifest), ESL_OK);
    esl_sweep_settings s = {0};
    esl_sweep_submitted r;
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "sweep submit: choose --slurm or --k8s-manifest FILE");

    /* a dry run: the script, nothing submitted, the shard folder made */
    s.slurm = 1;
    s.shards = shards;
    s.array_max = 3;
    s.flags = ESL_SWEEP_DRY_RUN;
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_OK);
    assert_non_null(r.script);
    assert_non_null(strstr(r.script, "#SBATCH --array=0-2%3\n"));
    assert_string_equal(r.job, "");
    assert_int_equal(r.n_tasks, 3);
    assert_int_equal(r.n_jobs, 3);
    free(r.script);
    snprintf(path, sizeof path, "%s/sweep.sbatch", shards);
    assert_int_not_equal(access(path, F_OK), 0);

    /* submitted: the script written, sbatch's job id */
    s.flags = 0;
    s.per_job = 2;
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_OK);
    assert_null(r.script);
    assert_string_equal(r.job, "77");
    assert_int_equal(r.n_jobs, 2);
    assert_int_equal(access(r.path, F_OK), 0);
    assert_string_equal(r.path + strlen(r.path) - 13, "/sweep.sbatch");

    /* resumed: a and b running (believed without squeue), c missing */
    snprintf(path, sizeof path, "%s/a.running", shards);
    write_file(path, "pid=1 slurm_job_id=5\n", 0);
    snprintf(path, sizeof path, "%s/b.running", shards);
    write_file(path, "pid=1 slurm_job_id=5\n", 0);
    s.per_job = 1;
    s.flags = ESL_SWEEP_RESUME | ESL_SWEEP_DRY_RUN;
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_OK);
    assert_non_null(strstr(r.script, "#SBATCH --array=2%3\n"));
    assert_int_equal(r.n_tasks, 1);
    free(r.script);
    snprintf(path, sizeof path, "%s/c.running", shards);
    write_file(path, "pid=1 slurm_job_id=5\n", 0);
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_OK);
    assert_int_equal(r.n_tasks, 0);
    assert_null(r.script);

    /* Kubernetes: absolute paths, no Slurm flags */
    s.slurm = 0;
    s.k8s_manifest = in_dir(yaml, "job.yaml");
    s.image = "esl:1";
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "--resume and --dry-run are for Slurm"));
    s.flags = 0;
    assert_int_equal(esl_sweep_submit(&r, &sw, "sweep.txt", prog, &s), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "as absolute paths inside the container"));
    s.per_job = 2;
    assert_int_equal(esl_sweep_submit(&r, &sw, manifest, prog, &s), ESL_OK);
    assert_int_equal(r.n_jobs, 2);
    assert_int_equal(r.n_tasks, 3);
    assert_int_equal(access(yaml, F_OK), 0);
    esl_sweep_k8s k = {NULL, "esl:1", manifest, shards, NULL, 1, 0, 1};
    assert_int_equal(esl_sweep_k8s_write("/nonexistent/dir/job.yaml", &k, 3), ESL_EIO);
    assert_non_null(strstr(esl_error_last(), "--k8s-manifest: /nonexistent/dir/job.yaml"));
    restore_path(saved);
    esl_sweep_release(&sw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settings_by_name),
        cmocka_unit_test(plan_from_lists),
        cmocka_unit_test_setup_teardown(status_formats, scratch_setup, scratch_teardown),
        cmocka_unit_test(notes),
        cmocka_unit_test_setup_teardown(run_job_slices, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(submits, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
