/*
 * profile.c - one identity's windows and learned profile.
 *
 * Windows: a ring of twelve 10-minute request buckets (the 2-hour window;
 * the last six are the hour), a ring of six byte buckets (the hour), and the
 * current and previous buckets of writes, denials and denied routes. A
 * sliding 10-minute figure is the current bucket plus the previous one
 * times the part of it still inside the last 10 minutes. Buckets that raised
 * an alert are marked (ring_anom) and left out of later hour and 2-hour
 * verdicts.
 *
 * When a bucket closes (lazily, on the identity's next event) and it raised
 * no alert, it trains: peaks (decayed maxima, halved every 14 days) of the
 * 10-, 60- and 120-minute counts and bytes, the seasonal slot (hour of day x
 * business day or not) EWMA of requests and bytes, the session mean (empty
 * buckets inside a session count as zeros), the write total, the peer
 * group's histograms, and the multivariate model. After the learning
 * period a peak follows a bucket more than 1.5x above it only by 2% of the
 * way (the hour and 2-hour peaks are compared with their value when the day
 * began), so a slow, sustained rise cannot drag its own baseline along;
 * writes that are part of a run do not train the write total.
 *
 * Clean events train the rest: the hour-of-week activity profile (4-bit
 * counts of active hours), the longest silence, the most client addresses
 * at once, each route's largest response. Every event (also an anomalous
 * one: prof_train_items) adds to the set of client prefixes and of agent
 * families (small, least recently used replaced) and the routes used (a
 * blocked Bloom filter: two 512-bit blocks, 3 bits in one of them a route:
 * about 2% false "seen" at 100 routes, which can only hide a new_route,
 * never invent one); peers count only clean events' items.
 *
 * Log-coded values (lq_enc): round(log2(1 + x) * 1024) in 16 bits, about
 * 0.07% relative precision up to 2^63; lq8_enc: 4 steps an octave in 8 bits.
 */
#include "engine_int.h"

uint16_t lq_enc(double x)
{
	if (!(x > 0))
		return 0;
	double q = log2(1.0 + x) * 1024.0 + 0.5;
	return q >= 65535.0 ? 65535 : (uint16_t)q;
}

double lq_dec(uint16_t q)
{
	return q ? exp2(q / 1024.0) - 1.0 : 0.0;
}

/* 8-bit log code: round(4 log2(1 + x)), 19% steps, up to 2^63. */
uint8_t lq8_enc(double x)
{
	if (!(x > 0))
		return 0;
	double q = log2(1.0 + x) * 4.0 + 0.5;
	return q >= 255.0 ? 255 : q < 1 ? 1 : (uint8_t)q;
}

double lq8_dec(uint8_t q)
{
	return q ? exp2(q / 4.0) - 1.0 : 0.0;
}

static inline uint32_t ring_cur(const struct ident *id)
{
	return id->bucket % EN_RING;
}

/* ---------------------------------------------------------------- the Bloom filter */

/* A blocked Bloom filter: the hash picks one 64-byte block, then 3 bits in it. */
static inline uint32_t bloom_pos(uint64_t h, uint32_t p[3])
{
	p[0] = (uint32_t)(h & 511);
	p[1] = (uint32_t)((h >> 9) & 511);
	p[2] = (uint32_t)((h >> 18) & 511);
	return (uint32_t)((h >> 27) % (EN_BLOOM_BYTES / 64)) * 64;
}

/* Starts loading what this event will read of the record: the first six
 * lines (header, windows, baselines, sets), the Bloom block, the trackers. */
void prof_prefetch(const struct ident *id, uint64_t route_key)
{
	const char *p = (const char *)id;
	for (size_t o = 0; o < offsetof(struct ident, bloom); o += 64)
		__builtin_prefetch(p + o, 1);
	uint32_t q[3];
	__builtin_prefetch(id->bloom + bloom_pos(eh_mix(route_key), q));
	for (size_t o = offsetof(struct ident, tr); o < offsetof(struct ident, slot_req); o += 64)
		__builtin_prefetch(p + o, 1);
}

bool prof_bloom_has(const struct ident *id, uint64_t h)
{
	uint32_t p[3];
	const uint8_t *b = id->bloom + bloom_pos(eh_mix(h), p);
	for (int i = 0; i < 3; i++)
		if (!(b[p[i] >> 3] & (1u << (p[i] & 7))))
			return false;
	return true;
}

void prof_bloom_add(struct ident *id, uint64_t h)
{
	uint32_t p[3];
	uint8_t *b = id->bloom + bloom_pos(eh_mix(h), p);
	for (int i = 0; i < 3; i++)
		b[p[i] >> 3] |= (uint8_t)(1u << (p[i] & 7));
}

int prof_set_find(const uint32_t *set, int n, uint32_t h)
{
	for (int i = 0; i < n; i++)
		if (set[i] == h)
			return i;
	return -1;
}

/* Adds h to a small set (replacing the least recently used); returns true if new. */
static bool set_touch(uint32_t *set, uint16_t *day, int n, uint32_t h, uint16_t today)
{
	int i = prof_set_find(set, n, h);
	if (i >= 0) {
		day[i] = today;
		return false;
	}
	int v = 0;
	for (int k = 0; k < n; k++) {
		if (!set[k]) {
			v = k;
			break;
		}
		if (day[k] < day[v])
			v = k;
	}
	set[v] = h;
	day[v] = today;
	return true;
}

/* ---------------------------------------------------------------- hour of week */

int prof_how(const struct ident *id, int how)
{
	how = ((how % EN_HOW) + EN_HOW) % EN_HOW;
	uint8_t b = id->how[how >> 1];
	return (how & 1) ? (b >> 4) : (b & 15);
}

/* Active hours counted at how-1, how, how+1. */
int prof_how_near(const struct ident *id, int how)
{
	return prof_how(id, how - 1) + prof_how(id, how) + prof_how(id, how + 1);
}

static void how_bump(struct ident *id, int how)
{
	uint8_t *b = &id->how[how >> 1];
	if (how & 1) {
		if ((*b >> 4) < 15)
			*b = (uint8_t)(*b + 16);
	} else if ((*b & 15) < 15) {
		*b = (uint8_t)(*b + 1);
	}
}

/* ---------------------------------------------------------------- windows */

/* Sliding 10-minute request estimate; *c60 gets the 1-hour (six-bucket) sum. */
double prof_c10(const struct ident *id, uint32_t now_s, uint32_t *c60)
{
	uint32_t cur = id->bucket % EN_RING, prev = (cur + EN_RING - 1) % EN_RING;
	double frac = (double)(now_s - id->bucket * EN_BUCKET_S) / EN_BUCKET_S;
	if (frac > 1)
		frac = 1;
	if (c60) {
		uint32_t s = 0;
		for (int i = 0; i < 6; i++)
			s += id->req[(cur + EN_RING - (uint32_t)i) % EN_RING];
		*c60 = s;
	}
	return id->req[cur] + id->req[prev] * (1.0 - frac);
}

uint16_t prof_anomalous_buckets(const struct ident *id)
{
	uint16_t skip = id->ring_anom;
	if (id->flags & IF_BUCKET_ANOM)
		skip |= (uint16_t)(1u << (id->bucket % EN_RING));
	return skip;
}

/*
 * Requests in the 2-hour window, leaving out buckets that already raised an
 * alert (reported once, they must not linger in a later verdict); *active
 * gets how many of the counted buckets had any.
 */
uint32_t prof_c120(const struct ident *id, int *active)
{
	uint32_t s = 0;
	int a = 0;
	uint16_t skip = prof_anomalous_buckets(id);
	for (int i = 0; i < EN_RING; i++) {
		if ((skip >> i) & 1)
			continue;
		s += id->req[i];
		a += id->req[i] > 0;
	}
	*active = a;
	return s;
}

/* The 1-hour sums leaving out buckets that already raised an alert. */
void prof_hour_clean(const struct ident *id, uint32_t *c60, double *b60)
{
	uint16_t skip = prof_anomalous_buckets(id);
	uint32_t c = 0;
	double b = 0;
	for (uint32_t k = 0; k < EN_BRING; k++) {
		uint32_t bk = id->bucket - k;
		if ((skip >> (bk % EN_RING)) & 1)
			continue;
		c += id->req[bk % EN_RING];
		b += id->bytes[bk % EN_BRING];
	}
	*c60 = c;
	*b60 = b;
}

double prof_b10(const struct ident *id, uint32_t now_s, double *b60)
{
	uint32_t cur = id->bucket % EN_BRING, prev = (cur + EN_BRING - 1) % EN_BRING;
	double frac = (double)(now_s - id->bucket * EN_BUCKET_S) / EN_BUCKET_S;
	if (frac > 1)
		frac = 1;
	if (b60) {
		double s = 0;
		for (int i = 0; i < EN_BRING; i++)
			s += id->bytes[i];
		*b60 = s;
	}
	return id->bytes[cur] + id->bytes[prev] * (1.0 - frac);
}

static double slide(const struct ident *id, uint32_t now_s, uint16_t cur, uint16_t prev)
{
	double frac = (double)(now_s - id->bucket * EN_BUCKET_S) / EN_BUCKET_S;
	if (frac > 1)
		frac = 1;
	return cur + prev * (1.0 - frac);
}

double prof_w10(const struct ident *id, uint32_t now_s)
{
	return slide(id, now_s, id->writes[0], id->writes[1]);
}

double prof_d10(const struct ident *id, uint32_t now_s)
{
	return slide(id, now_s, id->denied[0], id->denied[1]);
}

int prof_conc(const struct ident *id, uint32_t now_s)
{
	int n = 0;
	for (int i = 0; i < EN_ADDRS; i++)
		if (id->addr[i] && id->addr_last[i] + 300 >= now_s)
			n++;
	return n;
}

static void peak_train(float *peak, double v, bool calm)
{
	if (v <= *peak)
		return;
	*peak = calm ? (float)v : (float)(*peak + 0.02 * (v - *peak));
}

static uint16_t u16max(uint16_t a, double b)
{
	if (b > 65535)
		b = 65535;
	return a > b ? a : (uint16_t)b;
}

static void decay_peaks(struct ident *id, uint16_t day)
{
	if (day <= id->decay_day)
		return;
	id->snap_req60 = id->peak_req60;
	id->snap_req120 = id->peak_req120;
	id->snap_bytes60 = id->peak_bytes60;
	if (id->decay_day) {
		double f = exp2(-(double)(day - id->decay_day) / 14.0);
		id->peak_req10 *= (float)f;
		id->peak_req60 *= (float)f;
		id->peak_req120 *= (float)f;
		id->peak_bytes10 *= (float)f;
		id->peak_bytes60 *= (float)f;
		id->peak_writes10 = (uint16_t)(id->peak_writes10 * f);
		id->peak_denied10 = (uint16_t)(id->peak_denied10 * f);
		id->peak_droutes = (uint16_t)(id->peak_droutes * f);
		id->peak_routes10 = (uint16_t)(id->peak_routes10 * f);
		id->peak_enum10 = (uint16_t)(id->peak_enum10 * f);
		id->peak_enum60 = (uint16_t)(id->peak_enum60 * f);
		id->peak_seq = (uint16_t)(id->peak_seq * f);
	}
	id->decay_day = day;
}

static void slot_ewma(uint16_t *slot, double v)
{
	if (!*slot) {
		*slot = lq_enc(v);
		return;
	}
	double m = lq_dec(*slot);
	m += 0.25 * (v - m);
	uint16_t q = lq_enc(m);
	*slot = q ? q : 1;
}

static void slot_ewma8(uint8_t *slot, double v)
{
	if (!*slot) {
		*slot = lq8_enc(v);
		return;
	}
	double m = lq8_dec(*slot);
	m += 0.25 * (v - m);
	*slot = lq8_enc(m);
}

/* Usual requests in a bucket of a session at this seasonal slot (>= 1). */
double prof_lambda(const struct ident *id, int slot)
{
	double n = (double)id->n_buckets + (double)id->n_idle;
	double global = n > 0 ? id->reqs_total / n : 1.0;
	double l = global;
	if (id->n_buckets >= 24 && id->slot_req[slot]) {
		double s = lq_dec(id->slot_req[slot]);
		l = s > 0.5 * global ? s : 0.5 * global;
	}
	return l > 1.0 ? l : 1.0;
}

/* The current bucket closes: it trains unless it raised an alert. */
static void close_bucket(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	uint32_t cur = id->bucket % EN_RING;
	double c = id->req[cur];
	if (c <= 0 || (id->flags & IF_BUCKET_ANOM))
		return;
	uint32_t start_s = id->bucket * EN_BUCKET_S;
	struct ltime lt;
	lt_get(e, (uint64_t)start_s * 1000000, &lt);
	double by = id->bytes[id->bucket % EN_BRING];
	decay_peaks(id, (uint16_t)(start_s / 86400));
	uint32_t c60 = 0;
	double b60 = 0;
	prof_hour_clean(id, &c60, &b60); /* the hour without buckets that alerted */
	/* The multivariate model learns the bucket as it stood (before the peaks move). */
	if (start_s * 1000000ull >= id->learn_end_us) {
		double f[EN_MV_DIMS];
		mv_features(id, lt.slot, lt.how, f);
		learned_bucket_close(e, id, f);
	}
	/* Peaks ratchet up freely while learning, or when the new level is within
	 * 1.5x of the peak (for the 1- and 2-hour windows, of the peak as the day
	 * began: a slow ramp would otherwise stay within 1.5x of itself); beyond
	 * that they creep (2% of the way a bucket), so a slow, sustained rise
	 * cannot drag its own baseline along. */
	int active;
	double c120 = prof_c120(id, &active);
	bool learning = (uint64_t)start_s * 1000000 < id->learn_end_us;
	bool calm_r = learning || (c <= 1.5 * id->peak_req10 + 2 && c60 <= 1.5 * id->snap_req60 + 3 &&
				   c120 <= 1.5 * id->snap_req120 + 5);
	bool calm_b = learning || (by <= 1.5 * id->peak_bytes10 + 4096 &&
				   b60 <= 1.5 * id->snap_bytes60 + 8192);
	peak_train(&id->peak_req10, c, calm_r);
	peak_train(&id->peak_req60, c60, calm_r);
	peak_train(&id->peak_req120, c120, calm_r);
	peak_train(&id->peak_bytes10, by, calm_b);
	peak_train(&id->peak_bytes60, b60, calm_b);
	id->peak_writes10 = u16max(id->peak_writes10, id->writes[0]);
	id->peak_denied10 = u16max(id->peak_denied10, id->denied[0]);
	int dr = __builtin_popcountll(id->droutes_bits[0] | id->droutes_bits[1]);
	id->peak_droutes = u16max(id->peak_droutes, dr);
	id->peak_routes10 = u16max(id->peak_routes10, __builtin_popcountll(id->routes_bits));
	slot_ewma(&id->slot_req[lt.slot], c);
	slot_ewma8(&id->slot_bytes[lt.slot], by);
	id->reqs_total += (float)c;
	/* Writes train while learning; after it, not when they are part of a run
	 * of writes (a decayed count of 1.2 or more): a never-writer stays one
	 * until its run has been judged. */
	double dt = start_s + EN_BUCKET_S > id->wrecent_s ? (double)(start_s + EN_BUCKET_S - id->wrecent_s) : 0;
	if (learning || id->wrecent * exp(-dt / 3600.0) < 1.2)
		id->writes_total += id->writes[0];
	if (id->n_buckets < UINT32_MAX)
		id->n_buckets++;
	peers_bucket(e, id, c, by, id->writes[0], id->denied[0], dr);
}

void prof_roll(struct ectx *x)
{
	struct ident *id = x->id;
	uint32_t b = x->now_s / EN_BUCKET_S;
	if (b == id->bucket)
		return;
	if (id->bucket)
		close_bucket(x);
	/* Empty buckets in between inside a session (a pause under an hour) are
	 * zeros of the seasonal mean. */
	if (id->bucket && b > id->bucket + 1) {
		uint32_t empty = b - id->bucket - 1;
		if (empty < 6 && !(id->flags & IF_BUCKET_ANOM)) {
			for (uint32_t k = 0; k < empty; k++)
				slot_ewma(&id->slot_req[x->lt.slot], 0);
			id->n_idle += empty;
		}
	}
	if (id->flags & IF_BUCKET_ANOM)
		id->ring_anom |= (uint16_t)(1u << (id->bucket % EN_RING));
	uint32_t steps = id->bucket ? b - id->bucket : EN_RING;
	if (steps > EN_RING)
		steps = EN_RING;
	for (uint32_t k = 1; k <= steps; k++) {
		id->req[(id->bucket + k) % EN_RING] = 0;
		id->ring_anom &= (uint16_t)~(1u << ((id->bucket + k) % EN_RING));
	}
	for (uint32_t k = 1; k <= steps && k <= EN_BRING; k++)
		id->bytes[(id->bucket + k) % EN_BRING] = 0;
	if (id->bucket && b == id->bucket + 1) {
		id->writes[1] = id->writes[0];
		id->denied[1] = id->denied[0];
		id->droutes_bits[1] = id->droutes_bits[0];
	} else {
		id->writes[1] = id->denied[1] = 0;
		id->droutes_bits[1] = 0;
	}
	id->writes[0] = id->denied[0] = 0;
	id->droutes_bits[0] = 0;
	id->routes_bits = 0;
	id->err_cur = id->new_cur = 0;
	id->flags &= (uint8_t)~IF_BUCKET_ANOM;
	id->bucket = b;
}

void prof_count(struct ectx *x)
{
	struct ident *id = x->id;
	const struct api_event *ev = x->ev;
	uint32_t cur = ring_cur(id);
	if (id->req[cur] < UINT32_MAX)
		id->req[cur]++;
	id->bytes[id->bucket % EN_BRING] += (float)((double)ev->resp_bytes + (double)ev->req_bytes);
	if (x->is_write && id->writes[0] < UINT16_MAX)
		id->writes[0]++;
	if (x->is_denied) {
		if (id->denied[0] < UINT16_MAX)
			id->denied[0]++;
		id->droutes_bits[0] |= 1ull << (x->rkey & 63);
	}
	id->routes_bits |= 1ull << ((x->rkey >> 6) & 63);
	if (x->status >= 400 && id->err_cur < UINT16_MAX)
		id->err_cur++;
	if ((x->new_route && x->is_ok) || x->new_pfx || x->new_agent)
		if (id->new_cur < UINT16_MAX)
			id->new_cur++;
}

/* A clean event: the sets, the hour-of-week profile, silences, concurrency. */
void prof_train(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (x->gap_s > id->max_gap_s)
		id->max_gap_s = (uint32_t)(x->gap_s > UINT32_MAX ? UINT32_MAX : x->gap_s);
	if ((uint16_t)x->lt.day != id->last_day) {
		id->last_day = (uint16_t)x->lt.day;
		e->id_days++;
		if (id->active_days < 255)
			id->active_days++;
	}
	uint32_t hour = x->now_s / 3600;
	if (hour != id->how_hour) {
		id->how_hour = hour;
		how_bump(id, x->lt.how);
		peers_hour(e, id, x->lt.how);
	}
	if (x->is_ok) {
		id->flags |= IF_HAD_OK;
		/* the route's response sizes (volume_spike's per-request check) */
		struct rseen *r = route_entry(e, x->route_h, true);
		if (r) {
			double b = (double)x->ev->resp_bytes;
			if (b > r->size_max)
				r->size_max = (float)b;
			if (r->n_sized < UINT32_MAX)
				r->n_sized++;
		}
	}
	prof_train_items(x, true);
	int conc = x->conc;
	if (conc > id->max_conc) {
		if (id->max_conc < 2 && conc >= 2)
			e->groups[id->group].conc_members++;
		id->max_conc = (uint8_t)conc;
	}
}

/*
 * Routes, prefixes and agent families used: learned from every event, also
 * one that raised an alert. A first-seen item is reported once (new_route,
 * new_origin, agent_change) and is then known to the identity: repeating
 * "first time" every suppression span would be noise. Peers count an item
 * only from clean events (to_peers), so an insider's item never becomes
 * "common among peers" for the next insider.
 */
void prof_train_items(struct ectx *x, bool to_peers)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	uint16_t today = (uint16_t)(x->now_s / 86400);
	if (x->is_ok && x->new_route) {
		prof_bloom_add(id, x->fkey);
		if (id->n_routes < EN_ROUTE_LIST)
			id->routes[id->n_routes] = eh_nz32(x->fkey);
		if (id->n_routes < UINT16_MAX)
			id->n_routes++;
		if (to_peers)
			peers_add(e, id, IT_ROUTE, eh_nz32(x->fkey));
	}
	int pi = prof_set_find(id->pfx, EN_PFX, x->pfx);
	if (set_touch(id->pfx, id->pfx_day, EN_PFX, x->pfx, today)) {
		pi = prof_set_find(id->pfx, EN_PFX, x->pfx);
		id->pfx16[pi] = x->pfx16;
		if (id->n_pfx_ever < 255)
			id->n_pfx_ever++;
		if (to_peers)
			peers_add(e, id, IT_PREFIX, x->pfx);
	}
	(void)pi;
	if (x->agent && set_touch(id->agent, id->agent_day, EN_AGENTS, x->agent, today)) {
		if (id->n_agent_ever < 255)
			id->n_agent_ever++;
		if (to_peers)
			peers_add(e, id, IT_AGENT, x->agent);
	}
}
