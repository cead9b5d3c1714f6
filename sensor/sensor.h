/*
 * sensor.h - where a captured frame goes: packet decoder -> IP fragment
 * reassembly -> flow table -> TCP tracking and reassembly -> HTTP session ->
 * api_event to the caller's emit function.
 *
 * One sensor is single-threaded and owns all its state; the clock is the
 * packet time (never allowed to run backwards: a frame stamped earlier than
 * one already seen is processed at the later time and counted).
 */
#ifndef TAPIR_SENSOR_H
#define TAPIR_SENSOR_H

#include <stdint.h>
#include <stdio.h>

#include "../decoders/packet.h"
#include "flow.h"
#include "ipfrag.h"
#include "reasm.h"
#include "session.h"

struct sensor_limits {
	struct flow_limits flow;
	struct reasm_limits reasm;
	size_t reasm_memcap;
	struct ipfrag_limits frag;
	struct session_limits session;
};

/* The defaults every limit starts from (config and flags override them). */
void sensor_limits_default(struct sensor_limits *lim);

struct sensor_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t tcp;
	uint64_t other;        /* not TCP over IP */
	uint64_t fragments;
	uint64_t malformed[PKT_BAD__COUNT];
	uint64_t clock_backwards;
	uint64_t flow_alloc_failed;
};

/* What sensor_classify found in a frame. */
enum sensor_frame {
	SENSOR_FRAME_NONE,    /* nothing for the TCP path (counted) */
	SENSOR_FRAME_TCP,     /* a TCP segment in the frame itself */
	SENSOR_FRAME_REBUILT, /* a TCP segment in a datagram rebuilt from IP fragments */
};

/*
 * The per-frame half of sensor_packet, also the pipeline's capture thread's:
 * counts the frame in `c`, moves the clock *now to ts_us (when later),
 * decodes it, and feeds IP fragments to `frag`. With SENSOR_FRAME_REBUILT, v
 * points into frag's datagram, valid until frag is fed again.
 */
enum sensor_frame sensor_classify(struct sensor_counters *c, struct ipfrag *frag,
				  enum pkt_link link, uint64_t *now, uint64_t ts_us,
				  const uint8_t *frame, size_t caplen, struct pkt_view *v);

struct sensor;

/* Returns NULL when out of memory. */
struct sensor *sensor_new(const struct sensor_limits *lim, session_emit_fn emit, void *ctx,
			  uint64_t seed);

/* One captured frame of link type `link`, stamped `ts_us` (µs since the epoch). */
void sensor_packet(struct sensor *s, enum pkt_link link, uint64_t ts_us, const uint8_t *frame,
		   size_t caplen);

/*
 * Replaces the identity and client-address rules (a configuration reload).
 * What `xc` points to must outlive its use; exchanges already in progress
 * keep what they have.
 */
void sensor_set_exchange(struct sensor *s, const struct exchange_config *xc);

/* What the sensor may have missed so far (cumulative): for blind_spot alerts. */
struct sensor_blindness {
	uint64_t gaps;        /* TCP holes given up on */
	uint64_t gap_bytes;
	uint64_t cap_hits;    /* data or state dropped or cut short at a cap */
};

/*
 * Every counter of one sensor, as plain data, so that the sensors of a
 * pipeline (sensor/pipeline.h) can be summed and printed as one. All
 * members are uint64_t-sized counters; sums of gauges (active, peaks,
 * memory) are the totals over the sensors.
 */
struct sensor_stats {
	struct sensor_counters c;
	struct ipfrag_stats frag;
	struct flow_stats flows;
	struct reasm_stats reasm;
	uint64_t reasm_memory_peak, syn_data, resets, port_reuse;
	struct session_stats app;
	uint64_t app_memory;
};

void sensor_get_stats(const struct sensor *s, struct sensor_stats *st);
void sensor_stats_add(struct sensor_stats *sum, const struct sensor_stats *st);
void sensor_stats_blindness(const struct sensor_stats *st, struct sensor_blindness *b);

/*
 * For a pipeline worker, which sees only some of the frames.
 *
 * sensor_advance: moves the clock to `now` (when later) and ends the flows
 * whose time is up, exactly what sensor_packet does first; so a worker that
 * is sent the times of frames it does not own expires flows when one sensor
 * would. sensor_next_expiry: the earliest packet time at which that would end
 * a flow (UINT64_MAX: none).
 */
void sensor_advance(struct sensor *s, uint64_t now);
uint64_t sensor_next_expiry(const struct sensor *s);

/*
 * A TCP segment the caller decoded (pkt_decode gave PKT_TCP, or pkt_decode_tcp
 * on a rebuilt datagram), at the time of the last sensor_advance. `hash` is
 * flow_hash() of its endpoints with the seed this sensor was made with (a
 * pipeline's capture thread computed it to choose the worker). Counted as TCP,
 * not as a frame: the caller counts frames and bytes.
 */
void sensor_tcp(struct sensor *s, const struct pkt_view *v, uint64_t hash);

/*
 * The caller's sequence number of the next frames (0 by default); each flow
 * remembers the one of its latest packet. While the sensor ends a flow (inside
 * the emit callback), sensor_ending tells that number and whether the flow
 * was on the closed list: the order one sensor would have ended it in.
 */
void sensor_set_seq(struct sensor *s, uint64_t seq);
void sensor_ending(const struct sensor *s, uint64_t *order, bool *closed);

/* End of input: every open flow ends and its pending exchanges are emitted. */
void sensor_finish(struct sensor *s);

void sensor_free(struct sensor *s);

/* Writes every counter as members of one JSON object (no braces). */
void sensor_stats_json(const struct sensor_stats *st, FILE *out);

#endif
