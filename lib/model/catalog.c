/*
 * catalog.c - finding a model description by name, and listing every name
 * that can be found with where it comes from.
 *
 * Built-in descriptions are compiled into the library (cmake/embed.cmake),
 * so an installed esl needs no data files. Folders named in ESL_MODEL_PATH
 * come first, so a user can add a model, or override a built-in one, with a
 * NAME.json file and no recompilation.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/file.h"
#include "esl/model.h"
#include "model/catalog_builtin.h"

size_t esl_catalog_count(void)
{
    return esl__builtin_model_count;
}

const char *esl_catalog_name(size_t i)
{
    return i < esl__builtin_model_count ? esl__builtin_models[i].name : NULL;
}

/* Names are plain file stems: no path separators, no hidden files. */
static int valid_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > 128)
        return 0;
    for (const char *p = name; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

static int unknown(const char *name)
{
    char known[512] = "";
    for (size_t i = 0; i < esl__builtin_model_count; i++) {
        strncat(known, esl__builtin_models[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < esl__builtin_model_count)
            strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    return esl__fail(ESL_ENOTFOUND, "unknown model '%s' (known: %s)", name, known);
}

int esl_catalog_find(esl_model **out, const char *name)
{
    *out = NULL;
    if (!valid_name(name))
        return unknown(name);

    const char *env = getenv("ESL_MODEL_PATH");
    if (env != NULL && env[0] != '\0') {
        char *dirs = esl__strdup(env);
        if (dirs == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir != NULL;
             dir = strtok_r(NULL, ":", &save)) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.json", dir, name);
            if (access(path, F_OK) == 0) {
                free(dirs);
                return esl_model_load(out, path);
            }
        }
        free(dirs);
    }
    char *user = NULL;
    if (esl_catalog_user_dir(&user) == ESL_OK) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.json", user, name);
        free(user);
        if (access(path, F_OK) == 0)
            return esl_model_load(out, path);
    }
    esl_error_clear();

    for (size_t i = 0; i < esl__builtin_model_count; i++) {
        const esl_builtin_model *b = &esl__builtin_models[i];
        if (strcmp(b->name, name) == 0) {
            char origin[160];
            snprintf(origin, sizeof origin, "builtin:%s", name);
            return esl_model_parse(out, b->json, b->len, origin);
        }
    }
    return unknown(name);
}

int esl_catalog_user_dir(char **out)
{
    const char *env = getenv("ESL_MODEL_PATH"), *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char buf[4096];
    *out = NULL;
    if (env != NULL && env[0] != '\0') {
        size_t n = strcspn(env, ":");
        snprintf(buf, sizeof buf, "%.*s", (int)n, env);
    } else if (xdg != NULL && xdg[0] == '/') {
        snprintf(buf, sizeof buf, "%s/esl/models", xdg);
    } else if (home != NULL && home[0] != '\0') {
        snprintf(buf, sizeof buf, "%s/.local/share/esl/models", home);
    } else {
        return esl__fail(ESL_ENOTFOUND, "no user catalogue folder: set ESL_MODEL_PATH or HOME");
    }
    if ((*out = esl__strdup(buf)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    return ESL_OK;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return esl__fail(ESL_EIO, "%s: cannot create folder: %s", path, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return ESL_OK;
}

int esl_catalog_import(char **out_path, const char *diffusers_dir, const char *name)
{
    char *text = NULL, *dir = NULL, path[4096];
    int rc;
    *out_path = NULL;
    if (!valid_name(name))
        return esl__fail(ESL_EINVAL, "'%s' is not a model name (letters, digits, '-', '_', '.')", name);
    /* A user model named like a built-in one would shadow it for every
     * command that looks the name up (predict, fit), and silently. */
    for (size_t i = 0; i < esl__builtin_model_count; i++)
        if (strcmp(esl__builtin_models[i].name, name) == 0)
            return esl__fail(ESL_EINVAL, "'%s' is the name of a built-in model: choose another "
                             "name", name);
    if ((rc = esl_diffusers_describe(&text, diffusers_dir, name)) != ESL_OK)
        return rc;
    if ((rc = esl_catalog_user_dir(&dir)) == ESL_OK && (rc = make_dirs(dir)) == ESL_OK) {
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        /* Written beside it and renamed: a failed write leaves no half model. */
        esl_outfile f;
        if ((rc = esl_outfile_open(&f, path)) == ESL_OK) {
            fputs(text, f.f);
            fputc('\n', f.f);
            rc = esl_outfile_commit(&f); /* checks every write */
        }
        if (rc == ESL_OK && (*out_path = esl__strdup(path)) == NULL)
            rc = esl__fail(ESL_ENOMEM, "out of memory");
    }
    free(dir);
    free(text);
    return rc;
}

const char *esl_model_origin_name(esl_model_origin origin)
{
    switch (origin) {
    case ESL_ORIGIN_BUILTIN: return "built-in";
    case ESL_ORIGIN_PATH: return "ESL_MODEL_PATH";
    case ESL_ORIGIN_USER: return "user";
    }
    return "unknown";
}

typedef struct listing {
    esl_catalog_entry *e;
    size_t n, cap;
    int rc;
} listing;

static int listed(const listing *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].name, name) == 0)
            return 1;
    return 0;
}

static void add_entry(listing *l, const char *name, esl_model_origin origin, const char *path)
{
    if (l->rc != ESL_OK || listed(l, name))
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        esl_catalog_entry *grown = realloc(l->e, cap * sizeof *grown);
        if (grown == NULL) {
            l->rc = esl__fail(ESL_ENOMEM, "out of memory");
            return;
        }
        l->e = grown, l->cap = cap;
    }
    esl_catalog_entry *e = &l->e[l->n];
    e->name = esl__strdup(name);
    e->path = path != NULL ? esl__strdup(path) : NULL;
    e->origin = origin;
    e->shadows_builtin = 0;
    if (e->name == NULL || (path != NULL && e->path == NULL)) {
        free(e->name);
        free(e->path);
        l->rc = esl__fail(ESL_ENOMEM, "out of memory");
        return;
    }
    l->n++;
}

/* The NAME.json files of one folder, in readdir order (sorted later). */
static void add_folder(listing *l, const char *dir, esl_model_origin origin)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *de; l->rc == ESL_OK && (de = readdir(d)) != NULL;) {
        size_t len = strlen(de->d_name);
        char stem[160], path[4096];
        if (len <= 5 || len - 5 >= sizeof stem || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 5), de->d_name);
        if (!valid_name(stem))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        add_entry(l, stem, origin, path);
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const esl_catalog_entry *)a)->name, ((const esl_catalog_entry *)b)->name);
}

int esl_catalog_list(esl_catalog_entry **out, size_t *n)
{
    listing l = {NULL, 0, 0, ESL_OK};
    *out = NULL;
    *n = 0;
    const char *env = getenv("ESL_MODEL_PATH");
    if (env != NULL && env[0] != '\0') {
        char *dirs = esl__strdup(env);
        if (dirs == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir != NULL;
             dir = strtok_r(NULL, ":", &save))
            add_folder(&l, dir, ESL_ORIGIN_PATH);
        free(dirs);
    } else {
        char *user = NULL;
        if (esl_catalog_user_dir(&user) == ESL_OK)
            add_folder(&l, user, ESL_ORIGIN_USER);
        free(user);
        esl_error_clear();
    }
    for (size_t i = 0; i < l.n; i++)
        for (size_t k = 0; k < esl__builtin_model_count; k++)
            if (strcmp(l.e[i].name, esl__builtin_models[k].name) == 0)
                l.e[i].shadows_builtin = 1;
    for (size_t k = 0; k < esl__builtin_model_count; k++)
        add_entry(&l, esl__builtin_models[k].name, ESL_ORIGIN_BUILTIN, NULL);
    if (l.rc != ESL_OK) {
        esl_catalog_list_free(l.e, l.n);
        return l.rc;
    }
    if (l.n > 1)
        qsort(l.e, l.n, sizeof *l.e, by_name);
    *out = l.e;
    *n = l.n;
    return ESL_OK;
}

void esl_catalog_list_free(esl_catalog_entry *list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(list[i].name);
        free(list[i].path);
    }
    free(list);
}
