/*
 * flow.c - bidirectional flow table: seeded hash, two activity lists, caps.
 *
 * Buckets are a power of two no smaller than max_flows, so chains stay short
 * at the cap. Flow records are allocated when a flow starts and freed when it
 * ends (never per packet). The activity lists are kept in last-activity order
 * by moving a flow to the tail on every packet; packet time never runs
 * backwards here (the caller passes a monotonic clock), so the heads are the
 * oldest and expiry only ever looks at the heads.
 */
#include "flow.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

const char *const flow_end_names[4] = {"idle", "closed", "evicted", "shutdown"};

struct flow_list {
	struct flow *head, *tail;
};

struct flow_table {
	struct flow_limits lim;
	struct flow **buckets;
	size_t mask;
	uint64_t seed;
	struct flow_list open, closed;
	flow_end_fn on_end;
	void *ctx;
	struct flow_stats stats;
};

/* The two halves of a 128-bit product folded together (wyhash's "mum"). */
static uint64_t fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 p = (unsigned __int128)a * b;
	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/*
 * One endpoint, keyed by the seed: the address's two words through one folded
 * multiply, then the port through a second (a port folded into an address
 * word instead would let anyone pair addresses and ports that collide without
 * knowing the seed). Both factors carry a secret: with a constant one, an
 * address whose second word equals that constant makes the product 0 for any
 * first word and any seed, and such IPv6 sources (spoofed SYNs will do) would
 * all share one bucket chain and one worker.
 */
static uint64_t end_hash(const uint8_t addr[16], uint16_t port, uint64_t seed)
{
	uint64_t w0, w1;
	memcpy(&w0, addr, 8);
	memcpy(&w1, addr + 8, 8);
	uint64_t seed2 = (seed ^ 0x589965cc75374cc3ULL) * 0x1d8e4e27c47d124fULL;
	uint64_t a = fold_mul(w0 ^ seed ^ 0xa0761d6478bd642fULL, w1 ^ seed2 ^ 0xe7037ed1a0b428dbULL);
	return fold_mul(a ^ port, seed ^ 0x8ebc6af09c88c6e3ULL);
}

/*
 * A connection: the sum of its endpoints' hashes, the same whichever comes
 * first, so no canonical order is needed to hash a packet (the pipeline's
 * capture thread hashes every frame). Both halves are well mixed: the high one
 * picks a pipeline worker, the low bits a bucket.
 */
static uint64_t pair_hash(const uint8_t a[16], uint16_t ap, const uint8_t b[16], uint16_t bp,
			  uint64_t seed)
{
	return end_hash(a, ap, seed) + end_hash(b, bp, seed);
}

static uint64_t key_hash(const struct flow_key *k, uint64_t seed)
{
	return pair_hash(k->addr[0], k->port[0], k->addr[1], k->port[1], seed);
}

_Static_assert(sizeof(struct flow_key) == 36, "flow_key is hashed as five words");

static void list_remove(struct flow_list *l, struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
}

static void list_append(struct flow_list *l, struct flow *f)
{
	f->prev = l->tail;
	f->next = NULL;
	if (l->tail)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
}

static struct flow_list *list_of(struct flow_table *t, struct flow *f)
{
	return f->closed ? &t->closed : &t->open;
}

struct flow_table *flow_table_new(const struct flow_limits *lim, uint64_t seed,
				  flow_end_fn on_end, void *ctx)
{
	struct flow_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->lim = *lim;
	if (t->lim.max_flows == 0)
		t->lim.max_flows = 1;
	size_t n = 1024;
	while (n < t->lim.max_flows)
		n <<= 1;
	t->buckets = calloc(n, sizeof *t->buckets);
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->seed = seed;
	t->on_end = on_end;
	t->ctx = ctx;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	flow_end_all(t);
	free(t->buckets);
	free(t);
}

void flow_end_all(struct flow_table *t)
{
	while (t->open.head)
		flow_end(t, t->open.head, FLOW_END_SHUTDOWN);
	while (t->closed.head)
		flow_end(t, t->closed.head, FLOW_END_SHUTDOWN);
}

/* memcmp(a, b, 16)'s sign, from two big-endian words each (no call). */
static int addr_cmp(const uint8_t a[16], const uint8_t b[16])
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	a0 = be64toh(a0), a1 = be64toh(a1), b0 = be64toh(b0), b1 = be64toh(b1);
	if (a0 != b0)
		return a0 < b0 ? -1 : 1;
	return a1 < b1 ? -1 : a1 > b1;
}

/* Canonical order: side 0 is the lower (address, port). */
static int make_key(struct flow_key *k, const uint8_t src[16], uint16_t sport,
		    const uint8_t dst[16], uint16_t dport)
{
	int c = addr_cmp(src, dst);
	int side = (c > 0 || (c == 0 && sport > dport)) ? 1 : 0;
	memcpy(k->addr[side], src, 16);
	memcpy(k->addr[!side], dst, 16);
	k->port[side] = sport;
	k->port[!side] = dport;
	return side;
}

/* Does a packet from `side` with these VLAN ids belong to flow f? */
static bool vlan_matches(const struct flow *f, int side, const uint16_t vlan[2])
{
	if (f->vlan_known[side])
		return f->vlan[side][0] == vlan[0] && f->vlan[side][1] == vlan[1];
	return true; /* this side's first packet: it may be tagged differently */
}

static void vlan_record(struct flow_table *t, struct flow *f, int side, const uint16_t vlan[2])
{
	if (f->vlan_known[side])
		return;
	f->vlan[side][0] = vlan[0];
	f->vlan[side][1] = vlan[1];
	f->vlan_known[side] = true;
	if (f->vlan_known[!side] && memcmp(f->vlan[0], f->vlan[1], sizeof f->vlan[0]) != 0)
		t->stats.vlan_asymmetric++;
}

uint64_t flow_hash(const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport,
		   uint64_t seed)
{
	return pair_hash(src, sport, dst, dport, seed);
}

/* The flow of key k (hashing to `hash`), as flow_lookup. */
static struct flow *lookup(struct flow_table *t, const struct flow_key *k, uint64_t hash,
			   int *side, const uint16_t vlan[2], uint64_t now, bool create)
{
	size_t b = hash & t->mask;
	struct flow *f;
	for (f = t->buckets[b]; f; f = f->hnext)
		if (memcmp(&f->key, k, sizeof *k) == 0 && vlan_matches(f, *side, vlan))
			break;
	if (f) {
		vlan_record(t, f, *side, vlan);
		struct flow_list *l = list_of(t, f);
		if (l->tail != f) {
			list_remove(l, f);
			list_append(l, f);
		}
		f->last_us = now;
		return f;
	}
	if (!create)
		return NULL;
	/* At the cap the least recently active flow makes room; closed ones go first. */
	if (t->stats.active >= t->lim.max_flows) {
		struct flow *victim = t->closed.head ? t->closed.head : t->open.head;
		if (victim)
			flow_end(t, victim, FLOW_END_EVICTED);
	}
	f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->key = *k;
	vlan_record(t, f, *side, vlan);
	f->last_us = now;
	f->client_side = (uint8_t)*side;
	reasm_init(&f->dir[0]);
	reasm_init(&f->dir[1]);
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	list_append(&t->open, f);
	t->stats.created++;
	if (++t->stats.active > t->stats.peak)
		t->stats.peak = t->stats.active;
	return f;
}

void flow_mark_closed(struct flow_table *t, struct flow *f)
{
	if (f->closed)
		return;
	list_remove(&t->open, f);
	f->closed = true;
	list_append(&t->closed, f);
}

void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason why)
{
	t->on_end(t->ctx, f, why);
	list_remove(list_of(t, f), f);
	size_t b = key_hash(&f->key, t->seed) & t->mask;
	struct flow **pp = &t->buckets[b];
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	t->stats.ended[why]++;
	t->stats.active--;
	free(f);
}

void flow_expire(struct flow_table *t, uint64_t now)
{
	while (t->closed.head && now - t->closed.head->last_us >= t->lim.closed_us &&
	       now >= t->closed.head->last_us)
		flow_end(t, t->closed.head, FLOW_END_CLOSED);
	while (t->open.head && now >= t->open.head->last_us &&
	       now - t->open.head->last_us >= t->lim.idle_us)
		flow_end(t, t->open.head, FLOW_END_IDLE);
}

uint64_t flow_next_expiry(const struct flow_table *t)
{
	uint64_t next = UINT64_MAX;
	if (t->closed.head)
		next = t->closed.head->last_us + t->lim.closed_us;
	if (t->open.head && t->open.head->last_us + t->lim.idle_us < next)
		next = t->open.head->last_us + t->lim.idle_us;
	return next;
}

struct flow *flow_lookup(struct flow_table *t, const uint8_t src[16], uint16_t sport,
			 const uint8_t dst[16], uint16_t dport, const uint16_t vlan[2], uint64_t now,
			 bool create, int *side)
{
	return flow_lookup_hashed(t, flow_hash(src, sport, dst, dport, t->seed), src, sport, dst,
				  dport, vlan, now, create, side);
}

struct flow *flow_lookup_hashed(struct flow_table *t, uint64_t hash, const uint8_t src[16],
				uint16_t sport, const uint8_t dst[16], uint16_t dport,
				const uint16_t vlan[2], uint64_t now, bool create, int *side)
{
	struct flow_key k;
	*side = make_key(&k, src, sport, dst, dport);
	return lookup(t, &k, hash, side, vlan, now, create);
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->stats;
}
