/*
 * engine.c - the anomaly engine's front: configuration, construction, the
 * per-event dispatch through the detectors, alert building (calibrated
 * score, severity, deterministic id), health and statistics.
 *
 * One event goes: identity lookup (or creation: a new record, or a cold one
 * promoted; at the cap the least recently seen is demoted) -> its peer
 * group -> local time -> window roll (closing a bucket trains the
 * baselines) and counts -> the learned models' scores -> the rule
 * detectors -> the learned models' alerts -> training: everything when no
 * detector fired, only the first-seen items (routes, prefixes, agents: each
 * is reported once) when one did ("anomalous events do not train the
 * baselines").
 *
 * Anonymous events (identity kind none) have no per-identity state: only
 * shadow_endpoint looks at them, and they feed the (route, 4xx) burst stream
 * without ever alerting. Unknown credentials whose first event is a 401 are
 * not admitted to the identity table (scanners with random tokens would
 * otherwise evict real identities); token_misuse still looks at them.
 * Server-pushed exchanges (HTTP/2 PUSH_PROMISE) are nobody's request and are
 * only counted.
 *
 * Alert ids: 32 hex digits, two seeded 64-bit hashes of (sensor name,
 * detector, identity kind and id, packet time, the engine's alert counter),
 * so a replay gives the same ids, and a save/load in between too (the
 * counter is saved).
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

const char *const engine_detector_names[] = {
	"new_origin",      "token_sharing", "rate_spike",   "volume_spike",
	"offhours",        "enumeration",   "privilege_probe", "new_route",
	"shadow_endpoint", "destructive",   "dormant",      "token_misuse",
	"agent_change",    "blind_spot",    "burst",        "multivariate",
	NULL,
};

_Static_assert(DET__COUNT <= 24, "engine_stats.by_detector too small");

void engine_config_default(struct engine_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->sensor_name, sizeof c->sensor_name, "tapir");
	c->learning_period_us = 3ull * 86400 * 1000000;
	c->business_days = 0x3e; /* Monday .. Friday */
	c->business_start_min = 8 * 60;
	c->business_end_min = 18 * 60;
	c->key_max_age_us = 90ull * 86400 * 1000000;
	c->suppress_us = 3600ull * 1000000;
	c->max_identities = 100000;
	c->seed = 0x7461706972ull; /* "tapir" */
}

void *emem_calloc(struct engine *e, size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p)
		e->mem += (uint64_t)n * size;
	return p;
}

/*
 * Zeroed, 64-byte aligned (cache lines): for the identity records. Mapped
 * anonymous memory rather than aligned_alloc + memset: the kernel's zero
 * pages are touched only as identities arrive, so a sensor does not spend a
 * tenth of a second and the whole table's RSS (about 100 MiB with the
 * default cap) zeroing it at start. mmap is page-aligned, so 64-aligned.
 */
void *emem_calloc64(struct engine *e, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = (n * size + 63) & ~(size_t)63;
	void *p = mmap(NULL, bytes ? bytes : 64, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	e->mem += bytes;
	return p;
}

void emem_free64(void *p, size_t n, size_t size)
{
	size_t bytes = (n * size + 63) & ~(size_t)63;
	if (p)
		munmap(p, bytes ? bytes : 64);
}

struct engine *engine_new(const struct engine_config *cfg)
{
	struct engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->mem = sizeof *e;
	e->cfg = *cfg;
	e->cfg.sensor_name[sizeof e->cfg.sensor_name - 1] = '\0';
	if (e->cfg.max_identities < 16)
		e->cfg.max_identities = 16;
	e->cfg.sensitive = NULL; /* copied below; the caller's array need not outlive us */
	if (cfg->n_sensitive) {
		e->sens = emem_calloc(e, cfg->n_sensitive, sizeof *e->sens);
		if (!e->sens)
			goto fail;
		for (size_t i = 0; i < cfg->n_sensitive; i++) {
			const struct engine_sensitive *s = &cfg->sensitive[i];
			memcpy(e->sens[i].method, s->method, sizeof e->sens[i].method);
			e->sens[i].method[sizeof e->sens[i].method - 1] = '\0';
			size_t n = strlen(s->glob ? s->glob : "");
			e->sens[i].glob = malloc(n + 1);
			if (!e->sens[i].glob)
				goto fail;
			e->mem += n + 1;
			memcpy(e->sens[i].glob, s->glob ? s->glob : "", n + 1);
			e->n_sens = i + 1;
		}
	}
	if (ids_init(e) < 0 || peers_init(e) < 0 || learned_init(e) < 0)
		goto fail;
	uint32_t n = 4096;
	while (n < e->cfg.max_identities * 2u && n < (1u << 21))
		n <<= 1;
	e->supp = emem_calloc(e, n, sizeof *e->supp);
	if (!e->supp)
		goto fail;
	e->supp_mask = n - 1;
	e->routes = emem_calloc(e, EN_ROUTES_CAP, sizeof *e->routes);
	if (!e->routes)
		goto fail;
	e->routes_mask = EN_ROUTES_CAP - 1;
	e->lt_lo = e->lt_hi = 0;
	e->budget = EN_BUDGET;
	for (int b = 0; b <= 256; b++) /* linear counting over 256 bits */
		e->lin_est[b] = b >= 256 ? 256.0 * log(256.0) : -256.0 * log(1.0 - b / 256.0);
	return e;
fail:
	engine_free(e);
	return NULL;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_sens; i++)
		free(e->sens[i].glob);
	free(e->sens);
	ids_free(e);
	free(e->groups);
	free(e->gidx);
	free(e->pitems);
	free(e->supp);
	free(e->routes);
	learned_free(e);
	free(e);
}

/* ------------------------------------------------------------------ local time */

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/*
 * Local time in the business-hours zone. The offset is asked once per
 * quarter hour of packet time (zone offsets change on quarter-hour
 * boundaries), so the sensor's function is called rarely.
 */
void lt_get(struct engine *e, uint64_t ts_us, struct ltime *lt)
{
	if (ts_us < e->lt_lo || ts_us >= e->lt_hi) {
		uint64_t q = 900ull * 1000000;
		e->lt_lo = ts_us - ts_us % q;
		e->lt_hi = e->lt_lo + q;
		e->lt_off = e->cfg.utc_offset ? e->cfg.utc_offset(e->cfg.utc_offset_ctx, ts_us) : 0;
		if (e->lt_off < -24 * 60 || e->lt_off > 24 * 60)
			e->lt_off = 0;
	}
	int64_t s = (int64_t)(ts_us / 1000000) + (int64_t)e->lt_off * 60;
	int64_t day = floordiv(s, 86400);
	int64_t sod = s - day * 86400;
	lt->offset_min = e->lt_off;
	lt->day = (uint32_t)day;
	lt->wday = (uint8_t)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	lt->hour = (uint8_t)(sod / 3600);
	lt->minute = (uint16_t)(sod / 60);
	lt->how = (uint16_t)(lt->wday * 24 + lt->hour);
	bool bday = (e->cfg.business_days >> lt->wday) & 1;
	lt->slot = (uint8_t)((bday ? 0 : 24) + lt->hour);
	lt->business = bday && lt->minute >= e->cfg.business_start_min &&
		       lt->minute < e->cfg.business_end_min;
}

/* ------------------------------------------------------------------ alerts */

const char *ectx_who(const struct ectx *x)
{
	return x->ev->identity.id[0] ? x->ev->identity.id : "anonymous";
}

size_t json_esc(char *dst, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char buf[7];
		size_t n;
		if (c == '"' || c == '\\') {
			buf[0] = '\\';
			buf[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(buf, "\\u00", 4);
			buf[4] = hex[c >> 4];
			buf[5] = hex[c & 15];
			n = 6;
		} else {
			buf[0] = (char)c;
			n = 1;
		}
		if (o + n >= cap)
			break;
		memcpy(dst + o, buf, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

static void alert_id(struct engine *e, struct alert *a)
{
	uint64_t seq = e->alert_seq++;
	uint64_t h[2];
	for (int k = 0; k < 2; k++) {
		uint64_t s = e->cfg.seed ^ (k ? 0xa0761d6478bd642full : 0xe7037ed1a0b428dbull);
		uint64_t v = eh_str(e->cfg.sensor_name, s);
		v = eh_pair(v, eh_str(a->detector, s));
		v = eh_pair(v, (uint64_t)a->id_kind);
		v = eh_pair(v, eh_str(a->id_value, s));
		v = eh_pair(v, a->ts_us);
		v = eh_pair(v, seq);
		h[k] = v;
	}
	snprintf(a->id, sizeof a->id, "%016llx%016llx", (unsigned long long)h[0],
		 (unsigned long long)h[1]);
}

/* Scores, names, ids and delivers a built alert; z is the total surprise. */
static void alert_deliver(struct engine *e, struct alert *a, enum det d, double z,
			  engine_alert_fn fn, void *ctx)
{
	snprintf(a->detector, sizeof a->detector, "%s", engine_detector_names[d]);
	a->score = score_of(z);
	a->severity = score_severity(a->score);
	alert_id(e, a);
	e->st.alerts++;
	e->st.by_detector[d]++;
	if (fn)
		fn(ctx, a);
}

/*
 * Starts an alert of detector d about item (a route, prefix, agent ... hash;
 * 0 for the identity as a whole). The event is marked anomalous whether or
 * not the alert is suppressed. Returns NULL when suppressed.
 */
struct alert *alert_begin(struct ectx *x, enum det d, uint64_t item)
{
	return alert_begin_for(x, x->key, d, item);
}

/* The same with the suppression key of another identity (0: sensor-wide). */
struct alert *alert_begin_for(struct ectx *x, uint64_t who, enum det d, uint64_t item)
{
	struct engine *e = x->e;
	x->anomalous = true;
	uint64_t span = e->cfg.suppress_us;
	if (d == DET_TOKEN_MISUSE && (item == 5 || item == 6) && span < 86400ull * 1000000)
		span = 86400ull * 1000000; /* rotation reminders: once a day */
	uint64_t key = eh_nz(eh_pair(eh_pair(who, (uint64_t)d + 1), item));
	if (supp_check(e, key, x->now, span)) {
		e->st.suppressed++;
		return NULL;
	}
	struct alert *a = &e->a;
	memset(a, 0, sizeof *a);
	a->summary[0] = '\0';
	snprintf(a->evidence, sizeof a->evidence, "{}");
	return a;
}

void alert_emit(struct ectx *x, enum det d, double p)
{
	struct engine *e = x->e;
	struct alert *a = &e->a;
	const struct api_event *ev = x->ev;
	if (!(p > 0))
		p = 1e-15;
	double s = -log10(p);
	if (s < 0)
		s = 0;
	if (s > 15)
		s = 15;
	/* The learned models' view of the same moment joins the score and the
	 * evidence: MIDAS's tail for this event, HST's for the identity's bucket. */
	double mv_score = -1, mv_tail = 1;
	if (x->id && d != DET_MULTIVARIATE)
		mv_tail = learned_mv_tail(x, &mv_score);
	double learned = x->learned_s + (mv_tail < 1e-2 ? -log10(mv_tail) - 2 : 0);
	double z = s + 0.5 * learned;
	if (x->id) {
		z += 0.25 * score_risk(x->id, x->now_s);
		x->id->risk += (float)s;
	}
	size_t n = strlen(a->evidence);
	if (n >= 2 && a->evidence[n - 1] == '}' && n + 120 < sizeof a->evidence)
		snprintf(a->evidence + n - 1, sizeof a->evidence - (n - 1),
			 "%s\"learned\":{\"burst_surprise\":%.2f,\"multivariate_score\":%.3f,"
			 "\"multivariate_tail\":%.3g},\"tail_p\":%.3g}",
			 n > 2 ? "," : "", x->learned_s, mv_score, mv_tail, p);
	a->ts_us = ev->ts_us;
	a->id_kind = ev->identity.kind;
	snprintf(a->id_value, sizeof a->id_value, "%s", ev->identity.id);
	memcpy(a->client_ip, x->ip, 16);
	snprintf(a->method, sizeof a->method, "%s", ev->method);
	snprintf(a->host, sizeof a->host, "%s", ev->host);
	snprintf(a->path, sizeof a->path, "%s", ev->path);
	snprintf(a->route, sizeof a->route, "%s", x->route);
	alert_deliver(e, a, d, z, x->fn, x->fctx);
}

/* Health alerts (no event): built by the caller into e->a. */
void alert_emit_health(struct engine *e, enum det d, double p, engine_alert_fn fn, void *ctx)
{
	double s = p > 0 ? -log10(p) : 15;
	if (s > 15)
		s = 15;
	alert_deliver(e, &e->a, d, s, fn, ctx);
}

/* ------------------------------------------------------------------ one event */

static uint32_t agent_family_of(struct engine *e, const char *s, char *name, size_t cap);

/* Product token of a User-Agent without its version: "curl/8.0" -> "curl". */
static uint32_t agent_family(struct engine *e, const struct api_event *ev, char *name, size_t cap)
{
	name[0] = '\0';
	if (!ev->has_user_agent || !ev->user_agent[0])
		return 0;
	_Static_assert(sizeof e->ua_memo[0].ua == sizeof ev->user_agent,
		       "the memo holds a whole User-Agent");
	_Static_assert(sizeof e->ua_memo[0].name == sizeof ((struct ectx *)0)->agent_name,
		       "the memo holds a whole family name");
	/* A few client programs make most requests: their families once. Only a
	 * User-Agent that ends in its field (the family of one that fills it may
	 * depend on the bytes after it). */
	const char *ua = ev->user_agent;
	size_t n = strnlen(ua, EV_UA_MAX);
	if (n == EV_UA_MAX)
		return agent_family_of(e, ua, name, cap);
	unsigned slot = (unsigned)(n + (unsigned char)ua[0] + (unsigned char)ua[n - 1]) & 7;
	struct engine_ua_memo *m = &e->ua_memo[slot];
	if (m->h && memcmp(m->ua, ua, n + 1) == 0) {
		memcpy(name, m->name, sizeof m->name);
		return m->h;
	}
	uint32_t h = agent_family_of(e, ua, name, cap);
	if (h) {
		memcpy(m->ua, ua, sizeof m->ua); /* fixed size: what follows the NUL is never read */
		memcpy(m->name, name, sizeof m->name);
		m->h = h;
	}
	return h;
}

static uint32_t agent_family_of(struct engine *e, const char *s, char *name, size_t cap)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = 0;
	while (s[n] && s[n] != '/' && s[n] != ' ' && s[n] != '\t' && s[n] != '(' && s[n] != ';')
		n++;
	if (n == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	name[n] = '\0';
	return eh_nz32(eh_bytes(name, n, e->cfg.seed ^ 0xa9e));
}

static bool is_v4mapped(const uint8_t *ip)
{
	static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(ip, pre, 12) == 0;
}

/* Client prefix: /24 for IPv4, /48 for IPv6; *wide gets the /16 (/32). */
static uint32_t client_prefix(struct engine *e, const uint8_t *ip, uint16_t *wide)
{
	uint8_t p[16] = {0}, w[16] = {0};
	if (is_v4mapped(ip)) {
		memcpy(p, ip, 15);
		memcpy(w, ip, 14);
	} else {
		memcpy(p, ip, 6);
		memcpy(w, ip, 4);
	}
	uint32_t h = eh_nz32(eh_bytes(w, 16, e->cfg.seed ^ 0x16));
	*wide = (uint16_t)(h ? h : 1);
	if (!*wide)
		*wide = 1;
	return eh_nz32(eh_bytes(p, 16, e->cfg.seed ^ 0x9f));
}

/*
 * A route's family: the route with a literal last segment replaced by "*"
 * ("/v1/reports/daily-sales" -> "/v1/reports/ *"), when it has two segments
 * or more. Without a spec, values the inventory has not (yet) turned into a
 * {param} (report names, SKUs) would otherwise each be a "new" route.
 */
uint64_t route_family(const char *route, uint64_t seed)
{
	const char *last = strrchr(route, '/');
	if (!last || last == route || strchr(last, '{') || !last[1])
		return eh_nz(eh_str(route, seed ^ 0x52));
	uint64_t h = eh_bytes(route, (size_t)(last - route), seed ^ 0x52);
	return eh_nz(eh_pair(h, 0x2f2a));
}

static bool method_is(const char *m, const char *w)
{
	return strcmp(m, w) == 0;
}

static void engine_anonymous(struct ectx *x)
{
	x->e->ct.anonymous++;
	x->now = x->ev->ts_us;
	x->now_s = (uint32_t)(x->now / 1000000);
	det_shadow_endpoint(x);
	learned_observe(x);
}

void engine_event(struct engine *e, const struct api_event *ev, const char *route,
		  enum routes_verdict verdict, engine_alert_fn fn, void *ctx)
{
	struct ectx x;
	memset(&x, 0, sizeof x);
	x.e = e;
	x.ev = ev;
	x.verdict = verdict;
	x.fn = fn;
	x.fctx = ctx;
	x.route = (route && route[0]) ? route : ev->path;
	x.status = ev->status;
	x.ip = ev->has_origin ? ev->origin_ip : ev->client_ip;
	x.is_ok = ev->status >= 200 && ev->status < 400;
	uint64_t seed = e->cfg.seed;
	bool named = ev->identity.kind != ID_NONE && ev->identity.id[0];
	if (named) {
		/* The identity first: its index slot loads while the rest is hashed. */
		x.key = eh_nz(eh_pair((uint64_t)ev->identity.kind + 0x100, eh_str(ev->identity.id, seed)));
		ids_prefetch_slot(e, x.key);
	}
	uint64_t mh = eh_str(ev->method, seed);
	x.rkey = eh_nz(eh_pair(mh, eh_str(x.route, seed ^ 0x52)));
	x.route_h = route_family(x.route, seed);
	x.fkey = eh_nz(eh_pair(mh, x.route_h));

	e->st.events++;
	if (!e->first_us)
		e->first_us = ev->ts_us;
	if (ev->ts_us > e->watermark_us)
		e->watermark_us = ev->ts_us;
	if (ev->gap)
		e->h_ev_gaps++;

	if (ev->pushed)
		return;
	if (!named) {
		engine_anonymous(&x);
		return;
	}
	/* Memory-level parallelism: the index slot is on its way; the record's
	 * hot lines are asked for as soon as it is found, so their misses overlap. */
	/* Requests come in runs from one address: its hashes once. */
	if (!e->ip_memo_set || memcmp(e->ip_memo, x.ip, 16) != 0) {
		e->ip_memo_pfx = client_prefix(e, x.ip, &e->ip_memo_pfx16);
		e->ip_memo_addr = eh_nz32(eh_bytes(x.ip, 16, seed ^ 0xad));
		memcpy(e->ip_memo, x.ip, 16);
		e->ip_memo_set = true;
	}
	x.pfx = e->ip_memo_pfx;
	x.pfx16 = e->ip_memo_pfx16;
	x.addr = e->ip_memo_addr;
	learned_prefetch(&x);
	x.agent = agent_family(e, ev, x.agent_name, sizeof x.agent_name);
	struct ident *id = ids_find(e, x.key);
	if (id)
		prof_prefetch(id, x.fkey);
	if (!id && ev->status == 401 && !cold_slot(e, x.key, false)) {
		e->ct.not_admitted++;
		x.now = ev->ts_us;
		x.now_s = (uint32_t)(x.now / 1000000);
		det_token_misuse(&x);
		return;
	}
	bool created = false;
	if (!id) {
		id = ids_create(e, x.key, ev->ts_us, &x.was, &x.promoted);
		if (!id)
			return;
		created = true;
		id->kind = (uint8_t)ev->identity.kind;
		if (x.promoted) {
			id->first_seen_us = x.was.first_seen_us;
			id->last_us = x.was.last_us;
			id->max_gap_s = x.was.max_gap_s;
			id->n_events = x.was.n_events;
			id->active_days = x.was.active_days;
			id->group = x.was.group;
			e->ct.promoted++;
		} else {
			id->first_seen_us = ev->ts_us;
			id->last_us = ev->ts_us;
			id->group = GRP_KIND0 + (uint16_t)ev->identity.kind;
		}
		id->learn_end_us = ev->ts_us + e->cfg.learning_period_us;
	}
	x.id = id;

	/* Group: role/scope claims; without claims the kind's group, then (after
	 * learning) a behavioural group. */
	uint64_t gk = peers_key(e, ev);
	{
		uint16_t want;
		if (!gk)
			want = (id->flags & IF_BGROUP) ? id->group : (uint16_t)(GRP_KIND0 + ev->identity.kind);
		else if (e->groups[id->group].key == gk)
			want = id->group;
		else
			want = peers_join(e, gk, (uint8_t)ev->identity.kind, ev);
		if (gk)
			id->flags &= (uint8_t)~IF_BGROUP;
		if (created && !x.promoted) {
			id->group = want;
			peers_member(e, id, +1);
		} else if (want != id->group) {
			peers_member(e, id, -1);
			id->group = want;
			peers_member(e, id, +1);
		}
	}

	x.now = ev->ts_us;
	if (x.now < id->last_us) {
		x.now = id->last_us;
		e->ct.out_of_order++;
	}
	x.now_s = (uint32_t)(x.now / 1000000);
	x.gap_s = (id->n_events > 0) ? (x.now - id->last_us) / 1000000 : 0;
	x.learning = x.now < id->learn_end_us;
	if (!x.learning && !(id->flags & IF_MATURE)) {
		id->flags |= IF_MATURE;
		peers_matured(e, id);
		if (!gk)
			peers_behaviour(e, id);
	}
	lt_get(e, x.now, &x.lt);

	x.is_write = (method_is(ev->method, "DELETE") || method_is(ev->method, "PUT") ||
		      method_is(ev->method, "PATCH")) &&
		     (ev->status == 0 || ev->status < 400);
	x.is_denied = ev->status == 403 ||
		      (ev->status == 401 &&
		       !(ev->identity.flags & (ID_FLAG_EXPIRED | ID_FLAG_NOT_YET_VALID)));
	x.new_route = !prof_bloom_has(id, x.fkey);
	x.new_pfx = prof_set_find(id->pfx, EN_PFX, x.pfx) < 0;
	x.new_agent = x.agent && prof_set_find(id->agent, EN_AGENTS, x.agent) < 0;

	prof_roll(&x);
	prof_count(&x);
	learned_observe(&x);

	det_token_misuse(&x);
	det_dormant(&x);
	det_shadow_endpoint(&x);
	det_new_route(&x);
	det_privilege_probe(&x);
	det_destructive(&x);
	det_rates(&x);
	det_enumeration(&x);
	det_offhours(&x);
	det_new_origin(&x);
	det_token_sharing(&x);
	det_agent_change(&x);
	det_burst(&x);
	det_multivariate(&x);

	if (!x.anomalous) {
		prof_train(&x);
	} else {
		prof_train_items(&x, false);
		id->flags |= IF_BUCKET_ANOM;
	}
	id->last_us = x.now;
	if (id->n_events < UINT32_MAX)
		id->n_events++;
}

void engine_health(struct engine *e, uint64_t now, const struct engine_health *h,
		   engine_alert_fn fn, void *ctx)
{
	if (now > e->watermark_us)
		e->watermark_us = now;
	det_blind_spot(e, now, h, fn, ctx);
}

/*
 * End of input. Every detection is made on the event that completes it, so
 * nothing waits for a window to close; what is left is the sensor health
 * gathered since the last blind_spot verdict. Learned state is not touched:
 * saving after engine_finish and continuing later gives the alerts of one
 * uninterrupted run.
 */
void engine_finish(struct engine *e, uint64_t now, engine_alert_fn fn, void *ctx)
{
	struct engine_health none = {0};
	if (now > e->watermark_us)
		e->watermark_us = now;
	det_blind_spot_flush(e, now, &none, fn, ctx);
}

void engine_get_stats(const struct engine *e, struct engine_stats *st)
{
	*st = e->st;
	st->identities = e->n_ids;
	st->memory = e->mem;
}

void engine_get_counters(const struct engine *e, struct engine_counters *c)
{
	*c = e->ct;
}
