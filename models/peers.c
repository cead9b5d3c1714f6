/*
 * peers.c - peer groups: identities that share JWT roles/groups (or, without
 * them, the same scope) are peers; identities without claims are peers of
 * their kind (all API keys, all Basic users, ...). Group 0 holds everyone.
 *
 * The group key is order-independent (each role or scope word hashed, the
 * hashes summed), so "a b" and "b a" are one group. At EN_GROUPS_MAX groups
 * new keys fall back to the kind's group (counted).
 *
 * A group is a baseline once it has three members and has been watched for
 * a learning period since its earliest member appeared (so a fresh
 * deployment, where everyone is learning, compares no one with half-learned
 * peers, while a newcomer to an established group is compared at once).
 *
 * Each group learns what its members do: histograms of their clean 10-minute
 * buckets (requests, KiB, writes, denials, denied routes, distinct object
 * ids, id walks), the hours of the week they are active, and, in one shared
 * open-addressing table, how many of its members used each route, client
 * prefix and agent family. An identity's new item is counted in its own
 * group, its kind's group and group 0. At the table cap the smallest count
 * in the probe window is dropped (counted): rare items go first, so a
 * dropped count can only make an item look rarer than it was for items
 * that were rare anyway.
 */
#include "engine_int.h"

#include <stdio.h>

static uint32_t gidx_find(const struct engine *e, uint64_t key)
{
	uint32_t i = (uint32_t)eh_mix(key) & e->gidx_mask;
	for (;;) {
		uint32_t s = e->gidx[i];
		if (!s)
			return 0;
		if (e->groups[s - 1].key == key)
			return s;
		i = (i + 1) & e->gidx_mask;
	}
}

static void gidx_insert(struct engine *e, uint64_t key, uint32_t g)
{
	uint32_t i = (uint32_t)eh_mix(key) & e->gidx_mask;
	while (e->gidx[i])
		i = (i + 1) & e->gidx_mask;
	e->gidx[i] = g + 1;
}

static const char *const kind_names[] = {"none", "jwt", "basic", "bearer", "api_key", "cookie"};

int peers_init(struct engine *e)
{
	e->groups = emem_calloc(e, EN_GROUPS_MAX, sizeof *e->groups);
	e->gidx = emem_calloc(e, EN_GROUPS_MAX * 2, sizeof *e->gidx);
	if (!e->groups || !e->gidx)
		return -1;
	e->gidx_mask = EN_GROUPS_MAX * 2 - 1;
	e->groups[GRP_GLOBAL].key = eh_str("group:global", e->cfg.seed);
	snprintf(e->groups[GRP_GLOBAL].label, sizeof e->groups[0].label, "all identities");
	gidx_insert(e, e->groups[GRP_GLOBAL].key, GRP_GLOBAL);
	for (int k = 0; k < 6; k++) {
		struct group *g = &e->groups[GRP_KIND0 + k];
		g->key = eh_pair(eh_str("group:kind", e->cfg.seed), (uint64_t)k + 1);
		g->kind = (uint8_t)k;
		snprintf(g->label, sizeof g->label, "all %s identities", kind_names[k]);
		gidx_insert(e, g->key, GRP_KIND0 + (uint32_t)k);
	}
	e->n_groups = GRP_FIRST_ROLE;
	uint32_t n = 65536;
	while (n < e->cfg.max_identities * 8u && n < (1u << 22))
		n <<= 1;
	e->pitems = emem_calloc(e, n, sizeof *e->pitems);
	if (!e->pitems)
		return -1;
	e->pitems_mask = n - 1;
	return 0;
}

/* Sum of the hashes of the words of s (separated by sep; NUL ends s unless n). */
static uint64_t words_key(const char *s, size_t n, char sep)
{
	uint64_t sum = 0;
	size_t i = 0;
	while (i < n && s[i]) {
		while (i < n && s[i] == sep)
			i++;
		size_t j = i;
		while (j < n && s[j] && s[j] != sep)
			j++;
		if (j > i)
			sum += eh_bytes(s + i, j - i, 0x726f6c65);
		i = j;
	}
	return sum;
}

/* words_key of a scope through e's memo (the same key: scope text in, key out). */
static uint64_t scope_key(struct engine *e, const char *scope)
{
	size_t n = strnlen(scope, JWT_SCOPE_MAX);
	unsigned slot = (unsigned)(n + (unsigned char)scope[0] + (unsigned char)scope[n - 1]) & 3;
	char *memo = e->pk_memo[slot].scope;
	if (strncmp(memo, scope, JWT_SCOPE_MAX) == 0)
		return e->pk_memo[slot].key;
	uint64_t key = words_key(scope, JWT_SCOPE_MAX, ' ');
	memcpy(memo, scope, n);
	if (n < JWT_SCOPE_MAX)
		memo[n] = '\0';
	e->pk_memo[slot].key = key;
	return key;
}

/* The group key of an event's identity: roles/groups, else scope; 0 = none. */
uint64_t peers_key(struct engine *e, const struct api_event *ev)
{
	const struct identity *idn = &ev->identity;
	if (!idn->has_claims)
		return 0;
	const struct jwt_claims *c = &idn->claims;
	if ((c->present & JWT_HAS_ROLES) && c->n_roles) {
		uint64_t sum = 0;
		size_t off = 0;
		for (unsigned r = 0; r < c->n_roles && off < sizeof c->roles; r++) {
			size_t len = strnlen(c->roles + off, sizeof c->roles - off);
			sum += eh_bytes(c->roles + off, len, 0x726f6c65);
			off += len + 1;
		}
		return eh_nz(eh_pair(sum, 'R'));
	}
	if ((c->present & JWT_HAS_SCOPE) && c->scope[0]) {
		uint64_t sum = scope_key(e, c->scope);
		return sum ? eh_nz(eh_pair(sum, 'S')) : 0;
	}
	return 0;
}

static void group_label(const struct api_event *ev, char *out, size_t cap)
{
	const struct jwt_claims *c = &ev->identity.claims;
	size_t o = 0;
	out[0] = '\0';
	if ((c->present & JWT_HAS_ROLES) && c->n_roles) {
		o += (size_t)snprintf(out, cap, "roles ");
		size_t off = 0;
		for (unsigned r = 0; r < c->n_roles && off < sizeof c->roles && o < cap; r++) {
			size_t len = strnlen(c->roles + off, sizeof c->roles - off);
			int w = snprintf(out + o, cap - o, "%s%.*s", r ? "," : "", (int)len,
					 c->roles + off);
			if (w < 0)
				break;
			o += (size_t)w;
			off += len + 1;
		}
	} else {
		snprintf(out, cap, "scope %.*s", (int)(cap > 8 ? cap - 7 : 1), c->scope);
	}
	/* Printable ASCII only: the label goes into summaries. */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			*p = '?';
}

uint16_t peers_join(struct engine *e, uint64_t key, uint8_t kind, const struct api_event *ev)
{
	uint32_t s = gidx_find(e, key);
	if (s)
		return (uint16_t)(s - 1);
	if (e->n_groups >= EN_GROUPS_MAX) {
		e->ct.groups_full++;
		return (uint16_t)(GRP_KIND0 + kind);
	}
	uint32_t g = e->n_groups++;
	struct group *gr = &e->groups[g];
	gr->key = key;
	gr->kind = kind;
	group_label(ev, gr->label, sizeof gr->label);
	gidx_insert(e, key, g);
	return (uint16_t)g;
}

/* The groups an identity's activity is counted in: its own, its kind's, everyone. */
static int groups_of(const struct engine *e, const struct ident *id, struct group **out)
{
	int n = 0;
	out[n++] = &((struct engine *)e)->groups[id->group];
	if (id->group != GRP_KIND0 + id->kind)
		out[n++] = &((struct engine *)e)->groups[GRP_KIND0 + id->kind];
	out[n++] = &((struct engine *)e)->groups[GRP_GLOBAL];
	return n;
}

void peers_member(struct engine *e, struct ident *id, int delta)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++) {
		if (delta > 0) {
			g[i]->members++;
			if (!g[i]->first_us || id->first_seen_us < g[i]->first_us)
				g[i]->first_us = id->first_seen_us;
		} else if (g[i]->members) {
			g[i]->members--;
		}
	}
}

/* An identity finished its learning period: its groups have one more mature member. */
void peers_matured(struct engine *e, struct ident *id)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++)
		g[i]->mature++;
}

/*
 * A baseline to compare with: three members, watched for a learning period
 * since its earliest member appeared, and 30 clean buckets of them.
 */
bool peers_mature(const struct engine *e, const struct group *g)
{
	return g->members >= 3 && g->req10.total >= 30 && g->first_us &&
	       e->watermark_us >= g->first_us + e->cfg.learning_period_us;
}

/* The narrowest mature group with at least min_members: own, kind, everyone. */
struct group *peers_pick(struct engine *e, const struct ident *id, uint32_t min_members)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++)
		if (peers_mature(e, g[i]) && g[i]->members >= min_members)
			return g[i];
	return NULL;
}

static uint64_t item_key(const struct group *g, enum item_type t, uint64_t item)
{
	return eh_nz(eh_pair(g->key, eh_pair((uint64_t)t, item)));
}

uint32_t peers_count(struct engine *e, const struct group *g, enum item_type t, uint64_t item)
{
	uint64_t k = item_key(g, t, item);
	uint32_t m = e->pitems_mask, h = (uint32_t)k & m;
	for (uint32_t i = 0; i < EN_PROBE; i++) {
		const struct pitem *p = &e->pitems[(h + i) & m];
		if (p->key == k)
			return p->count;
	}
	return 0;
}

static uint32_t pitem_bump(struct engine *e, uint64_t k)
{
	uint32_t m = e->pitems_mask, h = (uint32_t)k & m;
	struct pitem *empty = NULL, *low = NULL;
	for (uint32_t i = 0; i < EN_PROBE; i++) {
		struct pitem *p = &e->pitems[(h + i) & m];
		if (p->key == k) {
			if (p->count < UINT32_MAX)
				p->count++;
			return p->count;
		}
		if (!p->key) {
			if (!empty)
				empty = p;
		} else if (!low || p->count < low->count) {
			low = p;
		}
	}
	if (!empty) {
		empty = low;
		e->ct.pitems_evicted++;
	}
	empty->key = k;
	empty->count = 1;
	return 1;
}

void peers_add(struct engine *e, const struct ident *id, enum item_type t, uint64_t item)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++) {
		uint32_t c = pitem_bump(e, item_key(g[i], t, item));
		if (t == IT_PREFIX && c == 1)
			g[i]->pfx_firsts++;
	}
}

void peers_bucket(struct engine *e, const struct ident *id, double req, double bytes,
		  double writes, double denied, double droutes)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++) {
		hist_add(&g[i]->req10, req);
		hist_add(&g[i]->bytes10_k, bytes / 1024.0);
		hist_add(&g[i]->writes10, writes);
		hist_add(&g[i]->denied10, denied);
		hist_add(&g[i]->droutes10, droutes);
	}
}

void peers_enum(struct engine *e, const struct ident *id, double sub, double hour, double seq)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++) {
		if (sub >= 0)
			hist_add(&g[i]->enum10, sub);
		if (hour >= 0)
			hist_add(&g[i]->enum60, hour);
		if (seq >= 0)
			hist_add(&g[i]->seq, seq);
	}
}

void peers_hour(struct engine *e, const struct ident *id, int how)
{
	struct group *g[3];
	int n = groups_of(e, id, g);
	for (int i = 0; i < n; i++) {
		g[i]->how[how]++;
		g[i]->member_hours++;
	}
}

/* Share of the group's active identity-hours that fall at how-1 .. how+1. */
double peers_how_share(const struct group *g, int how)
{
	if (!g->member_hours)
		return 1.0;
	uint64_t s = 0;
	for (int d = -1; d <= 1; d++)
		s += g->how[((how + d) % EN_HOW + EN_HOW) % EN_HOW];
	return (double)s / (double)g->member_hours;
}

static void add_one(struct engine *e, struct group *g, enum item_type t, uint64_t item)
{
	uint32_t c = pitem_bump(e, item_key(g, t, item));
	if (t == IT_PREFIX && c == 1)
		g->pfx_firsts++;
}

/*
 * An identity without claims (API key, Basic, cookie, opaque token) ends its
 * learning period: it joins the behavioural group of identities of its kind
 * that use the same kind of routes. The key is a bottom-2 MinHash of its
 * first routes: two identities with route sets of Jaccard similarity J
 * share it with probability about J^2 (support agents with the same pages
 * do; a support agent and a finance clerk do not). Its routes, prefixes and
 * agent families are counted in the new group.
 */
void peers_behaviour(struct engine *e, struct ident *id)
{
	uint32_t n = id->n_routes < EN_ROUTE_LIST ? id->n_routes : EN_ROUTE_LIST;
	if (n < 2)
		return;
	uint64_t m1 = UINT64_MAX, m2 = UINT64_MAX;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t h = eh_pair(e->cfg.seed ^ 0x6d68, id->routes[i]);
		if (h < m1) {
			m2 = m1;
			m1 = h;
		} else if (h < m2 && h != m1) {
			m2 = h;
		}
	}
	uint64_t key = eh_nz(eh_pair(eh_pair(m1, m2), 0x42000 + id->kind));
	uint32_t s = gidx_find(e, key);
	uint32_t g;
	if (s) {
		g = s - 1;
	} else {
		if (e->n_groups >= EN_GROUPS_MAX) {
			e->ct.groups_full++;
			return;
		}
		g = e->n_groups++;
		struct group *gr = &e->groups[g];
		gr->key = key;
		gr->kind = id->kind;
		snprintf(gr->label, sizeof gr->label, "%s identities using the same routes, #%04x",
			 kind_names[id->kind < 6 ? id->kind : 0], (unsigned)(key & 0xffff));
		gidx_insert(e, key, g);
	}
	if (g == id->group)
		return;
	peers_member(e, id, -1);
	id->group = (uint16_t)g;
	id->flags |= IF_BGROUP;
	peers_member(e, id, +1);
	struct group *gr = &e->groups[g];
	gr->mature++;
	/* it watched its members all along: its age is theirs */
	for (uint32_t i = 0; i < n; i++)
		add_one(e, gr, IT_ROUTE, id->routes[i]);
	for (int i = 0; i < EN_PFX; i++)
		if (id->pfx[i])
			add_one(e, gr, IT_PREFIX, id->pfx[i]);
	for (int i = 0; i < EN_AGENTS; i++)
		if (id->agent[i])
			add_one(e, gr, IT_AGENT, id->agent[i]);
}
