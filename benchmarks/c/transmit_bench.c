/* The C reference for aioscard's benchmarks: raw libpcsclite, nothing in between.
 *
 *   transmit_bench transmit SECONDS READER [READER...]
 *       One thread per reader, each with its own SCARDCONTEXT (pcsc-lite's rule)
 *       and a shared connection, sends the 4-byte ECHO (80 EE 00 00 04 01 02 03 04 00)
 *       in a loop for SECONDS after a short warm-up.  Prints "begin" and "end" around
 *       the measured window, then one JSON line with the round trips, the window's
 *       seconds, the process's CPU seconds (user + system), its system CPU seconds
 *       and its context switches over the window.
 *
 *   transmit_bench watch READER COUNT
 *       Blocks in SCardGetStatusChange(INFINITE) on READER and prints
 *       "ready" once armed, then "in T" / "out T" for each card insertion and removal
 *       (T = CLOCK_MONOTONIC seconds, comparable with Python's time.monotonic() in
 *       other processes), until COUNT insertions have been seen.
 *
 * Build: gcc -O2 -pthread $(pkg-config --cflags libpcsclite) transmit_bench.c -lpcsclite
 * The socket of a private pcscd comes from PCSCLITE_CSOCK_NAME, as for any client.
 */
#include <PCSC/winscard.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_THREADS 16
#define WARMUP_SECONDS 0.2

static const BYTE ECHO[] = {0x80, 0xEE, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double seconds_of(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void die(const char *what, LONG rv) {
    fprintf(stderr, "transmit_bench: %s: %s (0x%08lX)\n", what, pcsc_stringify_error(rv),
            (unsigned long)rv & 0xFFFFFFFFUL);
    exit(1);
}

/* Shared by the transmit threads: a start barrier and the measured window. */
static pthread_barrier_t ready_barrier;
static volatile int measuring;  /* 0 warm-up, 1 measuring, 2 stop */

struct worker {
    const char *reader;
    pthread_t thread;
    long count;
};

static void *transmit_loop(void *arg) {
    struct worker *self = arg;
    SCARDCONTEXT context;
    SCARDHANDLE card;
    DWORD protocol;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &context);
    if (rv != SCARD_S_SUCCESS) die("SCardEstablishContext", rv);
    rv = SCardConnect(context, self->reader, SCARD_SHARE_SHARED,
                      SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &protocol);
    if (rv != SCARD_S_SUCCESS) die("SCardConnect", rv);
    const SCARD_IO_REQUEST *pci =
        protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    pthread_barrier_wait(&ready_barrier);
    BYTE response[258];
    long count = 0;
    int phase = 0;
    for (;;) {
        int state = measuring;
        if (state != phase) {
            if (state == 2) break;
            phase = state;
            count = 0;  /* the warm-up is over: start counting */
        }
        DWORD length = sizeof response;
        rv = SCardTransmit(card, pci, ECHO, sizeof ECHO, NULL, response, &length);
        if (rv != SCARD_S_SUCCESS) die("SCardTransmit", rv);
        if (length != 6 || response[4] != 0x90) {
            fprintf(stderr, "transmit_bench: unexpected response of %lu bytes\n",
                    (unsigned long)length);
            exit(1);
        }
        count++;
    }
    self->count = count;
    SCardDisconnect(card, SCARD_LEAVE_CARD);
    SCardReleaseContext(context);
    return NULL;
}

static void sleep_seconds(double seconds) {
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static int run_transmit(double seconds, int readers, char **names) {
    struct worker workers[MAX_THREADS];
    if (readers > MAX_THREADS) readers = MAX_THREADS;
    pthread_barrier_init(&ready_barrier, NULL, (unsigned)readers + 1);
    for (int i = 0; i < readers; i++) {
        workers[i].reader = names[i];
        workers[i].count = 0;
        pthread_create(&workers[i].thread, NULL, transmit_loop, &workers[i]);
    }
    pthread_barrier_wait(&ready_barrier);
    sleep_seconds(WARMUP_SECONDS);
    printf("begin\n"); /* the benchmark samples pcscd's and the cards' CPU */
    fflush(stdout);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    double t0 = now();
    __atomic_store_n(&measuring, 1, __ATOMIC_SEQ_CST);
    sleep_seconds(seconds);
    __atomic_store_n(&measuring, 2, __ATOMIC_SEQ_CST);
    double t1 = now();
    getrusage(RUSAGE_SELF, &after);
    printf("end\n");
    fflush(stdout);
    long total = 0;
    for (int i = 0; i < readers; i++) {
        pthread_join(workers[i].thread, NULL);
        total += workers[i].count;
    }
    double sys = seconds_of(after.ru_stime) - seconds_of(before.ru_stime);
    double cpu = seconds_of(after.ru_utime) - seconds_of(before.ru_utime) + sys;
    long switches = after.ru_nvcsw + after.ru_nivcsw - before.ru_nvcsw - before.ru_nivcsw;
    printf("{\"count\": %ld, \"seconds\": %.6f, \"cpu\": %.6f, \"sys\": %.6f, \"switches\": %ld}\n",
           total, t1 - t0, cpu, sys, switches);
    return 0;
}

static int run_watch(const char *reader, long insertions) {
    SCARDCONTEXT context;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &context);
    if (rv != SCARD_S_SUCCESS) die("SCardEstablishContext", rv);
    SCARD_READERSTATE state;
    memset(&state, 0, sizeof state);
    state.szReader = reader;
    state.dwCurrentState = SCARD_STATE_UNAWARE;
    rv = SCardGetStatusChange(context, 0, &state, 1);
    if (rv != SCARD_S_SUCCESS) die("SCardGetStatusChange", rv);
    int present = (state.dwEventState & SCARD_STATE_PRESENT) != 0;
    printf("ready %s\n", present ? "present" : "empty");
    fflush(stdout);
    long seen = 0;
    while (seen < insertions) {
        state.dwCurrentState = state.dwEventState & ~SCARD_STATE_CHANGED;
        rv = SCardGetStatusChange(context, INFINITE, &state, 1);
        double t = now();
        if (rv != SCARD_S_SUCCESS) die("SCardGetStatusChange", rv);
        int now_present = (state.dwEventState & SCARD_STATE_PRESENT) != 0;
        if (now_present != present) {
            present = now_present;
            printf("%s %.6f\n", present ? "in" : "out", t);
            fflush(stdout);
            if (present) seen++;
        }
    }
    SCardReleaseContext(context);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "transmit") == 0)
        return run_transmit(atof(argv[2]), argc - 3, argv + 3);
    if (argc == 4 && strcmp(argv[1], "watch") == 0) return run_watch(argv[2], atol(argv[3]));
    fprintf(stderr,
            "usage: transmit_bench transmit SECONDS READER [READER...]\n"
            "       transmit_bench watch READER COUNT\n");
    return 2;
}
