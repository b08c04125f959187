/*
 * cmd_sweep.c - `esl sweep plan | submit | run | status`: a sweep of
 * measurements on a cluster. plan writes the manifest (libesl's sweep
 * module), submit hands it to Slurm as a job array (or writes a Kubernetes
 * Indexed Job), run is what each array job executes (esl_sweep_run_tasks),
 * status reads the shards (esl_sweep_states_live). The shards are merged
 * with `esl runs merge`.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
#include "table.h"

#define MAX_LIST 64
#define MAX_SBATCH 16

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

typedef struct list {
    char *words[MAX_LIST];
    size_t n;
    char *buf;
} list;

typedef struct args {
    list models, sizes, steps, dtypes, cfgs;
    int64_t prompts, array_max, per_job, index;
    int have_index, slurm, dry_run, resume;
    const char *csv, *output, *shards, *k8s, *partition, *gres, *time, *job_name, *image, *claim;
    const char *sbatch[MAX_SBATCH];
    size_t n_sbatch;
    cli_format format;
} args;

static int split_list(const char *option, const char *arg, list *l)
{
    free(l->buf);
    l->n = 0;
    if ((l->buf = strdup(arg)) == NULL)
        return EXIT_FAIL;
    for (char *save = NULL, *w = strtok_r(l->buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (l->n == MAX_LIST) {
            cli_error("option --%s: more than %d values", option, MAX_LIST);
            return EXIT_USAGE;
        }
        l->words[l->n++] = w;
    }
    if (l->n == 0) {
        cli_error("option --%s: no value", option);
        return EXIT_USAGE;
    }
    return 0;
}

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_MODELS: return split_list("models", arg, &a->models);
    case OPT_SIZES: return split_list("sizes", arg, &a->sizes);
    case OPT_STEPS: return split_list("steps", arg, &a->steps);
    case OPT_DTYPES: return split_list("dtypes", arg, &a->dtypes);
    case OPT_CFG: return split_list("cfg", arg, &a->cfgs);
    case OPT_PROMPTS: return cli_int("prompts", arg, 1, INT64_MAX, &a->prompts);
    case OPT_CSV: a->csv = arg; return 0;
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_SHARDS: a->shards = arg; return 0;
    case OPT_SLURM: a->slurm = 1; return 0;
    case OPT_K8S: a->k8s = arg; return 0;
    case OPT_PARTITION: a->partition = arg; return 0;
    case OPT_GRES: a->gres = arg; return 0;
    case OPT_TIME: a->time = arg; return 0;
    case OPT_JOB_NAME: a->job_name = arg; return 0;
    case OPT_IMAGE: a->image = arg; return 0;
    case OPT_CLAIM: a->claim = arg; return 0;
    case OPT_ARRAY_MAX: return cli_int("array-max", arg, 1, 1000000, &a->array_max);
    case OPT_PER_JOB: return cli_int("per-job", arg, 1, 1000000, &a->per_job);
    case OPT_INDEX:
        a->have_index = 1;
        return cli_int("index", arg, 0, INT32_MAX, &a->index);
    case OPT_DRY_RUN: a->dry_run = 1; return 0;
    case OPT_RESUME: a->resume = 1; return 0;
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    case OPT_SBATCH:
        if (a->n_sbatch == MAX_SBATCH) {
            cli_error("option --sbatch: more than %d lines", MAX_SBATCH);
            return EXIT_USAGE;
        }
        a->sbatch[a->n_sbatch++] = arg;
        return 0;
    }
    return EXIT_USAGE;
}

/* Integers of a --sizes or --steps list. */
static int ints(const char *option, const list *l, int64_t *out)
{
    for (size_t i = 0; i < l->n; i++) {
        int rc = cli_int(option, l->words[i], 1, INT32_MAX, &out[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int plan(const args *a, char **extra, size_t n_extra)
{
    esl_sweep sw = {0};
    int rc = ESL_OK, code = 0;
    int gridded = a->models.n || a->sizes.n || a->steps.n;
    if (gridded == (a->csv != NULL)) {
        cli_error("sweep plan: give a grid (--models, --sizes, --steps) or --csv FILE");
        return EXIT_USAGE;
    }
    if (a->csv != NULL) {
        rc = esl_sweep_add_csv(&sw, a->csv, (const char *const *)extra, n_extra);
    } else {
        int64_t sizes[MAX_LIST], steps[MAX_LIST];
        int cfgs[MAX_LIST];
        static const char *const bf16[] = {"bf16"};
        if (!a->models.n || !a->sizes.n || !a->steps.n) {
            cli_error("sweep plan: a grid needs --models, --sizes and --steps");
            return EXIT_USAGE;
        }
        if ((code = ints("sizes", &a->sizes, sizes)) != 0 ||
            (code = ints("steps", &a->steps, steps)) != 0)
            return code;
        for (size_t i = 0; i < a->cfgs.n; i++) {
            if (strcmp(a->cfgs.words[i], "0") != 0 && strcmp(a->cfgs.words[i], "1") != 0) {
                cli_error("option --cfg: '%s' is not 0 or 1", a->cfgs.words[i]);
                return EXIT_USAGE;
            }
            cfgs[i] = a->cfgs.words[i][0] == '1';
        }
        static const int off[] = {0};
        esl_sweep_grid g = {
            (const char *const *)a->models.words, a->models.n, sizes, a->sizes.n, steps,
            a->steps.n, a->dtypes.n ? (const char *const *)a->dtypes.words : bf16,
            a->dtypes.n ? a->dtypes.n : 1, a->cfgs.n ? cfgs : off, a->cfgs.n ? a->cfgs.n : 1,
            a->prompts, (const char *const *)extra, n_extra};
        rc = esl_sweep_add_grid(&sw, &g);
    }
    if (rc != ESL_OK) {
        code = cli_fail(rc);
        esl_sweep_release(&sw);
        return code;
    }
    cli_file out = {stdout, NULL, NULL};
    if (a->output != NULL && (code = cli_file_open(&out, a->output, "--output")) != 0) {
        esl_sweep_release(&sw);
        return code;
    }
    rc = esl_sweep_write(&sw, out.f);
    if (rc != ESL_OK) {
        code = cli_fail(rc);
        if (a->output != NULL)
            cli_file_abandon(&out);
    } else if (a->output != NULL) {
        code = cli_file_commit(&out, "--output");
        if (code == 0)
            fprintf(stderr, "esl: sweep plan: %zu tasks in %s\n", sw.n, a->output);
    }
    esl_sweep_release(&sw);
    return code;
}

static int status(const args *a, const esl_sweep *sw)
{
    esl_task_state *st = calloc(sw->n ? sw->n : 1, sizeof *st);
    char (*why)[ESL_SWEEP_WHY] = calloc(sw->n ? sw->n : 1, sizeof *why);
    int rc = st == NULL || why == NULL ? EXIT_FAIL : esl_sweep_states_live(sw, a->shards, st, why);
    if (rc != 0) {
        if (st != NULL && why != NULL)
            rc = cli_fail(rc);
        free(st);
        free(why);
        return rc;
    }
    static const table_col cols[] = {
        {"id", COL_STR, IN_ALL, "", -14, NULL, NULL, NULL, 0},
        {"state", COL_STR, IN_ALL, "", -8, NULL, NULL, NULL, 0},
        {"line", COL_INT, IN_CSV | IN_JSON, "", 0, NULL, NULL, NULL, 0},
        {"where", COL_STR, IN_TABLE, "", 0, NULL, NULL, NULL, 0},
        {"reason", COL_STR, IN_CSV | IN_JSON, "", 0, NULL, NULL, NULL, 1},
    };
    size_t count[4] = {0};
    table t;
    table_begin(&t, cols, sizeof cols / sizeof cols[0], a->format);
    for (size_t i = 0; i < sw->n; i++) {
        const esl_sweep_task *t_i = &sw->tasks[i];
        const char *reason = t_i->error ? t_i->error : why[i];
        char where[ESL_SWEEP_WHY + 1024];
        count[st[i]]++;
        if (a->format == FORMAT_TABLE && st[i] == ESL_TASK_DONE)
            continue;
        snprintf(where, sizeof where, "line %zu%s%s", t_i->line, reason[0] ? ": " : "", reason);
        table_cell row[] = {
            {t_i->id, 0, 0, 0}, {esl_task_state_name(st[i]), 0, 0, 0},
            {NULL, 0, (long long)t_i->line, 0}, {where, 0, 0, 0}, {reason, 0, 0, 0},
        };
        table_row(&t, row);
    }
    table_end(&t);
    free(why);
    if (a->format == FORMAT_TABLE)
        printf("%zu tasks: %zu done, %zu running, %zu failed, %zu missing\n", sw->n,
               count[ESL_TASK_DONE], count[ESL_TASK_RUNNING], count[ESL_TASK_FAILED],
               count[ESL_TASK_MISSING]);
    free(st);
    return EXIT_OK;
}

/* This process's own path, for the tasks and the job scripts. */
static int self_path(char *self, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", self, size - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    return 0;
}

static void on_task(void *ctx, const esl_sweep_task *t, int outcome, int status)
{
    (void)ctx;
    if (outcome == ESL_SWEEP_TASK_UNREADABLE)
        cli_error("sweep: task %s (manifest line %zu): %s; going on", t->id, t->line, t->error);
    else if (outcome == ESL_SWEEP_TASK_DONE_ALREADY)
        cli_error("sweep: task %s is done already", t->id);
    else if (outcome == ESL_SWEEP_TASK_FAILED)
        cli_error("sweep: task %s (manifest line %zu) failed with exit status %d; going on",
                  t->id, t->line, status);
}

/* `sweep run`: this array job's slice of the manifest. */
static int run_slice(const args *a, const esl_sweep *sw)
{
    int64_t index = a->index;
    if (!a->have_index) {
        const char *names[] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}, *v = NULL;
        size_t i = 0;
        while (i < 2 && ((v = getenv(names[i])) == NULL || v[0] == '\0'))
            i++;
        if (i == 2) {
            cli_error("sweep run: which array job? (--index, or $SLURM_ARRAY_TASK_ID)");
            return EXIT_USAGE;
        }
        int code = cli_int(names[i], v, 0, INT32_MAX, &index);
        if (code != 0)
            return code;
    }
    size_t per_job = (size_t)(a->per_job ? a->per_job : 1), failed = 0;
    if ((size_t)index * per_job >= sw->n) {
        cli_error("sweep run: array job %zu is past the manifest's %zu tasks", (size_t)index,
                  sw->n);
        return EXIT_USAGE;
    }
    char self[PATH_MAX] = "esl";
    if (self_path(self, sizeof self) != 0)
        snprintf(self, sizeof self, "esl");
    esl_sweep_job job;
    esl_sweep_job_gather(&job);
    int rc = esl_sweep_run_tasks(sw, self, a->shards, (size_t)index * per_job, per_job, &job,
                                 on_task, NULL, &failed);
    if (rc != ESL_OK) {
        cli_error("sweep run: %s", esl_error_last());
        return cli_exit_code(rc);
    }
    return failed ? EXIT_FAIL : EXIT_OK;
}

/* The Indexed Job: the paths are the container's, as given. */
static int submit_k8s(const args *a, const esl_sweep *sw, const char *manifest)
{
    if (a->resume || a->dry_run) {
        cli_error("sweep submit: --resume and --dry-run are for Slurm; with Kubernetes apply the "
                  "Job again: done tasks are skipped");
        return EXIT_USAGE;
    }
    if (manifest[0] != '/' || a->shards[0] != '/') {
        cli_error("sweep submit: --k8s-manifest: give the manifest and --shards as absolute "
                  "paths inside the container");
        return EXIT_USAGE;
    }
    size_t per_job = (size_t)(a->per_job ? a->per_job : 1);
    esl_sweep_k8s k = {a->job_name, a->image, manifest, a->shards, a->claim, per_job,
                       (size_t)a->array_max, 1};
    char *text = NULL;
    cli_file f;
    int code, rc = esl_sweep_k8s_manifest(&text, &k, sw->n);
    if (rc != ESL_OK)
        return cli_fail(rc);
    if ((code = cli_file_open(&f, a->k8s, "--k8s-manifest")) == 0) {
        fputs(text, f.f);
        if ((code = cli_file_commit(&f, "--k8s-manifest")) == 0)
            printf("%s: an Indexed Job of %zu pods for %zu tasks\n", a->k8s,
                   (sw->n + per_job - 1) / per_job, sw->n);
    }
    free(text);
    return code;
}

/* `sweep submit`: the Slurm job array (all of it, or --resume's jobs). */
static int submit(const args *a, const esl_sweep *sw, const char *manifest_arg)
{
    if (!a->slurm == (a->k8s == NULL)) {
        cli_error("sweep submit: choose --slurm or --k8s-manifest FILE");
        return EXIT_USAGE;
    }
    if (a->k8s != NULL)
        return submit_k8s(a, sw, manifest_arg);
    if (mkdir(a->shards, 0777) != 0 && errno != EEXIST) {
        cli_error("sweep submit: %s: %s", a->shards, strerror(errno));
        return EXIT_FAIL;
    }
    char manifest[PATH_MAX], shards[PATH_MAX], self[PATH_MAX], script_path[PATH_MAX + 16];
    if (self_path(self, sizeof self) != 0 || realpath(manifest_arg, manifest) == NULL ||
        realpath(a->shards, shards) == NULL) {
        cli_error("sweep submit: cannot resolve the manifest's, the shards' or esl's path: %s",
                  strerror(errno));
        return EXIT_FAIL;
    }
    size_t per_job = (size_t)(a->per_job ? a->per_job : 1), n_jobs = 0, n_again = 0;
    size_t *jobs = calloc(sw->n + 1, sizeof *jobs);
    esl_task_state *st = calloc(sw->n + 1, sizeof *st);
    char *text = NULL, job[64];
    int code = EXIT_FAIL, rc = ESL_OK;
    if (jobs == NULL || st == NULL)
        goto out;
    if (a->resume) {
        if ((rc = esl_sweep_states_live(sw, shards, st, NULL)) != ESL_OK)
            goto out;
        for (size_t i = 0; i < sw->n; i++) {
            if (st[i] != ESL_TASK_MISSING && st[i] != ESL_TASK_FAILED)
                continue;
            n_again++;
            if (n_jobs == 0 || jobs[n_jobs - 1] != i / per_job)
                jobs[n_jobs++] = i / per_job;
        }
        if (n_jobs == 0) {
            printf("nothing to resubmit: the %zu tasks are done or running\n", sw->n);
            code = EXIT_OK;
            goto out;
        }
    }
    esl_sweep_slurm s = {self, manifest, shards, a->job_name, a->partition, a->gres, a->time,
                         a->sbatch, a->n_sbatch, per_job, (size_t)a->array_max,
                         a->resume ? jobs : NULL, n_jobs};
    if ((rc = esl_sweep_slurm_script(&text, &s, sw->n)) != ESL_OK)
        goto out;
    if (a->dry_run) {
        fputs(text, stdout);
        code = EXIT_OK;
        goto out;
    }
    snprintf(script_path, sizeof script_path, "%s/sweep.sbatch", shards);
    cli_file f;
    if ((code = cli_file_open(&f, script_path, NULL)) != 0)
        goto out;
    fputs(text, f.f);
    if ((code = cli_file_commit(&f, NULL)) != 0)
        goto out;
    if ((rc = esl_sweep_sbatch(job, sizeof job, script_path)) != ESL_OK) {
        cli_error("sweep submit: %s", esl_error_last());
        rc = ESL_OK;
        code = EXIT_FAIL;
        goto out;
    }
    printf("submitted job %s: %zu tasks, %zu array jobs (%s)\n", job,
           a->resume ? n_again : sw->n,
           a->resume ? n_jobs : (sw->n + per_job - 1) / per_job, script_path);
    code = EXIT_OK;
out:
    if (rc != ESL_OK)
        code = cli_fail(rc);
    free(text);
    free(jobs);
    free(st);
    return code;
}

static int run_sweep(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    int first, code = cli_parse(cmd, argc, argv, on_option, &a, &first);
    esl_sweep sw = {0};
    if (code != 0)
        goto out;
    code = EXIT_USAGE;
    const char *verb = first < argc ? argv[first] : NULL;
    if (verb == NULL) {
        cli_error("sweep: give an action: plan, submit, run or status (see 'esl sweep --help')");
        goto out;
    }
    if (strcmp(verb, "plan") == 0) {
        code = plan(&a, argv + first + 1, (size_t)(argc - first - 1));
        goto out;
    }
    if (strcmp(verb, "submit") != 0 && strcmp(verb, "run") != 0 && strcmp(verb, "status") != 0) {
        cli_error("sweep: unknown action '%s' (plan, submit, run, status)", verb);
        goto out;
    }
    if (first + 1 >= argc || a.shards == NULL) {
        cli_error("sweep %s: give the manifest and --shards DIR", verb);
        goto out;
    }
    if (first + 2 < argc) {
        cli_error("sweep %s: unexpected argument '%s'", verb, argv[first + 2]);
        goto out;
    }
    int rc = esl_sweep_read(&sw, argv[first + 1]);
    if (rc != ESL_OK) {
        code = cli_fail(rc);
        goto out;
    }
    if (strcmp(verb, "status") == 0) {
        code = status(&a, &sw);
    } else if (strcmp(verb, "run") == 0) {
        code = run_slice(&a, &sw);
    } else {
        code = submit(&a, &sw, argv[first + 1]);
    }
out:
    esl_sweep_release(&sw);
    free(a.models.buf);
    free(a.sizes.buf);
    free(a.steps.buf);
    free(a.dtypes.buf);
    free(a.cfgs.buf);
    return code;
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
