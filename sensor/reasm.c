/*
 * reasm.c - one direction of a TCP connection, reassembled into a byte stream.
 *
 * A passive observer's version of the receive side of RFC 9293: section 3.4
 * (sequence numbers: a segment occupies [SEG.SEQ, SEG.SEQ+SEG.LEN), the SYN
 * and the FIN each occupy one number) and section 3.10.7.4 (segments are
 * trimmed to the next expected byte and processed in sequence order; early
 * ones are held). Every comparison of two sequence numbers is RFC 1982 serial
 * arithmetic, (int32_t)(a - b), so crossing 2^32 is ordinary.
 *
 *              next_seq                                          fin_seq
 *   delivered     |  hole   held[0]    hole    held[1]   hole       |
 *   --------------+.......[#######].........[#####]...............F
 *
 * Held segments are sorted, never overlap, and always start after next_seq.
 * When a FIN has been seen every held byte lies before fin_seq.
 *
 * Fast path: the next bytes of a direction with nothing held and no FIN
 * pending go straight from the packet to the sink: a handful of compares, no
 * allocation, no copy.
 *
 * Degrades, each counted in the pool's stats: old bytes are dropped
 * (retransmits, overlaps); a later copy of a held byte is dropped (overlaps,
 * overlap_conflicts when it differs); a hole is given up on (gaps, plus
 * limit_gaps or memcap_gaps when a cap forced it) when the receiver's ACK
 * passes it, when holding more would pass the per-direction limits or the
 * shared cap (malloc failing counts as the shared cap), or at flush.
 */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

/*
 * Largest piece handled at once. No capture hands us more in one segment
 * (libpcap's snaplen tops out at 256 KiB; GRO/BIG TCP super-segments are
 * smaller than this), and keeping segments small keeps every span we subtract
 * (ahead + len) far below 2^31, where serial arithmetic stops being defined.
 * A longer buffer is offered in pieces of this size, so nothing is lost.
 */
#define REASM_SEG_MAX (1u << 20)

/*
 * How far ahead of next_seq a segment or an ACK may be and still belong to
 * this connection: the largest window TCP can advertise is 65535 << 14, just
 * under 2^30 (RFC 7323 section 2.3). Anything further is bogus (a stray
 * packet, a corrupt header) and is ignored rather than allowed to make us
 * give up on everything before it.
 */
#define REASM_AHEAD_MAX (1u << 30)

/* One held early segment; the bytes follow the struct in the same block. */
struct reasm_seg {
	struct reasm_seg *next;
	uint32_t seq;
	uint32_t len;    /* bytes of data[] still held (a FIN may cut the tail) */
	uint32_t charge; /* bytes counted in pool->used: the whole block */
	uint8_t data[];
};

/* Why a hole is given up on: selects the extra counter. */
enum reasm_cause {
	REASM_FITS,   /* no hole needs giving up */
	REASM_PLAIN,  /* receiver acknowledged past it, or flush */
	REASM_LIMIT,  /* per-direction limits */
	REASM_MEMCAP, /* shared pool cap, or malloc failed */
};

/* What happened to one offered segment, counted once when it is done. */
struct reasm_flags {
	bool overlap;  /* some bytes were old, already held, or past the FIN */
	bool conflict; /* some already-held bytes differed */
	bool held;     /* some bytes were copied and held */
};

/* What holding a segment would add. */
struct reasm_plan {
	uint32_t bytes;
	uint32_t segs;
};

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void seg_free(struct reasm_dir *d, struct reasm_pool *pool, struct reasm_seg *h)
{
	pool->used -= h->charge;
	d->held_bytes -= h->len;
	d->held_segs--;
	free(h);
}

static void emit(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_sink *sink,
		 const uint8_t *p, uint32_t n)
{
	sink->data(sink->ctx, p, n);
	pool->stats.bytes += n;
	d->next_seq += n;
}

/* Gives up [next_seq, to): the sink hears gap(len), the stream goes on at `to`. */
static void report_gap(struct reasm_dir *d, struct reasm_pool *pool,
		       const struct reasm_sink *sink, uint32_t to, enum reasm_cause why)
{
	uint32_t n = to - d->next_seq; /* < 2^31: callers pass `to` serially ahead */

	sink->gap(sink->ctx, n);
	pool->stats.gaps++;
	pool->stats.gap_bytes += n;
	if (why == REASM_LIMIT)
		pool->stats.limit_gaps++;
	else if (why == REASM_MEMCAP)
		pool->stats.memcap_gaps++;
	d->next_seq = to;
}

static void finish(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_sink *sink)
{
	d->finished = true;
	reasm_release(d, pool); /* nothing should be held: all of it lay before the FIN */
	sink->fin(sink->ctx);
}

/* Delivers the held segments that are now in order; reaches the FIN if due. */
static void drain(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_sink *sink)
{
	struct reasm_seg *h;

	while ((h = d->held) != NULL) {
		int32_t skip = seq_diff(d->next_seq, h->seq);

		if (skip < 0)
			break; /* the next hole */
		d->held = h->next;
		if ((uint32_t)skip < h->len)
			emit(d, pool, sink, h->data + skip, h->len - (uint32_t)skip);
		seg_free(d, pool, h);
	}
	if (d->fin_seen && !d->finished && d->next_seq == d->fin_seq)
		finish(d, pool, sink);
}

/*
 * Delivers [next_seq, end) of a segment starting at or before next_seq, whose
 * first byte is at `p` for sequence number `seq`. Held segments inside that
 * range are older copies: they win, and the new bytes are compared to them.
 */
static void deliver_new(struct reasm_dir *d, struct reasm_pool *pool,
			const struct reasm_sink *sink, uint32_t seq, uint32_t end,
			const uint8_t *p, struct reasm_flags *f)
{
	p += d->next_seq - seq;
	while (seq_diff(end, d->next_seq) > 0) {
		struct reasm_seg *h = d->held;
		int32_t lead;
		uint32_t skip, hn, n;

		if (h == NULL || seq_diff(h->seq, end) >= 0) {
			emit(d, pool, sink, p, end - d->next_seq);
			break;
		}
		lead = seq_diff(h->seq, d->next_seq);
		if (lead > 0) {
			emit(d, pool, sink, p, (uint32_t)lead);
			p += lead;
			continue;
		}
		/* h holds the bytes from next_seq on: its copy came first */
		d->held = h->next;
		skip = (uint32_t)-lead;
		if (skip < h->len) {
			hn = h->len - skip;
			n = hn < end - d->next_seq ? hn : end - d->next_seq;
			if (memcmp(h->data + skip, p, n) != 0)
				f->conflict = true;
			f->overlap = true;
			p += n;
			emit(d, pool, sink, h->data + skip, hn);
		}
		seg_free(d, pool, h);
	}
	drain(d, pool, sink);
}

/*
 * Walks [seq, end) against the held list: the bytes not yet held become new
 * pieces, the bytes already held are compared. With `chain` NULL it only
 * plans (fills `plan`, sets flags); otherwise it copies the new pieces into a
 * sorted chain of fresh blocks, and returns false when malloc fails (nothing
 * is left allocated then).
 */
static bool hold_walk(const struct reasm_dir *d, uint32_t seq, uint32_t end, const uint8_t *p,
		      struct reasm_flags *f, struct reasm_plan *plan, struct reasm_seg **chain)
{
	const struct reasm_seg *h = d->held;
	struct reasm_seg **tail = chain;
	uint32_t cur = seq;

	while (seq_diff(end, cur) > 0) {
		uint32_t stop;

		if (h != NULL && seq_diff(h->seq + h->len, cur) <= 0) {
			h = h->next; /* wholly before cur */
			continue;
		}
		if (h != NULL && seq_diff(h->seq, cur) <= 0) {
			/* held from cur on: keep it, compare ours */
			uint32_t hend = h->seq + h->len;

			stop = seq_diff(hend, end) < 0 ? hend : end;
			if (f != NULL) {
				if (memcmp(h->data + (cur - h->seq), p + (cur - seq), stop - cur) != 0)
					f->conflict = true;
				f->overlap = true;
			}
			cur = stop;
			h = h->next;
			continue;
		}
		stop = (h != NULL && seq_diff(h->seq, end) < 0) ? h->seq : end;
		if (chain == NULL) {
			plan->bytes += stop - cur;
			plan->segs++;
		} else {
			struct reasm_seg *s = malloc(sizeof(*s) + (stop - cur));

			if (s == NULL) {
				while ((s = *chain) != NULL) {
					*chain = s->next;
					free(s);
				}
				return false;
			}
			s->next = NULL;
			s->seq = cur;
			s->len = stop - cur;
			s->charge = (uint32_t)sizeof(*s) + s->len;
			memcpy(s->data, p + (cur - seq), s->len);
			*tail = s;
			tail = &s->next;
		}
		cur = stop;
	}
	return true;
}

/* Links a sorted chain of new pieces (which overlap nothing held) into d->held. */
static void hold_merge(struct reasm_dir *d, struct reasm_pool *pool, struct reasm_seg *chain)
{
	struct reasm_seg **link = &d->held;

	while (chain != NULL) {
		struct reasm_seg *s = chain;

		chain = s->next;
		while (*link != NULL && seq_diff((*link)->seq, s->seq) < 0)
			link = &(*link)->next;
		s->next = *link;
		*link = s;
		link = &s->next;
		d->held_bytes += s->len;
		d->held_segs++;
		pool->used += s->charge;
		if (pool->used > pool->peak)
			pool->peak = pool->used;
	}
}

static enum reasm_cause hold_fits(const struct reasm_dir *d, const struct reasm_pool *pool,
				  const struct reasm_limits *lim, const struct reasm_plan *plan)
{
	uint64_t cost = plan->bytes + (uint64_t)plan->segs * sizeof(struct reasm_seg);

	if ((uint64_t)d->held_bytes + plan->bytes > lim->max_held_bytes ||
	    (uint64_t)d->held_segs + plan->segs > lim->max_held_segs)
		return REASM_LIMIT;
	if (pool->used > pool->cap || cost > pool->cap - pool->used)
		return REASM_MEMCAP;
	return REASM_FITS;
}

/*
 * [seq, end) lies ahead of next_seq: hold its new bytes. When they do not fit,
 * give up the first hole (up to the held data or to this segment, whichever
 * comes first), deliver what that made in order, and try again; each round
 * moves next_seq forward, so this ends with the segment held or in order.
 */
static void hold(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_limits *lim,
		 uint32_t seq, uint32_t end, const uint8_t *p, struct reasm_flags *f,
		 const struct reasm_sink *sink)
{
	for (;;) {
		struct reasm_plan plan = {0, 0};
		struct reasm_seg *chain = NULL;
		enum reasm_cause why;
		uint32_t to;

		if (d->finished)
			return;
		if (seq_diff(seq, d->next_seq) <= 0) {
			if (seq_diff(seq, d->next_seq) < 0)
				f->overlap = true; /* held data delivered over our start */
			if (seq_diff(end, d->next_seq) > 0)
				deliver_new(d, pool, sink, seq, end, p, f);
			return;
		}
		hold_walk(d, seq, end, p, f, &plan, NULL);
		if (plan.segs == 0)
			return; /* every byte is held already */
		why = hold_fits(d, pool, lim, &plan);
		if (why == REASM_FITS) {
			if (hold_walk(d, seq, end, p, NULL, NULL, &chain)) {
				hold_merge(d, pool, chain);
				f->held = true;
				return;
			}
			why = REASM_MEMCAP;
		}
		to = seq;
		if (d->held != NULL && seq_diff(d->held->seq, to) < 0)
			to = d->held->seq;
		report_gap(d, pool, sink, to, why);
		drain(d, pool, sink);
	}
}

/* The first FIN: it fixes the end; held bytes beyond it are dropped. */
static void note_fin(struct reasm_dir *d, struct reasm_pool *pool, uint32_t fin_seq,
		     struct reasm_flags *f)
{
	struct reasm_seg **link = &d->held, *h;

	d->fin_seen = true;
	d->fin_seq = fin_seq;
	while ((h = *link) != NULL) {
		uint32_t hend = h->seq + h->len;

		if (seq_diff(h->seq, fin_seq) >= 0) {
			*link = h->next;
			seg_free(d, pool, h);
			f->overlap = true;
			continue;
		}
		if (seq_diff(hend, fin_seq) > 0) {
			uint32_t cut = hend - fin_seq;

			h->len -= cut;
			d->held_bytes -= cut;
			f->overlap = true;
		}
		link = &h->next;
	}
}

/* One segment of at most REASM_SEG_MAX bytes, off the fast path. */
static void offer(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_limits *lim,
		  uint32_t seq, const uint8_t *p, uint32_t len, bool fin,
		  const struct reasm_sink *sink)
{
	struct reasm_flags f = {false, false, false};
	uint32_t end = seq + len;
	bool new_fin = false;
	int32_t off;

	if (!d->started) {
		d->next_seq = seq;
		d->started = true;
	}
	if (d->finished) {
		pool->stats.retransmits++; /* after the FIN: nothing more belongs here */
		return;
	}
	off = seq_diff(seq, d->next_seq);
	if (off > (int32_t)REASM_AHEAD_MAX)
		return; /* outside any window: not this connection's data */
	if (fin && !d->fin_seen && seq_diff(end, d->next_seq) >= 0) {
		new_fin = true;
		note_fin(d, pool, end, &f);
	}
	if (d->fin_seen && seq_diff(end, d->fin_seq) > 0) {
		if (seq_diff(seq, d->fin_seq) >= 0) {
			pool->stats.retransmits++; /* wholly past the FIN */
			return;
		}
		end = d->fin_seq;
		f.overlap = true;
	}
	if (end == seq || seq_diff(end, d->next_seq) <= 0) {
		/* no new payload byte */
		if (!new_fin) {
			pool->stats.retransmits++;
		} else if (off > 0) {
			pool->stats.ooo_segments++; /* a FIN ahead of the data waits */
		} else {
			if (off < 0)
				f.overlap = true; /* old data carrying the new FIN */
			drain(d, pool, sink); /* the FIN is at next_seq */
		}
		if (f.overlap)
			pool->stats.overlaps++;
		return;
	}
	if (off <= 0) {
		if (off < 0)
			f.overlap = true;
		deliver_new(d, pool, sink, seq, end, p, &f);
	} else {
		hold(d, pool, lim, seq, end, p, &f, sink);
		if (f.held || new_fin)
			pool->stats.ooo_segments++;
	}
	if (f.overlap)
		pool->stats.overlaps++;
	if (f.conflict)
		pool->stats.overlap_conflicts++;
}

void reasm_init(struct reasm_dir *d)
{
	memset(d, 0, sizeof(*d));
}

void reasm_syn(struct reasm_dir *d, uint32_t isn)
{
	if (d->started)
		return; /* a retransmitted SYN, or data already started the stream */
	d->next_seq = isn + 1;
	d->started = true;
}

void reasm_segment(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_limits *lim,
		   uint32_t seq, const uint8_t *data, size_t len, bool fin,
		   const struct reasm_sink *sink)
{
	if (len == 0 && !fin)
		return; /* a pure ACK carries nothing for this direction */
	pool->stats.segments++;
	if (d->started && seq == d->next_seq && d->held == NULL && !d->fin_seen && !fin &&
	    len <= REASM_SEG_MAX) {
		sink->data(sink->ctx, data, len);
		pool->stats.bytes += len;
		d->next_seq = seq + (uint32_t)len;
		return;
	}
	while (len > REASM_SEG_MAX) {
		offer(d, pool, lim, seq, data, REASM_SEG_MAX, false, sink);
		seq += REASM_SEG_MAX;
		data += REASM_SEG_MAX;
		len -= REASM_SEG_MAX;
	}
	offer(d, pool, lim, seq, data, (uint32_t)len, fin, sink);
}

void reasm_acked(struct reasm_dir *d, struct reasm_pool *pool, uint32_t ack,
		 const struct reasm_sink *sink)
{
	int32_t ahead;

	if (!d->started || d->finished)
		return;
	ahead = seq_diff(ack, d->next_seq);
	if (ahead <= 0 || ahead > (int32_t)REASM_AHEAD_MAX)
		return; /* nothing new, or a bogus ACK that must not skip the stream */
	while (!d->finished && seq_diff(ack, d->next_seq) > 0) {
		uint32_t before = d->next_seq, to = ack;

		if (d->held != NULL && seq_diff(d->held->seq, to) < 0)
			to = d->held->seq;
		if (d->fin_seen && seq_diff(d->fin_seq, to) < 0)
			to = d->fin_seq; /* the ACK of a FIN covers one number past the data */
		if (seq_diff(to, d->next_seq) > 0)
			report_gap(d, pool, sink, to, REASM_PLAIN);
		drain(d, pool, sink);
		if (d->next_seq == before)
			break; /* no progress possible; cannot happen with the invariants */
	}
}

void reasm_flush(struct reasm_dir *d, struct reasm_pool *pool, const struct reasm_sink *sink)
{
	if (!d->started || d->finished)
		return;
	while (d->held != NULL && !d->finished) {
		if (seq_diff(d->held->seq, d->next_seq) > 0)
			report_gap(d, pool, sink, d->held->seq, REASM_PLAIN);
		drain(d, pool, sink);
	}
	if (d->fin_seen && !d->finished) {
		if (seq_diff(d->fin_seq, d->next_seq) > 0)
			report_gap(d, pool, sink, d->fin_seq, REASM_PLAIN);
		finish(d, pool, sink);
	}
}

void reasm_release(struct reasm_dir *d, struct reasm_pool *pool)
{
	struct reasm_seg *h;

	while ((h = d->held) != NULL) {
		d->held = h->next;
		seg_free(d, pool, h);
	}
}
