/*
 * hpack_memo.h - what an HPACK literal that leaves the dynamic table alone
 * (RFC 7541 6.2.2 "without indexing", 6.2.3 "never indexed") decoded to,
 * keyed by its exact encoded bytes.
 *
 * Why: encoders send `authorization` (and short cookies, and nghttp2 every
 * :path) as such literals, so every request repeats the same Huffman-coded
 * JWT and the inflater decodes it again each time. Such a literal whose name
 * is a static-table index or a literal string decodes the same whatever the
 * dynamic table holds, so the same bytes always give the same field; http2.c
 * decides which representations qualify, this module only remembers.
 *
 * A few slots per direction, least recently used evicted, at most `budget`
 * bytes (encoded key + decoded name and value); memory comes from the
 * owner's allocator (counted there). The entries hold raw credentials in
 * memory, like the identity cache: nothing here logs or exports them, and the
 * owner's free wipes an entry's bytes when it releases them. It may release
 * them later than it is called (a field found here may still be being copied
 * when the owner sheds the memo to make room): the bytes must stay as they
 * were until then, so the wipe is the owner's, at release.
 */
#ifndef TAPIR_HPACK_MEMO_H
#define TAPIR_HPACK_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPACK_MEMO_SLOTS 8

/* The owner's allocator: alloc returns NULL when there is no room; free wipes, then releases. */
struct hpack_memo_alloc {
	void *(*alloc)(void *ud, size_t n);
	void (*free)(void *ud, void *p);
	void *ud;
};

struct hpack_memo_slot {
	uint8_t *buf;   /* key | name | value; NULL: empty */
	uint32_t keylen, namelen, valuelen;
	uint64_t used;  /* clock of the last hit or fill */
};

struct hpack_memo {
	struct hpack_memo_slot slot[HPACK_MEMO_SLOTS];
	size_t bytes;   /* held now, key + name + value of every entry */
	size_t budget;  /* most bytes held; 0 turns the memo off */
	uint64_t clock;
};

/* A remembered field; points into the memo, valid until its next put or clear. */
struct hpack_memo_field {
	const uint8_t *name, *value;
	size_t namelen, valuelen;
};

void hpack_memo_init(struct hpack_memo *m, size_t budget);

/* Finds the entry whose key is exactly key[0..keylen); true and *f when found. */
bool hpack_memo_find(struct hpack_memo *m, const uint8_t *key, size_t keylen,
		     struct hpack_memo_field *f);

/*
 * Remembers key -> (name, value), evicting the least recently used entries
 * to stay within the budget. Does nothing when the entry alone would take
 * more than half the budget, or when the allocator has no room.
 */
void hpack_memo_put(struct hpack_memo *m, const struct hpack_memo_alloc *a, const uint8_t *key,
		    size_t keylen, const uint8_t *name, size_t namelen, const uint8_t *value,
		    size_t valuelen);

/* Forgets every entry and gives their memory back. */
void hpack_memo_clear(struct hpack_memo *m, const struct hpack_memo_alloc *a);

#endif
