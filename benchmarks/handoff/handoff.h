/* The trial hand-off's interface, read both by handoff.c and by cffi's cdef (_handoff.py):
 * plain declarations only, no preprocessor lines. */

typedef struct {
    unsigned long protocol;
    unsigned long pci_length;
} io_request;

typedef struct hub hub;
typedef struct lane lane;

typedef struct job {
    struct job *next;
    hub *hub;
    uint64_t token;
    long card;
    io_request pci;
    unsigned long send_length;
    unsigned long recv_length;
    long rc;
    long hold_us; /* the floor: sleep this long instead of calling SCardTransmit */
    unsigned char *send;
    unsigned char *recv;
    unsigned long recv_capacity;
} job;

hub *hub_new(void);
int hub_fd(hub *h);
job *hub_take(hub *h);
void hub_free(hub *h);
lane *lane_new(void *transmit);
void lane_submit(lane *l, job *j);
void lane_free(lane *l);
void job_run(job *j, void *transmit);
