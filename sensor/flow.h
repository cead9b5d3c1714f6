/*
 * flow.h - the bidirectional flow table.
 *
 * A flow is one TCP connection, keyed by its 5-tuple and the outer two VLAN
 * ids of each side, the same flow whichever direction a packet travels: the
 * key is stored canonically with the lower (address, port) as side 0. Lookup
 * is one hash probe into chained buckets; the hash is seeded per table so
 * crafted addresses cannot pile flows into one chain.
 *
 * VLANs: mirror ports often tag the two directions of one connection
 * differently (one direction tagged, the reply untagged). So each side keeps
 * the VLAN ids of its own packets: the first packet from a side records them,
 * and later packets from that side must carry the same ids to belong to the
 * flow. The same 5-tuple in two VLANs (overlapping address spaces) is two
 * flows; one connection seen with a different tag per direction is one.
 *
 * Time is packet time. Flows sit on one of two lists ordered by last activity:
 * open flows expire after `idle_us`, closed ones (FIN both ways, or RST) after
 * `closed_us`. At `max_flows` the least recently active flow is evicted to
 * make room. Every flow that leaves the table, for whatever reason, goes
 * through the owner's `on_end` callback first, so pending data is flushed.
 */
#ifndef TAPIR_FLOW_H
#define TAPIR_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reasm.h"

struct flow_key {
	uint8_t addr[2][16];
	uint16_t port[2];
};

enum flow_end_reason { FLOW_END_IDLE, FLOW_END_CLOSED, FLOW_END_EVICTED, FLOW_END_SHUTDOWN };

struct flow {
	struct flow_key key;
	uint16_t vlan[2][2];          /* vlan[i]: outer two VLAN ids of side i's packets */
	bool vlan_known[2];           /* side i has sent a packet */
	struct flow *hnext;           /* hash chain */
	struct flow *prev, *next;     /* activity list (open or closed) */
	uint64_t last_us;             /* packet time of the latest packet (timeouts) */
	uint64_t packets;
	uint64_t order;               /* caller's sequence number of that packet (sensor_set_seq) */
	uint8_t client_side;          /* side that sent the first SYN (or first packet) */
	bool syn_seen[2];             /* a SYN from side i */
	bool fin_seen[2];
	bool rst_seen;
	bool closed;                  /* on the closed list */
	struct reasm_dir dir[2];      /* dir[i]: bytes sent by side i */
	void *app;                    /* the application-layer session, owned by the caller */
};

struct flow_limits {
	uint32_t max_flows;
	uint64_t idle_us;
	uint64_t closed_us;
};

struct flow_stats {
	uint64_t created;
	uint64_t vlan_asymmetric;     /* flows whose two directions carry different VLAN ids */
	uint64_t ended[4];            /* by enum flow_end_reason */
	uint64_t active;
	uint64_t peak;
};

typedef void (*flow_end_fn)(void *ctx, struct flow *f, enum flow_end_reason why);

struct flow_table;

/* Returns NULL when out of memory. `on_end` is called for every flow that leaves. */
struct flow_table *flow_table_new(const struct flow_limits *lim, uint64_t seed,
				  flow_end_fn on_end, void *ctx);
/* Ends every flow (FLOW_END_SHUTDOWN) and frees the table. */
void flow_table_free(struct flow_table *t);

/* Ends every flow (FLOW_END_SHUTDOWN); the table stays usable. */
void flow_end_all(struct flow_table *t);

/*
 * The hash of a connection, the same for both directions (VLAN ids left out):
 * what a pipeline shards flows by, and the bucket hash of a table made with
 * the same seed, so that it is computed once per packet (flow_lookup_hashed).
 */
uint64_t flow_hash(const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport,
		   uint64_t seed);

/*
 * Finds the flow of a packet from (src, sport) to (dst, dport), creating it
 * when `create`. *side is set to the sending side (0 or 1) within the flow.
 * Returns NULL when not found and not created, or when out of memory.
 * The flow is moved to the tail of its activity list with last_us = now.
 */
struct flow *flow_lookup(struct flow_table *t, const uint8_t src[16], uint16_t sport,
			 const uint8_t dst[16], uint16_t dport, const uint16_t vlan[2], uint64_t now,
			 bool create, int *side);

/*
 * flow_lookup with the packet's hash computed by the caller: `hash` must be
 * flow_hash(src, sport, dst, dport, seed) with the seed the table was made with.
 */
struct flow *flow_lookup_hashed(struct flow_table *t, uint64_t hash, const uint8_t src[16],
				uint16_t sport, const uint8_t dst[16], uint16_t dport,
				const uint16_t vlan[2], uint64_t now, bool create, int *side);

/* Moves a flow to the closed list (it then expires after closed_us). */
void flow_mark_closed(struct flow_table *t, struct flow *f);

/* Ends flows whose time is up at `now`. Cheap when nothing expires. */
void flow_expire(struct flow_table *t, uint64_t now);

/* The earliest packet time at which flow_expire would end a flow; UINT64_MAX: none. */
uint64_t flow_next_expiry(const struct flow_table *t);

/* Ends and removes one flow now. */
void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason why);

const struct flow_stats *flow_table_stats(const struct flow_table *t);

extern const char *const flow_end_names[4];

#endif
