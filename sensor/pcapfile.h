/*
 * pcapfile.h - classic pcap records read in place from a read-only mapping.
 *
 * The replay fast path: libpcap reads a file with fread() into its own buffer,
 * so every byte is copied twice (kernel -> stdio -> libpcap). This reader maps
 * the file and hands out pointers into the mapping. It reads only what it can
 * read exactly as libpcap 1.10 does (sf-pcap.c): magic 0xa1b2c3d4 (µs) or
 * 0xa1b23c4d (ns) in either byte order, version 2.4. Anything else (pcapng,
 * older versions with swapped length fields, the Kuznetzov variant) is
 * declined and left to libpcap. No libpcap here: capture.c is its only user.
 *
 * Memory: the mapping is whole-file, but pages more than PCAPFILE_KEEP behind
 * the read position are released from the process (MADV_DONTNEED) as reading
 * moves on, so the resident set stays a few MiB however large the file.
 * Released pages are not lost: touching them again faults them back in from
 * the page cache or the file, unchanged, until pcapfile_close(); but they then
 * stay resident for good (the reader has moved past them). So a consumer that
 * reads records later than pcapfile_next hands them out (a worker fed frames
 * by reference) says how far back it still reads: pcapfile_set_hold(); pages
 * from there on are kept. A replay reads a finished capture: bytes appended
 * after the open are not read, and a file shortened while it is mapped makes a
 * read past its new end SIGBUS, as with any mapped file; tapir then says so in
 * one line naming the file and exits 1 (the handler pcapfile_open installs).
 */
#ifndef TAPIR_PCAPFILE_H
#define TAPIR_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libpcap's MAXIMUM_SNAPLEN: its cap on a record for every link type tapir decodes. */
#define PCAPFILE_MAX_SNAPLEN 262144u
/* Readahead is asked for, and pages behind released, one chunk at a time. */
#define PCAPFILE_CHUNK (2u << 20)
/* How far behind the read position pages stay resident (at least). */
#define PCAPFILE_KEEP (4u << 20)

enum pcapfile_status {
	PCAPFILE_RECORD, /* *rec holds the next record */
	PCAPFILE_END,    /* the file ended at a record boundary */
	PCAPFILE_BAD,    /* truncated or insane record; the message is in err. Sticky. */
};

struct pcapfile_rec {
	uint64_t ts_us;      /* microseconds since the epoch, converted as libpcap does */
	const uint8_t *data; /* into the mapping; see the memory note above */
	uint32_t caplen;     /* at most the snapshot length */
	uint32_t len;        /* the length on the wire, as recorded */
};

struct pcapfile;

/*
 * Maps the regular file open on `fd` (`size` bytes, from fstat) when it is
 * classic pcap this reader handles. Returns 1 with *out; 0 when the file is
 * not one it reads, -1 when it could not be mapped: either way the caller
 * reads the file some other way (nothing is logged). fd is not kept; `name`
 * names the file in the message if it is shortened while mapped.
 */
int pcapfile_open(struct pcapfile **out, int fd, uint64_t size, const char *name);

/* True when the file was written in the other byte order. */
bool pcapfile_swapped(const struct pcapfile *f);

/* The snapshot length as libpcap adjusts the header's (0 or past INT32_MAX: the maximum). */
uint32_t pcapfile_snapshot(const struct pcapfile *f);

/* The next record. Records bigger than the snapshot length are cut to it, as libpcap does. */
enum pcapfile_status pcapfile_next(struct pcapfile *f, struct pcapfile_rec *rec, char *err,
				   size_t errlen);

/* Bytes of the file consumed so far (the header and every record handed out). */
uint64_t pcapfile_offset(const struct pcapfile *f);

/*
 * The consumer's hold: asked each time the reader enters a new chunk, before
 * it releases pages; returns the first byte of the oldest record the consumer
 * may still read (nothing from its page on is released), or NULL when it reads
 * none any more. `next` is the next record's header, not handed out yet. It
 * may wait (the reader waits with it), to bound how far behind that is.
 */
typedef const uint8_t *(*pcapfile_hold_fn)(void *ctx, const uint8_t *next);
void pcapfile_set_hold(struct pcapfile *f, pcapfile_hold_fn fn, void *ctx);

/* Unmaps; every record pointer becomes invalid. NULL is fine. */
void pcapfile_close(struct pcapfile *f);

#endif
