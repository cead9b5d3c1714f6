/*
 * delivery.c - the delivery thread (see delivery.h): queue -> Redis, or the
 * spool while Redis is away; the spool first when it is back.
 *
 * Threading: producers (the packet path, the audit log) and the thread share
 * only the queue, the liveness figures, the published stats and two flags,
 * all under `mu`. The connection, the spool and the backoff belong to the
 * thread alone.
 */
#include "delivery.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_int.h"
#include "redis_conn.h"
#include "spool.h"

#define BACKOFF_BASE_MS 100
#define CHUNK 128              /* messages per pipeline */
#define QUEUE_BYTES_MAX (64u << 20)

enum msg_kind { MSG_ALERT, MSG_HEAD, MSG_EVENT };

struct msg {
	struct msg *next;
	enum msg_kind kind;
	size_t len;
	char data[];
};

struct delivery {
	/* Copied configuration. */
	struct redis_target target;
	char where[300];
	char sensor[64], channel[256], stream[256], events_stream[256], heads_stream[256];
	char stream_maxlen[24], events_maxlen[24];
	char spool_dir[4096];
	unsigned connect_ms, command_ms, heartbeat_ms, backoff_max_ms, drain_ms;
	size_t queue_max;

	pthread_t thread;
	bool launched;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: */
	struct msg *head, *tail;
	size_t queued, queued_bytes, queued_events;
	uint64_t events_refused, alerts_refused; /* the queue had no room */
	bool stopping;
	struct delivery_liveness live;
	struct delivery_stats pub;    /* the thread's figures as last published */
	bool warn_pending;
	char warn_msg[5200];

	/* The thread's own: */
	struct rconn *conn;
	struct spool *spool;
	struct delivery_stats st;
	unsigned attempts;            /* failed connects in a row */
	uint64_t next_attempt_ms;
	uint64_t next_heartbeat_ms;
	char last_error[256];
	bool warned_near_full, warned_full, warned_io;
	unsigned seed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Exponential backoff with jitter: somewhere in [d/2, d], d doubling up to the cap. */
static unsigned backoff_ms(struct delivery *d)
{
	uint64_t ms = BACKOFF_BASE_MS;
	for (unsigned i = 1; i < d->attempts && ms < d->backoff_max_ms; i++)
		ms *= 2;
	if (ms > d->backoff_max_ms)
		ms = d->backoff_max_ms;
	return (unsigned)(ms / 2 + (uint64_t)rand_r(&d->seed) % (ms / 2 + 1));
}

static void publish_stats(struct delivery *d)
{
	struct spool_stats ss;
	spool_get_stats(d->spool, &ss);
	d->st.spool_records = ss.records;
	d->st.spool_bytes = ss.bytes;
	d->st.spool_refused = ss.refused;
	d->st.spool_damaged = ss.damaged;
	d->st.connected = d->conn != NULL;
	pthread_mutex_lock(&d->mu);
	d->pub = d->st;
	d->pub.events_dropped += d->events_refused;
	d->pub.queue_dropped = d->alerts_refused;
	pthread_mutex_unlock(&d->mu);
}

/* ---- connection ---------------------------------------------------------- */

static void disconnect(struct delivery *d, const char *why)
{
	rconn_close(d->conn);
	d->conn = NULL;
	d->st.failures++;
	d->attempts = 1;
	d->next_attempt_ms = mono_ms() + backoff_ms(d);
	snprintf(d->last_error, sizeof d->last_error, "%s", why);
	fprintf(stderr, "tapir: Redis at %s: %s; alerts wait in the spool until it is back\n",
		d->where, why);
}

static void try_connect(struct delivery *d)
{
	char err[256];
	enum rconn_fail why;
	d->conn = rconn_open(&d->target, d->connect_ms, d->command_ms, &why, err, sizeof err);
	if (d->conn) {
		d->st.connects++;
		if (d->attempts || spool_pending(d->spool))
			fprintf(stderr, "tapir: Redis at %s is back; delivering %" PRIu64
				" spooled alerts first\n", d->where, spool_pending(d->spool));
		d->attempts = 0;
		d->last_error[0] = '\0';
		d->next_heartbeat_ms = 0; /* say we are alive at once */
		return;
	}
	d->st.failures++;
	d->attempts++;
	d->next_attempt_ms = mono_ms() + backoff_ms(d);
	if (strcmp(err, d->last_error) != 0) { /* each new reason once, not every retry */
		fprintf(stderr, "tapir: Redis at %s: %s%s; retrying\n", d->where, err,
			why == RCONN_REFUSED ? " (credentials or database refused)" : "");
		snprintf(d->last_error, sizeof d->last_error, "%s", err);
	}
}

/* ---- sending ------------------------------------------------------------- */

struct item {
	enum msg_kind kind;
	const char *data;
	size_t len;
	uint64_t spool_end;           /* for spooled records: the position after it */
};

/* The commands for one message; returns how many (1 or 2). */
static int commands(struct delivery *d, const struct item *it, struct rcmd *c)
{
	const char *field = "alert", *stream = d->stream, *maxlen = d->stream_maxlen;
	int n = 0;
	if (it->kind == MSG_ALERT) {
		c[n++] = (struct rcmd){.argc = 3,
				       .argv = {"PUBLISH", d->channel, it->data},
				       .len = {7, strlen(d->channel), it->len}};
	} else if (it->kind == MSG_HEAD) {
		field = "head";
		stream = d->heads_stream;
		maxlen = "100000";
	} else {
		field = "event";
		stream = d->events_stream;
		maxlen = d->events_maxlen;
	}
	c[n++] = (struct rcmd){.argc = 8,
			       .argv = {"XADD", stream, "MAXLEN", "~", maxlen, "*", field, it->data},
			       .len = {4, strlen(stream), 6, 1, strlen(maxlen), 1, strlen(field),
				       it->len}};
	return n;
}

/*
 * Sends items[0..n) in one pipeline. Returns how many leading items Redis
 * confirmed in full; when that is fewer than n the connection is dropped (the
 * rest will be sent again: at least once).
 */
static size_t send_items(struct delivery *d, const struct item *items, size_t n)
{
	struct rcmd cmds[2 * CHUNK];
	bool ok[2 * CHUNK];
	size_t first[CHUNK + 1], nc = 0, done;
	char err[256] = "";
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		first[i] = nc;
		nc += (size_t)commands(d, &items[i], cmds + nc);
	}
	first[n] = nc;
	int rc = rconn_pipeline(d->conn, cmds, nc, ok, err, sizeof err);
	for (done = 0; done < n; done++) {
		bool all = true;
		for (size_t c = first[done]; c < first[done + 1]; c++)
			all = all && ok[c];
		if (!all)
			break;
		if (items[done].kind == MSG_ALERT)
			d->st.alerts_delivered++;
		else if (items[done].kind == MSG_HEAD)
			d->st.heads_delivered++;
		else
			d->st.events_delivered++;
	}
	if (rc != 0 || done < n)
		disconnect(d, err[0] ? err : "command failed");
	return done;
}

static void spool_one(struct delivery *d, const struct item *it)
{
	if (it->kind == MSG_EVENT) {
		d->st.events_dropped++;
		return;
	}
	int rc = spool_append(d->spool, it->kind == MSG_ALERT ? SPOOL_ALERT : SPOOL_HEAD, it->data,
			      it->len);
	if (rc == 0) {
		d->st.spooled++;
		d->warned_full = false;
	} else if (rc > 0 && !d->warned_full) {
		d->warned_full = true;
		fprintf(stderr, "tapir: spool %s is full; alerts beyond it are not queued for Redis "
			"(they stay in --alerts and the audit log)\n",
			d->spool_dir[0] ? d->spool_dir : "(memory)");
	} else if (rc < 0) {
		d->st.spool_errors++;
		if (!d->warned_io) {
			d->warned_io = true;
			fprintf(stderr, "tapir: spool %s: %s\n", d->spool_dir,
				spool_error(d->spool));
		}
	}
	struct spool_stats ss;
	spool_get_stats(d->spool, &ss);
	if (!d->warned_near_full && ss.bytes * 5 >= ss.max_bytes * 4) {
		d->warned_near_full = true;
		pthread_mutex_lock(&d->mu);
		snprintf(d->warn_msg, sizeof d->warn_msg,
			 "the Redis spool %s holds %" PRIu64 " of %" PRIu64 " bytes (%" PRIu64
			 " alerts); Redis at %s has been unreachable: %s",
			 d->spool_dir[0] ? d->spool_dir : "(memory)", ss.bytes, ss.max_bytes,
			 ss.records, d->where, d->last_error);
		d->warn_pending = true;
		fprintf(stderr, "tapir: WARNING: %s\n", d->warn_msg);
		pthread_mutex_unlock(&d->mu);
	} else if (ss.bytes * 2 < ss.max_bytes) {
		d->warned_near_full = false;
	}
}

/* Messages taken from the queue, in order: sent while Redis takes them and nothing waits before them. */
static void deliver(struct delivery *d, struct msg *m)
{
	struct item chunk[CHUNK];
	size_t n = 0;
	bool spooled = false;
	while (m || n) {
		if (m && n < CHUNK) {
			struct item it = {.kind = m->kind, .data = m->data, .len = m->len};
			m = m->next;
			/* Alerts keep their order: none overtakes one waiting in the spool. */
			bool direct = d->conn && (it.kind == MSG_EVENT || spool_pending(d->spool) == 0);
			if (direct) {
				chunk[n++] = it;
			} else {
				spool_one(d, &it);
				spooled = true;
			}
			continue;
		}
		size_t done = send_items(d, chunk, n);
		for (size_t i = done; i < n; i++) {
			spool_one(d, &chunk[i]);
			spooled = true;
		}
		n = 0;
	}
	if (spooled && spool_sync(d->spool) != 0)
		d->st.spool_errors++;
}

/* Sends what waits in the spool, oldest first, a pipeline at a time. */
static void drain_spool(struct delivery *d, size_t max_chunks)
{
	char *copy[CHUNK] = {0};
	while (d->conn && spool_pending(d->spool) && max_chunks--) {
		struct item items[CHUNK];
		size_t n = 0;
		uint64_t pos = spool_read_start(d->spool);
		while (n < CHUNK) {
			enum spool_kind k;
			const char *data;
			size_t len;
			int rc = spool_read(d->spool, &pos, &k, &data, &len);
			if (rc <= 0)
				break;
			free(copy[n]);
			copy[n] = malloc(len + 1);
			if (!copy[n])
				break;
			memcpy(copy[n], data, len + 1);
			items[n] = (struct item){.kind = k == SPOOL_HEAD ? MSG_HEAD : MSG_ALERT,
						 .data = copy[n], .len = len, .spool_end = pos};
			n++;
		}
		if (n == 0) {
			/* Counted as waiting but unreadable (damaged): start afresh. */
			(void)spool_commit(d->spool, pos, spool_pending(d->spool));
			break;
		}
		size_t done = send_items(d, items, n);
		if (done && spool_commit(d->spool, items[done - 1].spool_end, done) != 0)
			d->st.spool_errors++;
	}
	for (size_t i = 0; i < CHUNK; i++)
		free(copy[i]);
}

static void heartbeat(struct delivery *d, const char *state)
{
	struct delivery_liveness l;
	pthread_mutex_lock(&d->mu);
	l = d->live;
	uint64_t not_queued = d->alerts_refused;
	pthread_mutex_unlock(&d->mu);
	struct spool_stats ss;
	spool_get_stats(d->spool, &ss);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char key[128], at[64], last[64] = "", num[9][24];
	snprintf(key, sizeof key, "tapir:sensor:%s", d->sensor);
	audit_format_time((uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000, at, sizeof at);
	if (l.last_packet_us)
		audit_format_time(l.last_packet_us, last, sizeof last);
	const uint64_t v[9] = {l.packets, l.kernel_drops, l.gaps, l.events, l.alerts,
			       ss.records, ss.bytes, ss.refused + not_queued,
			       (uint64_t)d->heartbeat_ms / 1000};
	for (int i = 0; i < 9; i++)
		snprintf(num[i], sizeof num[i], "%" PRIu64, v[i]);
	static const char *const names[9] = {"packets", "drops", "gaps", "events", "alerts",
					     "spool_depth", "spool_bytes", "alerts_not_queued",
					     "interval_s"};
	struct rcmd c = {.argc = 0};
	c.argv[c.argc++] = "HSET";
	c.argv[c.argc++] = key;
	c.argv[c.argc++] = "state";
	c.argv[c.argc++] = state;
	c.argv[c.argc++] = "heartbeat";
	c.argv[c.argc++] = at;
	c.argv[c.argc++] = "last_packet";
	c.argv[c.argc++] = last;
	for (int i = 0; i < 9; i++) {
		c.argv[c.argc++] = names[i];
		c.argv[c.argc++] = num[i];
	}
	for (int i = 0; i < c.argc; i++)
		c.len[i] = strlen(c.argv[i]);
	bool ok;
	char err[256] = "";
	if (rconn_pipeline(d->conn, &c, 1, &ok, err, sizeof err) != 0 || !ok)
		disconnect(d, err[0] ? err : "heartbeat failed");
	else
		d->st.heartbeats++;
	d->next_heartbeat_ms = mono_ms() + d->heartbeat_ms;
}

/* ---- the thread ---------------------------------------------------------- */

static void final_drain(struct delivery *d)
{
	uint64_t deadline = mono_ms() + d->drain_ms;
	for (;;) {
		if (d->conn)
			drain_spool(d, SIZE_MAX);
		if (d->conn && !spool_pending(d->spool))
			break;
		uint64_t now = mono_ms();
		if (now >= deadline)
			break;
		if (!d->conn) {
			if (now < d->next_attempt_ms) {
				uint64_t wait = (d->next_attempt_ms < deadline ? d->next_attempt_ms
									       : deadline) - now;
				usleep((useconds_t)(wait * 1000));
				continue;
			}
			try_connect(d);
		}
	}
	if (d->conn)
		heartbeat(d, "stopped");
}

static void *run(void *arg)
{
	struct delivery *d = arg;
	for (;;) {
		uint64_t now = mono_ms();
		uint64_t wake = d->conn ? d->next_heartbeat_ms : d->next_attempt_ms;
		pthread_mutex_lock(&d->mu);
		while (!d->head && !d->stopping && now < wake) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ns = (uint64_t)ts.tv_nsec + (wake - now) * 1000000;
			ts.tv_sec += (time_t)(ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			now = mono_ms();
		}
		struct msg *m = d->head;
		d->head = d->tail = NULL;
		d->queued = d->queued_bytes = d->queued_events = 0;
		bool stopping = d->stopping;
		pthread_mutex_unlock(&d->mu);

		if (!d->conn && mono_ms() >= d->next_attempt_ms)
			try_connect(d);
		deliver(d, m);
		while (m) {
			struct msg *next = m->next;
			free(m);
			m = next;
		}
		if (d->conn && spool_pending(d->spool))
			drain_spool(d, 8); /* a few pipelines, then look at the queue again */
		if (d->conn && mono_ms() >= d->next_heartbeat_ms)
			heartbeat(d, "running");
		publish_stats(d);
		if (stopping) {
			pthread_mutex_lock(&d->mu);
			bool empty = d->head == NULL;
			pthread_mutex_unlock(&d->mu);
			if (empty)
				break;
		}
	}
	final_drain(d);
	publish_stats(d);
	return NULL;
}

/* ---- the producers' side -------------------------------------------------- */

static void enqueue(struct delivery *d, enum msg_kind kind, const char *json, size_t len)
{
	pthread_mutex_lock(&d->mu);
	bool full = d->queued >= d->queue_max || d->queued_bytes + len > QUEUE_BYTES_MAX;
	/* Events may take half the queue: alerts always find room before they do. */
	if (kind == MSG_EVENT && (full || d->queued_events * 2 >= d->queue_max)) {
		d->events_refused++;
		d->pub.events_dropped++;
		pthread_mutex_unlock(&d->mu);
		return;
	}
	struct msg *m = full ? NULL : malloc(sizeof *m + len + 1);
	if (!m) {
		d->alerts_refused++;
		d->pub.queue_dropped++;
		pthread_mutex_unlock(&d->mu);
		return;
	}
	m->next = NULL;
	m->kind = kind;
	m->len = len;
	memcpy(m->data, json, len);
	m->data[len] = '\0';
	if (d->tail)
		d->tail->next = m;
	else
		d->head = m;
	d->tail = m;
	d->queued++;
	d->queued_bytes += len;
	if (kind == MSG_EVENT)
		d->queued_events++;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void delivery_alert(struct delivery *d, const char *json, size_t len)
{
	enqueue(d, MSG_ALERT, json, len);
}

void delivery_head(struct delivery *d, const char *json, size_t len)
{
	if (d->heads_stream[0])
		enqueue(d, MSG_HEAD, json, len);
}

void delivery_event(struct delivery *d, const char *json, size_t len)
{
	if (d->events_stream[0])
		enqueue(d, MSG_EVENT, json, len);
}

void delivery_liveness(struct delivery *d, const struct delivery_liveness *l)
{
	pthread_mutex_lock(&d->mu);
	d->live = *l;
	pthread_mutex_unlock(&d->mu);
}

bool delivery_spool_warning(struct delivery *d, char *msg, size_t len)
{
	pthread_mutex_lock(&d->mu);
	bool w = d->warn_pending;
	if (w)
		snprintf(msg, len, "%s", d->warn_msg);
	d->warn_pending = false;
	pthread_mutex_unlock(&d->mu);
	return w;
}

void delivery_get_stats(struct delivery *d, struct delivery_stats *st)
{
	pthread_mutex_lock(&d->mu);
	*st = d->pub;
	pthread_mutex_unlock(&d->mu);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

struct delivery *delivery_start(const struct delivery_config *cfg, int *status, char *err,
				size_t errlen)
{
	struct delivery *d = calloc(1, sizeof *d);
	*status = 1;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->target = cfg->target;
	redis_target_where(&d->target, d->where, sizeof d->where);
	copy_str(d->sensor, sizeof d->sensor, cfg->sensor_name);
	copy_str(d->channel, sizeof d->channel, cfg->channel);
	copy_str(d->stream, sizeof d->stream, cfg->stream);
	copy_str(d->events_stream, sizeof d->events_stream, cfg->events_stream);
	copy_str(d->heads_stream, sizeof d->heads_stream, cfg->heads_stream);
	copy_str(d->spool_dir, sizeof d->spool_dir, cfg->spool_dir);
	snprintf(d->stream_maxlen, sizeof d->stream_maxlen, "%" PRIu64, cfg->stream_maxlen);
	snprintf(d->events_maxlen, sizeof d->events_maxlen, "%" PRIu64, cfg->events_maxlen);
	d->connect_ms = cfg->connect_ms;
	d->command_ms = cfg->command_ms;
	d->heartbeat_ms = cfg->heartbeat_ms;
	d->backoff_max_ms = cfg->backoff_max_ms > BACKOFF_BASE_MS ? cfg->backoff_max_ms
								  : BACKOFF_BASE_MS;
	d->drain_ms = cfg->drain_ms;
	d->queue_max = cfg->queue_max ? cfg->queue_max : 65536;
	d->seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	d->spool = spool_open(cfg->spool_dir, cfg->spool_max, err, errlen);
	if (!d->spool) {
		free(d);
		return NULL;
	}
	enum rconn_fail why;
	char cerr[256];
	d->conn = rconn_open(&d->target, d->connect_ms, d->command_ms, &why, cerr, sizeof cerr);
	if (!d->conn && why == RCONN_REFUSED) {
		snprintf(err, errlen, "Redis at %s refused: %s", d->where, cerr);
		*status = 2;
		spool_close(d->spool);
		free(d);
		return NULL;
	}
	if (d->conn) {
		d->st.connects++;
	} else {
		fprintf(stderr, "tapir: Redis at %s: %s; alerts are spooled until it is reachable\n",
			d->where, cerr);
		snprintf(d->last_error, sizeof d->last_error, "%s", cerr);
		d->attempts = 1;
		d->next_attempt_ms = mono_ms() + backoff_ms(d);
	}
	if (spool_pending(d->spool))
		fprintf(stderr, "tapir: spool %s: %" PRIu64 " alerts from an earlier run wait; they "
			"are delivered before new ones\n", d->spool_dir, spool_pending(d->spool));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&d->mu, NULL);
	publish_stats(d);
	*status = 0;
	return d;
}

int delivery_launch(struct delivery *d, char *err, size_t errlen)
{
	int rc = pthread_create(&d->thread, NULL, run, d);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the delivery thread: %s", strerror(rc));
		return -1;
	}
	d->launched = true;
	return 0;
}

void delivery_stop(struct delivery *d, struct delivery_stats *final, char *msg, size_t len)
{
	msg[0] = '\0';
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (d->launched) {
		pthread_join(d->thread, NULL);
	} else {
		/* Never launched (start-up failed later): what was queued goes to the spool. */
		struct msg *m = d->head;
		d->head = d->tail = NULL;
		while (m) {
			struct msg *next = m->next;
			if (m->kind != MSG_EVENT)
				spool_one(d, &(struct item){.kind = m->kind, .data = m->data, .len = m->len});
			free(m);
			m = next;
		}
		publish_stats(d);
	}
	*final = d->pub;
	uint64_t left = spool_pending(d->spool);
	if (left && d->spool_dir[0])
		snprintf(msg, len, "%" PRIu64 " alerts wait in the spool %s for Redis at %s; the "
			 "next start delivers them", left, d->spool_dir, d->where);
	else if (left)
		snprintf(msg, len, "%" PRIu64 " alerts could not be delivered to Redis at %s and "
			 "there is no spool directory (--spool) to keep them; they are in --alerts "
			 "and the audit log", left, d->where);
	rconn_close(d->conn);
	spool_close(d->spool);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
