/*
 * ifd_aioscard: the reader driver of aioscard's simulator (pcsc-lite IFD handler 3.0).
 *
 * One reader.conf entry per simulated reader, all loading this one library; pcscd
 * numbers them (Lun = reader number << 16) and each gets its own state, found by Lun.
 *
 *   DEVICENAME <dir>/card-<n>.sock:<n>
 *
 * (pcscd checks that a DEVICENAME without a colon exists; the part after the last
 * colon is only a label).  Cards: the driver listens on the socket path; a card is a client of that socket
 * (connect = insert, close = remove) and speaks vpcd's framing: a 2-byte big-endian
 * length, then the payload.  A 1-byte payload is a control code (00 power off,
 * 01 power on, 02 reset: no answer; 04 get ATR: answered with the ATR); a longer one
 * is a command APDU, answered with the response APDU (an empty frame there is ignored).
 *
 * Presence is pushed: pcscd's polling thread blocks in sim_poll() until a card
 * connects or hangs up (or until sim_stop()), instead of pcscd polling every 400 ms.
 *
 * Reader control codes, attributes and their changes go to the Python simulator's
 * service at <dir>/readers.sock, one connection per request:
 *   request  op(1: 'C' control, 'G' get attribute, 'S' set attribute)
 *            code-or-tag(4) capacity(4) device-length(2) device data-length(4) data
 *   reply    status(1: 0 ok, 1 unsupported, 2 error, 3 read-only, 4 answer longer than
 *            capacity) length(4) data
 * (integers big-endian).  Without the service every such request fails cleanly.
 *
 * Built by aioscard.testing with: cc -shared -fPIC -Wall -Wextra $(pkg-config
 * --cflags libpcsclite) ifd_aioscard.c -o libifd_aioscard.so -lpthread
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ifdhandler.h>
#include <reader.h>

#define MAX_READERS 256
#define SERVICE_NAME "readers.sock"
#define FRAME_MAX 0xFFFF

enum { CTRL_POWER_OFF = 0x00, CTRL_POWER_ON = 0x01, CTRL_RESET = 0x02, CTRL_GET_ATR = 0x04 };
enum { ST_OK = 0, ST_UNSUPPORTED = 1, ST_ERROR = 2, ST_READ_ONLY = 3, ST_TOO_LONG = 4 };

struct reader {
	pthread_mutex_t lock;       /* card_fd, atr: transmit and presence run on different threads */
	int listen_fd;              /* cards connect here (non-blocking) */
	int card_fd;                /* the inserted card, -1 when empty */
	int stop_pipe[2];           /* sim_stop() writes, sim_poll() wakes */
	pthread_t poller;           /* the thread in sim_poll(), once it has been there */
	int has_poller;
	unsigned char atr[MAX_ATR_SIZE];
	DWORD atr_length;
	char device[sizeof(((struct sockaddr_un *)0)->sun_path) + 16]; /* DEVICENAME */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];        /* the card socket */
	char service[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reader *table[MAX_READERS];

static struct reader *find(DWORD lun)
{
	struct reader *reader;
	DWORD index = lun >> 16;

	if (index >= MAX_READERS)
		return NULL;
	pthread_mutex_lock(&table_lock);
	reader = table[index];
	pthread_mutex_unlock(&table_lock);
	return reader;
}

/* -- socket helpers -------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *data, size_t length)
{
	while (length > 0) {
		ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += sent;
		length -= (size_t)sent;
	}
	return 0;
}

/* 0 on success, -1 on error or when the peer closed first. */
static int read_all(int fd, unsigned char *data, size_t length)
{
	while (length > 0) {
		ssize_t got = recv(fd, data, length, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		data += got;
		length -= (size_t)got;
	}
	return 0;
}

static int send_frame(int fd, const unsigned char *payload, size_t length)
{
	unsigned char header[2] = { (unsigned char)(length >> 8), (unsigned char)length };

	if (length > FRAME_MAX)
		return -1;
	/* One write for header and short payloads keeps the card's reads whole. */
	if (length <= 512) {
		unsigned char buffer[2 + 512];
		memcpy(buffer, header, 2);
		memcpy(buffer + 2, payload, length);
		return write_all(fd, buffer, 2 + length);
	}
	if (write_all(fd, header, 2) < 0)
		return -1;
	return write_all(fd, payload, length);
}

/* Reads the next frame into buffer (capacity bytes), skipping empty ones if asked (a
 * response APDU: vpcd keeps waiting too); returns its length, -1 on error or end of
 * connection, -2 if it does not fit (it is discarded). */
static long recv_frame(int fd, unsigned char *buffer, size_t capacity, int skip_empty)
{
	for (;;) {
		unsigned char header[2];
		size_t length;

		if (read_all(fd, header, 2) < 0)
			return -1;
		length = ((size_t)header[0] << 8) | header[1];
		if (length == 0 && skip_empty)
			continue;
		if (length > capacity) {
			unsigned char sink[256];
			while (length > 0) {
				size_t chunk = length < sizeof(sink) ? length : sizeof(sink);
				if (read_all(fd, sink, chunk) < 0)
					return -1;
				length -= chunk;
			}
			return -2;
		}
		if (read_all(fd, buffer, length) < 0)
			return -1;
		return (long)length;
	}
}

static int hung_up(int fd)
{
	struct pollfd entry = { .fd = fd, .events = POLLRDHUP };

	if (poll(&entry, 1, 0) < 0)
		return 0;
	return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static void put32(unsigned char *at, uint32_t value)
{
	at[0] = (unsigned char)(value >> 24);
	at[1] = (unsigned char)(value >> 16);
	at[2] = (unsigned char)(value >> 8);
	at[3] = (unsigned char)value;
}

static uint32_t get32(const unsigned char *at)
{
	return ((uint32_t)at[0] << 24) | ((uint32_t)at[1] << 16) | ((uint32_t)at[2] << 8) | at[3];
}

/* One request to the Python service.  Returns the status byte, or ST_ERROR when the
 * service is unreachable; *length is the answer's length (up to capacity). */
static int ask_service(const struct reader *reader, unsigned char op, DWORD code,
	const unsigned char *data, DWORD data_length, unsigned char *answer, DWORD capacity,
	DWORD *length)
{
	struct sockaddr_un address;
	unsigned char header[1 + 4 + 4 + 2];
	unsigned char count[4];
	unsigned char reply[5];
	size_t device_length = strlen(reader->device);
	uint32_t reply_length;
	int fd, status = ST_ERROR;

	*length = 0;
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	memcpy(address.sun_path, reader->service, sizeof(address.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ST_ERROR;
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		goto done;
	header[0] = op;
	put32(header + 1, (uint32_t)code);
	put32(header + 5, (uint32_t)capacity);
	header[9] = (unsigned char)(device_length >> 8);
	header[10] = (unsigned char)device_length;
	put32(count, (uint32_t)data_length);
	if (write_all(fd, header, sizeof(header)) < 0
		|| write_all(fd, (const unsigned char *)reader->device, device_length) < 0
		|| write_all(fd, count, sizeof(count)) < 0
		|| (data_length > 0 && write_all(fd, data, data_length) < 0)
		|| read_all(fd, reply, sizeof(reply)) < 0)
		goto done;
	reply_length = get32(reply + 1);
	if (reply_length > capacity)
		goto done;
	if (reply_length > 0 && read_all(fd, answer, reply_length) < 0)
		goto done;
	*length = reply_length;
	status = reply[0];
done:
	close(fd);
	return status;
}

/* -- card exchanges (reader->lock held) -------------------------------------------------- */

static void drop_card(struct reader *reader)
{
	if (reader->card_fd >= 0) {
		close(reader->card_fd);
		reader->card_fd = -1;
	}
	reader->atr_length = 0;
}

static int control_and_atr(struct reader *reader, unsigned char control)
{
	unsigned char get_atr = CTRL_GET_ATR;
	long length;

	if (reader->card_fd < 0)
		return -1;
	if (send_frame(reader->card_fd, &control, 1) < 0
		|| send_frame(reader->card_fd, &get_atr, 1) < 0)
		return -1;
	length = recv_frame(reader->card_fd, reader->atr, sizeof(reader->atr), 0);
	if (length < 0)
		return -1;
	reader->atr_length = (DWORD)length;
	return 0;
}

/* -- the polling thread ---------------------------------------------------------------------- */

/* Makes sim_poll() return (now, or at once on its next call).  A full pipe already
 * holds a wake-up. */
static int wake_poller(struct reader *reader)
{
	unsigned char wake = 1;

	if (write(reader->stop_pipe[1], &wake, 1) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

static RESPONSECODE sim_poll(DWORD lun, int timeout)
{
	struct reader *reader = find(lun);
	struct pollfd entries[2];
	int card_copy = -1;

	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	pthread_mutex_lock(&reader->lock);
	reader->poller = pthread_self();
	reader->has_poller = 1;
	if (reader->card_fd >= 0) {
		/* A copy: a transmit may close the original while we wait. */
		card_copy = fcntl(reader->card_fd, F_DUPFD_CLOEXEC, 0);
		entries[0].fd = card_copy;
		entries[0].events = POLLRDHUP;
	} else {
		entries[0].fd = reader->listen_fd;
		entries[0].events = POLLIN;
	}
	pthread_mutex_unlock(&reader->lock);
	entries[1].fd = reader->stop_pipe[0];
	entries[1].events = POLLIN;
	if (entries[0].fd < 0)
		return IFD_COMMUNICATION_ERROR;
	while (poll(entries, 2, timeout) < 0 && errno == EINTR)
		continue;
	if (card_copy >= 0)
		close(card_copy);
	/* pcscd also asks for a stop to restart the wait with another timeout (after the
	 * last SCardDisconnect on a reader), and calls sim_poll() again: a wake-up left in
	 * the pipe would make every later call return at once, a busy loop. */
	if (entries[1].revents & POLLIN) {
		unsigned char drained[16];

		while (read(reader->stop_pipe[0], drained, sizeof(drained)) > 0)
			continue;
	}
	return IFD_SUCCESS;
}

static RESPONSECODE sim_stop(DWORD lun)
{
	struct reader *reader = find(lun);

	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	return wake_poller(reader) < 0 ? IFD_COMMUNICATION_ERROR : IFD_SUCCESS;
}

/* -- the IFD handler API -------------------------------------------------------------------- */

RESPONSECODE IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	struct sockaddr_un address;
	struct reader *reader;
	DWORD index = Lun >> 16;
	size_t device_length = strlen(DeviceName);
	const char *colon = strrchr(DeviceName, ':');
	size_t length = colon == NULL ? device_length : (size_t)(colon - DeviceName);
	const char *slash = memrchr(DeviceName, '/', length);
	size_t directory = slash == NULL ? 0 : (size_t)(slash - DeviceName) + 1;

	if (index >= MAX_READERS || length >= sizeof(address.sun_path)
		|| device_length >= sizeof(reader->device)
		|| directory + sizeof(SERVICE_NAME) > sizeof(address.sun_path))
		return IFD_COMMUNICATION_ERROR;
	reader = calloc(1, sizeof(*reader));
	if (reader == NULL)
		return IFD_COMMUNICATION_ERROR;
	pthread_mutex_init(&reader->lock, NULL);
	reader->card_fd = -1;
	memcpy(reader->device, DeviceName, device_length + 1);
	memcpy(reader->path, DeviceName, length);
	reader->path[length] = '\0';
	memcpy(reader->service, DeviceName, directory);
	memcpy(reader->service + directory, SERVICE_NAME, sizeof(SERVICE_NAME));
	if (pipe2(reader->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail_pipe;
	reader->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (reader->listen_fd < 0)
		goto fail_socket;
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	memcpy(address.sun_path, reader->path, length + 1);
	unlink(reader->path); /* left by a pcscd that was killed */
	if (bind(reader->listen_fd, (struct sockaddr *)&address, sizeof(address)) < 0
		|| listen(reader->listen_fd, 4) < 0)
		goto fail_bind;
	pthread_mutex_lock(&table_lock);
	if (table[index] != NULL) {
		pthread_mutex_unlock(&table_lock);
		goto fail_bind;
	}
	table[index] = reader;
	pthread_mutex_unlock(&table_lock);
	return IFD_SUCCESS;

fail_bind:
	close(reader->listen_fd);
fail_socket:
	close(reader->stop_pipe[0]);
	close(reader->stop_pipe[1]);
fail_pipe:
	pthread_mutex_destroy(&reader->lock);
	free(reader);
	return IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	(void)Lun;
	(void)Channel;
	return IFD_COMMUNICATION_ERROR; /* needs DEVICENAME: the card socket's path */
}

RESPONSECODE IFDHCloseChannel(DWORD Lun)
{
	struct reader *reader;
	DWORD index = Lun >> 16;

	if (index >= MAX_READERS)
		return IFD_NO_SUCH_DEVICE;
	pthread_mutex_lock(&table_lock);
	reader = table[index];
	table[index] = NULL;
	pthread_mutex_unlock(&table_lock);
	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	drop_card(reader);
	close(reader->listen_fd);
	unlink(reader->path);
	close(reader->stop_pipe[0]);
	close(reader->stop_pipe[1]);
	pthread_mutex_destroy(&reader->lock);
	free(reader);
	return IFD_SUCCESS;
}

static RESPONSECODE give(PDWORD Length, PUCHAR Value, const void *data, DWORD size)
{
	if (*Length < size)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(Value, data, size);
	*Length = size;
	return IFD_SUCCESS;
}

RESPONSECODE IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	struct reader *reader;
	RESPONSECODE (*poll_function)(DWORD, int) = sim_poll;
	RESPONSECODE (*stop_function)(DWORD) = sim_stop;
	unsigned char byte;
	DWORD got;
	int status;

	switch (Tag) {
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		byte = 255; /* readers one driver serves: pcscd's own limit comes first */
		return give(Length, Value, &byte, 1);
	case TAG_IFD_THREAD_SAFE:
		byte = 1; /* each reader gets its own lock in pcscd, so readers work in parallel */
		return give(Length, Value, &byte, 1);
	case TAG_IFD_SLOTS_NUMBER:
		byte = 1;
		return give(Length, Value, &byte, 1);
	case TAG_IFD_SLOT_THREAD_SAFE:
		byte = 0;
		return give(Length, Value, &byte, 1);
	case TAG_IFD_POLLING_THREAD_KILLABLE:
		byte = 0; /* stopped through TAG_IFD_STOP_POLLING_THREAD instead */
		return give(Length, Value, &byte, 1);
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT:
		return give(Length, Value, &poll_function, sizeof(poll_function));
	case TAG_IFD_STOP_POLLING_THREAD:
		return give(Length, Value, &stop_function, sizeof(stop_function));
	default:
		break;
	}
	reader = find(Lun);
	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	if (Tag == TAG_IFD_ATR || Tag == SCARD_ATTR_ATR_STRING) {
		RESPONSECODE rv;
		pthread_mutex_lock(&reader->lock);
		rv = give(Length, Value, reader->atr, reader->atr_length);
		pthread_mutex_unlock(&reader->lock);
		return rv;
	}
	status = ask_service(reader, 'G', Tag, NULL, 0, Value, *Length, &got);
	if (status == ST_OK) {
		*Length = got;
		return IFD_SUCCESS;
	}
	*Length = 0;
	if (status == ST_TOO_LONG)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	return status == ST_UNSUPPORTED ? IFD_ERROR_TAG : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	struct reader *reader = find(Lun);
	unsigned char unused[1];
	DWORD got;
	int status;

	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	status = ask_service(reader, 'S', Tag, Value, Length, unused, 0, &got);
	switch (status) {
	case ST_OK:
		return IFD_SUCCESS;
	case ST_UNSUPPORTED:
		return IFD_ERROR_TAG;
	case ST_READ_ONLY:
		return IFD_ERROR_VALUE_READ_ONLY;
	default:
		return IFD_ERROR_SET_FAILURE;
	}
}

RESPONSECODE IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1,
	UCHAR PTS2, UCHAR PTS3)
{
	(void)Flags;
	(void)PTS1;
	(void)PTS2;
	(void)PTS3;
	if (find(Lun) == NULL)
		return IFD_NO_SUCH_DEVICE;
	if (Protocol != SCARD_PROTOCOL_T0 && Protocol != SCARD_PROTOCOL_T1)
		return IFD_PROTOCOL_NOT_SUPPORTED;
	return IFD_SUCCESS;
}

RESPONSECODE IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	struct reader *reader = find(Lun);
	RESPONSECODE rv = IFD_SUCCESS;
	unsigned char off = CTRL_POWER_OFF;

	if (AtrLength != NULL && Atr == NULL)
		*AtrLength = 0;
	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	pthread_mutex_lock(&reader->lock);
	switch (Action) {
	case IFD_POWER_DOWN:
		reader->atr_length = 0;
		if (reader->card_fd >= 0 && send_frame(reader->card_fd, &off, 1) < 0)
			rv = IFD_ERROR_POWER_ACTION;
		if (AtrLength != NULL)
			*AtrLength = 0;
		break;
	case IFD_POWER_UP:
	case IFD_RESET:
		if (control_and_atr(reader, Action == IFD_POWER_UP ? CTRL_POWER_ON : CTRL_RESET) < 0) {
			reader->atr_length = 0;
			rv = IFD_ERROR_POWER_ACTION;
		}
		if (AtrLength != NULL) {
			*AtrLength = 0;
			if (rv == IFD_SUCCESS && Atr != NULL) {
				memcpy(Atr, reader->atr, reader->atr_length);
				*AtrLength = reader->atr_length;
			}
		}
		break;
	default:
		rv = IFD_NOT_SUPPORTED;
	}
	pthread_mutex_unlock(&reader->lock);
	return rv;
}

RESPONSECODE IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
	DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
	struct reader *reader = find(Lun);
	RESPONSECODE rv = IFD_SUCCESS;
	DWORD capacity = *RxLength;
	long length;

	(void)SendPci;
	*RxLength = 0;
	if (RecvPci != NULL)
		RecvPci->Protocol = SendPci.Protocol;
	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	if (TxLength < 2 || TxLength > FRAME_MAX)
		return IFD_COMMUNICATION_ERROR; /* a 1-byte frame would be a control code */
	pthread_mutex_lock(&reader->lock);
	if (reader->card_fd < 0)
		rv = IFD_ICC_NOT_PRESENT;
	else if (send_frame(reader->card_fd, TxBuffer, TxLength) < 0)
		rv = IFD_COMMUNICATION_ERROR;
	else {
		length = recv_frame(reader->card_fd, RxBuffer, capacity, 1);
		if (length == -2)
			rv = IFD_ERROR_INSUFFICIENT_BUFFER;
		else if (length < 0)
			/* The card vanished mid-command.  As vpcd does: success with no bytes,
			 * which libpcsclite hands on as it is (pcsc-notes: "card vanishes
			 * during an APDU"); callers must treat a 0-byte answer as an error. */
			*RxLength = 0;
		else
			*RxLength = (DWORD)length;
	}
	pthread_mutex_unlock(&reader->lock);
	return rv;
}

RESPONSECODE IFDHICCPresence(DWORD Lun)
{
	struct reader *reader = find(Lun);
	RESPONSECODE rv, was;

	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	pthread_mutex_lock(&reader->lock);
	was = reader->card_fd >= 0 ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
	if (reader->card_fd >= 0 && hung_up(reader->card_fd))
		drop_card(reader); /* reported absent once, even if another card waits */
	else if (reader->card_fd < 0) {
		int card = accept4(reader->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (card >= 0)
			reader->card_fd = card;
	}
	rv = reader->card_fd >= 0 ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
	/* pcscd asks from other threads too (before a power action).  A change seen there
	 * wakes the polling thread, which would otherwise wait for a card it no longer has
	 * to hang up, or for one already accepted, and never report the change.  Not the
	 * polling thread's own changes: pcscd powers a card down whenever sim_poll()
	 * returns while the card is powered and unused. */
	if (rv != was && reader->has_poller && !pthread_equal(reader->poller, pthread_self()))
		wake_poller(reader);
	pthread_mutex_unlock(&reader->lock);
	return rv;
}

RESPONSECODE IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength,
	PUCHAR RxBuffer, DWORD RxLength, LPDWORD pdwBytesReturned)
{
	struct reader *reader = find(Lun);
	DWORD got;
	int status;

	*pdwBytesReturned = 0;
	if (reader == NULL)
		return IFD_NO_SUCH_DEVICE;
	status = ask_service(reader, 'C', dwControlCode, TxBuffer, TxLength, RxBuffer, RxLength,
		&got);
	if (status == ST_OK) {
		*pdwBytesReturned = got;
		return IFD_SUCCESS;
	}
	if (status == ST_TOO_LONG)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	return status == ST_UNSUPPORTED ? IFD_ERROR_NOT_SUPPORTED : IFD_COMMUNICATION_ERROR;
}
