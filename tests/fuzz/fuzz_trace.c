/*
 * fuzz_trace.c - libFuzzer target for the replay meter's trace reader and
 * the windows played over it: any bytes must give a clean error or records
 * whose energies are finite numbers, never a crash, an overflow or inf.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void check(const esl_record *rec)
{
    if (!isfinite(rec->energy_j) || !isfinite(rec->dynamic_j) || !isfinite(rec->duration_s))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "/tmp/esl-fuzz-trace-%ld.csv", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    esl_meter_opts opts = {.kind = ESL_METER_REPLAY, .replay_path = path};
    esl_meter *m = NULL;
    if (esl_meter_open(&m, &opts) == ESL_OK) {
        esl_record *rec = NULL;
        if (esl_meter_measure_idle(m, 1.0) == ESL_OK && esl_window_begin(m) == ESL_OK &&
            esl_window_end(m, &rec) == ESL_OK)
            check(rec);
        esl_record_free(rec);
        rec = NULL;
        if (esl_window_begin(m) == ESL_OK && esl_window_end(m, &rec) == ESL_OK)
            check(rec);
        esl_record_free(rec);
    }
    esl_meter_close(m);
    unlink(path);
    return 0;
}
