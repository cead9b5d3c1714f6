/*
 * idcache.c - recently seen Authorization values -> their identity (see
 * idcache.h for what is cached and why a hit is exact).
 *
 * Direct-mapped: a value's hash picks one slot; a new value evicts whatever
 * was there. Crafted values that collide only make misses, i.e. the cost of
 * no cache, never a wrong identity: a hit needs the same length and bytes.
 */
#include "idcache.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct idcache_slot {
	uint64_t hash;
	size_t len; /* 0: empty (an empty value is never cached) */
	struct identity result;
	char value[IDCACHE_VALUE_MAX];
};

struct idcache {
	struct idcache_slot slot[IDCACHE_SLOTS];
};

/* A quick mix of 8-byte words (not cryptographic: equality is checked on the bytes). */
static uint64_t hash_value(const char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static struct idcache_slot *slot_of(struct idcache *c, uint64_t h)
{
	return &c->slot[(h >> 17) % IDCACHE_SLOTS];
}

/* The value is a credential: wipe it (and what it decoded to) when the slot is reused. */
static void slot_wipe(struct idcache_slot *s)
{
	if (!s->len)
		return;
	explicit_bzero(s->value, s->len);
	explicit_bzero(&s->result, sizeof s->result);
	s->len = 0;
}

struct idcache *idcache_new(void)
{
	return calloc(1, sizeof(struct idcache));
}

void idcache_clear(struct idcache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < IDCACHE_SLOTS; i++)
		slot_wipe(&c->slot[i]);
}

void idcache_free(struct idcache *c)
{
	idcache_clear(c);
	free(c);
}

const struct identity *idcache_find(struct idcache *c, const char *value, size_t vlen)
{
	if (vlen == 0 || vlen > IDCACHE_VALUE_MAX)
		return NULL;
	uint64_t h = hash_value(value, vlen);
	const struct idcache_slot *s = slot_of(c, h);
	if (s->len != vlen || s->hash != h || memcmp(s->value, value, vlen) != 0)
		return NULL;
	return &s->result;
}

void idcache_store(struct idcache *c, const char *value, size_t vlen,
		   const struct identity *result)
{
	if (vlen == 0 || vlen > IDCACHE_VALUE_MAX)
		return;
	uint64_t h = hash_value(value, vlen);
	struct idcache_slot *s = slot_of(c, h);
	slot_wipe(s);
	s->hash = h;
	s->len = vlen;
	memcpy(s->value, value, vlen);
	s->result = *result;
}
