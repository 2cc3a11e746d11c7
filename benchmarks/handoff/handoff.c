/* The trial compiled hand-off of issue 12 part 3 (a benchmark, not part of aioscard).
 *
 * A lane is one native thread that runs jobs in order: SCardTransmit through a
 * function pointer taken from the PC/SC library aioscard already loaded (so no
 * PC/SC header is needed here), or a plain sleep standing in for one (the
 * floor).  The GIL is never taken on that thread.  A finished job is put on its
 * hub's list; a hub belongs to one event loop, which watches the hub's eventfd
 * and takes every finished job at each wake-up.  The eventfd is written only
 * when the list goes from empty to non-empty, so a burst costs one wake-up.
 *
 * Linux pcsc-lite's types: DWORD is unsigned long, LONG is long, SCARDHANDLE is long.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"

typedef long (*transmit_fn)(long card, const io_request *send_pci, const unsigned char *send,
                            unsigned long send_length, io_request *recv_pci, unsigned char *recv,
                            unsigned long *recv_length);

struct hub {
    int fd;
    pthread_mutex_t mutex;
    job *head, *tail;
};

struct lane {
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    job *head, *tail;
    int stopping;
    transmit_fn transmit;
};

hub *hub_new(void) {
    hub *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->fd < 0) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->mutex, NULL);
    return h;
}

int hub_fd(hub *h) { return h->fd; }

/* Every job finished since the last call, oldest first (NULL: none). */
job *hub_take(hub *h) {
    uint64_t count;
    job *taken;
    while (read(h->fd, &count, sizeof count) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&h->mutex);
    taken = h->head;
    h->head = h->tail = NULL;
    pthread_mutex_unlock(&h->mutex);
    return taken;
}

void hub_free(hub *h) {
    close(h->fd);
    pthread_mutex_destroy(&h->mutex);
    free(h);
}

static void hub_put(hub *h, job *j) {
    int was_empty;
    uint64_t one = 1;
    j->next = NULL;
    pthread_mutex_lock(&h->mutex);
    was_empty = h->head == NULL;
    if (was_empty)
        h->head = j;
    else
        h->tail->next = j;
    h->tail = j;
    pthread_mutex_unlock(&h->mutex);
    if (was_empty)
        while (write(h->fd, &one, sizeof one) < 0 && errno == EINTR)
            ;
}

static void run_job(lane *l, job *j) {
    if (j->hold_us > 0 || l->transmit == NULL) {
        struct timespec pause = {j->hold_us / 1000000, (j->hold_us % 1000000) * 1000};
        while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
            ;
        j->rc = 0;
        j->recv_length = 0;
        return;
    }
    j->recv_length = j->recv_capacity;
    j->rc = l->transmit(j->card, &j->pci, j->send, j->send_length, NULL, j->recv,
                        &j->recv_length);
}

static void *lane_main(void *arg) {
    lane *l = arg;
    job *j;
    for (;;) {
        pthread_mutex_lock(&l->mutex);
        while (l->head == NULL && !l->stopping)
            pthread_cond_wait(&l->cond, &l->mutex);
        if (l->head == NULL) {
            pthread_mutex_unlock(&l->mutex);
            return NULL;
        }
        j = l->head;
        l->head = j->next;
        if (l->head == NULL)
            l->tail = NULL;
        pthread_mutex_unlock(&l->mutex);
        run_job(l, j);
        hub_put(j->hub, j);
    }
}

/* The job run on the calling thread (a Python worker, the GIL released by cffi), its
 * completion posted to its hub: the hybrid, which keeps aioscard's worker and its order. */
void job_run(job *j, void *transmit) {
    lane l = {0};
    l.transmit = (transmit_fn)transmit;
    run_job(&l, j);
    hub_put(j->hub, j);
}

lane *lane_new(void *transmit) {
    lane *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->transmit = (transmit_fn)transmit;
    pthread_mutex_init(&l->mutex, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (pthread_create(&l->thread, NULL, lane_main, l) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

void lane_submit(lane *l, job *j) {
    j->next = NULL;
    pthread_mutex_lock(&l->mutex);
    if (l->tail == NULL)
        l->head = j;
    else
        l->tail->next = j;
    l->tail = j;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mutex);
}

/* Ends the thread after the jobs already submitted, waits for it, frees the lane. */
void lane_free(lane *l) {
    pthread_mutex_lock(&l->mutex);
    l->stopping = 1;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mutex);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mutex);
    free(l);
}
