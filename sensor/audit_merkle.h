/*
 * audit_merkle.h - the Merkle tree of RFC 9162 section 2.1 over the audit log.
 *
 *   MTH({})      = SHA-256()
 *   MTH({d0})    = SHA-256(0x00 || d0)                        leaf hash
 *   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k: largest power of 2 < n
 *
 * Appends are O(log n) and need no re-reading: a "frontier" keeps the roots of
 * the perfect subtrees that tile [0, n), one per set bit of n, largest first;
 * the root is those folded from the right. Proofs (2.1.3 inclusion, 2.1.4
 * consistency) are lists of subtree hashes MTH(D[a:b]); this module says which
 * ranges [a, b) a proof needs, computes them from a stream of leaves (and of
 * subtree hashes standing for leaves no longer stored), and verifies proofs
 * with the algorithms of 2.1.3.2 and 2.1.4.2.
 *
 * SHA-256 goes through OpenSSL's EVP interface with one reusable context.
 */
#ifndef TAPIR_AUDIT_MERKLE_H
#define TAPIR_AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH 32
#define MERKLE_LEVELS 64 /* a tree of up to 2^64 - 1 leaves */
#define MERKLE_PROOF_MAX 128 /* hashes in any proof of a tree that size */

struct merkle_hasher;

/* Returns NULL when out of memory or when OpenSSL has no SHA-256. */
struct merkle_hasher *merkle_hasher_new(void);
void merkle_hasher_free(struct merkle_hasher *h);

/* SHA-256(0x00 || data). Returns 0, -1 on an OpenSSL failure. */
int merkle_leaf(struct merkle_hasher *h, const void *data, size_t len,
		uint8_t out[MERKLE_HASH]) __attribute__((warn_unused_result));
/* SHA-256(0x01 || l || r). out may alias l or r. */
int merkle_node(struct merkle_hasher *h, const uint8_t l[MERKLE_HASH],
		const uint8_t r[MERKLE_HASH], uint8_t out[MERKLE_HASH])
	__attribute__((warn_unused_result));
/* Plain SHA-256 of a buffer (file digests in retention records). */
int merkle_sha256(struct merkle_hasher *h, const void *data, size_t len, uint8_t out[MERKLE_HASH])
	__attribute__((warn_unused_result));
/* Streaming SHA-256: begin, update..., end. */
int merkle_sha256_begin(struct merkle_hasher *h) __attribute__((warn_unused_result));
int merkle_sha256_update(struct merkle_hasher *h, const void *data, size_t len)
	__attribute__((warn_unused_result));
int merkle_sha256_end(struct merkle_hasher *h, uint8_t out[MERKLE_HASH])
	__attribute__((warn_unused_result));

/* SHA-256 of nothing: the root of the empty tree. */
void merkle_empty_root(uint8_t out[MERKLE_HASH]);

/*
 * The compact frontier of a tree of `size` leaves: node[0 .. n) are the roots
 * of the perfect subtrees tiling [0, size), largest first; node i has
 * 2^level(i) leaves where the levels are the set bits of size, high to low.
 */
struct merkle_frontier {
	uint64_t size;
	unsigned n;
	uint8_t node[MERKLE_LEVELS][MERKLE_HASH];
};

void merkle_frontier_init(struct merkle_frontier *f);
/* Appends a leaf hash. */
int merkle_frontier_add(struct merkle_frontier *f, struct merkle_hasher *h,
			const uint8_t leaf[MERKLE_HASH]) __attribute__((warn_unused_result));
/*
 * Appends the root of a perfect subtree of 2^level leaves; size must be a
 * multiple of 2^level and every node already held bigger. Returns -1 otherwise.
 */
int merkle_frontier_add_node(struct merkle_frontier *f, struct merkle_hasher *h,
			     const uint8_t node[MERKLE_HASH], unsigned level)
	__attribute__((warn_unused_result));
/* The tree's root (MTH). */
int merkle_frontier_root(const struct merkle_frontier *f, struct merkle_hasher *h,
			 uint8_t out[MERKLE_HASH]) __attribute__((warn_unused_result));
/* Position (first leaf) and level of node i. */
void merkle_frontier_node_span(const struct merkle_frontier *f, unsigned i, uint64_t *pos,
			       unsigned *level);
/* Rebuilds a frontier from its size and node hashes (as stored in a segment header). */
int merkle_frontier_load(struct merkle_frontier *f, uint64_t size, const uint8_t *nodes,
			 unsigned n);

/* A range of leaves [a, b) whose MTH a proof holds. */
struct merkle_range {
	uint64_t a, b;
};

/* RFC 9162 2.1.3.1 PATH(m, D[n]) as ranges, in proof order; 0 <= m < n. Returns the count. */
size_t merkle_inclusion_ranges(uint64_t m, uint64_t n, struct merkle_range *out);
/* RFC 9162 2.1.4.1 PROOF(m, D[n]) as ranges, in proof order; 0 < m < n (else empty). */
size_t merkle_consistency_ranges(uint64_t m, uint64_t n, struct merkle_range *out);

/*
 * MTH(D[a:b]) from an in-order stream: offer every leaf (level 0) or subtree
 * (pos, level) in increasing position; pieces outside [a, b) are ignored. A
 * piece that straddles a or b, or leaves a hole, makes the range fail (the
 * leaves it needs are no longer there).
 */
struct merkle_calc {
	uint64_t a, b;
	bool failed;
	struct merkle_frontier f; /* relative to a */
};

void merkle_calc_init(struct merkle_calc *c, uint64_t a, uint64_t b);
int merkle_calc_offer(struct merkle_calc *c, struct merkle_hasher *h, uint64_t pos,
		      unsigned level, const uint8_t hash[MERKLE_HASH])
	__attribute__((warn_unused_result));
/* True when the whole range was seen. */
bool merkle_calc_done(const struct merkle_calc *c);
int merkle_calc_root(const struct merkle_calc *c, struct merkle_hasher *h,
		     uint8_t out[MERKLE_HASH]) __attribute__((warn_unused_result));

/* RFC 9162 2.1.3.2. True when the proof shows leaf at index is in the tree of size with root. */
bool merkle_verify_inclusion(struct merkle_hasher *h, uint64_t index, uint64_t size,
			     const uint8_t leaf[MERKLE_HASH], const uint8_t (*path)[MERKLE_HASH],
			     size_t n, const uint8_t root[MERKLE_HASH]);
/* RFC 9162 2.1.4.2, with the trivial cases m == n (roots equal, empty proof) and m == 0. */
bool merkle_verify_consistency(struct merkle_hasher *h, uint64_t m, uint64_t n,
			       const uint8_t root1[MERKLE_HASH], const uint8_t root2[MERKLE_HASH],
			       const uint8_t (*path)[MERKLE_HASH], size_t count);

#endif
