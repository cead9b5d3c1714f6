/*
 * pipeline.h - the sensor across cores (--workers N, N >= 1):
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

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "output.h"
#include "sensor.h"

#define PIPELINE_MAX_WORKERS 64

/*
 * Called in the merge thread, which owns the output until pipeline_finish:
 * on_snapshot with the sensors' counters summed at the point of the stream
 * where pipeline_snapshot was called and the capture counters
 * the caller gave then.
 */
typedef void (*pipeline_snapshot_fn)(void *ctx, int tag, struct output *out, uint64_t now,
				     const struct sensor_stats *st, const struct capture_stats *cs);

struct pipeline_config {
	unsigned workers;                 /* 1..PIPELINE_MAX_WORKERS */
	const struct sensor_limits *lim;  /* divided among the workers: flows, memory caps */
	enum pkt_link link;
	uint64_t seed;
	bool stable_frames;               /* capture_stable_frames: TCP frames go by reference */
	struct output *out;               /* the merge thread's alone until pipeline_finish */
	pipeline_snapshot_fn on_snapshot; /* may be NULL */
	void *ctx;                        /* for on_snapshot */
};

struct pipeline;

/* Starts the threads. Returns 0, or -1 with a one-line message in err. */
int pipeline_start(struct pipeline **out, const struct pipeline_config *c, char *err,
		   size_t errlen);

/* The capture thread's calls, in stream order. */
void pipeline_frame(struct pipeline *p, uint64_t ts_us, const uint8_t *frame, size_t caplen);
/*
 * With stable_frames, the capture's hold (capture_set_hold(c, pipeline_hold,
 * p)): the oldest frame a worker may still read, or NULL; waits while that is
 * more than 64 MiB before `next`, so the memory a replay holds is bounded.
 */
const uint8_t *pipeline_hold(void *p, const uint8_t *next);
/*
 * The counters of all the sensors at this point of the stream, summed, to
 * on_snapshot in the merge thread with `tag` (the caller's: what it asked
 * for). `cs`: the capture's counters now.
 */
void pipeline_snapshot(struct pipeline *p, int tag, const struct capture_stats *cs);
/* A reload: `xc` (and what it points to) must stay valid until pipeline_free. */
void pipeline_set_exchange(struct pipeline *p, const struct exchange_config *xc);

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
