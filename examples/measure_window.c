/*
 * measure_window.c - measure the GPU energy of a piece of your own program
 * with libesl's window API, the way inference code would wrap a batch.
 *
 *   cc measure_window.c $(pkg-config --cflags --libs esl) -o measure_window
 *   ./measure_window            # NVML; ESL_NVML_LIBRARY may name the library
 *
 * It measures idle power for one second, opens a window, runs the "work"
 * (here: half a second of waiting, standing in for a batch of images), and
 * prints total and dynamic energy per GPU. Exit status 3 when there is no GPU.
 */
#include <stdio.h>
#include <time.h>

#include <esl/esl.h>

static void work(void)
{
    struct timespec half = {0, 500000000L};
    nanosleep(&half, NULL); /* replace with the code to measure */
}

int main(void)
{
    esl_meter_opts opts = {0}; /* NVML, all GPUs, 10 Hz */
    esl_meter *meter;
    esl_record *rec;
    int rc = esl_meter_open(&meter, &opts);
    if (rc != ESL_OK) {
        fprintf(stderr, "measure_window: %s\n", esl_error_last());
        return rc == ESL_ENODEV ? 3 : 1;
    }
    if (esl_meter_measure_idle(meter, 1.0) != ESL_OK || esl_window_begin(meter) != ESL_OK) {
        fprintf(stderr, "measure_window: %s\n", esl_error_last());
        esl_meter_close(meter);
        return 1;
    }
    work();
    if (esl_window_end(meter, &rec) != ESL_OK) {
        fprintf(stderr, "measure_window: %s\n", esl_error_last());
        esl_meter_close(meter);
        return 1;
    }
    for (size_t i = 0; i < rec->n_devices; i++) {
        const esl_device_record *d = &rec->devices[i];
        char flags[128];
        printf("gpu %d %s: %.3f J total, idle %.2f W, %.3f J dynamic%s%s\n", d->info.index,
               d->info.name, d->energy_j, d->idle_w, d->dynamic_j, d->flags ? ", flags " : "",
               esl_flags_string(flags, sizeof flags, d->flags));
    }
    printf("all: %.3f J over %.3f s (%.6f Wh)\n", rec->energy_j, rec->duration_s,
           rec->energy_j / 3600.0);
    esl_record_free(rec);
    esl_meter_close(meter);
    return 0;
}
