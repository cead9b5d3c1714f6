/*
 * reasm.h - one direction of a TCP connection, reassembled into a byte stream.
 *
 * In-order payload is handed to the sink straight from the packet (no copy).
 * Segments ahead of the next expected byte are copied and held in sequence
 * order until the hole before them fills. Sequence numbers compare in serial
 * arithmetic (RFC 1982), so wrap-around is ordinary.
 *
 * Policies (one each, applied everywhere):
 * - Overlap: the first copy of a byte wins. Bytes already delivered or held
 *   are never replaced; where a later copy carries different bytes for data we
 *   still hold, `overlap_conflicts` is counted.
 * - Gap: a hole is given up on, and reported to the sink as gap(len), when the
 *   peer acknowledges bytes beyond it (reasm_acked: the receiver got them, the
 *   capture did not), when the held data would pass the per-direction limits or
 *   the shared memory cap, or at reasm_flush. The stream then continues with
 *   the data after the hole. Running out of memory therefore loses no captured
 *   byte; it only stops waiting for a retransmission sooner.
 * - No handshake seen: the first segment of a direction starts the stream.
 */
#ifndef TAPIR_REASM_H
#define TAPIR_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reasm_stats {
	uint64_t segments;          /* segments offered with payload or FIN */
	uint64_t bytes;             /* bytes delivered to sinks */
	uint64_t ooo_segments;      /* segments held because they came early */
	uint64_t retransmits;       /* segments wholly old: dropped */
	uint64_t overlaps;          /* segments partly old or overlapping held data: trimmed */
	uint64_t overlap_conflicts; /* overlapping bytes that differed from held ones */
	uint64_t gaps;              /* holes given up on */
	uint64_t gap_bytes;
	uint64_t limit_gaps;        /* of which forced by per-direction limits */
	uint64_t memcap_gaps;       /* of which forced by the shared memory cap */
};

/* Shared by every direction of one worker: the memory cap and the counters. */
struct reasm_pool {
	size_t cap;        /* bytes of held out-of-order data (with per-segment overhead) */
	size_t used;
	size_t peak;
	struct reasm_stats stats;
};

struct reasm_limits {
	uint32_t max_held_bytes; /* held out-of-order bytes in one direction */
	uint32_t max_held_segs;  /* held out-of-order segments in one direction */
};

/* Where the stream goes. `ctx` is the caller's; every callback gets it. */
struct reasm_sink {
	void (*data)(void *ctx, const uint8_t *p, size_t len);
	void (*gap)(void *ctx, uint32_t len);  /* len bytes of the stream are missing */
	void (*fin)(void *ctx);                /* the stream ended (FIN reached in order) */
	void *ctx;
};

struct reasm_seg;

struct reasm_dir {
	uint32_t next_seq;       /* next byte the sink expects */
	bool started;            /* next_seq is valid */
	bool fin_seen;           /* a FIN arrived (maybe ahead of the data) */
	bool finished;           /* the FIN was reached in order; the sink got fin() */
	uint32_t fin_seq;        /* sequence number the FIN occupies */
	struct reasm_seg *held;  /* early segments, sorted by seq, not overlapping */
	uint32_t held_bytes;
	uint32_t held_segs;
};

void reasm_init(struct reasm_dir *d);

/* A SYN from this direction's sender: the stream starts at isn + 1. */
void reasm_syn(struct reasm_dir *d, uint32_t isn);

/*
 * Offers one segment: payload [seq, seq+len) and, when `fin`, the FIN after
 * it. Delivers whatever became in-order to the sink.
 */
void reasm_segment(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_limits *lim,
		   uint32_t seq, const uint8_t *data, size_t len, bool fin,
		   const struct reasm_sink *sink);

/*
 * The other side acknowledged every byte before `ack`: a hole below it will
 * never be filled from the capture, so it is reported as a gap and the held
 * data after it is delivered.
 */
void reasm_acked(struct reasm_dir *d, struct reasm_pool *pool, uint32_t ack,
		 const struct reasm_sink *sink);

/* Stops waiting: delivers everything held, reporting holes as gaps. */
void reasm_flush(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_sink *sink);

/* Frees held segments without delivering them. */
void reasm_release(struct reasm_dir *d, struct reasm_pool *pool);

#endif
