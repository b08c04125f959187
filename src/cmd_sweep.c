/*
 * cmd_sweep.c - `esl sweep plan | submit | run | status`: a sweep of
 * measurements on a cluster, run by libesl's sweep module, which takes the
 * options by name (esl_sweep_set): plan writes the manifest
 * (esl_sweep_add_plan), submit hands it to Slurm as a job array or writes a
 * Kubernetes Indexed Job (esl_sweep_submit), run is what each array job
 * executes (esl_sweep_run_job), status reads the shards (esl_sweep_status).
 * The shards are merged with `esl runs merge`.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

enum {
    OPT_OUTPUT = 'o', OPT_FORMAT = 'f',
    OPT_MODELS = 256, OPT_SIZES, OPT_STEPS, OPT_DTYPES, OPT_CFG, OPT_PROMPTS, OPT_CSV,
    OPT_SHARDS, OPT_SLURM, OPT_K8S, OPT_PARTITION, OPT_GRES, OPT_TIME, OPT_ARRAY_MAX,
    OPT_PER_JOB, OPT_SBATCH, OPT_DRY_RUN, OPT_RESUME, OPT_INDEX, OPT_JOB_NAME, OPT_IMAGE,
    OPT_CLAIM,
};

static const cli_option options[] = {
    {"models", OPT_MODELS, "LIST", "plan: catalogue models, comma-separated"},
    {"sizes", OPT_SIZES, "LIST", "plan: square image sizes in pixels (256,512,...)"},
    {"steps", OPT_STEPS, "LIST", "plan: denoising steps"},
    {"dtypes", OPT_DTYPES, "LIST", "plan: precisions (default bf16)"},
    {"cfg", OPT_CFG, "LIST", "plan: guidance off and/or on: 0, 1 or 0,1 (default 0)"},
    {"prompts", OPT_PROMPTS, "N", "plan: prompt runs per task (default bench's)"},
    {"csv", OPT_CSV, "FILE", "plan: tasks from a CSV (calibrate --dry-run --format csv, or "
                             "measure commands: column command, optional id, labels)"},
    {"output", OPT_OUTPUT, "FILE", "plan: write the manifest here (default stdout)"},
    {"shards", OPT_SHARDS, "DIR", "submit, run, status: the folder of the shard stores"},
    {"slurm", OPT_SLURM, NULL, "submit: as a Slurm job array (sbatch)"},
    {"k8s-manifest", OPT_K8S, "FILE", "submit: write a Kubernetes Indexed Job here instead"},
    {"partition", OPT_PARTITION, "P", "submit: the Slurm partition"},
    {"gres", OPT_GRES, "G", "submit: generic resources per job (gpu:1)"},
    {"time", OPT_TIME, "T", "submit: time limit per array job (HH:MM:SS)"},
    {"array-max", OPT_ARRAY_MAX, "K", "submit: array jobs running at once (Kubernetes: pods)"},
    {"per-job", OPT_PER_JOB, "K", "submit, run: manifest tasks per array job (default 1)"},
    {"sbatch", OPT_SBATCH, "LINE", "submit: one more #SBATCH line (--account=x); repeatable"},
    {"job-name", OPT_JOB_NAME, "NAME", "submit: the job's name (default esl-sweep)"},
    {"image", OPT_IMAGE, "IMAGE", "submit --k8s-manifest: a container image with esl"},
    {"claim", OPT_CLAIM, "PVC", "submit --k8s-manifest: the volume claim mounted at --shards"},
    {"dry-run", OPT_DRY_RUN, NULL, "submit: print the sbatch script, submit nothing"},
    {"resume", OPT_RESUME, NULL, "submit: only the tasks that are missing or failed"},
    {"index", OPT_INDEX, "I", "run: the array job (default $SLURM_ARRAY_TASK_ID, then "
                              "$JOB_COMPLETION_INDEX)"},
    {"format", OPT_FORMAT, "F", "status: table (default) or csv"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    esl_sweep_settings s;
    const char *output; /* plan's manifest, NULL: stdout */
    cli_format format;  /* status */
} args;

/* --output and --format are the tool's; every other option is a setting of
 * the sweep, by its name. */
static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    size_t i = 0;
    if (key == OPT_OUTPUT)
        return a->output = arg, 0;
    if (key == OPT_FORMAT)
        return cli_format_parse(arg, &a->format);
    while (options[i].name != NULL && options[i].key != key)
        i++;
    int rc = esl_sweep_set(&a->s, options[i].name, arg);
    return rc == ESL_OK ? 0 : cli_fail(rc);
}

static int plan(args *a, char **extra, size_t n_extra)
{
    esl_sweep sw = {0};
    cli_file out = {stdout, NULL, NULL};
    a->s.plan.extra = (const char *const *)extra;
    a->s.plan.n_extra = n_extra;
    int code = 0, rc = esl_sweep_add_plan(&sw, &a->s.plan);
    if (rc != ESL_OK) {
        code = cli_fail(rc);
    } else if (a->output == NULL || (code = cli_file_open(&out, a->output, "--output")) == 0) {
        if ((rc = esl_sweep_write(&sw, out.f)) != ESL_OK) {
            code = cli_fail(rc);
            if (a->output != NULL)
                cli_file_abandon(&out);
        } else if (a->output != NULL && (code = cli_file_commit(&out, "--output")) == 0) {
            fprintf(stderr, "esl: sweep plan: %zu tasks in %s\n", sw.n, a->output);
        }
    }
    esl_sweep_release(&sw);
    return code;
}

/* What became of each task of `sweep run`, unless it ran well. */
static void on_task(void *ctx, const esl_sweep_task *t, int outcome, int status)
{
    char note[ESL_SWEEP_WHY + 1024];
    if (esl_sweep_note(note, sizeof note, t, outcome, status) != NULL)
        cli_error("%s", note);
    (void)ctx;
}

/* `sweep submit`, `run` or `status` on the manifest. */
static int act(const args *a, const char *verb, const char *manifest)
{
    esl_sweep sw = {0};
    esl_sweep_submitted r = {0};
    size_t failed = 0;
    char self[PATH_MAX];
    int rc = esl_sweep_read(&sw, manifest);
    if (rc == ESL_OK && strcmp(verb, "status") == 0) {
        rc = esl_sweep_status(stdout, &sw, a->s.shards, (esl_sweep_format)a->format);
    } else if (rc == ESL_OK && strcmp(verb, "run") == 0) {
        if (realpath("/proc/self/exe", self) == NULL) /* the tasks run this program */
            snprintf(self, sizeof self, "esl");
        rc = esl_sweep_run_job(&sw, self, a->s.shards, a->s.index_given ? a->s.index : -1,
                               (size_t)a->s.per_job, on_task, NULL, &failed);
    } else if (rc == ESL_OK && (rc = esl_sweep_submit(&r, &sw, manifest, "/proc/self/exe",
                                                      &a->s)) == ESL_OK) {
        if (a->s.k8s_manifest != NULL)
            printf("%s: an Indexed Job of %zu pods for %zu tasks\n", a->s.k8s_manifest,
                   r.n_jobs, r.n_tasks);
        else if (r.n_tasks == 0)
            printf("nothing to resubmit: the %zu tasks are done or running\n", sw.n);
        else if (r.script != NULL)
            fputs(r.script, stdout);
        else
            printf("submitted job %s: %zu tasks, %zu array jobs (%s)\n", r.job, r.n_tasks,
                   r.n_jobs, r.path);
    }
    free(r.script);
    esl_sweep_release(&sw);
    return rc != ESL_OK ? cli_fail(rc) : failed ? EXIT_FAIL : EXIT_OK;
}

static int run_sweep(const cli_command *cmd, int argc, char **argv)
{
    args a = {0};
    int first = argc, code = cli_parse(cmd, argc, argv, on_option, &a, &first);
    const char *verb = first < argc ? argv[first] : NULL;
    if (code != 0)
        return code;
    if (verb == NULL)
        cli_error("sweep: give an action: plan, submit, run or status (see 'esl sweep --help')");
    else if (strcmp(verb, "plan") == 0)
        return plan(&a, argv + first + 1, (size_t)(argc - first - 1));
    else if (strcmp(verb, "submit") != 0 && strcmp(verb, "run") != 0 &&
             strcmp(verb, "status") != 0)
        cli_error("sweep: unknown action '%s' (plan, submit, run, status)", verb);
    else if (first + 1 >= argc || a.s.shards == NULL)
        cli_error("sweep %s: give the manifest and --shards DIR", verb);
    else if (first + 2 < argc)
        cli_error("sweep %s: unexpected argument '%s'", verb, argv[first + 2]);
    else
        return act(&a, verb, argv[first + 1]);
    return EXIT_USAGE;
}

const cli_command cmd_sweep = {
    "sweep", run_sweep, "run a sweep of measurements as a Slurm job array, one store per task",
    "plan (--models L --sizes L --steps L [--dtypes L] [--cfg L] | --csv FILE) [-o MANIFEST]\n"
    "                 [-- TASK-OPTIONS...]\n"
    "       esl sweep submit MANIFEST --shards DIR --slurm [--partition P] [--gres G] [--time T]\n"
    "                 [--array-max K] [--per-job K] [--resume] [--dry-run]\n"
    "       esl sweep submit MANIFEST --shards DIR --k8s-manifest FILE --image IMAGE\n"
    "       esl sweep run MANIFEST --shards DIR [--index I] [--per-job K]\n"
    "       esl sweep status MANIFEST --shards DIR [--format csv]",
    "plan writes a manifest: one task per line, an id (stable: a hash of the command) and an\n"
    "esl bench or esl measure command; words after -- are added to every task.\n"
    "submit writes DIR/sweep.sbatch, a job array whose job I runs tasks I*K to I*K+K-1 with\n"
    "'esl sweep run', and submits it with sbatch; --resume submits only the jobs of tasks that\n"
    "are missing or failed. run executes its tasks one by one, each into its own store\n"
    "DIR/ID.db, labelled sweep_task, node, gpu_name, gpu_uuid, gpu_driver and the Slurm ids; a\n"
    "task that fails (or a manifest line that cannot run) is reported with its id and the\n"
    "others go on; a task already done is skipped. status counts done, running, failed and\n"
    "missing tasks from the shards (and squeue, where there is one). Merge the shards with\n"
    "'esl runs merge DIR/*.db -o STORE' (docs/fleet.md).",
    options,
};
