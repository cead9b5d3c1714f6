/*
 * spool.c - the on-disk alert queue (format in spool.h).
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_int.h" /* the audit log's CRC32C and little-endian helpers */

#define REC_MAGIC 0x31505354u  /* "TSP1" */
#define HEAD_MAGIC 0x31485354u /* "TSH1" */
#define REC_HDR 13
#define DATA_FILE "alerts.spool"
#define HEAD_FILE "alerts.spool.head"
#define LOCK_FILE "spool.lock"

struct spool {
	char dir[4096];          /* "" for the in-memory spool */
	int fd, headfd, lockfd;
	uint64_t size;           /* bytes in the data file */
	uint64_t head;           /* delivered up to here */
	uint64_t max_bytes;
	uint8_t *buf;            /* the payload of the last record read */
	size_t buf_cap;
	struct spool_stats st;
	char err[256];
};

static int fail(struct spool *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "%s: %s", what, strerror(errno));
	return -1;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;
	while (n) {
		ssize_t r = pread(fd, b, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t r = pwrite(fd, b, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static uint32_t record_crc(uint8_t kind, const void *data, size_t len)
{
	return audit_crc32c(audit_crc32c(0, &kind, 1), data, len);
}

/*
 * The record at pos, checked: 1 (payload in s->buf, *next after it), 0 when
 * there is no whole, intact record there, -1 on an I/O error.
 */
static int record_at(struct spool *s, uint64_t pos, uint8_t *kind, size_t *len, uint64_t *next)
{
	uint8_t h[REC_HDR];
	if (pos + REC_HDR > s->size)
		return 0;
	if (pread_all(s->fd, h, sizeof h, pos) != 0)
		return fail(s, "spool read");
	uint32_t n = audit_get32(h + 4);
	if (audit_get32(h) != REC_MAGIC || n > SPOOL_RECORD_MAX || pos + REC_HDR + n > s->size)
		return 0;
	if (n + 1 > s->buf_cap) {
		uint8_t *b = realloc(s->buf, n + 1);
		if (!b)
			return fail(s, "spool buffer");
		s->buf = b;
		s->buf_cap = n + 1;
	}
	if (pread_all(s->fd, s->buf, n, pos + REC_HDR) != 0)
		return fail(s, "spool read");
	if (record_crc(h[12], s->buf, n) != audit_get32(h + 8))
		return 0;
	s->buf[n] = '\0';
	*kind = h[12];
	*len = n;
	*next = pos + REC_HDR + n;
	return 1;
}

/* Where the next record magic at or after `from` is: s->size when none, UINT64_MAX on an I/O error. */
static uint64_t find_magic(struct spool *s, uint64_t from)
{
	uint8_t chunk[4096];
	for (uint64_t p = from; p + 4 <= s->size;) {
		size_t want = s->size - p < sizeof chunk ? (size_t)(s->size - p) : sizeof chunk;
		if (pread_all(s->fd, chunk, want, p) != 0) {
			fail(s, "spool read");
			return UINT64_MAX;
		}
		for (size_t i = 0; i + 4 <= want; i++)
			if (audit_get32(chunk + i) == REC_MAGIC)
				return p + i;
		p += want - 3; /* a magic may straddle two chunks */
	}
	return s->size;
}

/*
 * The next intact record at or after pos, skipping damage: 1 with *at set,
 * 0 when there is none, -1 on an I/O error.
 */
static int next_record(struct spool *s, uint64_t pos, uint64_t *at, uint8_t *kind, size_t *len,
		       uint64_t *next)
{
	uint64_t p = pos;
	while (p + REC_HDR <= s->size) {
		int rc = record_at(s, p, kind, len, next);
		if (rc != 0) {
			*at = p;
			return rc;
		}
		p = find_magic(s, p + 1);
		if (p == UINT64_MAX)
			return -1;
	}
	return 0;
}

static void write_head(struct spool *s)
{
	uint8_t b[16];
	if (s->headfd < 0)
		return;
	audit_put32(b, HEAD_MAGIC);
	audit_put64(b + 8, s->head);
	audit_put32(b + 4, audit_crc32c(0, b + 8, 8));
	/* Not synced: a head that is lost or stale only delivers again (at least once). */
	(void)pwrite_all(s->headfd, b, sizeof b, 0);
}

static uint64_t read_head(struct spool *s)
{
	uint8_t b[16];
	if (s->headfd < 0 || pread_all(s->headfd, b, sizeof b, 0) != 0 ||
	    audit_get32(b) != HEAD_MAGIC || audit_get32(b + 4) != audit_crc32c(0, b + 8, 8))
		return 0;
	uint64_t h = audit_get64(b + 8);
	return h <= s->size ? h : 0;
}

static int open_in(struct spool *s, const char *name, int flags)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	return open(path, flags | O_CLOEXEC, 0600);
}

/* Counts what waits after the head; cuts a torn tail. */
static int scan(struct spool *s)
{
	uint64_t pos = s->head, at, next, last_end = s->head;
	uint8_t kind;
	size_t len;
	int rc;
	while ((rc = next_record(s, pos, &at, &kind, &len, &next)) == 1) {
		if (at != pos)
			s->st.damaged++;
		s->st.records++;
		last_end = next;
		pos = next;
	}
	if (rc < 0)
		return -1;
	if (last_end < s->size) {
		/* Nothing intact after last_end: a write a crash cut short. */
		s->st.torn_bytes = s->size - last_end;
		if (ftruncate(s->fd, (off_t)last_end) != 0)
			return fail(s, "spool truncate");
		s->size = last_end;
	}
	return 0;
}

struct spool *spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
	struct spool *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = s->headfd = s->lockfd = -1;
	s->max_bytes = max_bytes;
	if (!dir) {
		s->fd = memfd_create("tapir-spool", MFD_CLOEXEC);
		if (s->fd < 0) {
			snprintf(err, errlen, "in-memory spool: %s", strerror(errno));
			spool_close(s);
			return NULL;
		}
		return s;
	}
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: cannot create: %s", dir, strerror(errno));
		spool_close(s);
		return NULL;
	}
	s->lockfd = open_in(s, LOCK_FILE, O_RDWR | O_CREAT);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "spool %s: %s", dir,
			 s->lockfd >= 0 && errno == EWOULDBLOCK ? "in use by another tapir"
								: strerror(errno));
		spool_close(s);
		return NULL;
	}
	s->fd = open_in(s, DATA_FILE, O_RDWR | O_CREAT);
	s->headfd = open_in(s, HEAD_FILE, O_RDWR | O_CREAT);
	struct stat sb;
	if (s->fd < 0 || s->headfd < 0 || fstat(s->fd, &sb) != 0) {
		snprintf(err, errlen, "spool %s: cannot open: %s", dir, strerror(errno));
		spool_close(s);
		return NULL;
	}
	s->size = (uint64_t)sb.st_size;
	s->head = read_head(s);
	if (scan(s) != 0) {
		snprintf(err, errlen, "spool %s: %s", dir, s->err);
		spool_close(s);
		return NULL;
	}
	return s;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->headfd >= 0)
		close(s->headfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->buf);
	free(s);
}

/*
 * Moves what waits to the front of a new file so the delivered part stops
 * taking room (only when the cap is reached and something was delivered).
 */
static int compact(struct spool *s)
{
	int nfd;
	char tmp[4200], path[4200];
	if (s->dir[0]) {
		snprintf(tmp, sizeof tmp, "%s/%s.tmp", s->dir, DATA_FILE);
		snprintf(path, sizeof path, "%s/%s", s->dir, DATA_FILE);
		nfd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else {
		nfd = memfd_create("tapir-spool", MFD_CLOEXEC);
	}
	if (nfd < 0)
		return fail(s, "spool compact");
	uint8_t chunk[65536];
	uint64_t off = 0;
	for (uint64_t p = s->head; p < s->size;) {
		size_t n = s->size - p < sizeof chunk ? (size_t)(s->size - p) : sizeof chunk;
		if (pread_all(s->fd, chunk, n, p) != 0 || pwrite_all(nfd, chunk, n, off) != 0) {
			close(nfd);
			return fail(s, "spool compact");
		}
		p += n;
		off += n;
	}
	if (s->dir[0]) {
		/* The head goes to 0 first: a crash in between only delivers again. */
		uint64_t old = s->head;
		s->head = 0;
		write_head(s);
		if (fdatasync(nfd) != 0 || rename(tmp, path) != 0) {
			s->head = old;
			write_head(s);
			close(nfd);
			unlink(tmp);
			return fail(s, "spool compact");
		}
	}
	close(s->fd);
	s->fd = nfd;
	s->size = off;
	s->head = 0;
	write_head(s);
	return 0;
}

int spool_append(struct spool *s, enum spool_kind kind, const void *data, size_t len)
{
	if (len > SPOOL_RECORD_MAX) {
		s->st.refused++;
		return 1;
	}
	uint64_t need = REC_HDR + len;
	if (s->size + need > s->max_bytes && s->head > 0 && compact(s) != 0)
		return -1;
	if (s->size + need > s->max_bytes) {
		s->st.refused++;
		return 1;
	}
	uint8_t h[REC_HDR];
	audit_put32(h, REC_MAGIC);
	audit_put32(h + 4, (uint32_t)len);
	audit_put32(h + 8, record_crc((uint8_t)kind, data, len));
	h[12] = (uint8_t)kind;
	if (pwrite_all(s->fd, h, sizeof h, s->size) != 0 ||
	    pwrite_all(s->fd, data, len, s->size + sizeof h) != 0) {
		int e = errno;
		(void)ftruncate(s->fd, (off_t)s->size); /* no half record left behind */
		errno = e;
		return fail(s, "spool write");
	}
	s->size += need;
	s->st.records++;
	s->st.appended++;
	return 0;
}

int spool_sync(struct spool *s)
{
	if (s->dir[0] && fdatasync(s->fd) != 0)
		return fail(s, "spool fdatasync");
	return 0;
}

uint64_t spool_pending(const struct spool *s)
{
	return s->st.records;
}

uint64_t spool_read_start(const struct spool *s)
{
	return s->head;
}

int spool_read(struct spool *s, uint64_t *pos, enum spool_kind *kind, const char **data,
	       size_t *len)
{
	uint64_t at, next;
	uint8_t k;
	int rc = next_record(s, *pos, &at, &k, len, &next);
	if (rc <= 0)
		return rc;
	if (at != *pos)
		s->st.damaged++;
	*kind = (enum spool_kind)k;
	*data = (const char *)s->buf;
	*pos = next;
	return 1;
}

int spool_commit(struct spool *s, uint64_t pos, uint64_t records)
{
	s->head = pos;
	s->st.delivered += records;
	s->st.records = records > s->st.records ? 0 : s->st.records - records;
	if (s->head >= s->size) {
		/* All delivered: head to 0 first, then empty the file (a crash between re-delivers). */
		s->head = 0;
		write_head(s);
		if (ftruncate(s->fd, 0) != 0)
			return fail(s, "spool truncate");
		s->size = 0;
		s->st.records = 0;
		return 0;
	}
	write_head(s);
	return 0;
}

void spool_get_stats(const struct spool *s, struct spool_stats *st)
{
	*st = s->st;
	st->bytes = s->size - s->head;
	st->file_bytes = s->size;
	st->max_bytes = s->max_bytes;
}

const char *spool_error(const struct spool *s)
{
	return s->err;
}
