/*
 * capture.h - packets from libpcap: a pcap/pcapng file or a live interface.
 *
 * The only file that touches libpcap. Timestamps are handed on in
 * microseconds since the epoch; they are the sensor's clock in both modes.
 * A regular file in classic pcap format is read in place from a mapping
 * (pcapfile.c) rather than copied through libpcap's buffer; libpcap still
 * opens it (the same header checks and messages) and runs the BPF filter.
 */
#ifndef TAPIR_CAPTURE_H
#define TAPIR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoders/packet.h"

struct capture_opts {
	const char *file;      /* -r: replay this file, or */
	const char *iface;     /* -i: capture live from this interface */
	const char *filter;    /* BPF, may be NULL */
	int snaplen;
	uint64_t buffer_bytes; /* kernel buffer for live capture */
	bool promiscuous;
	bool libpcap_reader;   /* read a file through libpcap even when pcapfile.c could */
};

struct capture_stats {
	bool live;
	uint64_t received;     /* pcap_stats ps_recv */
	uint64_t dropped;      /* ps_drop: dropped by the kernel for lack of buffer */
	uint64_t if_dropped;   /* ps_ifdrop: dropped by the interface or driver */
	uint64_t file_bytes;   /* bytes of the capture file read so far */
	uint64_t file_size;
};

typedef void (*capture_fn)(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t caplen);

struct capture;

/*
 * Opens the source and applies the filter. Returns 0; or 2 for bad input
 * (unreadable file, unknown link type, bad filter, no such interface) and 1
 * for other failures, with a one-line message in err.
 */
int capture_open(struct capture **out, const struct capture_opts *o, char *err, size_t errlen);

enum pkt_link capture_link(const struct capture *c);

/*
 * True when the bytes handed to the frame callback stay valid and unchanged
 * until capture_close(), so a frame may be passed on without a copy: a file
 * read from a mapping. The mapping's pages further than a few MiB
 * (PCAPFILE_KEEP) behind the newest frame are released from the resident set
 * but not from the mapping: a late reader faults them back in, unchanged, and
 * they then stay resident, unless it says what it still reads
 * (capture_set_hold).
 * False for libpcap (a file through it, stdin, a live interface): there a
 * frame is valid only during the callback.
 */
bool capture_stable_frames(const struct capture *c);

/*
 * With stable frames, for a consumer that reads frames after the callback
 * returned: `fn` is asked, from the capture thread, each time the mapped
 * reader is about to give memory back, for the first byte of the oldest frame
 * the consumer may still read (NULL: none); from that frame on nothing is
 * released, so reading it later costs no page fault and no memory for good.
 * `next`: where the next frame lies. fn may wait (reading waits with it) to
 * bound the memory held. A no-op for libpcap.
 */
typedef const uint8_t *(*capture_hold_fn)(void *ctx, const uint8_t *next);
void capture_set_hold(struct capture *c, capture_hold_fn fn, void *ctx);

/*
 * Delivers packets until the end of the file or capture_stop(). Live, `idle`
 * (may be NULL) is also called between batches: when the read timeout passes
 * with no packet, and after capture_wake(), so that work asked for by a signal
 * is done on a silent link too. Returns 0, or 1 with err.
 */
typedef void (*capture_idle_fn)(void *ctx);
int capture_run(struct capture *c, capture_fn fn, capture_idle_fn idle, void *ctx, char *err,
		size_t errlen);

/* Makes capture_run return soon. Safe to call from a signal handler. */
void capture_stop(struct capture *c);

/* Live: makes capture_run call `idle` soon, then go on. Safe to call from a signal handler. */
void capture_wake(struct capture *c);

void capture_get_stats(struct capture *c, struct capture_stats *st);

void capture_close(struct capture *c);

#endif
