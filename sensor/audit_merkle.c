/*
 * audit_merkle.c - RFC 9162 section 2.1 Merkle trees: hashing with domain
 * separation (2.1.1), the compact frontier for O(log n) appends, proof ranges
 * (2.1.3.1 PATH, 2.1.4.1 PROOF/SUBPROOF) and proof verification (2.1.3.2,
 * 2.1.4.2). The only user of OpenSSL's digest interface in the audit log.
 */
#include "audit_merkle.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct merkle_hasher {
	EVP_MD_CTX *ctx;
	EVP_MD *md;
};

struct merkle_hasher *merkle_hasher_new(void)
{
	struct merkle_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!h->ctx || !h->md) {
		merkle_hasher_free(h);
		return NULL;
	}
	return h;
}

void merkle_hasher_free(struct merkle_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

int merkle_sha256_begin(struct merkle_hasher *h)
{
	return EVP_DigestInit_ex2(h->ctx, h->md, NULL) == 1 ? 0 : -1;
}

int merkle_sha256_update(struct merkle_hasher *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

int merkle_sha256_end(struct merkle_hasher *h, uint8_t out[MERKLE_HASH])
{
	return EVP_DigestFinal_ex(h->ctx, out, NULL) == 1 ? 0 : -1;
}

int merkle_sha256(struct merkle_hasher *h, const void *data, size_t len, uint8_t out[MERKLE_HASH])
{
	if (merkle_sha256_begin(h) != 0 || merkle_sha256_update(h, data, len) != 0)
		return -1;
	return merkle_sha256_end(h, out);
}

int merkle_leaf(struct merkle_hasher *h, const void *data, size_t len, uint8_t out[MERKLE_HASH])
{
	static const uint8_t zero = 0x00;
	if (merkle_sha256_begin(h) != 0 || merkle_sha256_update(h, &zero, 1) != 0 ||
	    merkle_sha256_update(h, data, len) != 0)
		return -1;
	return merkle_sha256_end(h, out);
}

int merkle_node(struct merkle_hasher *h, const uint8_t l[MERKLE_HASH],
		const uint8_t r[MERKLE_HASH], uint8_t out[MERKLE_HASH])
{
	uint8_t b[1 + 2 * MERKLE_HASH];
	b[0] = 0x01;
	memcpy(b + 1, l, MERKLE_HASH);
	memcpy(b + 1 + MERKLE_HASH, r, MERKLE_HASH);
	return merkle_sha256(h, b, sizeof b, out);
}

void merkle_empty_root(uint8_t out[MERKLE_HASH])
{
	static const uint8_t empty[MERKLE_HASH] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
		0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
		0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	memcpy(out, empty, MERKLE_HASH);
}

void merkle_frontier_init(struct merkle_frontier *f)
{
	f->size = 0;
	f->n = 0;
}

int merkle_frontier_add_node(struct merkle_frontier *f, struct merkle_hasher *h,
			     const uint8_t node[MERKLE_HASH], unsigned level)
{
	if (level >= MERKLE_LEVELS || (f->size & ((UINT64_C(1) << level) - 1)) != 0 ||
	    f->size + (UINT64_C(1) << level) < f->size)
		return -1;
	uint8_t cur[MERKLE_HASH];
	memcpy(cur, node, MERKLE_HASH);
	/* Each set low bit of size>>level is a node of the same height to merge with. */
	for (uint64_t s = f->size >> level; s & 1; s >>= 1) {
		if (f->n == 0 || merkle_node(h, f->node[f->n - 1], cur, cur) != 0)
			return -1;
		f->n--;
	}
	memcpy(f->node[f->n++], cur, MERKLE_HASH);
	f->size += UINT64_C(1) << level;
	return 0;
}

int merkle_frontier_add(struct merkle_frontier *f, struct merkle_hasher *h,
			const uint8_t leaf[MERKLE_HASH])
{
	return merkle_frontier_add_node(f, h, leaf, 0);
}

int merkle_frontier_root(const struct merkle_frontier *f, struct merkle_hasher *h,
			 uint8_t out[MERKLE_HASH])
{
	if (f->n == 0) {
		merkle_empty_root(out);
		return 0;
	}
	uint8_t r[MERKLE_HASH];
	memcpy(r, f->node[f->n - 1], MERKLE_HASH);
	for (unsigned i = f->n - 1; i-- > 0;)
		if (merkle_node(h, f->node[i], r, r) != 0)
			return -1;
	memcpy(out, r, MERKLE_HASH);
	return 0;
}

void merkle_frontier_node_span(const struct merkle_frontier *f, unsigned i, uint64_t *pos,
			       unsigned *level)
{
	uint64_t p = 0;
	unsigned seen = 0;
	for (int bit = 63; bit >= 0; bit--) {
		if (!(f->size >> bit & 1))
			continue;
		if (seen++ == i) {
			*pos = p;
			*level = (unsigned)bit;
			return;
		}
		p += UINT64_C(1) << bit;
	}
	*pos = p;
	*level = 0;
}

int merkle_frontier_load(struct merkle_frontier *f, uint64_t size, const uint8_t *nodes,
			 unsigned n)
{
	if (n != (unsigned)__builtin_popcountll(size) || n > MERKLE_LEVELS)
		return -1;
	f->size = size;
	f->n = n;
	memcpy(f->node, nodes, (size_t)n * MERKLE_HASH);
	return 0;
}

/* Largest power of two strictly below n (n >= 2): the split point k of 2.1.1. */
static uint64_t split(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* PATH(m, D[a:b]), m relative to a. */
static void path_ranges(uint64_t m, uint64_t a, uint64_t b, struct merkle_range *out, size_t *n)
{
	if (b - a <= 1)
		return;
	uint64_t k = split(b - a);
	if (m < k) {
		path_ranges(m, a, a + k, out, n);
		out[(*n)++] = (struct merkle_range){a + k, b};
	} else {
		path_ranges(m - k, a + k, b, out, n);
		out[(*n)++] = (struct merkle_range){a, a + k};
	}
}

size_t merkle_inclusion_ranges(uint64_t m, uint64_t n, struct merkle_range *out)
{
	size_t count = 0;
	if (m < n)
		path_ranges(m, 0, n, out, &count);
	return count;
}

/* SUBPROOF(m, D[a:b], whole), m relative to a. */
static void subproof_ranges(uint64_t m, uint64_t a, uint64_t b, bool whole,
			    struct merkle_range *out, size_t *n)
{
	if (m == b - a) {
		if (!whole)
			out[(*n)++] = (struct merkle_range){a, b};
		return;
	}
	uint64_t k = split(b - a);
	if (m <= k) {
		subproof_ranges(m, a, a + k, whole, out, n);
		out[(*n)++] = (struct merkle_range){a + k, b};
	} else {
		subproof_ranges(m - k, a + k, b, false, out, n);
		out[(*n)++] = (struct merkle_range){a, a + k};
	}
}

size_t merkle_consistency_ranges(uint64_t m, uint64_t n, struct merkle_range *out)
{
	size_t count = 0;
	if (m > 0 && m < n)
		subproof_ranges(m, 0, n, true, out, &count);
	return count;
}

void merkle_calc_init(struct merkle_calc *c, uint64_t a, uint64_t b)
{
	c->a = a;
	c->b = b;
	c->failed = false;
	merkle_frontier_init(&c->f);
}

int merkle_calc_offer(struct merkle_calc *c, struct merkle_hasher *h, uint64_t pos,
		      unsigned level, const uint8_t hash[MERKLE_HASH])
{
	uint64_t end = pos + (UINT64_C(1) << level);
	if (c->failed || end <= c->a || pos >= c->b)
		return 0;
	if (pos < c->a || end > c->b || pos != c->a + c->f.size ||
	    merkle_frontier_add_node(&c->f, h, hash, level) != 0) {
		c->failed = true;
		return 0;
	}
	return 0;
}

bool merkle_calc_done(const struct merkle_calc *c)
{
	return !c->failed && c->f.size == c->b - c->a;
}

int merkle_calc_root(const struct merkle_calc *c, struct merkle_hasher *h,
		     uint8_t out[MERKLE_HASH])
{
	if (!merkle_calc_done(c))
		return -1;
	return merkle_frontier_root(&c->f, h, out);
}

/* Shifts fn and sn right together until fn's low bit is set or fn is 0. */
static void shift_while_even(uint64_t *fn, uint64_t *sn)
{
	while (*fn != 0 && !(*fn & 1)) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

bool merkle_verify_inclusion(struct merkle_hasher *h, uint64_t index, uint64_t size,
			     const uint8_t leaf[MERKLE_HASH], const uint8_t (*path)[MERKLE_HASH],
			     size_t n, const uint8_t root[MERKLE_HASH])
{
	if (index >= size)
		return false;
	uint64_t fn = index, sn = size - 1;
	uint8_t r[MERKLE_HASH];
	memcpy(r, leaf, MERKLE_HASH);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			if (merkle_node(h, path[i], r, r) != 0)
				return false;
			if (!(fn & 1))
				shift_while_even(&fn, &sn);
		} else if (merkle_node(h, r, path[i], r) != 0) {
			return false;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MERKLE_HASH) == 0;
}

bool merkle_verify_consistency(struct merkle_hasher *h, uint64_t m, uint64_t n,
			       const uint8_t root1[MERKLE_HASH], const uint8_t root2[MERKLE_HASH],
			       const uint8_t (*path)[MERKLE_HASH], size_t count)
{
	if (m > n)
		return false;
	if (m == n)
		return count == 0 && memcmp(root1, root2, MERKLE_HASH) == 0;
	if (m == 0)
		return count == 0;
	if (count == 0 || count >= MERKLE_PROOF_MAX)
		return false;
	/* Step 2: when m is a power of 2 its root is the proof's first node. */
	const uint8_t *first = (m & (m - 1)) == 0 ? root1 : path[0];
	size_t next = (m & (m - 1)) == 0 ? 0 : 1;
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[MERKLE_HASH], sr[MERKLE_HASH];
	memcpy(fr, first, MERKLE_HASH);
	memcpy(sr, first, MERKLE_HASH);
	for (size_t i = next; i < count; i++) {
		const uint8_t *c = path[i];
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			if (merkle_node(h, c, fr, fr) != 0 || merkle_node(h, c, sr, sr) != 0)
				return false;
			if (!(fn & 1))
				shift_while_even(&fn, &sn);
		} else if (merkle_node(h, sr, c, sr) != 0) {
			return false;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, root1, MERKLE_HASH) == 0 &&
	       memcmp(sr, root2, MERKLE_HASH) == 0;
}
