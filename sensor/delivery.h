/*
 * delivery.h - alerts (and optionally events and signed audit heads) to
 * Redis, off the packet path, losing nothing while Redis is away.
 *
 * The packet path hands each message to a bounded in-memory queue and goes
 * on (delivery_alert never waits on Redis or the disk). One delivery thread
 * empties the queue: while Redis takes them, alerts are sent (PUBLISH to the
 * channel, XADD to the stream, pipelined); while it is unreachable, slow
 * (command timeout) or refusing, they are appended to the spool (spool.h) and
 * the thread reconnects with exponential backoff and jitter. Once connected it
 * delivers the spool in order before anything newer, so consumers see alerts
 * in the order they were raised. Delivery is at least once: an alert whose
 * confirmation was lost is sent again, with the same "id".
 *
 * Every heartbeat interval, while connected, the hash tapir:sensor:<name>
 * gets the sensor's liveness figures (last packet time, packets, drops, gaps,
 * events, alerts, spool depth), so a silent sensor is told from a quiet
 * network.
 *
 * Events (output.redis.events_stream) are best effort: sent while connected,
 * counted and dropped while not (every event is in the audit log).
 */
#ifndef TAPIR_DELIVERY_H
#define TAPIR_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_url.h"

struct delivery_config {
	struct redis_target target;
	const char *sensor_name;
	const char *channel;        /* PUBLISH */
	const char *stream;         /* XADD ... MAXLEN ~ stream_maxlen * alert <json> */
	uint64_t stream_maxlen;
	const char *events_stream;  /* "" = events are not sent */
	uint64_t events_maxlen;
	const char *heads_stream;   /* signed audit heads; "" = not sent */
	const char *spool_dir;      /* NULL: in-memory spool (lost with the process) */
	uint64_t spool_max;         /* bytes */
	unsigned connect_ms, command_ms;
	unsigned heartbeat_ms;
	unsigned backoff_max_ms;
	unsigned drain_ms;          /* at stop: how long to keep trying to deliver the spool */
	size_t queue_max;           /* messages waiting in memory for the thread */
};

/* What the heartbeat reports: cumulative figures from the packet path. */
struct delivery_liveness {
	uint64_t last_packet_us;    /* packet time of the newest frame; 0 = none yet */
	uint64_t packets;
	uint64_t kernel_drops;
	uint64_t gaps;
	uint64_t events;
	uint64_t alerts;
};

struct delivery_stats {
	uint64_t alerts_delivered;
	uint64_t heads_delivered;
	uint64_t events_delivered;
	uint64_t events_dropped;    /* Redis away or the queue full */
	uint64_t queue_dropped;     /* alerts or heads the full queue could not take */
	uint64_t spooled;           /* records appended to the spool */
	uint64_t spool_records;     /* waiting now */
	uint64_t spool_bytes;
	uint64_t spool_refused;     /* the spool was full */
	uint64_t spool_damaged;
	uint64_t spool_errors;      /* records the spool could not write (I/O error) */
	uint64_t connects;
	uint64_t failures;          /* connections lost or refused */
	uint64_t heartbeats;
	bool connected;
};

struct delivery;

/*
 * Opens the spool and tries Redis once; delivery_launch then starts the
 * thread (after a privilege drop: threads keep the capabilities they were
 * made with). Messages queued before the launch wait for it. Redis being
 * unreachable is not an error (alerts are spooled until it is back); Redis
 * refusing the login or the database is: NULL, *status 2 and a one-line err.
 * Other failures: NULL, *status 1.
 */
struct delivery *delivery_start(const struct delivery_config *cfg, int *status, char *err,
				size_t errlen);

/* Starts the delivery thread. 0, or -1 with a one-line err (delivery_stop still frees). */
int delivery_launch(struct delivery *d, char *err, size_t errlen);

/* Queue one alert / signed head / event (JSON without newline). Never blocks on Redis or disk. */
void delivery_alert(struct delivery *d, const char *json, size_t len);
void delivery_head(struct delivery *d, const char *json, size_t len);
void delivery_event(struct delivery *d, const char *json, size_t len);

/* The figures the next heartbeat reports. */
void delivery_liveness(struct delivery *d, const struct delivery_liveness *l);

/*
 * True once each time the spool passes 80% of its cap (again after it fell
 * below half), with a one-line description in msg: for a loud alert.
 */
bool delivery_spool_warning(struct delivery *d, char *msg, size_t len);

/*
 * Delivers or spools what is queued, tries for up to drain_ms to empty the
 * spool, stops the thread and frees everything. Writes a one-line summary
 * into msg when something is left undelivered (msg[0] = 0 otherwise).
 */
void delivery_stop(struct delivery *d, struct delivery_stats *final, char *msg, size_t len);

void delivery_get_stats(struct delivery *d, struct delivery_stats *st);

#endif
