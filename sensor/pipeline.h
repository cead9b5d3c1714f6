/*
 * pipeline.h - the sensor across cores (--workers N, N >= 2):
 *
 *   capture thread --SPSC--> worker 0..N-1 --SPSC--> merge/output thread
 *   (the caller's)           (one sensor each)       (routes, JSON, audit,
 *                                                     engine, alerts)
 *
 * The capture thread (the caller of pipeline_frame) numbers every frame,
 * keeps the packet clock, reassembles IP fragments, and hands each TCP frame
 * to the worker that owns its flow (a symmetric hash of addresses and ports;
 * VLAN ids left out because flows match them per side). Each worker owns a
 * struct sensor. Every event carries the number of the frame that completed
 * it, and the merge thread emits events in that order, waiting until every
 * worker is past it: a replay gives the same events, in the same order, as
 * one sensor; so --events, the alerts and the audit log are the same too.
 * Expiry is kept exact by sending a worker the time of a frame it does not
 * own whenever one of its flows may be due at that time.
 *
 * One engine, in the merge thread: its peer groups, route lists, MIDAS and
 * HS-tree streams and alert counter are global, so engines sharded by
 * identity would not give the same alerts (see pipeline.c).
 *
 * A full ring makes its writer wait (counted), in replay and live alike:
 * nothing is dropped inside the pipeline; live, the kernel buffer absorbs a
 * stall and its drops are counted (--stats capture.kernel_dropped).
 */
#ifndef TAPIR_PIPELINE_H
#define TAPIR_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "output.h"
#include "sensor.h"

#define PIPELINE_MAX_WORKERS 64

struct pipeline_config {
	unsigned workers;                 /* 2..PIPELINE_MAX_WORKERS */
	const struct sensor_limits *lim;  /* divided among the workers: flows, memory caps */
	enum pkt_link link;
	uint64_t seed;
	struct output *out;               /* the merge thread's alone until pipeline_finish */
	const char *inventory_path;       /* written by pipeline_inventory; may be NULL */
};

struct pipeline;

/* Starts the threads. Returns 0, or -1 with a one-line message in err. */
int pipeline_start(struct pipeline **out, const struct pipeline_config *c, char *err,
		   size_t errlen);

/* The capture thread's calls, in stream order. */
void pipeline_frame(struct pipeline *p, uint64_t ts_us, const uint8_t *frame, size_t caplen);
/* Health at this point of the stream: the engine hears it as one sensor's. */
void pipeline_health(struct pipeline *p, uint64_t now, uint64_t kernel_drops);
/* A reload: `xc` (and what it points to) must stay valid until pipeline_free. */
void pipeline_set_exchange(struct pipeline *p, const struct exchange_config *xc);
/* Asks the merge thread to write the inventory between two events. */
void pipeline_inventory(struct pipeline *p);

/*
 * End of input: every worker finishes its flows, every ring is drained,
 * every thread is joined. The output is the caller's again afterwards.
 */
void pipeline_finish(struct pipeline *p);

/* After pipeline_finish: the counters of all the sensors, summed. */
void pipeline_sensor_stats(const struct pipeline *p, struct sensor_stats *st);

/* After pipeline_finish: ,"pipeline":{...} (leading comma included). */
void pipeline_stats_json(const struct pipeline *p, FILE *out);

void pipeline_free(struct pipeline *p);

#endif
