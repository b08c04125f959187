/*
 * bench_sampler.c - what measuring costs: CPU time per second of wall time
 * spent by the meter's sampler at several rates, read with getrusage around
 * a window in which the program itself does nothing.
 *
 *   ESL_NVML_LIBRARY=build/tests/libnvml_stub_full.so build/bench/bench_sampler [SECONDS]
 *
 * With the stub library the figure is esl's own overhead (thread wake-ups,
 * sample bookkeeping, the dlsym'd calls); with a real driver it includes
 * NVML's cost per query, which is the larger part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <esl/esl.h>

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 5.0;
    static const double rates[] = {10.0, 100.0, 1000.0};
    printf("%8s %10s %12s %14s %10s\n", "rate Hz", "wall s", "samples", "CPU ms per s", "CPU %");
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        esl_meter_opts opts = {0};
        opts.hz = rates[i];
        esl_meter *m;
        esl_record *rec;
        if (esl_meter_open(&m, &opts) != ESL_OK) {
            fprintf(stderr, "bench_sampler: %s\n", esl_error_last());
            return 1;
        }
        double c0 = cpu_s(), w0 = wall_s();
        if (esl_window_begin(m) != ESL_OK) {
            fprintf(stderr, "bench_sampler: %s\n", esl_error_last());
            return 1;
        }
        struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
        if (esl_window_end(m, &rec) != ESL_OK) {
            fprintf(stderr, "bench_sampler: %s\n", esl_error_last());
            return 1;
        }
        double cpu = cpu_s() - c0, wall = wall_s() - w0;
        printf("%8.0f %10.3f %12zu %14.4f %10.4f\n", rates[i], wall, rec->n_samples,
               1e3 * cpu / wall, 100.0 * cpu / wall);
        esl_record_free(rec);
        esl_meter_close(m);
    }
    return 0;
}
