/*
 * ring.h - bounded lock-free single-producer/single-consumer ring of
 * variable-length records, the link between two pipeline threads.
 *
 * One thread writes (ring_reserve, then ring_commit), one thread reads
 * (ring_peek, then ring_release); no locks, no allocation after ring_new.
 * A record is read in place and released only when the reader is done with
 * it, so the writer may read "released" as "fully processed"; the reader may
 * release records in batches.
 */
#ifndef TAPIR_RING_H
#define TAPIR_RING_H

#include <stdbool.h>
#include <stddef.h>

struct ring;

/*
 * A ring of at least `bytes` bytes (rounded up to a power of two, at least
 * 4 KiB). Returns NULL when out of memory. The largest record is
 * ring_max_record().
 */
struct ring *ring_new(size_t bytes);
void ring_free(struct ring *r);

/* Bytes of the largest record this ring takes (a quarter of its size). */
size_t ring_max_record(const struct ring *r);

/*
 * Writer: room for one record of `len` bytes (1..ring_max_record), 8-byte
 * aligned, or NULL when the ring is full now (try again later). Nothing is
 * visible to the reader until ring_commit(r, len), len at most the reserved
 * length (a writer may reserve for the largest record and commit less).
 */
void *ring_reserve(struct ring *r, size_t len);
void ring_commit(struct ring *r, size_t len);

/* Writer: whether `bytes` bytes are free now (for a writer waiting on a full ring). */
bool ring_has_room(struct ring *r, size_t bytes);

/* Reader: the oldest record not consumed (its length in *len), or NULL when empty. */
const void *ring_peek(struct ring *r, size_t *len);
/*
 * Reader: done with the record ring_peek returned. ring_consume moves on to
 * the next one but keeps its bytes from the writer until ring_flush, which
 * gives back every record consumed so far with one store to the shared index
 * (a reader that batches must flush before it waits, or the writer may wait
 * on it). ring_release is ring_consume then ring_flush.
 */
void ring_consume(struct ring *r);
void ring_flush(struct ring *r);
void ring_release(struct ring *r);

/* Either thread, or a third one: nothing committed is left unflushed. */
bool ring_empty(const struct ring *r);

#endif
