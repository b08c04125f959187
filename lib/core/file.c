/*
 * file.c - writing an output file so that a failure never leaves a partial
 * one: the bytes go to a temporary name beside the target and are renamed
 * over it once all of them were written and flushed without error
 * (esl_outfile, include/esl/file.h). The static helpers answer with the
 * system's errno so that each caller words its own message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/file.h"

int esl__check_writable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return esl__fail(ESL_EIO, "cannot write '%s': Is a directory", path);
        return access(path, W_OK) == 0 ? ESL_OK
                                       : esl__fail(ESL_EIO, "cannot write '%s': %s", path,
                                                   strerror(errno));
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory writing '%s'", path);
    snprintf(tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    int rc = fd >= 0 ? ESL_OK : esl__fail(ESL_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* Free what *o owns, zero it and return `err`. */
static int out_drop(esl_outfile *o, int err)
{
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return err;
}

/* Open *o for `path`: 0, or the errno of the failure with *o zeroed. */
static int out_open(esl_outfile *o, const char *path)
{
    memset(o, 0, sizeof *o);
    struct stat st;
    int in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
    if (in_place && S_ISDIR(st.st_mode))
        return EISDIR;
    size_t n = strlen(path) + 16;
    if ((o->path = strdup(path)) == NULL || (!in_place && (o->tmp = malloc(n)) == NULL))
        return out_drop(o, ENOMEM);
    if (in_place)
        return (o->f = fopen(path, "we")) != NULL ? 0 : out_drop(o, errno);
    snprintf(o->tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0)
        return out_drop(o, errno);
    /* mkstemp makes the file private: give it the mode a new file gets */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        (o->f = fdopen(fd, "w")) == NULL) {
        int err = errno;
        close(fd);
        unlink(o->tmp);
        return out_drop(o, err);
    }
    return 0;
}

/* Check, close and rename *o into place: 0, or the errno of the failure
 * (-1 when the stream failed without one) with the temporary removed. *o is
 * zeroed; *path_out, when given, receives the path (the caller frees). */
static int out_commit(esl_outfile *o, char **path_out)
{
    if (path_out != NULL)
        *path_out = NULL;
    if (o->f == NULL)
        return out_drop(o, 0);
    int failed = fflush(o->f) != 0 || ferror(o->f);
    int err = errno;
    if (fclose(o->f) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    if (!failed && o->tmp != NULL && rename(o->tmp, o->path) != 0) {
        failed = 1;
        err = errno;
    }
    if (failed && o->tmp != NULL)
        unlink(o->tmp);
    if (path_out != NULL) {
        *path_out = o->path;
        o->path = NULL;
    }
    return out_drop(o, failed ? (err != 0 ? err : -1) : 0);
}

int esl_outfile_open(esl_outfile *o, const char *path)
{
    if (o == NULL || path == NULL)
        return esl__fail(ESL_EINVAL, "esl_outfile_open: NULL argument");
    int err = out_open(o, path);
    if (err == ENOMEM)
        return esl__fail(ESL_ENOMEM, "out of memory");
    if (err != 0)
        return esl__fail(ESL_EIO, "%s: %s", path, err == EISDIR ? "is a directory" : strerror(err));
    return ESL_OK;
}

int esl_outfile_commit(esl_outfile *o)
{
    if (o == NULL)
        return ESL_OK;
    char *path;
    int err = out_commit(o, &path);
    int rc = err == 0 ? ESL_OK
                      : esl__fail(ESL_EIO, "%s: %s", path ? path : "output",
                                  err > 0 ? strerror(err) : "write error");
    free(path);
    return rc;
}

void esl_outfile_abandon(esl_outfile *o)
{
    if (o == NULL || o->f == NULL)
        return;
    fclose(o->f);
    if (o->tmp != NULL)
        unlink(o->tmp);
    out_drop(o, 0);
}

int esl__publish_file(const char *from, const char *path)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return esl__fail(ESL_EIO, "cannot write '%s': %s: %s", path, from, strerror(errno));
    esl_outfile o;
    int err = out_open(&o, path);
    if (err != 0) {
        fclose(in);
        return err == ENOMEM ? esl__fail(ESL_ENOMEM, "out of memory writing '%s'", path)
                             : esl__fail(ESL_EIO, "cannot write '%s': %s", path, strerror(err));
    }
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, got, o.f) != got) {
            err = errno != 0 ? errno : EIO;
            break;
        }
    if (err == 0 && ferror(in))
        err = EIO;
    fclose(in);
    if (err != 0)
        esl_outfile_abandon(&o);
    else
        err = out_commit(&o, NULL);
    return err == 0 ? ESL_OK
                    : esl__fail(ESL_EIO, "cannot write '%s': %s", path, strerror(err > 0 ? err : EIO));
}
