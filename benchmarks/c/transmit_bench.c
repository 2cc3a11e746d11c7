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
 *   transmit_bench handoff SECONDS READER [READER...]
 *       The same ECHO, warm-up, window and output, but shaped like an event loop
 *       driving worker threads, as aioscard does: one loop thread blocks in
 *       epoll_wait on an eventfd (asyncio's self-pipe); per reader a worker thread
 *       owns the context and connection and waits on a semaphore (a futex, like the
 *       lock under Python's SimpleQueue).  Per round trip the loop posts a job, the
 *       worker runs SCardTransmit, marks the job done and writes the eventfd, and the
 *       loop collects every finished job and posts the next one: exactly aioscard's
 *       two cross-thread wake-ups, with no Python.  Its ratio to "transmit" is the
 *       floor of any design that keeps PC/SC calls off the event-loop thread.
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
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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
    SCARDCONTEXT context;
    SCARDHANDLE card;
    const SCARD_IO_REQUEST *pci;
    /* handoff mode only */
    sem_t job;  /* posted by the loop: one round trip to make, or stop */
    int done;   /* set by the worker when the round trip is over */
    int stop;
};

/* On the calling thread: a context of its own and a shared connection to the card. */
static void open_card(struct worker *self) {
    DWORD protocol;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &self->context);
    if (rv != SCARD_S_SUCCESS) die("SCardEstablishContext", rv);
    rv = SCardConnect(self->context, self->reader, SCARD_SHARE_SHARED,
                      SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &self->card, &protocol);
    if (rv != SCARD_S_SUCCESS) die("SCardConnect", rv);
    self->pci = protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
}

static void close_card(struct worker *self) {
    SCardDisconnect(self->card, SCARD_LEAVE_CARD);
    SCardReleaseContext(self->context);
}

static void transmit_echo(struct worker *self) {
    BYTE response[258];
    DWORD length = sizeof response;
    LONG rv = SCardTransmit(self->card, self->pci, ECHO, sizeof ECHO, NULL, response, &length);
    if (rv != SCARD_S_SUCCESS) die("SCardTransmit", rv);
    if (length != 6 || response[4] != 0x90) {
        fprintf(stderr, "transmit_bench: unexpected response of %lu bytes\n",
                (unsigned long)length);
        exit(1);
    }
}

static void *transmit_loop(void *arg) {
    struct worker *self = arg;
    open_card(self);
    pthread_barrier_wait(&ready_barrier);
    long count = 0;
    int phase = 0;
    for (;;) {
        int state = measuring;
        if (state != phase) {
            if (state == 2) break;
            phase = state;
            count = 0;  /* the warm-up is over: start counting */
        }
        transmit_echo(self);
        count++;
    }
    self->count = count;
    close_card(self);
    return NULL;
}

/* handoff mode: the loop's wake-up fd, written by every worker that finishes a job. */
static int wake_fd;

static void *handoff_worker(void *arg) {
    struct worker *self = arg;
    open_card(self);
    pthread_barrier_wait(&ready_barrier);
    for (;;) {
        while (sem_wait(&self->job) != 0) {}  /* EINTR */
        if (__atomic_load_n(&self->stop, __ATOMIC_ACQUIRE)) break;
        transmit_echo(self);
        __atomic_store_n(&self->done, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        if (write(wake_fd, &one, sizeof one) != sizeof one) {
            perror("transmit_bench: write(eventfd)");
            exit(1);
        }
    }
    close_card(self);
    return NULL;
}

struct workers {
    struct worker *each;
    int count;
};

static void *event_loop(void *arg) {
    struct workers *workers = arg;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event wanted = {.events = EPOLLIN, .data.fd = wake_fd};
    if (epoll < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, wake_fd, &wanted) != 0) {
        perror("transmit_bench: epoll");
        exit(1);
    }
    for (int i = 0; i < workers->count; i++) sem_post(&workers->each[i].job);
    int busy = workers->count;
    int phase = 0;
    while (busy > 0) {
        struct epoll_event ready;
        if (epoll_wait(epoll, &ready, 1, -1) < 0) {
            if (errno == EINTR) continue;
            perror("transmit_bench: epoll_wait");
            exit(1);
        }
        uint64_t wakes;
        if (read(wake_fd, &wakes, sizeof wakes) != sizeof wakes) {
            perror("transmit_bench: read(eventfd)");
            exit(1);
        }
        int state = measuring;
        if (state == 1 && phase == 0) {
            phase = 1;  /* the warm-up is over: start counting */
            for (int i = 0; i < workers->count; i++) workers->each[i].count = 0;
        }
        /* A worker may finish between our read and this scan: its wake-up then
         * finds nothing to collect, which costs a loop iteration and nothing else. */
        for (int i = 0; i < workers->count; i++) {
            struct worker *worker = &workers->each[i];
            if (!__atomic_exchange_n(&worker->done, 0, __ATOMIC_ACQUIRE)) continue;
            if (state == 2) {
                __atomic_store_n(&worker->stop, 1, __ATOMIC_RELEASE);
                busy--;
            } else {
                worker->count++;
            }
            sem_post(&worker->job);
        }
    }
    close(epoll);
    return NULL;
}

static void sleep_seconds(double seconds) {
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static int run_transmit(double seconds, int readers, char **names, int handoff) {
    struct worker workers[MAX_THREADS];
    if (readers > MAX_THREADS) readers = MAX_THREADS;
    pthread_barrier_init(&ready_barrier, NULL, (unsigned)readers + 1);
    if (handoff) {
        wake_fd = eventfd(0, EFD_CLOEXEC);
        if (wake_fd < 0) {
            perror("transmit_bench: eventfd");
            exit(1);
        }
    }
    for (int i = 0; i < readers; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].reader = names[i];
        sem_init(&workers[i].job, 0, 0);
        pthread_create(&workers[i].thread, NULL, handoff ? handoff_worker : transmit_loop,
                       &workers[i]);
    }
    pthread_barrier_wait(&ready_barrier);
    struct workers all = {workers, readers};
    pthread_t loop;
    if (handoff) pthread_create(&loop, NULL, event_loop, &all);
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
    if (handoff) pthread_join(loop, NULL);
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
        return run_transmit(atof(argv[2]), argc - 3, argv + 3, 0);
    if (argc >= 4 && strcmp(argv[1], "handoff") == 0)
        return run_transmit(atof(argv[2]), argc - 3, argv + 3, 1);
    if (argc == 4 && strcmp(argv[1], "watch") == 0) return run_watch(argv[2], atol(argv[3]));
    fprintf(stderr,
            "usage: transmit_bench transmit SECONDS READER [READER...]\n"
            "       transmit_bench handoff SECONDS READER [READER...]\n"
            "       transmit_bench watch READER COUNT\n");
    return 2;
}
