/*
 * ipfrag.c - IPv4 and IPv6 fragment reassembly within a memory cap.
 *
 * RFC 791 3.2 (IPv4 reassembly), RFC 8200 4.5 (IPv6 fragment header and
 * reassembly rules), RFC 5722 (overlapping IPv6 fragments: drop the datagram,
 * including fragments not yet received), RFC 8200 4.5 again for duplicates
 * (may be dropped without harming the datagram).
 *
 * Policies, in the order they are applied to a fragment:
 * - Ends: a fragment that disagrees with a known end (a second, different
 *   last fragment; data past the end; a last fragment short of held data)
 *   is dropped and counted; the datagram is kept.
 * - Duplicates: a fragment that brings no new byte is ignored, the datagram
 *   kept. If its bytes differ from those held it also counts as an overlap.
 *   (Linux does the same for IPv6, so this never drops what a host keeps.)
 * - Overlaps: IPv4, the first copy of a byte wins and the new bytes fill
 *   only the holes; IPv6 (RFC 5722), the datagram is dropped and its key
 *   remembered until the timeout, so its later fragments are dropped too.
 * - Caps: see ipfrag.h; the oldest datagram is evicted first.
 *
 * Layout. A fixed array of `max_datagrams` slots, reached through a hash of
 * the key with chaining (bucket heads + `hnext`), and threaded on one list in
 * order of creation, oldest first: the oldest datagram is the one to expire
 * and the one to evict, both O(1). Each datagram holds its data as a list of
 * disjoint pieces sorted by offset:
 *
 *    offset 0                                                    end (MF=0 seen)
 *    |[piece 0..1480)   ][ hole ][piece 2960..4440)][piece 4440..5000)|
 *
 * A fragment is cut into the parts not already held and only those are
 * copied (first copy wins). Because pieces never overlap, "held == end and
 * the last fragment was seen" is exactly "no hole left", checked in O(1).
 * Arrivals in order and in reverse order (both common) insert at the tail or
 * head without a walk; anything else walks at most IPFRAG_MAX_PIECES pieces.
 *
 * Output. The completed datagram is copied into one buffer owned by the
 * ipfrag (max_datagram_len bytes, allocated once) and its pieces are freed at
 * once, so the pointer handed back is valid until the next ipfrag_feed().
 *
 * Memory. bytes_held counts every byte that grows with traffic: a slot in use
 * (sizeof(struct ipfrag_dgram)), and per piece its header plus data. The slot
 * array, the bucket array and the output buffer are fixed at ipfrag_new() and
 * are not counted.
 */
#include "ipfrag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * The upper-layer payload of a reassembled datagram fits in 16 bits: the IPv4
 * Total Length and the IPv6 Payload Length (a jumbogram cannot be fragmented,
 * RFC 2675 3). A larger max_datagram_len is clamped to this.
 */
#define IPFRAG_HARD_MAX_LEN 65535u

/*
 * Pieces held per datagram. Real senders cut at the path MTU: a 64 KiB
 * datagram is 45 fragments at 1500 bytes, 52 at IPv6's minimum of 1280.
 * Evasion tools cut into 8-byte fragments (nmap -f, fragroute); 2048 pieces
 * still reassemble a 9000-byte jumbo frame cut that way, and bound the walk an
 * out-of-order fragment costs. Beyond it fragments are dropped and counted.
 */
#define IPFRAG_MAX_PIECES 2048u

struct ipfrag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t vlan[2];
	uint8_t version;
	uint8_t proto;
	uint8_t zero[2]; /* explicit, so the key has no padding: keys hash and compare as bytes */
};
_Static_assert(sizeof(struct ipfrag_key) == 44, "struct ipfrag_key must have no padding");

struct ipfrag_piece {
	struct ipfrag_piece *next;
	uint32_t off;
	uint32_t len;
	uint8_t data[];
};

struct ipfrag_dgram {
	struct ipfrag_key key;
	uint64_t hash;
	uint64_t born_us;            /* packet time of the first fragment */
	struct ipfrag_dgram *hnext;  /* hash chain, or the free list */
	struct ipfrag_dgram *older;  /* creation-order list */
	struct ipfrag_dgram *newer;
	struct ipfrag_piece *head;   /* pieces sorted by offset, disjoint */
	struct ipfrag_piece *tail;
	size_t bytes;                /* charged to bytes_held, slot included */
	uint32_t held;               /* data bytes in pieces */
	uint32_t end;                /* datagram length, once the last fragment is seen */
	uint32_t max_end;            /* highest byte end held */
	uint32_t npieces;
	bool have_last;
	bool dead; /* IPv6 overlap seen: drop this datagram's fragments until it expires */
};

struct ipfrag {
	struct ipfrag_limits lim;
	struct ipfrag_stats st;
	uint64_t seed;
	size_t nbuckets; /* power of two */
	struct ipfrag_dgram **buckets;
	struct ipfrag_dgram *slots;
	struct ipfrag_dgram *free;
	struct ipfrag_dgram *oldest;
	struct ipfrag_dgram *newest;
	uint32_t used;
	uint8_t *out; /* last completed datagram, lim.max_datagram_len bytes */
};

/* What a new fragment would add to a datagram, measured before touching it. */
struct ipfrag_fit {
	uint32_t gaps;      /* new pieces it would create */
	uint32_t gap_bytes; /* bytes it would add */
	bool overlap;       /* some of its bytes are already held */
	bool conflict;      /* ...and differ from what is held */
};

static void ipfrag_charge(struct ipfrag *f, struct ipfrag_dgram *d, size_t n)
{
	d->bytes += n;
	f->st.bytes_held += n;
	if (f->st.bytes_held > f->st.bytes_peak)
		f->st.bytes_peak = f->st.bytes_held;
}

static void ipfrag_uncharge(struct ipfrag *f, struct ipfrag_dgram *d, size_t n)
{
	d->bytes -= n;
	f->st.bytes_held -= n;
}

static uint64_t ipfrag_hash(uint64_t seed, const struct ipfrag_key *k)
{
	uint64_t w[(sizeof(*k) + 7) / 8] = {0};
	uint64_t h = seed;

	memcpy(w, k, sizeof(*k));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

struct ipfrag *ipfrag_new(const struct ipfrag_limits *lim)
{
	struct ipfrag *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->lim = *lim;
	if (f->lim.max_datagrams == 0)
		f->lim.max_datagrams = 1;
	if (f->lim.max_datagram_len == 0 || f->lim.max_datagram_len > IPFRAG_HARD_MAX_LEN)
		f->lim.max_datagram_len = IPFRAG_HARD_MAX_LEN;

	f->nbuckets = 1;
	while (f->nbuckets < f->lim.max_datagrams)
		f->nbuckets <<= 1;
	f->buckets = calloc(f->nbuckets, sizeof(*f->buckets));
	f->slots = calloc(f->lim.max_datagrams, sizeof(*f->slots));
	f->out = malloc(f->lim.max_datagram_len);
	if (!f->buckets || !f->slots || !f->out)
		goto fail;
	for (uint32_t i = f->lim.max_datagrams; i-- > 0;) {
		f->slots[i].hnext = f->free;
		f->free = &f->slots[i];
	}
	/*
	 * Chains are bounded by max_datagrams anyway; the seed only keeps a
	 * sender from choosing keys that all land in one bucket. It changes
	 * which bucket, never what is output.
	 */
	f->seed = 0x243f6a8885a308d3ull ^ (uint64_t)(uintptr_t)f;
	return f;
fail:
	free(f->buckets);
	free(f->slots);
	free(f->out);
	free(f);
	return NULL;
}

static void ipfrag_free_pieces(struct ipfrag *f, struct ipfrag_dgram *d)
{
	struct ipfrag_piece *p = d->head;
	while (p) {
		struct ipfrag_piece *next = p->next;
		ipfrag_uncharge(f, d, sizeof(*p) + p->len);
		free(p);
		p = next;
	}
	d->head = d->tail = NULL;
	d->npieces = 0;
	d->held = 0;
}

/* Unlinks d from its chain and the age list, frees its pieces, frees the slot. */
static void ipfrag_release(struct ipfrag *f, struct ipfrag_dgram *d)
{
	struct ipfrag_dgram **pp = &f->buckets[d->hash & (f->nbuckets - 1)];
	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;

	if (d->older)
		d->older->newer = d->newer;
	else
		f->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		f->newest = d->older;

	ipfrag_free_pieces(f, d);
	ipfrag_uncharge(f, d, sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->hnext = f->free;
	f->free = d;
	f->used--;
}

void ipfrag_free(struct ipfrag *f)
{
	if (!f)
		return;
	while (f->oldest)
		ipfrag_release(f, f->oldest);
	free(f->buckets);
	free(f->slots);
	free(f->out);
	free(f);
}

const struct ipfrag_stats *ipfrag_stats(const struct ipfrag *f)
{
	return &f->st;
}

/* Expires datagrams born more than timeout_us before now (oldest first). */
static void ipfrag_expire(struct ipfrag *f, uint64_t now_us)
{
	while (f->oldest && now_us >= f->oldest->born_us &&
	       now_us - f->oldest->born_us > f->lim.timeout_us) {
		/* A dead IPv6 datagram was already counted when it died. */
		if (!f->oldest->dead)
			f->st.timeouts++;
		ipfrag_release(f, f->oldest);
	}
}

static struct ipfrag_dgram *ipfrag_find(struct ipfrag *f, const struct ipfrag_key *k,
					uint64_t h)
{
	for (struct ipfrag_dgram *d = f->buckets[h & (f->nbuckets - 1)]; d; d = d->hnext)
		if (d->hash == h && memcmp(&d->key, k, sizeof(*k)) == 0)
			return d;
	return NULL;
}

/* Evicts the oldest datagram other than `keep`; false when there is none. */
static bool ipfrag_evict_one(struct ipfrag *f, const struct ipfrag_dgram *keep)
{
	struct ipfrag_dgram *d = f->oldest;
	if (d && d == keep)
		d = d->newer;
	if (!d)
		return false;
	f->st.evicted++;
	ipfrag_release(f, d);
	return true;
}

static struct ipfrag_dgram *ipfrag_create(struct ipfrag *f, const struct ipfrag_key *k,
					  uint64_t h, uint64_t now_us)
{
	while (f->used >= f->lim.max_datagrams || f->st.bytes_held + sizeof(struct ipfrag_dgram) >
							    f->lim.max_bytes) {
		if (!ipfrag_evict_one(f, NULL))
			return NULL; /* max_bytes smaller than one slot */
	}
	struct ipfrag_dgram *d = f->free;
	f->free = d->hnext;
	f->used++;
	memset(d, 0, sizeof(*d));
	memcpy(&d->key, k, sizeof(*k));
	d->hash = h;
	d->born_us = now_us;
	struct ipfrag_dgram **b = &f->buckets[h & (f->nbuckets - 1)];
	d->hnext = *b;
	*b = d;
	d->older = f->newest;
	if (f->newest)
		f->newest->newer = d;
	else
		f->oldest = d;
	f->newest = d;
	ipfrag_charge(f, d, sizeof(*d));
	return d;
}

/* First piece that ends after `s` (NULL if none), and the piece before it. */
static struct ipfrag_piece *ipfrag_seek(const struct ipfrag_dgram *d, uint32_t s,
					struct ipfrag_piece **prev)
{
	*prev = NULL;
	if (d->tail && d->tail->off + d->tail->len <= s) { /* in-order arrival */
		*prev = d->tail;
		return NULL;
	}
	struct ipfrag_piece *p = d->head;
	while (p && p->off + p->len <= s) {
		*prev = p;
		p = p->next;
	}
	return p;
}

/* Measures [s, e) against the held pieces without changing anything. */
static struct ipfrag_fit ipfrag_measure(const struct ipfrag_dgram *d, uint32_t s, uint32_t e,
					const uint8_t *data)
{
	struct ipfrag_fit fit = {0};
	struct ipfrag_piece *prev;
	struct ipfrag_piece *p = ipfrag_seek(d, s, &prev);
	uint32_t cur = s;

	while (cur < e) {
		if (p && p->off <= cur) {
			uint32_t oe = p->off + p->len < e ? p->off + p->len : e;
			fit.overlap = true;
			if (memcmp(data + (cur - s), p->data + (cur - p->off), oe - cur) != 0)
				fit.conflict = true;
			cur = oe;
			p = p->next;
			continue;
		}
		uint32_t ge = p && p->off < e ? p->off : e;
		fit.gaps++;
		fit.gap_bytes += ge - cur;
		cur = ge;
	}
	return fit;
}

/* Copies the parts of [s, e) not already held; the caller checked the caps. */
static bool ipfrag_insert(struct ipfrag *f, struct ipfrag_dgram *d, uint32_t s, uint32_t e,
			  const uint8_t *data)
{
	struct ipfrag_piece *prev;
	struct ipfrag_piece *p = ipfrag_seek(d, s, &prev);
	uint32_t cur = s;

	while (cur < e) {
		if (p && p->off <= cur) {
			cur = p->off + p->len < e ? p->off + p->len : e;
			prev = p;
			p = p->next;
			continue;
		}
		uint32_t ge = p && p->off < e ? p->off : e;
		struct ipfrag_piece *n = malloc(sizeof(*n) + (ge - cur));
		if (!n)
			return false; /* what was inserted so far stays: all of it is valid */
		n->off = cur;
		n->len = ge - cur;
		memcpy(n->data, data + (cur - s), n->len);
		n->next = p;
		if (prev)
			prev->next = n;
		else
			d->head = n;
		if (!p)
			d->tail = n;
		d->npieces++;
		d->held += n->len;
		ipfrag_charge(f, d, sizeof(*n) + n->len);
		prev = n;
		cur = ge;
	}
	if (e > d->max_end)
		d->max_end = e;
	return true;
}

static int ipfrag_drop(struct ipfrag *f)
{
	f->st.dropped++;
	return -1;
}

int ipfrag_feed(struct ipfrag *f, const struct pkt_view *v, uint64_t now_us,
		const uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	f->st.fragments++;
	ipfrag_expire(f, now_us);

	/* The decoder already refuses these; a caller's hand-made view may not. */
	if ((v->ip_version != 4 && v->ip_version != 6) || (v->frag_len && !v->frag_data))
		return ipfrag_drop(f);
	if (v->frag_offset > f->lim.max_datagram_len ||
	    v->frag_len > f->lim.max_datagram_len - v->frag_offset)
		return ipfrag_drop(f); /* longer than any datagram we accept */
	if (v->frag_more && (v->frag_len == 0 || (v->frag_len & 7) != 0))
		return ipfrag_drop(f); /* RFC 8200 4.5; RFC 791 cuts on 8-byte units */
	uint32_t s = v->frag_offset;
	uint32_t e = s + (uint32_t)v->frag_len;

	struct ipfrag_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.src, v->src, 16);
	memcpy(k.dst, v->dst, 16);
	k.id = v->frag_id;
	k.vlan[0] = v->vlan[0];
	k.vlan[1] = v->vlan[1];
	k.version = v->ip_version;
	k.proto = v->frag_proto;
	uint64_t h = ipfrag_hash(f->seed, &k);

	struct ipfrag_dgram *d = ipfrag_find(f, &k, h);
	if (d && d->dead)
		return ipfrag_drop(f); /* RFC 5722: the rest of a dropped datagram */

	/*
	 * A fragment that disagrees about where the datagram ends: a second,
	 * different last fragment, data past a known end, or a last fragment
	 * short of data already held. Keep what we have, drop the newcomer.
	 */
	if (d && ((d->have_last && (e > d->end || (!v->frag_more && e != d->end))) ||
		  (!v->frag_more && e < d->max_end)))
		return ipfrag_drop(f);

	struct ipfrag_fit fit = {0};
	if (d) {
		fit = ipfrag_measure(d, s, e, v->frag_data);
		if (fit.overlap && fit.gaps == 0 && (v->frag_more || d->have_last)) {
			/*
			 * Nothing new: a duplicate, ignored (RFC 8200 4.5 lets
			 * exact copies go without harming the datagram). As in
			 * Linux, a fragment wholly inside held data counts as
			 * one whatever its bytes, so a sender cannot make us
			 * drop a datagram the receiver keeps; differing bytes
			 * are still counted as an overlap (first copy wins).
			 */
			if (fit.conflict)
				f->st.overlaps++;
			return 0;
		}
		if (fit.overlap) {
			f->st.overlaps++;
			if (v->ip_version == 6) {
				/* RFC 5722: discard it all; remember the key until it expires. */
				ipfrag_free_pieces(f, d);
				d->dead = true;
				return ipfrag_drop(f);
			}
		}
	} else {
		fit.gaps = e > s ? 1 : 0;
		fit.gap_bytes = e - s;
	}

	if (d && d->npieces + fit.gaps > IPFRAG_MAX_PIECES)
		return ipfrag_drop(f);
	size_t need = (size_t)fit.gaps * sizeof(struct ipfrag_piece) + fit.gap_bytes;
	size_t mine = (d ? d->bytes : sizeof(struct ipfrag_dgram)) + need;
	if (mine > f->lim.max_bytes)
		return ipfrag_drop(f); /* could not fit even alone: evict nobody for it */

	if (!d) {
		d = ipfrag_create(f, &k, h, now_us);
		if (!d)
			return ipfrag_drop(f);
	}
	while (f->st.bytes_held + need > f->lim.max_bytes)
		if (!ipfrag_evict_one(f, d))
			return ipfrag_drop(f); /* unreachable: `mine` fits */

	if (!ipfrag_insert(f, d, s, e, v->frag_data))
		return ipfrag_drop(f);
	if (!v->frag_more) {
		d->have_last = true;
		d->end = e;
	}
	if (!d->have_last || d->held != d->end)
		return 0;

	/* Complete: pieces are disjoint, sorted and cover [0, end). */
	size_t n = 0;
	for (struct ipfrag_piece *p = d->head; p; p = p->next) {
		memcpy(f->out + n, p->data, p->len);
		n += p->len;
	}
	ipfrag_release(f, d);
	f->st.reassembled++;
	*out = f->out;
	*out_len = n;
	return 1;
}
