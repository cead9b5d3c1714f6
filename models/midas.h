/*
 * midas.h - MIDAS-R style burst scoring of edge streams with count-min
 * sketches (Bhatia et al., "MIDAS: Microcluster-Based Detector of Anomalies
 * in Edge Streams", AAAI 2020), in event time.
 *
 * Each edge (a 64-bit key such as hash(identity, route)) is counted in the
 * current time bucket and in a decayed total. The score is the chi-square
 * statistic of the current bucket against the edge's mean rate. Anomalous
 * buckets are not absorbed: when a bucket scores above the threshold, it is
 * not merged into the total when the bucket closes (so a long burst keeps
 * scoring instead of becoming the baseline). Fixed memory: rows x cols counters.
 */
#ifndef TAPIR_MIDAS_H
#define TAPIR_MIDAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct midas_config {
	uint32_t rows;           /* hash functions (e.g. 4) */
	uint32_t cols;           /* counters per row (e.g. 4096) */
	uint64_t bucket_us;      /* bucket length in event time (e.g. 60 s) */
	double decay;            /* factor applied to totals per closed bucket (e.g. 0.5 .. 0.99) */
	double absorb_max;       /* buckets scoring above this are not merged into the totals */
	uint64_t seed;
};

struct midas;

struct midas *midas_new(const struct midas_config *cfg);
void midas_free(struct midas *m);

/*
 * Counts one occurrence of `key` at event time `now` and returns its score
 * (>= 0; larger is more anomalous). Buckets close lazily as time advances.
 */
double midas_observe(struct midas *m, uint64_t key, uint64_t now);

/*
 * Asks for the cells midas_observe(m, key, ...) will read, so that their
 * cache misses overlap other work (the table is larger than the caches).
 * Changes no count or score.
 */
void midas_prefetch(struct midas *m, uint64_t key);

/* Bytes held (fixed after midas_new). */
size_t midas_memory(const struct midas *m);

/* State, for engine_save/engine_load: returns 0 or -1. */
int midas_save(const struct midas *m, FILE *out);
int midas_load(struct midas *m, FILE *in);

#endif
