/*
 * file.c - writing an output file so that a failure never leaves a partial
 * one: the bytes go to a temporary name beside the target and are renamed
 * over it once all of them were written and flushed without error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"

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

int esl__publish_file(const char *from, const char *path)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return esl__fail(ESL_EIO, "cannot write '%s': %s: %s", path, from, strerror(errno));
    struct stat st;
    int in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    FILE *out = NULL;
    int rc = ESL_OK, fd = -1;
    if (tmp == NULL) {
        fclose(in);
        return esl__fail(ESL_ENOMEM, "out of memory writing '%s'", path);
    }
    if (in_place) {
        out = fopen(path, "wb");
    } else {
        snprintf(tmp, n, "%s.tmp-XXXXXX", path);
        if ((fd = mkstemp(tmp)) >= 0) {
            mode_t mask = umask(0);
            umask(mask);
            if (fchmod(fd, 0666 & ~mask) != 0 || (out = fdopen(fd, "wb")) == NULL) {
                int err = errno;
                close(fd);
                unlink(tmp);
                errno = err;
            }
        }
    }
    if (out == NULL) {
        rc = esl__fail(ESL_EIO, "cannot write '%s': %s", path, strerror(errno));
        fclose(in);
        free(tmp);
        return rc;
    }
    char buf[65536];
    size_t got;
    int err = 0;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, got, out) != got) {
            err = errno;
            break;
        }
    if (err == 0 && ferror(in))
        err = EIO;
    fclose(in);
    if (fflush(out) != 0 && err == 0)
        err = errno;
    if (fclose(out) != 0 && err == 0)
        err = errno;
    if (err == 0 && !in_place && rename(tmp, path) != 0)
        err = errno;
    if (err != 0) {
        rc = esl__fail(ESL_EIO, "cannot write '%s': %s", path, strerror(err));
        if (!in_place)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}
