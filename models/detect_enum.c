/*
 * detect_enum.c - enumeration: many distinct objects of one route, or a walk
 * through consecutive ids.
 *
 * The object id is the path segment under the route's last placeholder
 * ({id}, {uuid}, {hex}, {token}, {email}, {param}, a spec's {userId} ...).
 * Each identity has EN_TRACKERS trackers, one per (method, route), replaced
 * least recently used. A tracker counts distinct ids by linear counting over
 * 256 bits (n = -256 ln(1 - set/256); good to a few percent up to ~1000) in
 * a 1-hour window, and in its current 10-minute sub-window as the growth of
 * that estimate. A walk is a run of numeric ids each one more (or each one
 * less) than the walk's last, in the window; other ids in between do not
 * break it (a walker also does its usual work), it starts from two
 * consecutive requests one id apart.
 *
 * Own baseline (after learning, >= 6 clean buckets): the identity's peak
 * distinct ids per 10 min and per hour, and its longest walk (decayed like
 * the other peaks); alert when
 *   10 min >= max(50, 4 x usual), or 1 hour >= max(120, 3 x usual), or
 *   walk >= max(25, 2 x usual + 5).
 * Peer baseline (learning): the group's 99.9th percentile x 3, minimums x 1.5.
 * A window that alerted does not train. p = Pareto(3).
 */
#include "engine_int.h"

#include <stdio.h>

#define ENUM_WIN_S 3600u
#define ENUM_SUB_S 600u
#define ENUM_MIN10 50.0
#define ENUM_MIN60 120.0
#define ENUM_X10 4.0
#define ENUM_X60 3.0
#define SEQ_MIN 25.0
#define PEER_Q 0.999
#define PEER_X 3.0

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

/* The path segment under the route's last placeholder; false when none. */
static bool object_id(const char *route, const char *path, const char **seg, size_t *len)
{
	bool found = false;
	const char *r = route, *p = path;
	while (*r == '/' && *p == '/') {
		r++;
		p++;
		const char *re = r, *pe = p;
		while (*re && *re != '/')
			re++;
		while (*pe && *pe != '/')
			pe++;
		if (memchr(r, '{', (size_t)(re - r)) && pe > p) {
			if (re - r == 6 && memcmp(r, "{rest}", 6) == 0)
				return found;
			*seg = p;
			*len = (size_t)(pe - p);
			found = true;
		}
		r = re;
		p = pe;
	}
	return found && !*r && !*p;
}

static double lin_est(const struct engine *e, int b)
{
	return e->lin_est[b < 0 ? 0 : b > 256 ? 256 : b];
}

static int tr_bits(const struct enum_tr *t)
{
	return __builtin_popcountll(t->bits[0]) + __builtin_popcountll(t->bits[1]) +
	       __builtin_popcountll(t->bits[2]) + __builtin_popcountll(t->bits[3]);
}

static void tr_close_sub(struct ectx *x, struct enum_tr *t)
{
	if (t->alerted)
		return;
	struct ident *id = x->id;
	double n = lin_est(x->e, tr_bits(t)) - lin_est(x->e, t->sub_b0);
	if (n > id->peak_enum10)
		id->peak_enum10 = (uint16_t)(n > 65535 ? 65535 : n);
	peers_enum(x->e, id, n, -1, -1);
}

static void tr_close(struct ectx *x, struct enum_tr *t)
{
	tr_close_sub(x, t);
	if (t->alerted)
		return;
	struct ident *id = x->id;
	double n = lin_est(x->e, tr_bits(t));
	if (n > id->peak_enum60)
		id->peak_enum60 = (uint16_t)(n > 65535 ? 65535 : n);
	if (t->seq_best > id->peak_seq)
		id->peak_seq = t->seq_best;
	peers_enum(x->e, id, -1, n, t->seq_best);
}

static void tr_start(struct enum_tr *t, uint32_t route, uint32_t now_s)
{
	memset(t, 0, sizeof *t);
	t->route = route;
	t->start_s = now_s;
	t->last_id = t->head_id = -1;
}

static struct enum_tr *tracker(struct ectx *x, uint32_t key)
{
	struct ident *id = x->id;
	int v = -1;
	for (int i = 0; i < EN_TRACKERS; i++)
		if (id->tr[i].route == key)
			return &id->tr[i];
	for (int i = 0; i < EN_TRACKERS && v < 0; i++)
		if (!id->tr[i].route)
			v = i;
	if (v < 0) {
		v = 0;
		for (int i = 1; i < EN_TRACKERS; i++)
			if (id->tr[i].start_s + id->tr[i].last_off < id->tr[v].start_s + id->tr[v].last_off)
				v = i;
		tr_close(x, &id->tr[v]);
	}
	tr_start(&id->tr[v], key, x->now_s);
	return &id->tr[v];
}

static int64_t numeric(const char *s, size_t n)
{
	if (n == 0 || n > 18)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

void det_enumeration(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	const char *seg = NULL;
	size_t len = 0;
	if (!strchr(x->route, '{') || !object_id(x->route, x->ev->path, &seg, &len))
		return;
	struct enum_tr *t = tracker(x, eh_nz32(x->rkey));
	if (x->now_s - t->start_s >= ENUM_WIN_S) {
		tr_close(x, t);
		tr_start(t, t->route, x->now_s);
	} else if (x->now_s - (t->start_s + t->sub_off) >= ENUM_SUB_S) {
		tr_close_sub(x, t);
		t->sub_off = (uint16_t)(x->now_s - t->start_s);
		t->sub_b0 = (uint16_t)tr_bits(t);
	}
	uint64_t h = eh_bytes(seg, len, e->cfg.seed ^ 0x1d);
	uint64_t bit = 1ull << (h & 63);
	bool new_id = !(t->bits[(h >> 6) & 3] & bit);
	t->bits[(h >> 6) & 3] |= bit;
	bool walked = false;
	int64_t v = numeric(seg, len);
	if (v >= 0) {
		/* A walk continues when the next id of its direction comes, whatever
		 * other ids come in between; it starts from two ids one apart. */
		if (t->head_id >= 0 && t->seq_dir && v == t->head_id + t->seq_dir) {
			t->head_id = v;
			if (t->seq_run < UINT16_MAX)
				t->seq_run++;
			walked = true;
		} else if (t->last_id >= 0 && (v == t->last_id + 1 || v == t->last_id - 1) &&
			   t->seq_run <= 1) {
			t->seq_dir = (int8_t)(v - t->last_id);
			t->head_id = v;
			t->seq_run = 1;
		}
		t->last_id = v;
		if (t->seq_run > t->seq_best)
			t->seq_best = t->seq_run;
	}
	t->last_off = (uint16_t)(x->now_s - t->start_s);
	/* Only an event that adds an id (or a step of the walk) can complete a
	 * verdict: a window's old state does not alert again later. */
	if (!new_id && !walked)
		return;

	double n60 = lin_est(x->e, tr_bits(t)), n10 = n60 - lin_est(x->e, t->sub_b0);
	double walk = t->seq_run;
	if (n10 < ENUM_MIN10 && n60 < ENUM_MIN60 && walk < SEQ_MIN)
		return;
	double u10, u60, us, t10, t60, ts;
	const struct group *g = NULL;
	if (!x->learning && id->n_buckets >= 6) {
		u10 = id->peak_enum10;
		u60 = id->peak_enum60;
		us = id->peak_seq;
		t10 = dmax(ENUM_MIN10, ENUM_X10 * u10);
		t60 = dmax(ENUM_MIN60, ENUM_X60 * u60);
		ts = dmax(SEQ_MIN, 2 * us + 5);
	} else {
		g = peers_pick(e, id, 5);
		if (!g)
			return;
		u10 = hist_quantile(&g->enum10, PEER_Q);
		u60 = hist_quantile(&g->enum60, PEER_Q);
		us = hist_quantile(&g->seq, PEER_Q);
		t10 = dmax(1.5 * ENUM_MIN10, PEER_X * u10);
		t60 = dmax(1.5 * ENUM_MIN60, PEER_X * u60);
		ts = dmax(1.5 * SEQ_MIN, 2 * us + 5);
	}
	const char *what;
	double obs, usual;
	if (n10 >= t10) {
		what = "10m";
		obs = n10;
		usual = u10;
	} else if (n60 >= t60) {
		what = "1h";
		obs = n60;
		usual = u60;
	} else if (walked && walk >= ts) {
		what = "walk";
		obs = walk;
		usual = us;
	} else {
		return;
	}
	struct alert *a = alert_begin(x, DET_ENUMERATION, x->rkey);
	t->alerted = 1;
	if (!a)
		return;
	char peers[96] = "";
	if (g)
		snprintf(peers, sizeof peers, " for its peers (%s)", g->label);
	if (what[0] == 'w')
		snprintf(a->summary, sizeof a->summary,
			 "%s walked %.0f consecutive ids of %s %s (last %lld); longest usual walk %.0f%s",
			 ectx_who(x), obs, x->ev->method, x->route, (long long)t->last_id, usual, peers);
	else
		snprintf(a->summary, sizeof a->summary,
			 "%s requested %.0f distinct objects of %s %s in %s; usual <= %.0f%s",
			 ectx_who(x), obs, x->ev->method, x->route,
			 what[1] == '0' ? "10 min" : "1 hour", usual, peers);
	char route[256];
	json_esc(route, sizeof route, x->route);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"route\":\"%s\",\"distinct_10m\":%.0f,\"distinct_1h\":%.0f,\"walk\":%.0f,"
		 "\"last_id\":%lld,\"usual_10m\":%.0f,\"usual_1h\":%.0f,\"usual_walk\":%.0f,"
		 "\"trigger\":\"%s\",\"baseline\":\"%s\"}",
		 route, n10, n60, walk, (long long)t->last_id, u10, u60, us, what,
		 g ? "peers" : "own");
	alert_emit(x, DET_ENUMERATION, pareto_p(obs, usual + 1, 3));
}
