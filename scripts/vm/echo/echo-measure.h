/*
 * echo-measure.h: the measurement the C echo baselines share (usb-echo over the emulated bus,
 * socket-echo over an AF_UNIX socket), written once so their figures are measured the same way
 * (and the same way as `cartridge-usb-selftest bench`): the round trip of a 16-byte frame (median
 * and p99 over `pings`), then for 16 KiB, 64 KiB, 96 KiB (an EMBED answer of 64 × 384 floats, for
 * the VM's floor figures) and 1 MiB frames the bytes echoed per second with one frame in flight,
 * for `seconds` each; every echo is compared with what was sent.
 *
 * Output lines: "LABEL: ping 16-byte frame round trip: median X us, p99 Y us over N" and
 * "LABEL: echo N-byte frames: X MB/s each way (B bytes in T ms)"; the VM scripts parse them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sends `length` bytes of frame and reads the echo into echo; 0 if it matches what was sent. */
typedef int (*echo_round_trip)(void *context, const unsigned char *frame, unsigned char *echo, int length);

/* Runs the measurements above through `round_trip`; prints LABEL lines, reports failures as
 * TOOL: ...; returns 0, or 1 after a mismatch. */
static int measure_echo(const char *tool, const char *label, echo_round_trip round_trip, void *context, int pings, double seconds) {
    static unsigned char frame[1 << 20], echo[1 << 20];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = (unsigned char)(i * 2654435761u >> 13);
    if (pings < 1) pings = 1;
    double *samples = malloc(sizeof(double) * pings);
    for (int i = 0; i < pings; i++) {
        double start = now();
        if (round_trip(context, frame, echo, 16)) { fprintf(stderr, "%s: ping mismatch\n", tool); return 1; }
        samples[i] = now() - start;
    }
    qsort(samples, pings, sizeof(double), compare_doubles);
    printf("%s: ping 16-byte frame round trip: median %d us, p99 %d us over %d\n", label,
           (int)(samples[pings / 2] * 1e6), (int)(samples[pings * 99 / 100] * 1e6), pings);
    free(samples);
    int sizes[] = {16384, 65536, 98304, 1048576};
    for (int s = 0; s < 4; s++) {
        long bytes = 0;
        double start = now(), elapsed;
        while ((elapsed = now() - start) < seconds) {
            frame[0] ^= 1;  /* a different frame each time: a stale echo would not compare equal */
            if (round_trip(context, frame, echo, sizes[s])) { fprintf(stderr, "%s: echo mismatch at %d\n", tool, sizes[s]); return 1; }
            bytes += sizes[s];
        }
        elapsed = now() - start;
        printf("%s: echo %d-byte frames: %.1f MB/s each way (%ld bytes in %d ms)\n", label, sizes[s], bytes / elapsed / 1e6, bytes,
               (int)(elapsed * 1000));
    }
    fflush(stdout);
    return 0;
}
