/*
 * pipeline.c - capture thread -> N workers -> one merge/output thread
 * (pipeline.h), joined by SPSC rings (ring.h).
 *
 * Order. The capture thread numbers frames (seq 1, 2, ...). A worker tags
 * every record it sends on with a key
 *
 *   (seq, phase, rank, order, worker)
 *
 * seq: the frame being handled when the event left the sensor; phase:
 * EXPIRE (flows whose time was up at that frame's time: sensor_advance),
 * PACKET (the frame itself), SNAPSHOT, FINISH (end of input); rank and order
 * only for ended flows: which list the flow was on and the seq of its latest
 * packet, the order in which one sensor's flow_expire (closed list first) and
 * flow_end_all (open list first) would have ended it. Each worker's stream is
 * sorted by that key; the merge thread takes the smallest head among the
 * workers once every worker is known to be past its seq (its watermark, or,
 * when its input ring is empty, the capture thread's dispatched seq). That is
 * one sensor's order exactly, so the output does not depend on N.
 *
 * Time. One sensor's clock is the newest packet time, and every frame first
 * ends the flows whose time is up. A worker sees only its frames, so the
 * capture thread sends it a TICK (seq, time) whenever one of its flows may be
 * due: a lower bound of its next expiry is the worker's own published
 * sensor_next_expiry, lowered by the time of records still in flight plus the
 * shortest timeout (new flows cannot be due sooner). Checkpoints every
 * 1/8 timeout keep "time of records in flight" current without a queue the
 * size of the ring. A worker never ticked too late; a needless tick changes
 * nothing.
 *
 * IP fragments are reassembled in the capture thread (one ipfrag, the caps of
 * one sensor): only the datagram knows the ports, and every fragment of a
 * flow must reach the flow's worker. The rebuilt datagram goes to the owner.
 *
 * Cost. What crosses between threads is what the pipeline adds to one
 * sensor's work, mostly cache lines one core wrote and another must fetch. So
 * the capture thread decodes a frame once and sends the decoded view, with
 * the flow's hash (which picks the worker and is the worker table's bucket
 * hash) and the TCP payload, or only the view when the capture's frames stay
 * valid to the end (capture_stable_frames: the payload is then read where it
 * lies); events cross compacted (event_wire.h). Readers give ring space back
 * and workers publish their watermark every RELEASE_EVERY records, not per
 * record; a full ring's writer waits for a quarter of it (then writes a
 * burst), and an idle reader soon sleeps instead of yielding (backoff).
 *
 * One engine, here in the merge thread, not shards by identity: its peer
 * groups (baselines per group of identities), the route lists behind
 * new_route/shadow_endpoint, the MIDAS and HS-tree streams over all traffic,
 * suppression, the identity cap (one clock hand over all identities) and the
 * alert counter in every alert id are global; sharded engines would give
 * other alerts and ids than one engine. The route table and the inventory are
 * global too. So routes, JSON, audit, engine and alert output run in one
 * thread, in stream order; output_alert() stays the one place alerts leave.
 */
#include "pipeline.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_wire.h"
#include "ipfrag.h"
#include "ring.h"

#define IN_RING_BYTES ((size_t)2 << 20)  /* segments: a quarter holds the largest frame */
#define OUT_RING_BYTES ((size_t)1 << 20) /* events: a few thousand of a few hundred bytes */
#define FINISH_SEQ (UINT64_MAX - 1)
#define CHECKPOINTS 64
#define AUDIT_TICK_EVERY 1024          /* merged records between audit_tick calls */
#define RELEASE_EVERY 32               /* records a reader consumes between two ring_flush */
#define HOLD_STEP ((uintptr_t)1 << 20) /* by-reference frames: file bytes between two marks */
#define HOLD_MAX ((uintptr_t)64 << 20) /* the most file the workers may lag behind by */
#define HOLD_MARKS 128                 /* > HOLD_MAX / HOLD_STEP + 2: never full */

/*
 * IN_TCP: a decoded segment, its payload copied after the view; IN_TCP_REF:
 * the view alone, its payload pointing into a frame that stays valid to the
 * end (capture_stable_frames); a datagram rebuilt from fragments is always
 * copied (ipfrag reuses its buffer).
 */
enum in_type { IN_TCP, IN_TCP_REF, IN_TICK, IN_SNAPSHOT, IN_EXCHANGE, IN_FINISH };

/* Capture -> worker. Followed by `len` bytes: a struct pkt_view and the
 * payload; a struct snap_ask; or a pointer to the exchange_config. */
struct in_rec {
	uint32_t type;
	uint32_t len;
	uint64_t seq;
	uint64_t now;          /* the capture clock (newest packet time) */
	uint64_t hash;         /* IN_TCP*: flow_hash of the endpoints, the worker's bucket hash */
};

enum phase { PH_EXPIRE, PH_PACKET, PH_SNAPSHOT, PH_FINISH };
enum out_type { OUT_EVENT, OUT_SNAPSHOT };

/* Worker -> merge. Followed by an event (event_wire.h) or a struct snap. */
struct out_rec {
	uint64_t seq;
	uint64_t order;
	uint8_t phase, rank, type, pad[5];
};

/* pipeline_snapshot: asked of every worker at one point of the stream. */
struct snap_ask {
	int tag;
	struct capture_stats cs;
	struct sensor_stats here;  /* the capture thread's own counters and IP fragments */
};

struct snap {
	struct snap_ask ask;
	uint64_t now;
	struct sensor_stats st;
};

struct checkpoint {
	uint64_t seq, now;
};

/* A by-reference frame: its seq and its address (the frames after it lie further on). */
struct hold_mark {
	uint64_t seq;
	uintptr_t at;
};

struct worker {
	unsigned id;
	pthread_t thread;
	struct sensor *sensor;
	struct ring *in, *out;
	/* Published by the worker. */
	_Alignas(64) _Atomic uint64_t watermark;   /* last seq fully handled; done: UINT64_MAX */
	_Atomic uint64_t next_expiry;              /* sensor_next_expiry after it */
	/* The worker thread's. */
	_Alignas(64) uint64_t seq;
	uint8_t phase;
	uint64_t events, out_waits;
	/* The merge thread's: the watermark it last read (or the dispatched seq, input empty). */
	_Alignas(64) uint64_t wm_seen;
	/* The capture thread's. */
	_Alignas(64) uint64_t frames, by_ref, ticks, in_waits, cut;
	uint64_t last_seq_sent;
	size_t in_max;                             /* ring_max_record(in) */
	uint64_t due;                              /* no flow of this worker is due before */
	struct checkpoint cp[CHECKPOINTS];         /* a FIFO: cp[(cp_head + i) % CHECKPOINTS] */
	unsigned cp_head, cp_n;
};

struct pipeline {
	struct pipeline_config cfg;
	struct sensor_limits lim;
	unsigned n, started;
	struct worker *w;
	pthread_t merge;
	bool merge_started;
	_Alignas(64) _Atomic uint64_t dispatched;  /* every record up to this seq is in a ring */
	/* The capture thread's. */
	_Alignas(64) uint64_t seq, now, min_timeout, checkpoint_every;
	struct ipfrag *frag;
	struct sensor_stats here;                  /* frames that went to no worker */
	struct hold_mark marks[HOLD_MARKS];        /* a FIFO, one per HOLD_STEP of frames */
	unsigned marks_head, marks_n;
	uintptr_t mark_next;                       /* the frame address of the next mark */
	uint64_t hold_seq;                         /* no frame before it is read any more */
	uint64_t hold_waits;
	/* The merge thread's. */
	_Alignas(64) struct api_event ev;
	struct sensor_stats snap_sum;              /* the workers' answers so far */
	unsigned snap_n;
	uint64_t merged, merge_waits, bad_records;
};

/*
 * Waiting on a ring: yield a little, then sleep 50 us doubling up to 1 ms
 * (the cores are shared; an idle live sensor wakes each thread 1000 times a
 * second at most, and a stalled writer notices room within a millisecond).
 */
#define BACKOFF_SLEEP 4 /* the first *n that sleeps */

static void backoff(unsigned *n)
{
	if (*n < BACKOFF_SLEEP + 5) /* 50 << 5 us: past the 1 ms cap */
		++*n;
	if (*n < BACKOFF_SLEEP) {
		sched_yield();
		return;
	}
	long us = 50L << (*n - BACKOFF_SLEEP);
	struct timespec ts = {0, (us < 1000 ? us : 1000) * 1000};
	nanosleep(&ts, NULL);
}

/*
 * A reader that found work again: one whose last wait ended in a sleep goes
 * straight back to a sleep as long as that one when it runs dry, instead of
 * yielding first: it then takes its records in bursts (up to 1 ms of them)
 * rather than one by one with a context switch for each.
 */
static void backoff_done(unsigned *n)
{
	*n = *n >= BACKOFF_SLEEP ? *n - 1 : 0;
}

/*
 * Room for a record of `len` bytes in a writer's ring; when it is full, waits
 * until a quarter of it is free (counted in *waits), so that the writer then
 * writes a burst instead of trading places with its reader record by record.
 */
static void *reserve_wait(struct ring *r, size_t len, uint64_t *waits)
{
	void *dst = ring_reserve(r, len);
	if (dst)
		return dst;
	(*waits)++;
	unsigned n = 0;
	size_t want = ring_max_record(r); /* a quarter of the ring, and more than a record */
	do
		backoff(&n);
	while (!ring_has_room(r, want));
	while (!(dst = ring_reserve(r, len)))
		backoff(&n);
	return dst;
}

/* ---- capture thread ---- */

static struct checkpoint *cp_at(struct worker *w, unsigned i)
{
	return &w->cp[(w->cp_head + i) % CHECKPOINTS];
}

static void send_rec(struct pipeline *p, struct worker *w, uint32_t type, uint64_t hash,
		     const void *a, size_t alen, const void *b, size_t blen)
{
	size_t max = w->in_max - sizeof(struct in_rec);
	if (alen + blen > max) { /* longer than any snapshot length: keep the head */
		w->cut++;
		blen = alen < max ? max - alen : 0;
		alen = alen < max ? alen : max;
	}
	size_t len = sizeof(struct in_rec) + alen + blen;
	uint8_t *dst = reserve_wait(w->in, len, &w->in_waits);
	struct in_rec h = {.type = type, .len = (uint32_t)(alen + blen), .seq = p->seq,
			   .now = p->now, .hash = hash};
	memcpy(dst, &h, sizeof h);
	if (alen == sizeof(struct pkt_view)) /* the usual record: a fixed-size copy, no rep movs */
		memcpy(dst + sizeof h, a, sizeof(struct pkt_view));
	else if (alen)
		memcpy(dst + sizeof h, a, alen);
	if (blen)
		memcpy(dst + sizeof h + alen, b, blen);
	ring_commit(w->in, len);
	w->last_seq_sent = p->seq;
	/* Whatever this record starts cannot be due before now + the shortest timeout. */
	if (p->now + p->min_timeout < w->due)
		w->due = p->now + p->min_timeout;
	if (w->cp_n == 0 ||
	    (w->cp_n < CHECKPOINTS && p->now - cp_at(w, w->cp_n - 1)->now >= p->checkpoint_every)) {
		*cp_at(w, w->cp_n) = (struct checkpoint){p->seq, p->now};
		w->cp_n++;
	}
}

/* A lower bound of the packet time at which a flow of w may be due, fresh from the worker. */
static uint64_t due_bound(struct pipeline *p, struct worker *w)
{
	uint64_t wm = atomic_load_explicit(&w->watermark, memory_order_acquire);
	uint64_t next = atomic_load_explicit(&w->next_expiry, memory_order_relaxed);
	if (wm >= w->last_seq_sent) { /* nothing in flight: the worker's figure is exact */
		w->cp_n = 0;
		return next;
	}
	/* Records after wm were sent no earlier than the last checkpoint at or before wm + 1. */
	while (w->cp_n >= 2 && cp_at(w, 1)->seq <= wm + 1) {
		w->cp_head = (w->cp_head + 1) % CHECKPOINTS;
		w->cp_n--;
	}
	uint64_t lo = cp_at(w, 0)->now + p->min_timeout;
	return next < lo ? next : lo;
}

/* Tells every worker but `to` the time of this frame when one of its flows may be due. */
static void send_ticks(struct pipeline *p, const struct worker *to)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (w == to || p->now < w->due)
			continue;
		w->due = due_bound(p, w);
		if (p->now < w->due)
			continue;
		send_rec(p, w, IN_TICK, 0, NULL, 0, NULL, 0);
		w->ticks++;
		w->due = p->now + 1; /* asked again at the next later frame */
	}
}

/*
 * The worker that owns the flow: the same for both directions. The high half
 * of the hash picks it; the workers' tables index buckets with the low bits.
 */
static struct worker *owner(struct pipeline *p, uint64_t hash)
{
	return &p->w[((hash >> 32) * p->n) >> 32];
}

static uint64_t hash_of(const struct pipeline *p, const struct pkt_view *v)
{
	return flow_hash(v->src, v->sport, v->dst, v->dport, p->cfg.seed);
}

/*
 * Frames by reference and memory. A worker reads a by-reference frame when
 * it gets to its record, up to a ring's worth of records (~14k frames, 10+
 * MB of file) after the reader handed it out; the reader must not release
 * those pages (MADV_DONTNEED: a page read after that is faulted back and
 * stays resident for good, the whole file by the end). So the reader asks,
 * every time it would release pages (pipeline_hold, capture_set_hold), for a
 * floor: an address no frame still to be read lies before; and the capture
 * thread waits there while the floor is more than HOLD_MAX behind (the memory
 * held then has a strict bound; a file loses nothing by waiting, and only a
 * file has stable frames). Asked by the reader, not told by pipeline_frame:
 * frames a filter drops never reach the pipeline, and a floor told at the
 * last frame that did would hold the file from there on.
 *
 * The floor: a worker whose input ring is empty (its head flushed up to our
 * tail) has handled every record sent to it, and flushes only after handling;
 * any other worker has handled every frame up to its watermark (published
 * before the flush) and reads no frame before seq watermark + 1 (a frame's
 * record comes first among the records of its seq). The oldest such seq over
 * the workers is a lower bound of every frame still to be read; so is the
 * largest of the bounds found so far (the true oldest only moves on), which
 * keeps the marks' FIFO moving. Frames lie in the mapping in seq order, so
 * the last mark at or before that seq is a floor. No worker with a record in
 * its ring: no floor.
 *
 * Why not count a by-reference record in its ring as if its payload were
 * copied: that bounds each worker's in-flight bytes by its ring, but not how
 * far behind in the file the slowest worker's oldest frame lies while the
 * others run on (with N workers the reader may be far past it), and the
 * reader would still need to know which pages are free.
 */
static void mark_frame(struct pipeline *p, const uint8_t *frame)
{
	uintptr_t at = (uintptr_t)frame;
	if (p->marks_n < HOLD_MARKS) { /* a skipped mark only makes the floor older */
		p->marks[(p->marks_head + p->marks_n) % HOLD_MARKS] = (struct hold_mark){p->seq, at};
		p->marks_n++;
	}
	p->mark_next = at + HOLD_STEP;
}

static uintptr_t hold_floor(struct pipeline *p)
{
	uint64_t s = p->seq + 1; /* the next frame, not sent yet */
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (ring_empty(w->in))
			continue;
		uint64_t wm = atomic_load_explicit(&w->watermark, memory_order_acquire);
		if (wm + 1 < s)
			s = wm + 1;
	}
	if (s < p->hold_seq)
		s = p->hold_seq;
	p->hold_seq = s;
	/* Marks behind the oldest frame still to be read go, also when every frame
	 * is read: kept, they would fill the mark ring while the workers keep up. */
	while (p->marks_n >= 2 && p->marks[(p->marks_head + 1) % HOLD_MARKS].seq <= s) {
		p->marks_head = (p->marks_head + 1) % HOLD_MARKS;
		p->marks_n--;
	}
	if (s > p->seq || p->marks_n == 0)
		return 0; /* every frame sent is read */
	return p->marks[p->marks_head].at;
}

const uint8_t *pipeline_hold(void *pipeline, const uint8_t *next)
{
	struct pipeline *p = pipeline;
	uintptr_t at = (uintptr_t)next, floor;
	unsigned n = 0;
	/* The workers drain their rings meanwhile: an empty ring holds nothing back. */
	while ((floor = hold_floor(p)) != 0 && floor < at && at - floor > HOLD_MAX) {
		if (n == 0)
			p->hold_waits++;
		backoff(&n);
	}
	return (const uint8_t *)floor;
}

void pipeline_frame(struct pipeline *p, uint64_t ts_us, const uint8_t *frame, size_t caplen)
{
	p->seq++;
	if (p->cfg.stable_frames && (uintptr_t)frame >= p->mark_next)
		mark_frame(p, frame);
	struct pkt_view v;
	struct worker *to = NULL;
	uint64_t hash = 0;
	/* Every frame is counted here, as the sensor would have; workers count TCP. */
	enum sensor_frame got = sensor_classify(&p->here.c, p->frag, p->cfg.link, &p->now, ts_us,
						frame, caplen, &v);
	bool rebuilt = got == SENSOR_FRAME_REBUILT;
	if (got != SENSOR_FRAME_NONE) {
		hash = hash_of(p, &v);
		to = owner(p, hash);
	}
	send_ticks(p, to);
	if (to && p->cfg.stable_frames && !rebuilt) {
		send_rec(p, to, IN_TCP_REF, hash, &v, sizeof v, NULL, 0);
		to->frames++;
		to->by_ref++;
	} else if (to) {
		/* Pointers into the frame do not cross; the worker points them at the copy. */
		const uint8_t *payload = v.payload;
		v.payload = NULL;
		v.frag_data = NULL;
		send_rec(p, to, IN_TCP, hash, &v, sizeof v, payload, v.payload_len);
		to->frames++;
	}
	atomic_store_explicit(&p->dispatched, p->seq, memory_order_release);
}

static void broadcast(struct pipeline *p, uint32_t type, const void *a, size_t alen)
{
	for (unsigned i = 0; i < p->started; i++)
		send_rec(p, &p->w[i], type, 0, a, alen, NULL, 0);
}

void pipeline_snapshot(struct pipeline *p, int tag, const struct capture_stats *cs)
{
	struct snap_ask a = {.tag = tag, .cs = *cs, .here = p->here};
	a.here.frag = *ipfrag_stats(p->frag);
	broadcast(p, IN_SNAPSHOT, &a, sizeof a);
}

void pipeline_set_exchange(struct pipeline *p, const struct exchange_config *xc)
{
	broadcast(p, IN_EXCHANGE, &xc, sizeof xc);
}

/* ---- workers ---- */

static void *out_reserve(struct worker *w, size_t len)
{
	return reserve_wait(w->out, len, &w->out_waits);
}

static void worker_emit(void *ctx, const struct api_event *ev)
{
	struct worker *w = ctx;
	struct out_rec h = {.seq = w->seq, .phase = w->phase, .type = OUT_EVENT};
	if (w->phase == PH_EXPIRE || w->phase == PH_FINISH) {
		bool closed;
		sensor_ending(w->sensor, &h.order, &closed);
		/* flow_expire ends closed flows first; flow_end_all open ones first. */
		h.rank = (uint8_t)(w->phase == PH_EXPIRE ? !closed : closed);
	}
	uint8_t *dst = out_reserve(w, sizeof h + EVENT_WIRE_MAX);
	memcpy(dst, &h, sizeof h);
	size_t n = event_wire_put(ev, dst + sizeof h);
	ring_commit(w->out, sizeof h + n);
	w->events++;
}

static void worker_snapshot(struct worker *w, const struct in_rec *h, const uint8_t *body)
{
	struct out_rec o = {.seq = h->seq, .phase = PH_SNAPSHOT, .type = OUT_SNAPSHOT};
	struct snap sn = {.now = h->now};
	memcpy(&sn.ask, body, sizeof sn.ask);
	sensor_get_stats(w->sensor, &sn.st);
	uint8_t *dst = out_reserve(w, sizeof o + sizeof sn);
	memcpy(dst, &o, sizeof o);
	memcpy(dst + sizeof o, &sn, sizeof sn);
	ring_commit(w->out, sizeof o + sizeof sn);
}

/* One record from the capture thread; returns false after the last. */
static bool worker_handle(struct worker *w, const struct in_rec *h, const uint8_t *body)
{
	struct sensor *s = w->sensor;
	w->seq = h->seq;
	sensor_set_seq(s, h->seq);
	switch ((enum in_type)h->type) {
	case IN_TCP:
	case IN_TCP_REF: {
		struct pkt_view v;
		memcpy(&v, body, sizeof v);
		if (h->type == IN_TCP) {
			size_t n = h->len - sizeof v; /* less than payload_len only when cut */
			v.payload = body + sizeof v;
			if (n < v.payload_len) {
				v.payload_len = n;
				v.truncated = true;
			}
		}
		w->phase = PH_EXPIRE;
		sensor_advance(s, h->now);
		w->phase = PH_PACKET;
		sensor_tcp(s, &v, h->hash);
		break;
	}
	case IN_TICK:
		w->phase = PH_EXPIRE;
		sensor_advance(s, h->now);
		break;
	case IN_SNAPSHOT:
		worker_snapshot(w, h, body);
		break;
	case IN_EXCHANGE: {
		const struct exchange_config *xc;
		memcpy(&xc, body, sizeof xc);
		sensor_set_exchange(s, xc);
		break;
	}
	case IN_FINISH:
		/* One sensor ends its flows at the newest packet time, not this worker's last. */
		w->phase = PH_EXPIRE;
		sensor_advance(s, h->now);
		w->seq = FINISH_SEQ;
		w->phase = PH_FINISH;
		sensor_finish(s);
		return false;
	}
	return true;
}

/* After the events it made: the merge thread may read "past seq". */
static void worker_publish(struct worker *w, uint64_t seq)
{
	atomic_store_explicit(&w->next_expiry, sensor_next_expiry(w->sensor), memory_order_relaxed);
	atomic_store_explicit(&w->watermark, seq, memory_order_release);
	ring_flush(w->in);
}

/*
 * Records are handled in batches: the watermark is published and the input
 * given back every RELEASE_EVERY records and whenever the input runs dry, not
 * after each one (the stores to lines the other threads read cost more than
 * the record's own work when the records are small).
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned idle = 0, pending = 0;
	uint64_t last = 0;
	char name[16];
	snprintf(name, sizeof name, "tapir-w%u", w->id);
	pthread_setname_np(pthread_self(), name); /* top -H, perf --sort comm */
	for (;;) {
		size_t len;
		const uint8_t *r = ring_peek(w->in, &len);
		if (!r) {
			if (pending) {
				worker_publish(w, last);
				pending = 0;
			}
			backoff(&idle);
			continue;
		}
		backoff_done(&idle);
		struct in_rec h;
		memcpy(&h, r, sizeof h);
		bool more = worker_handle(w, &h, r + sizeof h);
		ring_consume(w->in);
		if (!more) {
			worker_publish(w, UINT64_MAX);
			return NULL;
		}
		last = h.seq;
		if (++pending == RELEASE_EVERY) {
			worker_publish(w, last);
			pending = 0;
		}
	}
}

/* ---- merge thread ---- */

static bool before(const struct out_rec *a, unsigned wa, const struct out_rec *b, unsigned wb)
{
	if (a->seq != b->seq)
		return a->seq < b->seq;
	if (a->phase != b->phase)
		return a->phase < b->phase;
	if (a->rank != b->rank)
		return a->rank < b->rank;
	if (a->order != b->order)
		return a->order < b->order;
	return wa < wb;
}

static void deliver(struct pipeline *p, const struct out_rec *h, const uint8_t *body, size_t len)
{
	struct output *o = p->cfg.out;
	if (h->type == OUT_EVENT) {
		if (event_wire_get(&p->ev, body, len) != 0) {
			p->bad_records++;
			return;
		}
		output_event(o, &p->ev);
		return;
	}
	struct snap sn;
	if (len != sizeof sn) {
		p->bad_records++;
		return;
	}
	memcpy(&sn, body, sizeof sn);
	sensor_stats_add(&p->snap_sum, &sn.st);
	if (++p->snap_n < p->started)
		return;
	/* Every worker's figures at this point of the stream, as one sensor's. */
	struct sensor_stats sum = p->snap_sum;
	sensor_stats_add(&sum, &sn.ask.here);
	if (p->cfg.on_snapshot)
		p->cfg.on_snapshot(p->cfg.ctx, sn.ask.tag, o, sn.now, &sum, &sn.ask.cs);
	p->snap_sum = (struct sensor_stats){0};
	p->snap_n = 0;
}

/*
 * The smallest head among the workers' output rings. A worker without one
 * bounds what may go out by its watermark: with `fresh`, read now (and the
 * dispatched seq when its input is empty: everything sent to it is handled);
 * without, the one read last time, which stays a true bound (a watermark only
 * grows, and everything up to it was committed before it was read).
 */
static struct worker *merge_scan(struct pipeline *p, bool fresh, struct out_rec *bh,
				 const uint8_t **brec, size_t *blen, uint64_t *bound, bool *done)
{
	uint64_t d = fresh ? atomic_load_explicit(&p->dispatched, memory_order_acquire) : 0;
	struct worker *best = NULL;
	*bound = UINT64_MAX;
	*done = true;
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (fresh) {
			uint64_t wm = atomic_load_explicit(&w->watermark, memory_order_acquire);
			/* An empty input ring: every record up to d for w is handled. */
			if (wm < d && ring_empty(w->in))
				wm = d;
			w->wm_seen = wm;
		}
		size_t len;
		const uint8_t *r = ring_peek(w->out, &len);
		if (!r) {
			*done = *done && w->wm_seen == UINT64_MAX;
			if (w->wm_seen < *bound)
				*bound = w->wm_seen; /* w's next record has a later seq */
			continue;
		}
		*done = false;
		struct out_rec h;
		memcpy(&h, r, sizeof h);
		if (!best || before(&h, w->id, bh, best->id)) {
			best = w;
			*bh = h;
			*brec = r;
			*blen = len;
		}
	}
	return best;
}

/* Emits the next record in stream order: 1; 0 when it is not known yet; -1 at the end. */
static int merge_one(struct pipeline *p)
{
	struct out_rec bh = {0};
	const uint8_t *brec = NULL;
	size_t blen = 0;
	uint64_t bound;
	bool done;
	/* The watermarks read last time are usually enough: no line shared with a worker read. */
	struct worker *best = merge_scan(p, false, &bh, &brec, &blen, &bound, &done);
	if (!best || bh.seq > bound)
		best = merge_scan(p, true, &bh, &brec, &blen, &bound, &done);
	if (!best)
		return done ? -1 : 0;
	if (bh.seq > bound)
		return 0;
	deliver(p, &bh, brec + sizeof bh, blen - sizeof bh);
	ring_consume(best->out);
	return 1;
}

/* Gives the workers back the output space of every record merged so far. */
static void merge_flush(struct pipeline *p)
{
	for (unsigned i = 0; i < p->n; i++)
		ring_flush(p->w[i].out);
}

static void merge_chores(struct pipeline *p)
{
	struct output *o = p->cfg.out;
	if (o->audit && audit_tick(o->audit) != 0)
		o->audit_errors++;
}

static void *merge_main(void *arg)
{
	struct pipeline *p = arg;
	unsigned idle = 0;
	bool waiting = false;
	pthread_setname_np(pthread_self(), "tapir-merge");
	for (;;) {
		int r = merge_one(p);
		if (r > 0) {
			backoff_done(&idle);
			waiting = false;
			if (++p->merged % RELEASE_EVERY == 0)
				merge_flush(p);
			if (p->merged % AUDIT_TICK_EVERY == 0)
				merge_chores(p);
			continue;
		}
		merge_flush(p); /* a worker may be waiting for room */
		if (r < 0)
			return NULL;
		if (!waiting) {
			p->merge_waits++;
			merge_chores(p);
			waiting = true;
		}
		backoff(&idle);
	}
}

/* ---- set-up and shutdown ---- */

int pipeline_start(struct pipeline **out, const struct pipeline_config *c, char *err,
		   size_t errlen)
{
	*out = NULL;
	if (c->workers < 1 || c->workers > PIPELINE_MAX_WORKERS) {
		snprintf(err, errlen, "workers: %u is not from 1 to %d", c->workers,
			 PIPELINE_MAX_WORKERS);
		return -1;
	}
	struct pipeline *p = aligned_alloc(64, (sizeof *p + 63) & ~(size_t)63);
	if (!p) {
		snprintf(err, errlen, "out of memory starting the pipeline");
		return -1;
	}
	memset(p, 0, sizeof *p);
	p->cfg = *c;
	p->n = c->workers;
	/* The caps of one sensor, shared out: each worker holds about 1/N of the flows. */
	p->lim = *c->lim;
	p->lim.flow.max_flows = p->lim.flow.max_flows / p->n ? p->lim.flow.max_flows / p->n : 1;
	p->lim.reasm_memcap /= p->n;
	p->lim.session.memcap /= p->n;
	p->min_timeout = p->lim.flow.idle_us < p->lim.flow.closed_us ? p->lim.flow.idle_us
								     : p->lim.flow.closed_us;
	p->checkpoint_every = p->min_timeout / 8;
	p->frag = ipfrag_new(&c->lim->frag);
	p->w = aligned_alloc(64, sizeof *p->w * p->n);
	if (!p->frag || !p->w)
		goto oom;
	memset(p->w, 0, sizeof *p->w * p->n);
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		w->id = i;
		w->due = UINT64_MAX;
		atomic_init(&w->watermark, 0);
		atomic_init(&w->next_expiry, UINT64_MAX);
		w->in = ring_new(IN_RING_BYTES);
		w->out = ring_new(OUT_RING_BYTES);
		/* One seed: the capture thread's flow_hash is each table's bucket hash. */
		w->sensor = sensor_new(&p->lim, worker_emit, w, c->seed);
		if (!w->in || !w->out || !w->sensor)
			goto oom;
		w->in_max = ring_max_record(w->in);
	}
	/* Signals stay with the capture thread (capture_stop must wake its read). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	bool ok = pthread_create(&p->merge, NULL, merge_main, p) == 0;
	p->merge_started = ok;
	for (; ok && p->started < p->n; p->started++)
		ok = pthread_create(&p->w[p->started].thread, NULL, worker_main,
				    &p->w[p->started]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok) {
		if (p->merge_started)
			p->started--; /* the one that failed */
		pipeline_finish(p);
		goto nothread;
	}
	*out = p;
	return 0;
oom:
	snprintf(err, errlen, "out of memory starting the pipeline");
	pipeline_free(p);
	return -1;
nothread:
	snprintf(err, errlen, "cannot start the pipeline's threads");
	pipeline_free(p);
	return -1;
}

void pipeline_finish(struct pipeline *p)
{
	if (!p->merge_started)
		return;
	/* Workers never started have nothing to say. */
	for (unsigned i = p->started; i < p->n; i++)
		atomic_store(&p->w[i].watermark, UINT64_MAX);
	broadcast(p, IN_FINISH, NULL, 0);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->w[i].thread, NULL);
	pthread_join(p->merge, NULL);
	p->merge_started = false;
}

void pipeline_sensor_stats(const struct pipeline *p, struct sensor_stats *st)
{
	*st = p->here;
	st->frag = *ipfrag_stats(p->frag);
	for (unsigned i = 0; i < p->n; i++) {
		struct sensor_stats one;
		sensor_get_stats(p->w[i].sensor, &one);
		sensor_stats_add(st, &one);
	}
}

#define U(name, val) fprintf(out, ",\"%s\":%llu", name, (unsigned long long)(val))

void pipeline_stats_json(const struct pipeline *p, FILE *out)
{
	fprintf(out, ",\"pipeline\":{\"workers\":%u", p->n);
	U("frames", p->seq);
	U("merged", p->merged);
	U("merge_waits", p->merge_waits);
	U("bad_records", p->bad_records);
	U("file_hold_waits", p->hold_waits);
	fprintf(out, ",\"per_worker\":[");
	for (unsigned i = 0; i < p->n; i++) {
		const struct worker *w = &p->w[i];
		fprintf(out, "%s{\"frames\":%llu", i ? "," : "", (unsigned long long)w->frames);
		U("by_reference", w->by_ref);
		U("ticks", w->ticks);
		U("ring_full_waits", w->in_waits);
		U("frames_cut", w->cut);
		U("events", w->events);
		U("event_ring_full_waits", w->out_waits);
		fprintf(out, "}");
	}
	fprintf(out, "]}");
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	pipeline_finish(p); /* no thread may outlive its rings */
	if (p->w)
		for (unsigned i = 0; i < p->n; i++) {
			sensor_free(p->w[i].sensor);
			ring_free(p->w[i].in);
			ring_free(p->w[i].out);
		}
	free(p->w);
	ipfrag_free(p->frag);
	free(p);
}
