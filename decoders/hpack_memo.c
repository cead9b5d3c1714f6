/*
 * hpack_memo.c - a small memo of decoded HPACK literals (see hpack_memo.h).
 *
 * Eight slots searched linearly: a connection repeats a handful of such
 * literals (one credential, a few paths), and comparing lengths first makes a
 * miss cost next to nothing. A hit compares every key byte: equal hashes are
 * not enough, the entry stands for exactly these bytes.
 */
#include "hpack_memo.h"

#include <string.h>

static size_t slot_bytes(const struct hpack_memo_slot *s)
{
	return (size_t)s->keylen + s->namelen + s->valuelen;
}

static void slot_drop(struct hpack_memo *m, const struct hpack_memo_alloc *a,
		      struct hpack_memo_slot *s)
{
	if (!s->buf)
		return;
	m->bytes -= slot_bytes(s);
	a->free(a->ud, s->buf); /* wipes the bytes (credentials), now or once unused */
	*s = (struct hpack_memo_slot){0};
}

void hpack_memo_init(struct hpack_memo *m, size_t budget)
{
	*m = (struct hpack_memo){.budget = budget};
}

bool hpack_memo_find(struct hpack_memo *m, const uint8_t *key, size_t keylen,
		     struct hpack_memo_field *f)
{
	for (int i = 0; i < HPACK_MEMO_SLOTS; i++) {
		struct hpack_memo_slot *s = &m->slot[i];
		if (!s->buf || s->keylen != keylen || memcmp(s->buf, key, keylen) != 0)
			continue;
		s->used = ++m->clock;
		f->name = s->buf + keylen;
		f->namelen = s->namelen;
		f->value = f->name + s->namelen;
		f->valuelen = s->valuelen;
		return true;
	}
	return false;
}

void hpack_memo_put(struct hpack_memo *m, const struct hpack_memo_alloc *a, const uint8_t *key,
		    size_t keylen, const uint8_t *name, size_t namelen, const uint8_t *value,
		    size_t valuelen)
{
	/* Each length is below the budget, so the sum cannot wrap. */
	if (keylen > m->budget || namelen > m->budget || valuelen > m->budget)
		return;
	size_t need = keylen + namelen + valuelen;
	if (need == 0 || need > m->budget / 2)
		return;
	/* Evict the least recently used until a slot is free and the entry fits. */
	for (;;) {
		struct hpack_memo_slot *oldest = NULL, *free_slot = NULL;
		for (int i = 0; i < HPACK_MEMO_SLOTS; i++) {
			struct hpack_memo_slot *s = &m->slot[i];
			if (!s->buf)
				free_slot = s;
			else if (!oldest || s->used < oldest->used)
				oldest = s;
		}
		if (free_slot && m->bytes + need <= m->budget) {
			uint8_t *buf = a->alloc(a->ud, need);
			if (!buf)
				return;
			memcpy(buf, key, keylen);
			memcpy(buf + keylen, name, namelen);
			memcpy(buf + keylen + namelen, value, valuelen);
			*free_slot = (struct hpack_memo_slot){
				.buf = buf,
				.keylen = (uint32_t)keylen,
				.namelen = (uint32_t)namelen,
				.valuelen = (uint32_t)valuelen,
				.used = ++m->clock,
			};
			m->bytes += need;
			return;
		}
		slot_drop(m, a, oldest); /* not NULL: a full memo has entries */
	}
}

void hpack_memo_clear(struct hpack_memo *m, const struct hpack_memo_alloc *a)
{
	for (int i = 0; i < HPACK_MEMO_SLOTS; i++)
		slot_drop(m, a, &m->slot[i]);
}
