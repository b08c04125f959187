/*
 * file.h - output files that are never left half written.
 *
 * An esl_outfile is written under a temporary name beside its path and
 * renamed over the path once every byte is written and flushed, so a failed
 * or interrupted write leaves the old file (or none), never a partial one.
 * A path that exists and is not a regular file (/dev/stdout, a pipe,
 * /dev/full) is written in place, its write errors reported all the same.
 * The temporary gets the mode a new file would get under the umask.
 */
#ifndef ESL_FILE_H
#define ESL_FILE_H

#include <stdio.h>

#include "esl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esl_outfile {
    FILE *f;    /* write here between open and commit */
    char *path; /* where the file goes (owned) */
    char *tmp;  /* the temporary name (owned), NULL when written in place */
} esl_outfile;

/*
 * Open o->f for writing `path`.
 * @return ESL_OK; ESL_EIO ("PATH: is a directory", "PATH: <system reason>")
 *         or ESL_ENOMEM, with *o zeroed and nothing left behind
 */
ESL_API int esl_outfile_open(esl_outfile *o, const char *path);

/*
 * Finish the file: flush and check every write, close it and rename it into
 * place. *o is zeroed in every case; a closed (zeroed) file is ESL_OK.
 * @return ESL_OK; ESL_EIO ("PATH: <system reason>" or "PATH: write error")
 *         after removing the temporary, the old file at `path` untouched
 */
ESL_API int esl_outfile_commit(esl_outfile *o);

/* Give the file up (an error came first): the temporary is removed and an
 * existing file at the path is left as it was. No-op on a zeroed file. */
ESL_API void esl_outfile_abandon(esl_outfile *o);

#ifdef __cplusplus
}
#endif

#endif
