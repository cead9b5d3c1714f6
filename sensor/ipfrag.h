/*
 * ipfrag.h - IPv4 and IPv6 fragment reassembly within a memory cap.
 *
 * Fragments are keyed by (version, src, dst, id, protocol, VLAN). A datagram is
 * handed back once every byte from 0 to the end of the last fragment (MF=0) is
 * present. Overlapping fragments: the first copy of a byte wins (RFC 5722
 * forbids overlaps in IPv6; an overlap is counted, and for IPv6 the datagram is
 * dropped). Incomplete datagrams expire after `timeout_us` of packet time.
 * Memory: every byte held counts against `max_bytes`; a fragment that would
 * pass the cap evicts the oldest datagrams first, and is dropped (counted)
 * when even that cannot make room.
 */
#ifndef TAPIR_IPFRAG_H
#define TAPIR_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "../decoders/packet.h"

struct ipfrag_limits {
	size_t max_bytes;        /* all held fragment data + bookkeeping */
	uint32_t max_datagrams;  /* datagrams being assembled at once */
	uint64_t timeout_us;     /* packet time an incomplete datagram is kept */
	uint32_t max_datagram_len; /* 65535 for IPv4; larger claims are malformed */
};

struct ipfrag_stats {
	uint64_t fragments;   /* fragments offered */
	uint64_t reassembled; /* datagrams completed */
	uint64_t timeouts;    /* datagrams expired incomplete */
	uint64_t overlaps;    /* fragments overlapping held data */
	uint64_t evicted;     /* datagrams evicted to stay under the caps */
	uint64_t dropped;     /* fragments dropped (cap, malformed, too long) */
	size_t bytes_held;    /* now */
	size_t bytes_peak;
};

struct ipfrag;

/* Returns NULL when out of memory. */
struct ipfrag *ipfrag_new(const struct ipfrag_limits *lim);
void ipfrag_free(struct ipfrag *f);

/*
 * Offers one fragment (a PKT_FRAGMENT view). Returns 1 when this fragment
 * completed its datagram: *out and *out_len then hold the datagram's payload
 * (the upper-layer header onwards, e.g. the TCP header), owned by `f` and valid
 * until the next call on `f`. Returns 0 when the datagram is still incomplete,
 * -1 when the fragment was dropped (counted in stats).
 * Also expires datagrams older than the timeout at `now_us`.
 */
int ipfrag_feed(struct ipfrag *f, const struct pkt_view *v, uint64_t now_us,
		const uint8_t **out, size_t *out_len);

const struct ipfrag_stats *ipfrag_stats(const struct ipfrag *f);

#endif
