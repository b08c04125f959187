/*
 * fuzz_store.c - libFuzzer target for the run store reader: the input is
 * written as a store file and read the way esl runs list, show and check
 * read it (read-only), then opened for writing and given one run. Any file
 * must be read or refused cleanly, never crash or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void clean(void)
{
    char side[80];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/esl-fuzz-store-%ld.db", (long)getpid());
    clean();
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);

    esl_store *s = NULL;
    if (esl_store_open_readonly(&s, path) == ESL_OK) {
        esl_run *runs = NULL;
        size_t n = 0;
        esl_label where = {"model", "sd2"};
        if (esl_store_list(s, &runs, &n, NULL, 0) == ESL_OK) {
            for (size_t i = 0; i < n && i < 8; i++) {
                esl_run *one = NULL;
                (void)esl_run_label(&runs[i], "model");
                if (esl_store_get(s, &one, runs[i].id) == ESL_OK)
                    esl_runs_free(one, 1);
            }
        }
        esl_runs_free(runs, n);
        runs = NULL;
        n = 0;
        if (esl_store_list(s, &runs, &n, &where, 1) == ESL_OK)
            esl_runs_free(runs, n);
        (void)esl_store_check(s);
        esl_store_close(s);
    }
    s = NULL;
    if (esl_store_open(&s, path) == ESL_OK) {
        esl_device_record dev;
        memset(&dev, 0, sizeof dev);
        snprintf(dev.info.name, sizeof dev.info.name, "fuzz");
        dev.energy_j = 1.0;
        esl_record rec;
        memset(&rec, 0, sizeof rec);
        rec.n_devices = 1;
        rec.devices = &dev;
        rec.energy_j = 1.0;
        rec.duration_s = 1.0;
        int64_t id;
        (void)esl_store_put(s, &id, &rec, "fuzz", 0, NULL, 0);
        esl_store_close(s);
    }
    clean();
    return 0;
}
