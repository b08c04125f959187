/*
 * validate.c - held-out validation of the law (paper section 4.2): k-fold
 * within a dataset, leaving each model or GPU out in turn (Figures 3, 4, 7,
 * 8), or an explicit train/test split by model or GPU name. Each fold fits a
 * law on its training rows and scores it on the held-out ones.
 *
 * A split is first turned into a plan (the k-fold shuffle, the levels left
 * out in turn, the named lists) that says for each fold which rows it holds
 * out and which it uses at all; esl_validate fits and scores every fold on
 * those rows in place, by their indices, and esl_validate_split_rows gives
 * them to callers that want to know what a fold used (plots).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/internal.h"
#include "esl/law.h"
#include "law/internal.h"

/* Does the row belong to a comma-separated list of model or GPU names? */
static int in_list(const esl_row *r, const char *list, int column)
{
    size_t n = strlen(list);
    for (const char *p = list; p < list + n;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *v = column == 0 ? r->model : r->gpu;
        if (strlen(v) == len && strncmp(v, p, len) == 0)
            return 1;
        p += len + 1;
    }
    return 0;
}

enum split_kind { SPLIT_KFOLD, SPLIT_BATCH, SPLIT_LEAVE_OUT, SPLIT_NAMED };

/* A split made concrete for one dataset and seed. */
typedef struct split_plan {
    enum split_kind kind;
    size_t n_folds;
    long k;              /* kfold: K */
    size_t *order;       /* kfold: the shuffled row indices */
    long b;              /* batch-above: B */
    int column;          /* leave-out, named: 0 models, 1 GPUs */
    const char **levels; /* leave-out: the sorted levels, each held out in turn */
    size_t n_levels;
    char *train;         /* named: the training list */
    const char *test;    /* named: the test list (inside the split string) */
} split_plan;

static void plan_free(split_plan *sp)
{
    free(sp->order);
    free(sp->levels);
    free(sp->train);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int plan_kfold(split_plan *sp, const esl_dataset *ds, const char *split,
                      unsigned long seed)
{
    char *end;
    long k = strtol(split + 6, &end, 10);
    size_t n = ds->n_rows;
    if (end == split + 6 || *end != '\0')
        return esl__fail(ESL_EINVAL, "split '%s': K is not an integer", split);
    if (k < 2 || (size_t)k > n)
        return esl__fail(ESL_EINVAL, "kfold:%ld needs 2 <= K <= rows (%zu)", k, n);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    sp->order = malloc(n * sizeof *sp->order);
    if (sp->order == NULL || rng == NULL) {
        gsl_rng_free(rng);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    gsl_rng_set(rng, seed);
    for (size_t i = 0; i < n; i++)
        sp->order[i] = i;
    gsl_ran_shuffle(rng, sp->order, n, sizeof *sp->order);
    gsl_rng_free(rng);
    sp->k = k;
    sp->n_folds = (size_t)k;
    return ESL_OK;
}

static int plan_leave_out(split_plan *sp, const esl_dataset *ds, int column)
{
    sp->levels = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *sp->levels);
    if (sp->levels == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    sp->column = column;
    for (size_t i = 0; i < ds->n_rows; i++) {
        const char *s = column == 0 ? ds->rows[i].model : ds->rows[i].gpu;
        int seen = 0;
        for (size_t k = 0; k < sp->n_levels && !seen; k++)
            seen = sp->levels[k] == s || strcmp(sp->levels[k], s) == 0;
        if (!seen)
            sp->levels[sp->n_levels++] = s;
    }
    qsort(sp->levels, sp->n_levels, sizeof *sp->levels, cmp_str);
    if (sp->n_levels < 2)
        return esl__fail(ESL_EINVAL, "leave-out:%s needs at least two %ss in the data (found '%s')",
                         column == 0 ? "model" : "gpu", column == 0 ? "model" : "GPU",
                         sp->n_levels ? sp->levels[0] : "");
    sp->n_folds = sp->n_levels;
    return ESL_OK;
}

/* train=A,B:test=C with names of models, else of GPUs. */
static int plan_named(split_plan *sp, const esl_dataset *ds, const char *split)
{
    const char *colon = strstr(split, ":test=");
    if (strncmp(split, "train=", 6) != 0 || colon == NULL || colon == split + 6 || colon[6] == '\0')
        return esl__fail(ESL_EINVAL, "split '%s' is not kfold:K, leave-out:model, "
                         "leave-out:gpu, batch-above:B or train=A,B:test=C", split);
    if ((sp->train = esl__strdup(split + 6)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    sp->train[colon - (split + 6)] = '\0';
    sp->test = colon + 6;
    sp->column = -1;
    for (int c = 0; c < 2 && sp->column < 0; c++)
        for (size_t i = 0; i < ds->n_rows && sp->column < 0; i++)
            if (in_list(&ds->rows[i], sp->test, c))
                sp->column = c;
    if (sp->column < 0)
        return esl__fail(ESL_ENOTFOUND, "split '%s': no row has model or GPU '%s'", split,
                         sp->test);
    size_t n_train = 0;
    for (size_t i = 0; i < ds->n_rows; i++)
        n_train += !in_list(&ds->rows[i], sp->test, sp->column) &&
                   in_list(&ds->rows[i], sp->train, sp->column);
    if (n_train == 0)
        return esl__fail(ESL_ENOTFOUND, "split '%s': no row has %s '%s'", split,
                         sp->column == 0 ? "model" : "GPU", sp->train);
    sp->n_folds = 1;
    return ESL_OK;
}

static int plan_split(split_plan *sp, const esl_dataset *ds, const char *split,
                      unsigned long seed)
{
    *sp = (split_plan){.kind = SPLIT_NAMED};
    int rc;
    if (strncmp(split, "kfold:", 6) == 0) {
        sp->kind = SPLIT_KFOLD;
        rc = plan_kfold(sp, ds, split, seed);
    } else if (strncmp(split, "batch-above:", 12) == 0) {
        /* Batch extrapolation: train on batches up to B, test on larger ones. */
        char *end;
        sp->kind = SPLIT_BATCH;
        sp->b = strtol(split + 12, &end, 10);
        sp->n_folds = 1;
        rc = end == split + 12 || *end != '\0' || sp->b < 1
                 ? esl__fail(ESL_EINVAL, "split '%s': B is not a positive integer", split)
                 : ESL_OK;
    } else if (strcmp(split, "leave-out:model") == 0 || strcmp(split, "leave-out:gpu") == 0) {
        sp->kind = SPLIT_LEAVE_OUT;
        rc = plan_leave_out(sp, ds, strcmp(split, "leave-out:gpu") == 0);
    } else {
        rc = plan_named(sp, ds, split);
    }
    if (rc != ESL_OK) {
        plan_free(sp);
        *sp = (split_plan){.kind = SPLIT_NAMED};
    }
    return rc;
}

/* Fold f of a plan: is_test[i] for the held-out rows, in_fold[i] for the
 * rows it uses at all; what it trained and tested on, named (512 bytes
 * each). */
static void plan_fold(const split_plan *sp, const esl_dataset *ds, size_t f,
                      unsigned char *is_test, unsigned char *in_fold, char *train, char *test)
{
    size_t n = ds->n_rows;
    memset(in_fold, 1, n);
    switch (sp->kind) {
    case SPLIT_KFOLD: {
        size_t k = (size_t)sp->k, lo = n * f / k, hi = n * (f + 1) / k;
        memset(is_test, 0, n);
        for (size_t i = lo; i < hi; i++)
            is_test[sp->order[i]] = 1;
        snprintf(test, 512, "fold %zu/%ld", f + 1, sp->k);
        snprintf(train, 512, "all but fold %zu/%ld", f + 1, sp->k);
        break;
    }
    case SPLIT_BATCH:
        for (size_t i = 0; i < n; i++)
            is_test[i] = ds->rows[i].batch_size > sp->b;
        snprintf(test, 512, "batch > %ld", sp->b);
        snprintf(train, 512, "batch <= %ld", sp->b);
        break;
    case SPLIT_LEAVE_OUT:
        train[0] = '\0';
        for (size_t j = 0; j < sp->n_levels; j++)
            if (j != f)
                snprintf(train + strlen(train), 512 - strlen(train), "%s%s", train[0] ? "," : "",
                         sp->levels[j]);
        snprintf(test, 512, "%s", sp->levels[f]);
        for (size_t i = 0; i < n; i++)
            is_test[i] = (unsigned char)in_list(&ds->rows[i], sp->levels[f], sp->column);
        break;
    case SPLIT_NAMED:
        snprintf(train, 512, "%s", sp->train);
        snprintf(test, 512, "%s", sp->test);
        for (size_t i = 0; i < n; i++) {
            int te = in_list(&ds->rows[i], sp->test, sp->column);
            is_test[i] = (unsigned char)te;
            in_fold[i] = (unsigned char)(te || in_list(&ds->rows[i], sp->train, sp->column));
        }
        break;
    }
}

/* Fit on the fold's training rows and score on its held-out ones, both read
 * in place through `idx` (room for every row). */
static int add_fold(esl_validation *v, const esl_dataset *ds, const char *train_name,
                    const char *test_name, const unsigned char *is_test,
                    const unsigned char *in_fold, size_t *idx, const esl__law_inputs *in,
                    const esl_fit_opts *opts)
{
    esl_fold *grown = realloc(v->folds, (v->n_folds + 1) * sizeof *grown);
    if (grown == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    v->folds = grown;
    esl_fold *f = &grown[v->n_folds++];
    *f = (esl_fold){esl__strdup(train_name), esl__strdup(test_name), 0, 0, NULL, {0}};
    if (f->train == NULL || f->test == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");

    /* Training rows first, then the held-out ones, each in the rows' order. */
    size_t n_train = 0, n_test = 0, at_train = 0;
    for (size_t i = 0; i < ds->n_rows; i++)
        n_train += in_fold[i] && !is_test[i];
    for (size_t i = 0; i < ds->n_rows; i++)
        if (in_fold[i])
            idx[is_test[i] ? n_train + n_test++ : at_train++] = i;
    if (n_train == 0 || n_test == 0)
        return esl__fail(ESL_EINVAL, "test '%s': the %s set is empty", test_name,
                         n_train == 0 ? "training" : "test");
    f->n_train = n_train;
    f->n_test = n_test;
    int rc = esl__law_fit_rows(&f->law, ds, idx, n_train, in, opts);
    if (rc != ESL_OK)
        return esl__fail_prefix(rc, "test '%s': ", test_name);
    return esl__law_score_rows(&f->score, f->law, ds, idx + n_train, n_test);
}

/* Each row's model as a small id (equal names, equal ids), for
 * every_model_trained; NULL when there are too many models to track. */
static unsigned char *model_ids(const esl_dataset *ds)
{
    const char *seen[64];
    size_t n_seen = 0;
    unsigned char *id = malloc(ds->n_rows ? ds->n_rows : 1);
    for (size_t i = 0; id != NULL && i < ds->n_rows; i++) {
        const char *m = ds->rows[i].model;
        size_t k = 0;
        while (k < n_seen && seen[k] != m)
            k++;
        if (k == n_seen) /* a pointer not seen: a new name, or an old one elsewhere */
            for (k = 0; k < n_seen && strcmp(seen[k], m) != 0; k++)
                ;
        if (k == n_seen && n_seen == 64) {
            free(id);
            return NULL;
        }
        if (k == n_seen)
            seen[n_seen++] = m;
        id[i] = (unsigned char)k;
    }
    return id;
}

/* 1 when every held-out row's model has a training row too (`ids`:
 * model_ids; NULL: too many models to tell, estimate it). */
static int every_model_trained(const esl_dataset *ds, const unsigned char *is_test,
                               const unsigned char *ids)
{
    unsigned char trained[64] = {0}, tested[64] = {0};
    if (ids == NULL)
        return 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        trained[ids[i]] |= !is_test[i];
        tested[ids[i]] |= is_test[i];
    }
    for (size_t k = 0; k < 64; k++)
        if (tested[k] && !trained[k])
            return 0;
    return 1;
}

int esl_validate(esl_validation **out, const esl_dataset *ds, const char *split,
                 unsigned long seed, const esl_fit_opts *opts)
{
    *out = NULL;
    size_t n = ds->n_rows ? ds->n_rows : 1;
    esl_validation *v = calloc(1, sizeof *v);
    unsigned char *is_test = malloc(2 * n);
    size_t *idx = malloc(n * sizeof *idx);
    char *names = malloc(1024);
    split_plan sp = {.kind = SPLIT_NAMED};
    esl__law_inputs *in = NULL;
    unsigned char *ids = NULL;
    int rc = v == NULL || is_test == NULL || idx == NULL || names == NULL ||
                     (v->split = esl__strdup(split)) == NULL
                 ? esl__fail(ESL_ENOMEM, "out of memory")
                 : plan_split(&sp, ds, split, seed);
    if (rc == ESL_OK)
        rc = esl__law_inputs_new(&in, ds, opts);
    if (rc == ESL_OK && sp.kind == SPLIT_KFOLD)
        ids = model_ids(ds); /* NULL (no room, or too many models): refits kept */
    for (size_t f = 0; rc == ESL_OK && f < sp.n_folds; f++) {
        unsigned char *in_fold = is_test + n;
        plan_fold(&sp, ds, f, is_test, in_fold, names, names + 512);
        esl_fit_opts fold = opts != NULL ? *opts : (esl_fit_opts){0};
        /* A k-fold fold whose held-out models all have training rows never
         * uses the between-model variance: skip the refits that estimate it. */
        if (sp.kind == SPLIT_KFOLD)
            fold.no_between = every_model_trained(ds, is_test, ids);
        rc = add_fold(v, ds, names, names + 512, is_test, in_fold, idx, in,
                      opts != NULL || sp.kind == SPLIT_KFOLD ? &fold : NULL);
    }
    plan_free(&sp);
    esl__law_inputs_free(in);
    free(ids);
    free(is_test);
    free(idx);
    free(names);
    if (rc != ESL_OK) {
        esl_validation_free(v);
        return rc;
    }
    v->seed = seed;
    *out = v;
    return ESL_OK;
}

int esl_validate_split_rows(unsigned char *is_test, unsigned char *in_fold, size_t *n_folds,
                            const esl_dataset *ds, const char *split, unsigned long seed,
                            size_t fold)
{
    split_plan sp;
    int rc = plan_split(&sp, ds, split, seed);
    if (rc != ESL_OK)
        return rc;
    if (n_folds != NULL)
        *n_folds = sp.n_folds;
    unsigned char *mask = in_fold != NULL ? in_fold : malloc(ds->n_rows ? ds->n_rows : 1);
    char *names = malloc(1024);
    if (fold >= sp.n_folds)
        rc = esl__fail(ESL_EINVAL, "split '%s' has %zu fold%s: no fold %zu", split, sp.n_folds,
                       sp.n_folds == 1 ? "" : "s", fold + 1);
    else if (mask == NULL || names == NULL)
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    else
        plan_fold(&sp, ds, fold, is_test, mask, names, names + 512);
    if (in_fold == NULL)
        free(mask);
    free(names);
    plan_free(&sp);
    return rc;
}

int esl_validate_fold_rows(size_t *train, size_t *test, const esl_dataset *ds,
                           const esl_validation *v, size_t fold)
{
    if (ds == NULL || v == NULL || fold >= v->n_folds || train == NULL || test == NULL)
        return esl__fail(ESL_EINVAL, "fold %zu: no such fold", fold + 1);
    size_t n = ds->n_rows ? ds->n_rows : 1;
    unsigned char *is_test = malloc(2 * n);
    if (is_test == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = esl_validate_split_rows(is_test, is_test + n, NULL, ds, v->split, v->seed, fold);
    const esl_fold *fo = &v->folds[fold];
    size_t n_train = 0, n_test = 0;
    for (size_t i = 0; rc == ESL_OK && i < ds->n_rows; i++) {
        if (!is_test[n + i])
            continue;
        if (is_test[i] && n_test < fo->n_test)
            test[n_test] = i;
        else if (!is_test[i] && n_train < fo->n_train)
            train[n_train] = i;
        n_test += is_test[i] != 0;
        n_train += is_test[i] == 0;
    }
    free(is_test);
    if (rc == ESL_OK && (n_train != fo->n_train || n_test != fo->n_test))
        rc = esl__fail(ESL_EINVAL, "split '%s': fold %zu has %zu/%zu training/test rows but "
                       "these rows give %zu/%zu (not the dataset it was validated on)",
                       v->split, fold + 1, fo->n_train, fo->n_test, n_train, n_test);
    return rc;
}

void esl_validation_free(esl_validation *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n_folds; i++) {
        free(v->folds[i].train);
        free(v->folds[i].test);
        esl_law_free(v->folds[i].law);
    }
    free(v->folds);
    free(v->split);
    free(v);
}
