/*
 * test_sweep.c - the sweep manifest: ids are stable hashes of the command,
 * the manifest reads back word for word (quotes included), a bad line costs
 * its task and names it, CSV plans become bench or measure tasks, task
 * states come from shards and markers, and the job descriptions hold what
 * a cluster needs.
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

#include "scratch_dir.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void grid_ids_round_trip(void **state)
{
    (void)state;
    const char *models[] = {"sd2", "flux-dev"}, *dtypes[] = {"fp16"}, *extra[] = {"--idle-w", "100"};
    const int64_t sizes[] = {256, 512}, steps[] = {10};
    const int cfgs[] = {0, 1};
    esl_sweep_grid g = {models, 2, sizes, 2, steps, 1, dtypes, 1, cfgs, 2, 3, extra, 2};
    esl_sweep a = {0}, b = {0};
    assert_int_equal(esl_sweep_add_grid(&a, &g), ESL_OK);
    assert_int_equal(a.n, 8);
    assert_string_equal(a.tasks[1].argv[0], "bench");
    assert_int_equal(a.tasks[1].argc, 16); /* bench, 5 pairs, --cfg, --prompts 3, 2 extra */
    assert_string_equal(a.tasks[1].argv[11], "--cfg");
    assert_string_equal(a.tasks[1].argv[15], "100");
    /* the same grid planned again: the same ids; another command: another id */
    assert_int_equal(esl_sweep_add_grid(&a, &g), ESL_EINVAL); /* planned twice in one sweep */
    assert_non_null(strstr(esl_error_last(), "is given twice"));
    assert_int_equal(a.n, 8);
    const char *other[] = {"bench", "--model", "sd2"};
    char again[13];
    snprintf(again, sizeof again, "%s", a.tasks[0].id);
    assert_int_equal(strlen(again), 12);
    assert_int_equal(esl_sweep_add(&b, NULL, (char *const *)other, 3), ESL_OK);
    assert_string_not_equal(b.tasks[0].id, again);
    esl_sweep_release(&b);
    assert_int_equal(esl_sweep_add_grid(&b, &g), ESL_OK);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(a.tasks[i].id, b.tasks[i].id);
    esl_sweep_release(&b);

    /* words with spaces and quotes survive the file */
    const char *measure[] = {"measure", "--label", "prompt=a cat's hat", "--", "sh", "-c",
                             "echo \"$X\" && sleep 1"};
    assert_int_equal(esl_sweep_add(&a, "m-1", (char *const *)measure, 7), ESL_OK);
    char p[SCRATCH_PATH_MAX];
    FILE *f = fopen(in_dir(p, "m.txt"), "w");
    assert_int_equal(esl_sweep_write(&a, f), ESL_OK);
    fclose(f);
    assert_int_equal(esl_sweep_read(&b, p), ESL_OK);
    assert_int_equal(b.n, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(a.tasks[i].id, b.tasks[i].id);
        assert_int_equal(a.tasks[i].argc, b.tasks[i].argc);
        assert_int_equal(b.tasks[i].line, i + 2);
        assert_null(b.tasks[i].error);
        for (size_t k = 0; k < a.tasks[i].argc; k++)
            assert_string_equal(a.tasks[i].argv[k], b.tasks[i].argv[k]);
    }
    esl_sweep_release(&a);
    esl_sweep_release(&b);
}

static void bad_lines(void **state)
{
    (void)state;
    char p[SCRATCH_PATH_MAX];
    write_file(in_dir(p, "m.txt"),
               "# esl sweep 1\n"
               "ok1\tbench --model sd2 --height 256 --width 256\n"
               "quote\tmeasure -- sh -c 'unclosed\n"
               "\n"
               "other\tflops --model sd2\n"
               "no tab here\n"
               "bad/id\tbench --model sd2\n"
               "empty\t\n"
               "ok2\tmeasure --label a=b -- true\n");
    esl_sweep sw = {0};
    assert_int_equal(esl_sweep_read(&sw, p), ESL_OK);
    assert_int_equal(sw.n, 7);
    const char *ids[] = {"ok1", "quote", "other", "line-6", "line-7", "empty", "ok2"};
    const char *errors[] = {NULL, "an unclosed quote", "the command is not bench or measure ('flops')",
                            "no id (ID, a tab, the command)",
                            "a bad id (1 to 64 of A-Z a-z 0-9 . _ -)", "no command", NULL};
    const size_t lines[] = {2, 3, 5, 6, 7, 8, 9};
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(sw.tasks[i].id, ids[i]);
        assert_int_equal(sw.tasks[i].line, lines[i]);
        if (errors[i] == NULL)
            assert_null(sw.tasks[i].error);
        else
            assert_string_equal(sw.tasks[i].error, errors[i]);
    }
    assert_int_equal(sw.tasks[6].argc, 5);
    esl_sweep_release(&sw);

    write_file(p, "# esl sweep 1\na\tbench\na\tbench --cfg\n");
    assert_int_equal(esl_sweep_read(&sw, p), ESL_EPARSE);
    assert_non_null(strstr(esl_error_last(), "m.txt:3: task id 'a' is given twice"));
    write_file(p, "model,height\nsd2,256\n");
    assert_int_equal(esl_sweep_read(&sw, p), ESL_EPARSE);
    assert_non_null(strstr(esl_error_last(), "m.txt:1: not an esl sweep manifest"));
    assert_int_equal(esl_sweep_read(&sw, in_dir(p, "none.txt")), ESL_ENOTFOUND);
}

static void csv_tasks(void **state)
{
    (void)state;
    char p[SCRATCH_PATH_MAX];
    write_file(in_dir(p, "plan.csv"), "model,height,width,steps,cfg,dtype,exec_flops,est_s\n"
                                      "sd2,256,256,10,0,bf16,2484870377136,2.0\n"
                                      "flux-dev,512,768,30,1,fp16,1,2.1\n");
    esl_sweep sw = {0};
    const char *extra[] = {"--warmup", "0"};
    assert_int_equal(esl_sweep_add_csv(&sw, p, extra, 2), ESL_OK);
    assert_int_equal(sw.n, 2);
    const char *want[] = {"bench", "--model", "flux-dev", "--height", "512", "--width", "768",
                          "--steps", "30", "--dtype", "fp16", "--cfg", "--warmup", "0"};
    assert_int_equal(sw.tasks[1].argc, 14);
    for (size_t k = 0; k < 14; k++)
        assert_string_equal(sw.tasks[1].argv[k], want[k]);
    esl_sweep_release(&sw);

    write_file(p, "id,model,steps,command\n"
                  "r1,sd2,20,\"python3 gen.py --steps 20, --say \"\"hi\"\"\"\n"
                  ",flux-dev,,python3 gen.py\n");
    assert_int_equal(esl_sweep_add_csv(&sw, p, NULL, 0), ESL_OK);
    assert_int_equal(sw.n, 2);
    assert_string_equal(sw.tasks[0].id, "r1");
    const char *m[] = {"measure", "--label", "model=sd2", "--label", "steps=20", "--", "sh", "-c",
                       "python3 gen.py --steps 20, --say \"hi\""};
    assert_int_equal(sw.tasks[0].argc, 9);
    for (size_t k = 0; k < 9; k++)
        assert_string_equal(sw.tasks[0].argv[k], m[k]);
    assert_int_equal(strlen(sw.tasks[1].id), 12); /* no id: the hash */
    assert_int_equal(sw.tasks[1].argc, 7);        /* an empty label is left out */
    esl_sweep_release(&sw);

    write_file(p, "model,height\nsd2,256\n");
    assert_int_equal(esl_sweep_add_csv(&sw, p, NULL, 0), ESL_EPARSE);
    assert_non_null(strstr(esl_error_last(), "plan.csv:1: no column 'command'"));
    write_file(p, "id,command\na,true\nb,\"unclosed\n");
    assert_int_equal(esl_sweep_add_csv(&sw, p, NULL, 0), ESL_EPARSE);
    assert_non_null(strstr(esl_error_last(), "plan.csv:3:"));
    esl_sweep_release(&sw);
}

static void states(void **state)
{
    (void)state;
    char p[SCRATCH_PATH_MAX];
    esl_sweep sw = {0};
    const char *cmd[] = {"measure", "--", "true"};
    const char *ids[] = {"done", "failed-run", "running", "failed", "missing", "empty"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(esl_sweep_add(&sw, ids[i], (char *const *)cmd, 3), ESL_OK);
    /* done: a run of its task with exit 0 (after a failed one); failed-run: runs, none good */
    esl_record *rec = calloc(1, sizeof *rec);
    const int exits[][2] = {{137, 0}, {1, 1}};
    for (size_t i = 0; i < 2; i++) {
        esl_store *s;
        assert_int_equal(esl_store_open(&s, in_dir(p, i == 0 ? "done.db" : "failed-run.db")),
                         ESL_OK);
        esl_label l = {"sweep_task", (char *)ids[i]};
        int64_t id;
        for (size_t k = 0; k < 2; k++)
            assert_int_equal(esl_store_put(s, &id, rec, "x", exits[i][k], &l, 1), ESL_OK);
        esl_store_close(s);
    }
    free(rec);
    write_file(in_dir(p, "running.running"), "pid=1 slurm_job_id=7\n");
    write_file(in_dir(p, "failed.failed"), "exit status 2\n");
    write_file(in_dir(p, "empty.db"), "");
    esl_task_state st[6];
    assert_int_equal(esl_sweep_states(&sw, dir, st), ESL_OK);
    const esl_task_state want[] = {ESL_TASK_DONE, ESL_TASK_FAILED, ESL_TASK_RUNNING,
                                   ESL_TASK_FAILED, ESL_TASK_MISSING, ESL_TASK_MISSING};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(st[i], want[i]);
    assert_string_equal(esl_task_state_name(ESL_TASK_FAILED), "failed");
    write_file(in_dir(p, "missing.db"), "not a database at all, but long enough for a header....\n");
    assert_int_equal(esl_sweep_states(&sw, dir, st), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "missing.db: not an esl run store"));
    esl_sweep_release(&sw);
}

static void job_descriptions(void **state)
{
    (void)state;
    const char *extra[] = {"--account=lab"};
    const size_t jobs[] = {1, 4};
    esl_sweep_slurm o = {"/opt/esl/bin/esl", "/home/u/m.txt", "/scratch/u's shards", NULL,
                         "gpu", "gpu:1", "00:30:00", extra, 1, 2, 3, NULL, 0};
    char *text;
    assert_int_equal(esl_sweep_slurm_script(&text, &o, 9), ESL_OK);
    assert_non_null(strstr(text, "#!/bin/sh\n"));
    assert_non_null(strstr(text, "#SBATCH --job-name=esl-sweep\n"));
    assert_non_null(strstr(text, "#SBATCH --array=0-4%3\n")); /* 9 tasks, 2 per job */
    assert_non_null(strstr(text, "#SBATCH --partition=gpu\n#SBATCH --gres=gpu:1\n"
                                 "#SBATCH --time=00:30:00\n#SBATCH --account=lab\n"));
    assert_non_null(strstr(text, "exec '/opt/esl/bin/esl' sweep run '/home/u/m.txt' --shards "
                                 "'/scratch/u'\\''s shards' --per-job 2 --index "
                                 "\"$SLURM_ARRAY_TASK_ID\"\n"));
    free(text);
    o.jobs = jobs, o.n_jobs = 2, o.array_max = 0;
    assert_int_equal(esl_sweep_slurm_script(&text, &o, 9), ESL_OK);
    assert_non_null(strstr(text, "#SBATCH --array=1,4\n"));
    free(text);
    o.n_jobs = 2;
    const size_t past[] = {5};
    o.jobs = past, o.n_jobs = 1;
    assert_int_equal(esl_sweep_slurm_script(&text, &o, 9), ESL_EINVAL);
    assert_null(text);
    o.jobs = NULL, o.partition = "gpu\n#SBATCH --evil";
    assert_int_equal(esl_sweep_slurm_script(&text, &o, 9), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "--partition holds a line break"));

    esl_sweep_k8s k = {NULL, "registry.example/esl:1", "/data/m.txt", "/data/shards", "esl-data",
                       4, 2, 0};
    assert_int_equal(esl_sweep_k8s_manifest(&text, &k, 10), ESL_OK);
    assert_non_null(strstr(text, "kind: Job\n"));
    assert_non_null(strstr(text, "  completionMode: Indexed\n  completions: 3\n  parallelism: 2\n"));
    assert_non_null(strstr(text, "command: [\"esl\", \"sweep\", \"run\", \"/data/m.txt\", "
                                 "\"--shards\", \"/data/shards\", \"--per-job\", \"4\"]"));
    assert_non_null(strstr(text, "nvidia.com/gpu: 1\n"));
    assert_non_null(strstr(text, "mountPath: \"/data\"\n"));
    assert_non_null(strstr(text, "claimName: \"esl-data\""));
    free(text);
    k.image = NULL;
    assert_int_equal(esl_sweep_k8s_manifest(&text, &k, 10), ESL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(grid_ids_round_trip, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(bad_lines, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(csv_tasks, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(states, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(job_descriptions, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
