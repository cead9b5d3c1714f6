/*
 * idcache.c - recently seen Authorization values -> their identity (see
 * idcache.h for what is cached and why a hit is exact).
 *
 * Set-associative: a value's hash picks a set of IDCACHE_WAYS slots; a new
 * value takes an empty slot of the set or the least recently used one.
 * (Direct-mapped was tried first: two busy tokens sharing a slot evicted each
 * other on every request, and on the bench capture 3,000 of 88,000 requests
 * were decoded anew. With 8 ways, 300 tokens in turn all stay cached; with 4,
 * a few sets overflow and LRU then misses on every turn.) A set's hashes sit
 * together in one cache line, so a lookup touches one line plus the slot.
 * Crafted values that collide only make misses, i.e. the cost of no cache,
 * never a wrong identity: a hit needs the same length and bytes.
 */
#include "idcache.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IDCACHE_WAYS 8
#define IDCACHE_SETS (IDCACHE_SLOTS / IDCACHE_WAYS)

struct idcache_slot {
	uint64_t used; /* the cache's clock when last found or stored: the LRU order */
	size_t len;    /* 0: empty (an empty value is never cached) */
	struct identity result;
	char value[IDCACHE_VALUE_MAX];
};

struct idcache {
	uint64_t clock;
	uint64_t hash[IDCACHE_SLOTS]; /* of slot[i]'s value */
	struct idcache_slot slot[IDCACHE_SLOTS];
};

/* murmur3's 64-bit finaliser: every input bit reaches every output bit. */
static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint64_t lane(uint64_t h, const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	h = (h ^ w) * 0x9E3779B97F4A7C15ull; /* one multiply a word, mixed fully at the end */
	return h << 31 | h >> 33;
}

/*
 * A quick hash of 8-byte words (not cryptographic: equality is checked on the
 * bytes). Four lanes of 32 bytes: a token is hashed per request, and one
 * chain of multiplies waited on each other's latency.
 */
static uint64_t hash_value(const char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n, h1 = 1, h2 = 2, h3 = 3, w = 0;

	if (n >= 8)
		memcpy(&w, p + n - 8, 8); /* the last word, overlapping: no partial copy */
	else
		memcpy(&w, p, n);
	for (; n >= 32; p += 32, n -= 32) {
		h = lane(h, p);
		h1 = lane(h1, p + 8);
		h2 = lane(h2, p + 16);
		h3 = lane(h3, p + 24);
	}
	for (; n >= 8; p += 8, n -= 8)
		h = lane(h, p);
	h ^= fmix64(h1) ^ fmix64(h2 + h3 * 0xff51afd7ed558ccdull);
	return fmix64(h ^ w);
}

/* Index of the first slot of the value's set. */
static size_t set_of(uint64_t h)
{
	return (size_t)(h % IDCACHE_SETS) * IDCACHE_WAYS;
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
	size_t first = set_of(h);
	for (size_t i = first; i < first + IDCACHE_WAYS; i++) {
		struct idcache_slot *s = &c->slot[i];
		if (c->hash[i] == h && s->len == vlen && memcmp(s->value, value, vlen) == 0) {
			s->used = ++c->clock;
			return &s->result;
		}
	}
	return NULL;
}

void idcache_store(struct idcache *c, const char *value, size_t vlen,
		   const struct identity *result)
{
	if (vlen == 0 || vlen > IDCACHE_VALUE_MAX)
		return;
	uint64_t h = hash_value(value, vlen);
	size_t first = set_of(h), victim = first;
	for (size_t i = first + 1; i < first + IDCACHE_WAYS && c->slot[victim].len; i++)
		if (!c->slot[i].len || c->slot[i].used < c->slot[victim].used)
			victim = i; /* an empty slot, else the least recently used */
	struct idcache_slot *s = &c->slot[victim];
	slot_wipe(s);
	c->hash[victim] = h;
	s->used = ++c->clock;
	s->len = vlen;
	memcpy(s->value, value, vlen);
	s->result = *result;
}
