/*
 * pcapfile.c - classic pcap (pcap-savefile(5)) read in place from mmap(2).
 *
 * File header, 24 bytes, every field in the writer's byte order (the magic
 * tells which), then records back to back:
 *
 *   0        4     6     8          12        16        20        24
 *   +--------+-----+-----+----------+---------+---------+---------+
 *   | magic  | maj | min | thiszone | sigfigs | snaplen | linktype|
 *   +--------+-----+-----+----------+---------+---------+---------+
 *
 *   record: 0        4          8        12       16
 *           +--------+----------+--------+--------+---------------
 *           | ts sec | ts µs/ns | caplen | len    | caplen bytes ...
 *           +--------+----------+--------+--------+---------------
 *
 * What libpcap 1.10 (sf-pcap.c, pcap_next_packet) does with a record, done
 * the same here so that both readers hand tapir the same frames: the seconds
 * and the fraction are signed 32-bit in a file of this host's byte order but
 * unsigned in one of the other order (its SWAPLONG yields an unsigned int); a
 * nanosecond fraction is divided by 1000 (the program asks for microseconds);
 * a caplen above PCAPFILE_MAX_SNAPLEN is an error; one above the snapshot
 * length is cut to it and the rest skipped; a record cut short by the end of
 * the file is an error with libpcap's words. The test (test/test_capture.c)
 * holds both readers to the same frames on files made to show each of these.
 */
#include "pcapfile.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../decoders/cursor.h"

#define FILE_HEADER 24u
#define REC_HEADER 16u
#define PREFETCH_AHEAD 8192u

struct pcapfile {
	const uint8_t *map;
	uint64_t size;
	uint64_t pos;         /* the next record */
	uint64_t released;    /* [0, released) has been given back (MADV_DONTNEED) */
	pcapfile_hold_fn hold; /* pcapfile_set_hold, or NULL */
	void *hold_ctx;
	uint64_t next_advice; /* pos at which the next chunk is advised */
	uint64_t prefetched;  /* the page prefetch() touched last */
	uint32_t snapshot;
	bool big_endian;      /* the file's byte order */
	bool swapped;         /* not this host's */
	bool nanosecond;
	bool failed;          /* sticky: a bad record was met */
	char failed_msg[128];
};

static uint32_t get32(const struct pcapfile *f, struct cursor *c)
{
	return f->big_endian ? cur_be32(c) : cur_le32(c);
}

/* Fills f's format fields from the file header; false when it is not classic pcap 2.4. */
static bool parse_header(struct pcapfile *f, const uint8_t *b, size_t len)
{
	struct cursor c;
	cur_init(&c, b, len);
	uint32_t magic = cur_be32(&c);
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
		f->big_endian = true;
	} else {
		magic = __builtin_bswap32(magic);
		if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du)
			return false;
	}
	f->nanosecond = magic == 0xa1b23c4du;
	uint16_t major = f->big_endian ? cur_be16(&c) : cur_le16(&c);
	uint16_t minor = f->big_endian ? cur_be16(&c) : cur_le16(&c);
	cur_skip(&c, 8); /* thiszone, sigfigs: always 0, unused by libpcap */
	uint32_t snaplen = get32(f, &c);
	if (c.overrun)
		return false;
	/* Older versions may have caplen and len swapped, which libpcap guesses at. */
	if (major != 2 || minor != 4)
		return false;
	/* pcap_adjust_snapshot(): 0 or negative as an int is bogus. */
	f->snapshot = snaplen == 0 || snaplen > INT32_MAX ? PCAPFILE_MAX_SNAPLEN : snaplen;
	f->swapped = f->big_endian != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
	return true;
}

/*
 * A mapped file that another program shortens while tapir reads it turns the
 * next read past its new end into SIGBUS, in whichever thread reads (a worker
 * fed frames by reference too). Rather than a bare "Bus error", the handler
 * says what happened, in one line, and exits 1. A fault anywhere else gets
 * the default action again and recurs at once. One mapping per process (one
 * capture), so the range is kept in statics the handler may read.
 */
static const uint8_t *volatile bus_map;
static volatile uint64_t bus_size;
static char bus_msg[320];
static size_t bus_msg_len;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	const uint8_t *a = si->si_addr, *m = bus_map;
	if (m && a >= m && (uint64_t)(a - m) < bus_size) {
		ssize_t w = write(2, bus_msg, bus_msg_len);
		(void)w;
		_exit(1);
	}
	signal(sig, SIG_DFL);
}

static void guard(const char *name, const uint8_t *map, uint64_t size)
{
	int n = snprintf(bus_msg, sizeof bus_msg,
			 "tapir: %s: the file became shorter while it was read (truncated by "
			 "another program?)\n", name);
	bus_msg_len = n < 0 ? 0 : (size_t)n < sizeof bus_msg ? (size_t)n : sizeof bus_msg - 1;
	bus_size = size;
	bus_map = map;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGBUS, &sa, NULL);
}

int pcapfile_open(struct pcapfile **out, int fd, uint64_t size, const char *name)
{
	uint8_t hdr[FILE_HEADER];
	struct pcapfile probe = {0};
	if (size < FILE_HEADER || size > SIZE_MAX ||
	    pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
	    !parse_header(&probe, hdr, sizeof hdr))
		return 0;
	struct pcapfile *f = malloc(sizeof *f);
	if (!f)
		return -1;
	*f = probe;
	void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		free(f);
		return -1;
	}
	/* Advice only: a kernel that ignores it reads the file all the same. */
	(void)madvise(m, (size_t)size, MADV_SEQUENTIAL);
	f->map = m;
	f->size = size;
	f->pos = FILE_HEADER;
	guard(name, m, size);
	*out = f;
	return 1;
}

bool pcapfile_swapped(const struct pcapfile *f)
{
	return f->swapped;
}

uint32_t pcapfile_snapshot(const struct pcapfile *f)
{
	return f->snapshot;
}

uint64_t pcapfile_offset(const struct pcapfile *f)
{
	return f->pos;
}

void pcapfile_set_hold(struct pcapfile *f, pcapfile_hold_fn fn, void *ctx)
{
	f->hold = fn;
	f->hold_ctx = ctx;
}

/*
 * Entering a new chunk: ask for the next one to be read ahead, and give back
 * the pages more than PCAPFILE_KEEP behind this chunk and before the chunk
 * of the byte the consumer holds, so the resident set does not grow with the
 * file (a mapped page counts in RSS while mapped). Chunk bounds are page
 * bounds: the page of the held byte is never part of a release.
 */
static void advise(struct pcapfile *f)
{
	uint64_t chunk = f->pos / PCAPFILE_CHUNK * PCAPFILE_CHUNK;
	uint64_t ahead = chunk + PCAPFILE_CHUNK;
	if (ahead < f->size) {
		uint64_t n = f->size - ahead < PCAPFILE_CHUNK ? f->size - ahead : PCAPFILE_CHUNK;
		(void)madvise((void *)(f->map + ahead), (size_t)n, MADV_WILLNEED);
#ifdef MADV_POPULATE_READ /* Linux 5.14; older kernels say EINVAL: faults as before */
		/* Page tables for the next chunk in one call, not a fault every 16 pages. */
		(void)madvise((void *)(f->map + ahead), (size_t)n, MADV_POPULATE_READ);
#endif
	}
	uint64_t upto = chunk >= PCAPFILE_KEEP ? chunk - PCAPFILE_KEEP : 0;
	const uint8_t *held = f->hold ? f->hold(f->hold_ctx, f->map + f->pos) : NULL;
	uintptr_t at = (uintptr_t)held, base = (uintptr_t)f->map;
	if (held && at >= base && at - base < f->size) {
		uint64_t from = (uint64_t)(at - base) / PCAPFILE_CHUNK * PCAPFILE_CHUNK;
		if (from < upto)
			upto = from;
	}
	if (upto >= f->released + PCAPFILE_CHUNK) {
		(void)madvise((void *)(f->map + f->released), (size_t)(upto - f->released),
			      MADV_DONTNEED);
		f->released = upto;
	}
	f->next_advice = ahead;
}

/*
 * The next record's header and the frame's first lines, while this frame is
 * decoded; and the first line of the page PREFETCH_AHEAD on, once a page, so
 * that its translation is cached before the header in it is read (the
 * hardware prefetcher stops at page boundaries).
 */
static void prefetch(struct pcapfile *f)
{
	if (f->pos + 192 <= f->size) {
		__builtin_prefetch(f->map + f->pos);
		__builtin_prefetch(f->map + f->pos + 64);
		__builtin_prefetch(f->map + f->pos + 128);
	}
	uint64_t page = (f->pos + PREFETCH_AHEAD) & ~(uint64_t)4095;
	if (page != f->prefetched && page < f->size) {
		__builtin_prefetch(f->map + page);
		f->prefetched = page;
	}
}

static enum pcapfile_status fail(struct pcapfile *f, char *err, size_t errlen)
{
	f->failed = true;
	snprintf(err, errlen, "%s", f->failed_msg);
	return PCAPFILE_BAD;
}

enum pcapfile_status pcapfile_next(struct pcapfile *f, struct pcapfile_rec *rec, char *err,
				   size_t errlen)
{
	if (f->failed)
		return fail(f, err, errlen);
	if (f->pos >= f->next_advice)
		advise(f);
	uint64_t left = f->size - f->pos;
	if (left == 0)
		return PCAPFILE_END;
	if (left < REC_HEADER) {
		snprintf(f->failed_msg, sizeof f->failed_msg,
			 "truncated dump file; tried to read %u header bytes, only got %zu",
			 REC_HEADER, (size_t)left);
		return fail(f, err, errlen);
	}
	struct cursor c;
	cur_init(&c, f->map + f->pos, REC_HEADER);
	uint32_t sec32 = get32(f, &c), frac32 = get32(f, &c);
	int64_t sec = f->swapped ? (int64_t)sec32 : (int64_t)(int32_t)sec32;
	int64_t frac = f->swapped ? (int64_t)frac32 : (int64_t)(int32_t)frac32;
	uint32_t caplen = get32(f, &c);
	rec->len = get32(f, &c);
	if (f->nanosecond)
		frac /= 1000;
	rec->ts_us = (uint64_t)sec * 1000000u + (uint64_t)frac;
	if (caplen > PCAPFILE_MAX_SNAPLEN) {
		if (caplen > f->snapshot)
			snprintf(f->failed_msg, sizeof f->failed_msg,
				 "invalid packet capture length %u, bigger than snaplen of %d",
				 caplen, (int)f->snapshot);
		else
			snprintf(f->failed_msg, sizeof f->failed_msg,
				 "invalid packet capture length %u, bigger than maximum of %u",
				 caplen, PCAPFILE_MAX_SNAPLEN);
		return fail(f, err, errlen);
	}
	uint64_t body = left - REC_HEADER;
	uint32_t keep = caplen > f->snapshot ? f->snapshot : caplen;
	if (body < caplen) {
		/* libpcap reads the kept part first, then skips the rest: two messages. */
		uint32_t tried = body < keep ? keep : caplen;
		snprintf(f->failed_msg, sizeof f->failed_msg,
			 "truncated dump file; tried to read %u captured bytes, only got %zu",
			 tried, (size_t)body);
		return fail(f, err, errlen);
	}
	rec->data = f->map + f->pos + REC_HEADER;
	rec->caplen = keep;
	f->pos += REC_HEADER + caplen;
	prefetch(f);
	return PCAPFILE_RECORD;
}

void pcapfile_close(struct pcapfile *f)
{
	if (!f)
		return;
	if (bus_map == f->map)
		bus_map = NULL;
	munmap((void *)f->map, (size_t)f->size);
	free(f);
}
