/*
 * ring.c - SPSC byte ring (ring.h). Positions run freely (size_t, never
 * wrapped) and are masked to index; the writer owns `tail`, the reader owns
 * `head`, each on its own cache line with the other side's value cached next
 * to it so the shared line is read only when the cached value says "full" or
 * "empty". The reader reads at its own position (rpos) and publishes head only
 * when it flushes, so a batch of records costs one store to the shared line.
 * Publication: commit stores tail with release after writing the record; peek
 * loads tail with acquire before reading it (and the mirror for head), which
 * is all the ordering an SPSC queue needs.
 *
 * Layout of one record, 8-byte aligned:
 *
 *   +----------+----------+---------------------+
 *   | len (u32)| pad (u32)| len bytes, padded   |
 *   +----------+----------+---------------------+
 *
 * A record never wraps: when it does not fit before the end of the buffer
 * the writer leaves a WRAP header there and starts again at offset 0.
 */
#include "ring.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINE 64
#define HDR 8
#define WRAP UINT32_MAX

struct ring {
	/* Reader's line. */
	_Alignas(LINE) _Atomic size_t head;
	size_t rpos;      /* next record to read: head plus what is consumed, not flushed */
	size_t tail_cache;
	/* Writer's line. */
	_Alignas(LINE) _Atomic size_t tail;
	size_t head_cache;
	size_t pending;   /* where the reserved record starts (after any wrap) */
	/* Read-only after ring_new. */
	_Alignas(LINE) size_t mask;
	uint8_t *buf;
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

struct ring *ring_new(size_t bytes)
{
	size_t n = 4096;
	while (n < bytes && n < ((size_t)1 << 40))
		n <<= 1;
	struct ring *r = aligned_alloc(LINE, sizeof *r);
	if (!r)
		return NULL;
	memset(r, 0, sizeof *r);
	r->buf = aligned_alloc(LINE, n);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->mask = n - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

size_t ring_max_record(const struct ring *r)
{
	return (r->mask + 1) / 4;
}

/* Free bytes from the writer's view; refreshes the cached head when short. */
static size_t room(struct ring *r, size_t tail, size_t need)
{
	size_t cap = r->mask + 1;
	if (cap - (tail - r->head_cache) >= need)
		return need;
	r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
	return cap - (tail - r->head_cache);
}

void *ring_reserve(struct ring *r, size_t len)
{
	if (len == 0 || len > ring_max_record(r))
		return NULL;
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t need = HDR + round8(len);
	size_t off = tail & r->mask;
	size_t to_end = r->mask + 1 - off;
	size_t total = need <= to_end ? need : to_end + need;
	if (room(r, tail, total) < total)
		return NULL;
	if (need > to_end) {
		uint32_t wrap = WRAP;
		memcpy(r->buf + off, &wrap, sizeof wrap);
		tail += to_end;
		off = 0;
	}
	r->pending = tail;
	return r->buf + off + HDR;
}

bool ring_has_room(struct ring *r, size_t bytes)
{
	return room(r, atomic_load_explicit(&r->tail, memory_order_relaxed), bytes) >= bytes;
}

void ring_commit(struct ring *r, size_t len)
{
	size_t tail = r->pending;
	uint32_t l = (uint32_t)len;
	memcpy(r->buf + (tail & r->mask), &l, sizeof l);
	atomic_store_explicit(&r->tail, tail + HDR + round8(len), memory_order_release);
}

const void *ring_peek(struct ring *r, size_t *len)
{
	for (;;) {
		if (r->rpos == r->tail_cache) {
			r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
			if (r->rpos == r->tail_cache)
				return NULL;
		}
		size_t off = r->rpos & r->mask;
		uint32_t l;
		memcpy(&l, r->buf + off, sizeof l);
		if (l != WRAP) {
			*len = l;
			return r->buf + off + HDR;
		}
		r->rpos += r->mask + 1 - off; /* skip the wrap marker */
	}
}

void ring_consume(struct ring *r)
{
	uint32_t l;
	memcpy(&l, r->buf + (r->rpos & r->mask), sizeof l);
	r->rpos += HDR + round8(l);
}

void ring_flush(struct ring *r)
{
	if (atomic_load_explicit(&r->head, memory_order_relaxed) != r->rpos)
		atomic_store_explicit(&r->head, r->rpos, memory_order_release);
}

void ring_release(struct ring *r)
{
	ring_consume(r);
	ring_flush(r);
}

bool ring_empty(const struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	return atomic_load_explicit(&r->head, memory_order_acquire) == tail;
}
