/*
 * detect_access.c - what is called: shadow_endpoint, new_route and
 * privilege_probe.
 *
 * shadow_endpoint (also for anonymous traffic; answered 2xx/3xx only):
 *   - the inventory's verdict is shadow (a spec is loaded and does not list
 *     the route): once per route per suppression span, sensor-wide;
 *   - the route family (template, any method; a literal last segment counts
 *     as "*": /v1/reports/churn is of /v1/reports/ *) is answered for the
 *     first time after the engine's own learning period (from its first
 *     event): once per family. Templates holding {param} are skipped: a
 *     position switching to {param} late is the inventory learning, not a
 *     new endpoint. p = 1e-3 / 1e-2.
 * new_route: a (method, route family) answered 2xx/3xx that the identity
 *   never used and that none of its peers (the narrowest mature group with
 *   >= 3 members; 5 while learning) used either, or at most 0.5% of them
 *   (reported once: the family is then the identity's). Routes
 *   nobody ever used are shadow_endpoint's; public routes (answered 2xx to
 *   requests without credentials) are skipped. Needs 20 events and 3 routes of
 *   the identity's own history. p = (peers using it + 0.5) / (members + 1) / 10.
 * privilege_probe: 401 (not explained by an expired or not-yet-valid token)
 *   and 403 answers to a credential that works elsewhere (has had a 2xx):
 *   distinct denied routes in ~10 min >= max(5, 2 x usual + 2), or denials
 *   >= max(25, 4 x usual) with the denied route outside the identity's and
 *   its peers' profile. While learning: peers' 99.9th percentile, minimums
 *   6 and 40. p = Pareto(3). Slowly (after learning): refusals on 3
 *   distinct routes that neither the identity nor its peers use, within
 *   24 hours. p = 1e-3 / routes.
 */
#include "engine_int.h"

#include <stdio.h>

#define NR_MIN_EVENTS 20
#define NR_MIN_ROUTES 3
#define NR_PEER_SHARE 200 /* count * NR_PEER_SHARE <= members: "at most 0.5%" */
#define PROBE_ROUTES_MIN 5
#define PROBE_DENIED_MIN 25
#define PROBE_SLOW 3
#define PROBE_SLOW_S 86400u
#define PEER_Q 0.999

/* The route's entry; on create, inserted when missing (NULL when the table is full). */
struct rseen *route_entry(struct engine *e, uint64_t key, bool create)
{
	uint32_t m = e->routes_mask, h = (uint32_t)eh_mix(key) & m;
	struct rseen *empty = NULL;
	for (uint32_t i = 0; i < EN_PROBE; i++) {
		struct rseen *r = &e->routes[(h + i) & m];
		if (r->key == key)
			return r;
		if (!r->key && !empty)
			empty = r;
	}
	if (!create)
		return NULL;
	if (!empty) {
		e->ct.routes_full++;
		return NULL;
	}
	empty->key = key;
	e->n_routes++;
	return empty;
}

/*
 * A request the sensor saw only in part (HTTP/2 header fields lost with the
 * HPACK context after a gap) says nothing reliable about which endpoint was
 * called: it neither alerts nor teaches the route lists.
 */
static bool request_unknown(const struct ectx *x)
{
	return x->ev->partial || !x->ev->method[0] || !x->ev->path[0];
}

void det_shadow_endpoint(struct ectx *x)
{
	struct engine *e = x->e;
	char route[256];
	if (request_unknown(x))
		return;
	if (x->verdict == ROUTES_SHADOW && x->is_ok) {
		struct alert *a = alert_begin_for(x, 0, DET_SHADOW_ENDPOINT, x->rkey);
		if (a) {
			x->shadow_fired = true;
			snprintf(a->summary, sizeof a->summary,
				 "%s called %s %s, an endpoint the API specification does not document, "
				 "and it answered %d",
				 ectx_who(x), x->ev->method, x->route, x->status);
			json_esc(route, sizeof route, x->route);
			snprintf(a->evidence, sizeof a->evidence,
				 "{\"verdict\":\"shadow\",\"route\":\"%s\",\"status\":%d}", route,
				 x->status);
			alert_emit(x, DET_SHADOW_ENDPOINT, 1e-3);
		}
	}
	if (!x->id || x->status == 401 || x->status == 403) {
		struct rseen *r = route_entry(e, x->route_h, true);
		if (r && !x->id && x->is_ok)
			r->flags |= RS_PUBLIC;
		if (r && (x->status == 401 || x->status == 403))
			r->flags |= RS_CHECKS;
	}
	if (!x->is_ok || (x->id && !x->new_route))
		return; /* the identity used it before: the route is known */
	struct rseen *r = route_entry(e, x->route_h, true);
	if (!r || (r->flags & RS_ANSWERED))
		return;
	r->flags |= RS_ANSWERED;
	r->first_s = x->now_s;
	x->route_first = true;
	if (x->shadow_fired || !e->first_us ||
	    x->now < e->first_us + e->cfg.learning_period_us || strstr(x->route, "{param}"))
		return;
	/* the probe slots' route key and the route list use the family too */
	struct alert *a = alert_begin_for(x, 0, DET_SHADOW_ENDPOINT, x->route_h);
	if (!a)
		return;
	x->shadow_fired = true;
	uint64_t days = (x->now - e->first_us) / (86400ull * 1000000);
	snprintf(a->summary, sizeof a->summary,
		 "%s called %s %s, an endpoint never seen answered in the %llu days of traffic "
		 "before (it answered %d)",
		 ectx_who(x), x->ev->method, x->route, (unsigned long long)days, x->status);
	json_esc(route, sizeof route, x->route);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"verdict\":\"%s\",\"route\":\"%s\",\"status\":%d,\"first_seen\":true,"
		 "\"days_observed\":%llu,\"routes_known\":%llu}",
		 routes_verdict_name(x->verdict), route, x->status, (unsigned long long)days,
		 (unsigned long long)e->n_routes);
	alert_emit(x, DET_SHADOW_ENDPOINT, 1e-2);
}

void det_new_route(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (!x->is_ok || !x->new_route || x->shadow_fired || x->route_first || request_unknown(x))
		return;
	const struct rseen *r = route_entry(e, x->route_h, false);
	if (r && (r->flags & RS_PUBLIC))
		return; /* a public route (answered without credentials) grants nothing */
	struct group *g = peers_pick(e, id, x->learning ? 5 : 3);
	if (!g)
		return;
	if (!x->learning && (id->n_events < NR_MIN_EVENTS || id->n_routes < NR_MIN_ROUTES))
		return;
	uint32_t cnt = peers_count(e, g, IT_ROUTE, eh_nz32(x->fkey));
	if (cnt > 0 && (uint64_t)cnt * NR_PEER_SHARE > g->members)
		return;
	struct alert *a = alert_begin(x, DET_NEW_ROUTE, x->rkey);
	if (!a)
		return;
	snprintf(a->summary, sizeof a->summary,
		 "%s called %s %s for the first time%s; %u of its %u peers (%s) ever used it",
		 ectx_who(x), x->ev->method, x->route, x->learning ? " (still learning)" : "", cnt,
		 g->members, g->label);
	char route[256], label[96], method[40];
	json_esc(route, sizeof route, x->route);
	json_esc(label, sizeof label, g->label);
	json_esc(method, sizeof method, x->ev->method);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"own_routes\":%u,"
		 "\"peers\":\"%s\",\"peer_members\":%u,\"peers_using\":%u,\"learning\":%s}",
		 method, route, x->status, id->n_routes, label, g->members, cnt,
		 x->learning ? "true" : "false");
	alert_emit(x, DET_NEW_ROUTE, (cnt + 0.5) / (g->members + 1.0) / 10.0);
}

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

/*
 * Slow probing: refusals on routes that neither the identity nor its peers
 * use, remembered for 24 hours; PROBE_SLOW distinct ones alert.
 */
static int probe_slow(struct ectx *x, uint32_t *n_out)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (!x->new_route)
		return 0;
	struct group *pg = peers_pick(e, id, 3);
	if (pg && peers_count(e, pg, IT_ROUTE, eh_nz32(x->fkey)) > 0)
		return 0;
	uint32_t r = eh_nz32(x->rkey), n = 0; /* distinct routes, not families */
	int slot = -1, old = 0;
	for (int i = 0; i < EN_PROBES; i++) {
		if (id->probe_r[i] == r)
			slot = i;
		if (id->probe_t[i] < id->probe_t[old])
			old = i;
	}
	if (slot < 0)
		slot = old;
	id->probe_r[slot] = r;
	id->probe_t[slot] = x->now_s;
	for (int i = 0; i < EN_PROBES; i++)
		if (id->probe_r[i] && id->probe_t[i] + PROBE_SLOW_S >= x->now_s)
			n++;
	*n_out = n;
	return n >= PROBE_SLOW;
}

void det_privilege_probe(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (!x->is_denied || !(id->flags & IF_HAD_OK))
		return;
	double dr = __builtin_popcountll(id->droutes_bits[0] | id->droutes_bits[1]);
	double d10 = prof_d10(id, x->now_s);
	uint32_t slow_n = 0;
	if (!x->learning && probe_slow(x, &slow_n)) {
		struct alert *a = alert_begin(x, DET_PRIVILEGE_PROBE, 0);
		if (!a)
			return;
		snprintf(a->summary, sizeof a->summary,
			 "%s was refused (%d) on %u different routes within 24 h that neither it nor its "
			 "peers use, last %s %s; usual: none",
			 ectx_who(x), x->status, slow_n, x->ev->method, x->route);
		char route[256];
		json_esc(route, sizeof route, x->route);
		snprintf(a->evidence, sizeof a->evidence,
			 "{\"denied_routes_outside_profile_24h\":%u,\"denied_10m\":%.0f,\"status\":%d,"
			 "\"route\":\"%s\",\"baseline\":\"own and peers\"}",
			 slow_n, d10, x->status, route);
		alert_emit(x, DET_PRIVILEGE_PROBE, 1e-3 / slow_n);
		return;
	}
	if (dr < PROBE_ROUTES_MIN && d10 < PROBE_DENIED_MIN)
		return;
	double ur, ud, tr, td;
	const struct group *g = NULL;
	if (!x->learning && id->n_buckets >= 6) {
		ur = id->peak_droutes;
		ud = id->peak_denied10;
		tr = dmax(PROBE_ROUTES_MIN, 2 * ur + 2);
		td = dmax(PROBE_DENIED_MIN, 4 * ud);
	} else {
		g = peers_pick(e, id, 5);
		if (!g)
			return;
		ur = hist_quantile(&g->droutes10, PEER_Q);
		ud = hist_quantile(&g->denied10, PEER_Q);
		tr = dmax(PROBE_ROUTES_MIN + 1, 2 * ur + 2);
		td = dmax(PROBE_DENIED_MIN + 15, 3 * ud);
	}
	bool by_routes = dr >= tr;
	bool by_count = false;
	if (!by_routes && d10 >= td && x->new_route) {
		struct group *pg = peers_pick(e, id, 3);
		by_count = !pg || peers_count(e, pg, IT_ROUTE, eh_nz32(x->fkey)) == 0;
	}
	if (!by_routes && !by_count)
		return;
	struct alert *a = alert_begin(x, DET_PRIVILEGE_PROBE, 0);
	if (!a)
		return;
	if (by_routes)
		snprintf(a->summary, sizeof a->summary,
			 "%s was refused (401/403) on %.0f different routes in 10 min, last %s %s; "
			 "usual <= %.0f%s%s%s",
			 ectx_who(x), dr, x->ev->method, x->route, ur, g ? " for its peers (" : "",
			 g ? g->label : "", g ? ")" : "");
	else
		snprintf(a->summary, sizeof a->summary,
			 "%s was refused (401/403) %.0f times in 10 min, last on %s %s which neither it "
			 "nor its peers use; usual <= %.0f",
			 ectx_who(x), d10, x->ev->method, x->route, ud);
	char route[256];
	json_esc(route, sizeof route, x->route);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"denied_routes_10m\":%.0f,\"denied_10m\":%.0f,\"usual_routes\":%.0f,"
		 "\"usual_denied\":%.0f,\"status\":%d,\"route\":\"%s\",\"outside_profile\":%s,"
		 "\"baseline\":\"%s\"}",
		 dr, d10, ur, ud, x->status, route, x->new_route ? "true" : "false",
		 g ? "peers" : "own");
	double p = by_routes ? pareto_p(dr, ur + 1, 3) : pareto_p(d10, ud + 1, 3) * 0.1;
	alert_emit(x, DET_PRIVILEGE_PROBE, p);
}
