/*
 * test_ring.c - the SPSC ring: order, wrap-around, full and empty, space
 * given back only when flushed, and a two-thread stress (batched releases)
 * where every record's length and bytes are checked.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "../sensor/ring.h"
#include "unit.h"

static void put(struct ring *r, uint32_t v, size_t len)
{
	uint8_t *p = ring_reserve(r, len);
	CHECK(p != NULL);
	if (!p)
		return;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(v + i);
	ring_commit(r, len);
}

static void test_order_and_wrap(void)
{
	struct ring *r = ring_new(4096);
	CHECK(r != NULL);
	CHECK(ring_empty(r));
	size_t len;
	CHECK(ring_peek(r, &len) == NULL);
	CHECK(ring_reserve(r, 0) == NULL);
	CHECK(ring_reserve(r, ring_max_record(r) + 1) == NULL);
	/* Many rounds of three odd-sized records: the positions wrap many times. */
	for (uint32_t round = 0; round < 1000; round++) {
		for (uint32_t k = 0; k < 3; k++)
			put(r, round * 3 + k, 100 + 37 * k + round % 50);
		for (uint32_t k = 0; k < 3; k++) {
			const uint8_t *p = ring_peek(r, &len);
			CHECK(p != NULL);
			if (!p)
				return;
			CHECK_EQ(len, 100 + 37 * k + round % 50);
			CHECK_EQ(p[0], (uint8_t)(round * 3 + k));
			CHECK_EQ(p[len - 1], (uint8_t)(round * 3 + k + len - 1));
			ring_release(r);
		}
		CHECK(ring_empty(r));
	}
	ring_free(r);
}

/* Reserved for a large record, committed for a smaller one: the reader sees the smaller. */
static void test_commit_less(void)
{
	struct ring *r = ring_new(4096);
	size_t len;
	for (int i = 0; i < 50; i++) {
		uint8_t *p = ring_reserve(r, 900);
		CHECK(p != NULL);
		if (!p)
			break;
		p[0] = (uint8_t)i;
		ring_commit(r, 10 + (size_t)i);
		const uint8_t *q = ring_peek(r, &len);
		CHECK(q == p && len == 10 + (size_t)i && q[0] == (uint8_t)i);
		ring_release(r);
	}
	CHECK(ring_empty(r));
	ring_free(r);
}

static void test_full(void)
{
	struct ring *r = ring_new(4096);
	int n = 0;
	while (ring_reserve(r, 1000)) {
		ring_commit(r, 1000);
		n++;
	}
	CHECK_EQ(n, 4); /* 4 x (1000 + 8 header) fit in 4096, a fifth does not */
	CHECK(ring_has_room(r, 4096 - 4 * 1008));
	CHECK(!ring_has_room(r, 4096 - 4 * 1008 + 1));
	size_t len;
	CHECK(ring_peek(r, &len) != NULL);
	ring_consume(r);
	CHECK(ring_reserve(r, 1000) == NULL); /* consumed, not flushed: still taken */
	CHECK(!ring_empty(r));
	CHECK(!ring_has_room(r, 1008));
	ring_flush(r);
	CHECK(ring_has_room(r, 1008 + 4096 - 4 * 1008));
	CHECK(ring_reserve(r, 1000) != NULL); /* room again, after a wrap */
	ring_commit(r, 1000);
	int got = 0;
	while (ring_peek(r, &len)) {
		CHECK_EQ(len, 1000);
		ring_release(r);
		got++;
	}
	CHECK_EQ(got, 4);
	ring_free(r);
}

#define STRESS_N 300000

static void *producer(void *arg)
{
	struct ring *r = arg;
	uint64_t x = 1;
	for (uint32_t i = 0; i < STRESS_N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t len = 4 + (size_t)(x >> 33) % 900;
		uint8_t *p;
		while (!(p = ring_reserve(r, len)))
			;
		memcpy(p, &i, sizeof i);
		for (size_t k = 4; k < len; k++)
			p[k] = (uint8_t)(i ^ k);
		ring_commit(r, len);
	}
	return NULL;
}

/* The reader gives back space in batches (every third record, and when empty). */
static void test_two_threads(void)
{
	struct ring *r = ring_new(16384);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, producer, r), 0);
	uint64_t x = 1;
	int bad = 0;
	for (uint32_t i = 0; i < STRESS_N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t want = 4 + (size_t)(x >> 33) % 900, len;
		const uint8_t *p;
		while (!(p = ring_peek(r, &len)))
			ring_flush(r);
		uint32_t seq;
		memcpy(&seq, p, sizeof seq);
		if (len != want || seq != i)
			bad++;
		for (size_t k = 4; k < len && k < want; k++)
			if (p[k] != (uint8_t)(i ^ k))
				bad++;
		if (i % 3 == 0)
			ring_release(r);
		else
			ring_consume(r);
	}
	ring_flush(r);
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0);
	CHECK(ring_empty(r));
	ring_free(r);
}

int main(void)
{
	RUN(test_order_and_wrap);
	RUN(test_full);
	RUN(test_commit_less);
	RUN(test_two_threads);
	return unit_done("test_ring");
}
