/*
 * validate.c - held-out validation of the law (paper section 4.2): k-fold
 * within a dataset, leaving each model or GPU out in turn (Figures 3, 4, 7,
 * 8), or an explicit train/test split by model or GPU name. Each fold fits a
 * law on its training rows and scores it on the held-out ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/internal.h"
#include "esl/law.h"

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

static int add_fold(esl_validation *v, const esl_dataset *ds, const char *train_name,
                    const char *test_name, const unsigned char *is_test, const esl_fit_opts *opts)
{
    esl_fold *grown = realloc(v->folds, (v->n_folds + 1) * sizeof *grown);
    if (grown == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    v->folds = grown;
    esl_fold *f = &grown[v->n_folds++];
    *f = (esl_fold){esl__strdup(train_name), esl__strdup(test_name), 0, 0, NULL, {0}};
    if (f->train == NULL || f->test == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");

    esl_dataset *train = NULL, *test = NULL;
    int rc = esl__dataset_split(&test, &train, ds, is_test);
    if (rc == ESL_OK && (train->n_rows == 0 || test->n_rows == 0))
        rc = esl__fail(ESL_EINVAL, "test '%s': the %s set is empty", test_name,
                       train->n_rows == 0 ? "training" : "test");
    if (rc == ESL_OK) {
        f->n_train = train->n_rows;
        f->n_test = test->n_rows;
        if ((rc = esl_law_fit(&f->law, train, opts)) != ESL_OK)
            rc = esl__fail_prefix(rc, "test '%s': ", test_name);
    }
    if (rc == ESL_OK)
        rc = esl_law_score(&f->score, f->law, test);
    esl_dataset_free(train);
    esl_dataset_free(test);
    return rc;
}

/* 1 when every held-out row's model has a training row too. The dataset's
 * strings are interned (one pointer per distinct name), so pointers compare. */
static int every_model_trained(const esl_dataset *ds, const unsigned char *is_test)
{
    const char *seen[64];
    size_t n_seen = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        if (is_test[i])
            continue;
        int known = 0;
        for (size_t j = 0; j < n_seen && !known; j++)
            known = seen[j] == ds->rows[i].model;
        if (!known && n_seen == 64)
            return 0; /* too many models to track: estimate it */
        if (!known)
            seen[n_seen++] = ds->rows[i].model;
    }
    for (size_t i = 0; i < ds->n_rows; i++) {
        if (!is_test[i])
            continue;
        int known = 0;
        for (size_t j = 0; j < n_seen && !known; j++)
            known = seen[j] == ds->rows[i].model || strcmp(seen[j], ds->rows[i].model) == 0;
        if (!known)
            return 0;
    }
    return 1;
}

/* The k-fold order of n rows: 0..n-1 shuffled by GSL's mt19937 seeded with
 * `seed`; fold f of k tests the rows order[n f / k] to order[n (f + 1) / k - 1].
 * @return a malloc'd array of n (at least one) indices, or NULL out of memory */
static size_t *kfold_order(size_t n, unsigned long seed)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (order == NULL || rng == NULL) {
        free(order);
        gsl_rng_free(rng);
        return NULL;
    }
    gsl_rng_set(rng, seed);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    gsl_ran_shuffle(rng, order, n, sizeof *order);
    gsl_rng_free(rng);
    return order;
}

static int kfold(esl_validation *v, const esl_dataset *ds, long k, unsigned long seed,
                 const esl_fit_opts *opts, unsigned char *is_test)
{
    size_t n = ds->n_rows;
    if (k < 2 || (size_t)k > n)
        return esl__fail(ESL_EINVAL, "kfold:%ld needs 2 <= K <= rows (%zu)", k, n);
    size_t *order = kfold_order(n, seed);
    int rc = ESL_OK;
    if (order == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (long f = 0; f < k && rc == ESL_OK; f++) {
        size_t lo = n * (size_t)f / (size_t)k, hi = n * (size_t)(f + 1) / (size_t)k;
        memset(is_test, 0, n);
        for (size_t i = lo; i < hi; i++)
            is_test[order[i]] = 1;
        char test[64], train[64];
        snprintf(test, sizeof test, "fold %ld/%ld", f + 1, k);
        snprintf(train, sizeof train, "all but fold %ld/%ld", f + 1, k);
        /* A fold whose held-out models all have training rows never uses the
         * between-model variance: skip the refits that estimate it. */
        esl_fit_opts fold = opts != NULL ? *opts : (esl_fit_opts){0};
        fold.no_between = every_model_trained(ds, is_test);
        rc = add_fold(v, ds, train, test, is_test, &fold);
    }
    free(order);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int leave_out(esl_validation *v, const esl_dataset *ds, int column,
                     const esl_fit_opts *opts, unsigned char *is_test)
{
    const char **levels = malloc(ds->n_rows * sizeof *levels);
    size_t n_levels = 0;
    int rc = ESL_OK;
    if (levels == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; i < ds->n_rows; i++) {
        const char *s = column == 0 ? ds->rows[i].model : ds->rows[i].gpu;
        int seen = 0;
        for (size_t k = 0; k < n_levels && !seen; k++)
            seen = strcmp(levels[k], s) == 0;
        if (!seen)
            levels[n_levels++] = s;
    }
    qsort(levels, n_levels, sizeof *levels, cmp_str);
    if (n_levels < 2)
        rc = esl__fail(ESL_EINVAL, "leave-out:%s needs at least two %ss in the data (found '%s')",
                       column == 0 ? "model" : "gpu", column == 0 ? "model" : "GPU",
                       n_levels ? levels[0] : "");
    for (size_t k = 0; k < n_levels && rc == ESL_OK; k++) {
        char train[512] = "";
        for (size_t j = 0; j < n_levels; j++)
            if (j != k)
                snprintf(train + strlen(train), sizeof train - strlen(train), "%s%s",
                         train[0] ? "," : "", levels[j]);
        for (size_t i = 0; i < ds->n_rows; i++)
            is_test[i] = in_list(&ds->rows[i], levels[k], column);
        rc = add_fold(v, ds, train, levels[k], is_test, opts);
    }
    free(levels);
    return rc;
}

/* train=A,B:test=C with names of models, else of GPUs. */
static int named(esl_validation *v, const esl_dataset *ds, const char *split,
                 const esl_fit_opts *opts, unsigned char *is_test)
{
    const char *colon = strstr(split, ":test=");
    if (strncmp(split, "train=", 6) != 0 || colon == NULL || colon == split + 6 || colon[6] == '\0')
        return esl__fail(ESL_EINVAL, "split '%s' is not kfold:K, leave-out:model, "
                         "leave-out:gpu, batch-above:B or train=A,B:test=C", split);
    char *train = esl__strdup(split + 6);
    if (train == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    train[colon - (split + 6)] = '\0';
    const char *test = colon + 6;
    int column = -1;
    for (int c = 0; c < 2 && column < 0; c++)
        for (size_t i = 0; i < ds->n_rows && column < 0; i++)
            if (in_list(&ds->rows[i], test, c))
                column = c;
    int rc = ESL_OK;
    if (column < 0)
        rc = esl__fail(ESL_ENOTFOUND, "split '%s': no row has model or GPU '%s'", split, test);
    if (rc == ESL_OK) {
        esl_dataset *sub = NULL;
        if ((rc = esl_dataset_new(&sub, ds->origin, ds->convention)) != ESL_OK) {
            free(train);
            return rc;
        }
        size_t n_train = 0;
        for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++) {
            int te = in_list(&ds->rows[i], test, column), tr = in_list(&ds->rows[i], train, column);
            if (te || tr) {
                is_test[sub->n_rows] = (unsigned char)te;
                n_train += !te;
                rc = esl_dataset_append(sub, &ds->rows[i]);
            }
        }
        if (rc == ESL_OK && n_train == 0)
            rc = esl__fail(ESL_ENOTFOUND, "split '%s': no row has %s '%s'", split,
                           column == 0 ? "model" : "GPU", train);
        if (rc == ESL_OK)
            rc = add_fold(v, sub, train, test, is_test, opts);
        esl_dataset_free(sub);
    }
    free(train);
    return rc;
}

int esl_validate(esl_validation **out, const esl_dataset *ds, const char *split,
                 unsigned long seed, const esl_fit_opts *opts)
{
    *out = NULL;
    esl_validation *v = calloc(1, sizeof *v);
    unsigned char *is_test = calloc(ds->n_rows ? ds->n_rows : 1, 1);
    if (v != NULL)
        v->seed = seed;
    if (v == NULL || is_test == NULL || (v->split = esl__strdup(split)) == NULL) {
        free(is_test);
        esl_validation_free(v);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    int rc;
    if (strncmp(split, "kfold:", 6) == 0) {
        char *end;
        long k = strtol(split + 6, &end, 10);
        rc = end == split + 6 || *end != '\0'
                 ? esl__fail(ESL_EINVAL, "split '%s': K is not an integer", split)
                 : kfold(v, ds, k, seed, opts, is_test);
    } else if (strncmp(split, "batch-above:", 12) == 0) {
        /* Batch extrapolation: train on batches up to B, test on larger ones. */
        char *end, name[64];
        long b = strtol(split + 12, &end, 10);
        rc = end == split + 12 || *end != '\0' || b < 1
                 ? esl__fail(ESL_EINVAL, "split '%s': B is not a positive integer", split)
                 : ESL_OK;
        for (size_t i = 0; i < ds->n_rows && rc == ESL_OK; i++)
            is_test[i] = ds->rows[i].batch_size > b;
        snprintf(name, sizeof name, "batch > %ld", b);
        if (rc == ESL_OK) {
            char train[64];
            snprintf(train, sizeof train, "batch <= %ld", b);
            rc = add_fold(v, ds, train, name, is_test, opts);
        }
    } else if (strcmp(split, "leave-out:model") == 0) {
        rc = leave_out(v, ds, 0, opts, is_test);
    } else if (strcmp(split, "leave-out:gpu") == 0) {
        rc = leave_out(v, ds, 1, opts, is_test);
    } else {
        rc = named(v, ds, split, opts, is_test);
    }
    free(is_test);
    if (rc != ESL_OK) {
        esl_validation_free(v);
        return rc;
    }
    *out = v;
    return ESL_OK;
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

/* Whether row i of `ds` sits on the test side (1), the training side (0) or
 * neither (-1) of fold f of split v, from the same definitions as above. */
static int fold_side(const esl_dataset *ds, const esl_validation *v, size_t f, size_t i,
                     const size_t *place, int column)
{
    const esl_fold *fold = &v->folds[f];
    const esl_row *r = &ds->rows[i];
    if (place != NULL) { /* kfold: where the shuffle put row i */
        size_t n = ds->n_rows, k = v->n_folds;
        return place[i] >= n * f / k && place[i] < n * (f + 1) / k;
    }
    if (strncmp(v->split, "batch-above:", 12) == 0)
        return r->batch_size > strtol(v->split + 12, NULL, 10);
    if (in_list(r, fold->test, column))
        return 1;
    return in_list(r, fold->train, column) ? 0 : -1;
}

int esl_validate_fold_rows(size_t *train, size_t *test, const esl_dataset *ds,
                           const esl_validation *v, size_t fold)
{
    if (ds == NULL || v == NULL || fold >= v->n_folds || train == NULL || test == NULL)
        return esl__fail(ESL_EINVAL, "fold %zu: no such fold", fold + 1);
    const esl_fold *fo = &v->folds[fold];
    size_t *place = NULL, n_train = 0, n_test = 0;
    int column = strcmp(v->split, "leave-out:gpu") == 0;
    if (strncmp(v->split, "kfold:", 6) == 0) {
        size_t *order = kfold_order(ds->n_rows, v->seed);
        place = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *place);
        if (order == NULL || place == NULL) {
            free(order);
            free(place);
            return esl__fail(ESL_ENOMEM, "out of memory");
        }
        for (size_t j = 0; j < ds->n_rows; j++)
            place[order[j]] = j;
        free(order);
    } else if (strncmp(v->split, "train=", 6) == 0) {
        /* named(): the test names are models when any row's model is one */
        column = 1;
        for (size_t i = 0; i < ds->n_rows && column == 1; i++)
            if (in_list(&ds->rows[i], fo->test, 0))
                column = 0;
    }
    for (size_t i = 0; i < ds->n_rows; i++) {
        int side = fold_side(ds, v, fold, i, place, column);
        if (side == 1 && n_test < fo->n_test)
            test[n_test] = i;
        else if (side == 0 && n_train < fo->n_train)
            train[n_train] = i;
        n_test += side == 1;
        n_train += side == 0;
    }
    free(place);
    if (n_train != fo->n_train || n_test != fo->n_test)
        return esl__fail(ESL_EINVAL, "split '%s': fold %zu has %zu/%zu training/test rows but "
                         "these rows give %zu/%zu (not the dataset it was validated on)",
                         v->split, fold + 1, fo->n_train, fo->n_test, n_train, n_test);
    return ESL_OK;
}
