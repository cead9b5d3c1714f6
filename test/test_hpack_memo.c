/*
 * test_hpack_memo.c - the literal memo (decoders/hpack_memo.h): exact keys,
 * least recently used eviction, the byte budget, and memory given back.
 */
#include "../decoders/hpack_memo.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

struct counting {
	size_t held;
	size_t room; /* alloc refuses beyond it */
};

static void *c_alloc(void *ud, size_t n)
{
	struct counting *c = ud;
	if (c->held + n > c->room)
		return NULL;
	size_t *p = malloc(sizeof(size_t) + n);
	*p = n;
	c->held += n;
	return p + 1;
}

static void c_free(void *ud, void *p)
{
	struct counting *c = ud;
	size_t *h = (size_t *)p - 1;
	c->held -= *h;
	memset(p, 0, *h); /* the owner wipes (hpack_memo.h) */
	free(h);
}

static void put(struct hpack_memo *m, const struct hpack_memo_alloc *a, const char *key,
		const char *name, const char *value)
{
	hpack_memo_put(m, a, (const uint8_t *)key, strlen(key), (const uint8_t *)name,
		       strlen(name), (const uint8_t *)value, strlen(value));
}

static bool find(struct hpack_memo *m, const char *key, const char *value)
{
	struct hpack_memo_field f;
	if (!hpack_memo_find(m, (const uint8_t *)key, strlen(key), &f))
		return false;
	return f.valuelen == strlen(value) && memcmp(f.value, value, f.valuelen) == 0;
}

static void test_exact_keys(void)
{
	struct counting c = {0, 1 << 20};
	struct hpack_memo_alloc a = {c_alloc, c_free, &c};
	struct hpack_memo m;
	hpack_memo_init(&m, 4096);
	put(&m, &a, "\x1f\x08\x85" "abcde", "authorization", "Bearer x");
	CHECK(find(&m, "\x1f\x08\x85" "abcde", "Bearer x"));
	CHECK(!find(&m, "\x1f\x08\x85" "abcdf", "Bearer x")); /* same length, one byte off */
	CHECK(!find(&m, "\x1f\x08\x85" "abcd", "Bearer x"));
	struct hpack_memo_field f;
	CHECK(hpack_memo_find(&m, (const uint8_t *)"\x1f\x08\x85" "abcde", 8, &f));
	CHECK_EQ(f.namelen, 13);
	CHECK(memcmp(f.name, "authorization", 13) == 0);
	CHECK_EQ(m.bytes, 8 + 13 + 8);
	CHECK_EQ(c.held, m.bytes);
	hpack_memo_clear(&m, &a);
	CHECK_EQ(c.held, 0);
	CHECK_EQ(m.bytes, 0);
	CHECK(!find(&m, "\x1f\x08\x85" "abcde", "Bearer x"));
}

static void test_eviction_and_budget(void)
{
	struct counting c = {0, 1 << 20};
	struct hpack_memo_alloc a = {c_alloc, c_free, &c};
	struct hpack_memo m;
	hpack_memo_init(&m, 100);
	put(&m, &a, "k1", "n", "value-number-one-0123456789"); /* 30 bytes */
	put(&m, &a, "k2", "n", "value-number-two-0123456789");
	CHECK(find(&m, "k1", "value-number-one-0123456789")); /* k1 now the newer */
	put(&m, &a, "k3", "n", "value-number-three-01234567"); /* 90 bytes in all: fits */
	CHECK_EQ(m.bytes, 90);
	put(&m, &a, "k4", "n", "value-number-four-012345678"); /* evicts k2, the oldest */
	CHECK(!find(&m, "k2", "value-number-two-0123456789"));
	CHECK(find(&m, "k1", "value-number-one-0123456789"));
	CHECK(find(&m, "k3", "value-number-three-01234567"));
	CHECK(find(&m, "k4", "value-number-four-012345678"));
	CHECK(m.bytes <= 100);
	/* more than half the budget alone: not kept */
	char big[60];
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	put(&m, &a, "k5", "n", big);
	CHECK(!find(&m, "k5", big));
	/* more slots than HPACK_MEMO_SLOTS: the least recently used go */
	hpack_memo_clear(&m, &a);
	CHECK_EQ(c.held, 0);
	struct hpack_memo m2;
	hpack_memo_init(&m2, 4096);
	char key[24];
	for (int i = 0; i < HPACK_MEMO_SLOTS + 3; i++) {
		snprintf(key, sizeof key, "key%d", i);
		put(&m2, &a, key, "n", "v");
	}
	CHECK(!find(&m2, "key0", "v"));
	CHECK(!find(&m2, "key2", "v"));
	CHECK(find(&m2, "key3", "v"));
	snprintf(key, sizeof key, "key%d", HPACK_MEMO_SLOTS + 2);
	CHECK(find(&m2, key, "v"));
	hpack_memo_clear(&m2, &a);
	CHECK_EQ(c.held, 0);
}

static void test_no_room(void)
{
	struct counting c = {0, 20};
	struct hpack_memo_alloc a = {c_alloc, c_free, &c};
	struct hpack_memo m;
	hpack_memo_init(&m, 4096);
	put(&m, &a, "key", "name", "a value longer than the room");
	CHECK_EQ(m.bytes, 0);
	CHECK(!find(&m, "key", "a value longer than the room"));
	hpack_memo_init(&m, 0); /* off */
	c.room = 1 << 20;
	put(&m, &a, "key", "name", "v");
	CHECK(!find(&m, "key", "v"));
	CHECK_EQ(c.held, 0);
}

int main(void)
{
	RUN(test_exact_keys);
	RUN(test_eviction_and_budget);
	RUN(test_no_room);
	return unit_done("test_hpack_memo");
}
