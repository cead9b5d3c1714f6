/*
 * detect_volume.c - how much: rate_spike (requests), volume_spike (request +
 * response body bytes) and destructive (DELETE/PUT/PATCH not refused).
 *
 * Own baseline (after the learning period, with >= 6 clean buckets):
 *   usual = the identity's peak 10-minute (1-hour, 2-hour) figure, decayed
 *   (halved every 14 days); after learning a peak only creeps up when a
 *   bucket is more than 1.5x it (profile.c), so a slow rise cannot become
 *   its own baseline. Seasonal: with >= 24 clean buckets, at an hour of the
 *   week whose slot EWMA is low the usual is lowered towards 4 x the slot
 *   mean, never below half the peak. Buckets that already raised an alert
 *   are left out of the 1- and 2-hour sums (a burst is reported once, it
 *   does not linger in later windows).
 *   rate_spike    sliding 10 min >= max(40, 3 x usual), or
 *                 1 hour >= max(150, 3 x usual hour) (>= 12 buckets) while the
 *                 last 10 minutes are at least at the usual 10-minute peak
 *   sustained     (rate_spike) 2 hours with all 12 ten-minute spans active
 *                 and >= max(40, 3 x the usual, the identity's busiest 2 hours
 *                 before), the usual being 12 x its mean requests per 10
 *                 minutes of work (active spans and pauses under an hour
 *                 inside them), and each of its four half hours at >= 1x:
 *                 people work in stretches and meetings, so a rate several
 *                 times higher for an hour can be normal, for two hours
 *                 without a pause it is not (>= 24 clean buckets of history)
 *   volume_spike  10 min >= max(1 MiB, 4 x usual), or 1 hour >= max(2 MiB,
 *                 4 x usual) while the last 10 minutes are at the usual peak
 *   size          (volume_spike) one response >= max(64 KiB, 4 x the largest
 *                 clean response of its route, over >= 100 of them): a bulk
 *                 page (per_page=5000) of a route whose pages are a few kB;
 *                 this one needs no own history (the route's is enough)
 *   destructive   writes in 10 min >= max(10, 4 x usual writes), doubled
 *                 when writes are >= 20% of the identity's traffic ("an
 *                 identity that rarely writes"); or an identity that never
 *                 wrote (>= 100 requests, past learning) writing 3 times
 *                 within about 40 minutes (a count decayed with a 1-hour time
 *                 constant reaching 2)
 * Peer baseline (learning, or too little history): the group's 99.9th
 * percentile of members' clean 10-minute buckets, x3, with doubled minimums.
 * p = Pareto(3) of observed against usual (a heavy tail on purpose).
 */
#include "engine_int.h"

#include <stdio.h>

#define OWN_MIN_BUCKETS 6
#define SEASON_MIN_BUCKETS 24
#define RATE_MIN10 40.0
#define RATE_MIN60 150.0
#define RATE_X 3.0
#define VOL_MIN10 (1.0 * 1048576)
#define VOL_MIN60 (2.0 * 1048576)
#define SIZE_MIN (64.0 * 1024)
#define SIZE_X 4.0
#define SIZE_MIN_SEEN 100
#define SUST_MIN 40.0
#define SUST_X 3.0
#define SUST_PEAK_X 1.0
#define SUST_HALF_X 1.0
#define SUST_ACTIVE 12
#define VOL_X 4.0
#define DESTR_MIN 10.0
#define DESTR_X 4.0
#define DESTR_WRITER_SHARE 0.2
#define NEVER_MIN 2.0
#define PEER_Q 0.999
#define PEER_X 3.0
#define PEER_MIN_MEMBERS 5

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

/* Seasonal usual: lowered at quiet hours of the week (`slot_usual`, decoded), at most halved. */
static double seasonal_of(const struct ident *id, double peak, double slot_usual)
{
	if (id->n_buckets < SEASON_MIN_BUCKETS)
		return peak;
	double s = 4.0 * slot_usual;
	double u = s < peak ? s : peak;
	return dmax(u, 0.5 * peak);
}

static double seasonal(const struct ident *id, double peak, uint16_t slot)
{
	return seasonal_of(id, peak, lq_dec(slot));
}

static double seasonal8(const struct ident *id, double peak, uint8_t slot)
{
	return seasonal_of(id, peak, lq8_dec(slot));
}

static void human_bytes(double b, char *out, size_t cap)
{
	if (b >= 1073741824.0)
		snprintf(out, cap, "%.1f GiB", b / 1073741824.0);
	else if (b >= 1048576.0)
		snprintf(out, cap, "%.1f MiB", b / 1048576.0);
	else if (b >= 1024.0)
		snprintf(out, cap, "%.1f KiB", b / 1024.0);
	else
		snprintf(out, cap, "%.0f bytes", b);
}

static void fire_rate(struct ectx *x, bool bytes, double obs, double usual, double thr,
		      const char *span, const struct group *g)
{
	enum det d = bytes ? DET_VOLUME_SPIKE : DET_RATE_SPIKE;
	struct alert *a = alert_begin(x, d, 0);
	if (!a)
		return;
	struct ident *id = x->id;
	double slot = bytes ? lq8_dec(id->slot_bytes[x->lt.slot]) : lq_dec(id->slot_req[x->lt.slot]);
	char o[32], u[32];
	if (bytes) {
		human_bytes(obs, o, sizeof o);
		human_bytes(usual, u, sizeof u);
	} else {
		snprintf(o, sizeof o, "%.0f requests", obs);
		snprintf(u, sizeof u, "%.0f", usual);
	}
	if (!g)
		snprintf(a->summary, sizeof a->summary, "%s %s %s in %s; usual <= %s", ectx_who(x),
			 bytes ? "moved" : "made", o, span, u);
	else
		snprintf(a->summary, sizeof a->summary,
			 "%s %s %s in %s while still learning its baseline; its peers (%s) stay "
			 "<= %s",
			 ectx_who(x), bytes ? "moved" : "made", o, span, g->label, u);
	uint32_t c60;
	double b60;
	double c10 = prof_c10(id, x->now_s, &c60), b10 = prof_b10(id, x->now_s, &b60);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"window\":\"%s\",\"observed\":%.0f,\"usual\":%.0f,\"threshold\":%.0f,"
		 "\"requests_10m\":%.0f,\"requests_1h\":%u,\"bytes_10m\":%.0f,\"bytes_1h\":%.0f,"
		 "\"peak_requests_10m\":%.0f,\"peak_requests_1h\":%.0f,\"peak_bytes_10m\":%.0f,"
		 "\"peak_bytes_1h\":%.0f,\"slot_mean\":%.1f,\"clean_buckets\":%u,\"baseline\":\"%s\"}",
		 span, obs, usual, thr, c10, c60, b10, b60, id->peak_req10, id->peak_req60,
		 id->peak_bytes10, id->peak_bytes60, slot, id->n_buckets, g ? "peers" : "own");
	alert_emit(x, d, pareto_p(obs, usual, 3));
}

/* One response far larger than any clean response of its route. */
static void size_outlier(struct ectx *x)
{
	double b = (double)x->ev->resp_bytes;
	if (b < SIZE_MIN || !x->is_ok)
		return;
	const struct rseen *r = route_entry(x->e, x->route_h, false);
	if (!r || r->n_sized < SIZE_MIN_SEEN || b < SIZE_X * r->size_max)
		return;
	struct alert *a = alert_begin(x, DET_VOLUME_SPIKE, x->route_h);
	if (!a)
		return;
	char o[32], u[32], route[256];
	human_bytes(b, o, sizeof o);
	human_bytes(r->size_max, u, sizeof u);
	snprintf(a->summary, sizeof a->summary,
		 "%s received %s in one response of %s %s; the largest of %u responses of that route "
		 "before was %s",
		 ectx_who(x), o, x->ev->method, x->route, r->n_sized, u);
	json_esc(route, sizeof route, x->route);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"window\":\"response\",\"observed\":%.0f,\"route_max\":%.0f,\"route_responses\":%u,"
		 "\"threshold\":%.0f,\"route\":\"%s\"}",
		 b, (double)r->size_max, r->n_sized, SIZE_X * r->size_max, route);
	alert_emit(x, DET_VOLUME_SPIKE, pareto_p(b, r->size_max, 3));
}

/* Sustained rate: two hours, nearly every 10 minutes active, far above the session mean. */
static void sustained(struct ectx *x)
{
	struct ident *id = x->id;
	int active;
	uint32_t c120 = prof_c120(id, &active);
	if (c120 < SUST_MIN || active < SUST_ACTIVE)
		return;
	double n = (double)id->n_buckets + (double)id->n_idle;
	double lambda = n > 0 ? id->reqs_total / n : 1.0;
	if (lambda < 1)
		lambda = 1;
	double expect = EN_RING * lambda;
	double thr = dmax(dmax(SUST_MIN, SUST_X * expect), SUST_PEAK_X * id->peak_req120);
	uint32_t c60;
	double c10 = prof_c10(id, x->now_s, &c60);
	/* Sustained, not one burst: each half hour of the window (the current
	 * one included) at >= SUST_HALF_X x the usual. */
	uint32_t cur = id->bucket % EN_RING;
	double lowest = 1e30;
	uint16_t skip = prof_anomalous_buckets(id);
	for (int h = 0; h < 4; h++) {
		double c30 = 0;
		for (int k = 0; k < 3; k++) {
			uint32_t i = (cur + EN_RING - (uint32_t)(3 * h + k)) % EN_RING;
			c30 += ((skip >> i) & 1) ? 0 : id->req[i];
		}
		if (c30 < lowest)
			lowest = c30;
	}
	if (c120 < thr || lowest < SUST_HALF_X * 3 * lambda)
		return;
	struct alert *a = alert_begin(x, DET_RATE_SPIKE, 0);
	if (!a)
		return;
	snprintf(a->summary, sizeof a->summary,
		 "%s made %u requests in 2 hours, active in %d of its 12 ten-minute spans; usual "
		 "about %.0f in 2 hours of work (%.1fx), at most %.0f before",
		 ectx_who(x), c120, active, expect, c120 / expect, id->peak_req120);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"window\":\"2 hours\",\"observed\":%u,\"usual\":%.1f,\"threshold\":%.1f,"
		 "\"active_10m_spans\":%d,\"usual_per_10m\":%.2f,\"peak_2h\":%.0f,\"last_10m\":%.1f,"
		 "\"clean_buckets\":%u,\"baseline\":\"own\"}",
		 c120, expect, thr, active, lambda, id->peak_req120, c10, id->n_buckets);
	alert_emit(x, DET_RATE_SPIKE, pareto_p(c120, expect, 3));
}

void det_rates(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	uint32_t c60;
	double b60;
	double c10 = prof_c10(id, x->now_s, &c60);
	double b10 = prof_b10(id, x->now_s, &b60);
	size_outlier(x);
	bool own = !x->learning && id->n_buckets >= OWN_MIN_BUCKETS;
	if (own && id->n_buckets >= 24)
		sustained(x);
	if (c10 < RATE_MIN10 && b10 < VOL_MIN10 && c60 < RATE_MIN60 && b60 < VOL_MIN60)
		return;
	if (own) {
		/* the hour windows without buckets already reported */
		prof_hour_clean(id, &c60, &b60);
		double u10 = seasonal(id, id->peak_req10, id->slot_req[x->lt.slot]);
		double t10 = dmax(RATE_MIN10, RATE_X * u10);
		double t60 = dmax(RATE_MIN60, RATE_X * id->peak_req60);
		if (c10 >= t10)
			fire_rate(x, false, c10, u10, t10, "10 min", NULL);
		else if (id->n_buckets >= 12 && c60 >= t60 && c10 >= id->peak_req10)
			fire_rate(x, false, c60, id->peak_req60, t60, "1 hour", NULL);
		double v10 = seasonal8(id, id->peak_bytes10, id->slot_bytes[x->lt.slot]);
		double s10 = dmax(VOL_MIN10, VOL_X * v10);
		double s60 = dmax(VOL_MIN60, VOL_X * id->peak_bytes60);
		if (b10 >= s10)
			fire_rate(x, true, b10, v10, s10, "10 min", NULL);
		else if (id->n_buckets >= 12 && b60 >= s60 && b10 >= id->peak_bytes10)
			fire_rate(x, true, b60, id->peak_bytes60, s60, "1 hour", NULL);
		return;
	}
	struct group *g = peers_pick(e, id, PEER_MIN_MEMBERS);
	if (!g)
		return;
	double u = hist_quantile(&g->req10, PEER_Q);
	double t = dmax(2 * RATE_MIN10, PEER_X * u);
	if (c10 >= t)
		fire_rate(x, false, c10, u, t, "10 min", g);
	double v = hist_quantile(&g->bytes10_k, PEER_Q) * 1024.0;
	double s = dmax(2 * VOL_MIN10, PEER_X * v);
	if (b10 >= s)
		fire_rate(x, true, b10, v, s, "10 min", g);
}

/* An identity that never wrote (after its learning period, >= 100 requests)
 * writes NEVER_MIN times within about an hour. */
static bool never_writer(struct ectx *x, double *w1h)
{
	struct ident *id = x->id;
	double dt = x->now_s > id->wrecent_s ? (double)(x->now_s - id->wrecent_s) : 0;
	id->wrecent = (float)(id->wrecent * exp(-dt / 3600.0) + 1.0);
	id->wrecent_s = x->now_s;
	*w1h = id->wrecent;
	return !x->learning && id->writes_total == 0 && id->reqs_total >= 100 && id->wrecent >= NEVER_MIN;
}

void det_destructive(struct ectx *x)
{
	if (!x->is_write)
		return;
	struct engine *e = x->e;
	struct ident *id = x->id;
	double w1h;
	if (never_writer(x, &w1h)) {
		struct alert *a = alert_begin(x, DET_DESTRUCTIVE, 0);
		if (!a)
			return;
		snprintf(a->summary, sizeof a->summary,
			 "%s made %.0f DELETE/PUT/PATCH requests within about an hour, last %s %s; usual: "
			 "none in its %.0f requests before",
			 ectx_who(x), w1h, x->ev->method, x->route, id->reqs_total);
		char method[40], route[256];
		json_esc(method, sizeof method, x->ev->method);
		json_esc(route, sizeof route, x->route);
		snprintf(a->evidence, sizeof a->evidence,
			 "{\"writes_1h\":%.1f,\"writes_before\":0,\"requests_before\":%.0f,"
			 "\"method\":\"%s\",\"route\":\"%s\",\"baseline\":\"own\"}",
			 w1h, id->reqs_total, method, route);
		alert_emit(x, DET_DESTRUCTIVE, 1e-3 / w1h);
		return;
	}
	double w10 = prof_w10(id, x->now_s);
	if (w10 < DESTR_MIN)
		return;
	double share = id->writes_total / dmax(1.0, id->reqs_total);
	double u, t;
	const struct group *g = NULL;
	if (!x->learning && id->n_buckets >= OWN_MIN_BUCKETS) {
		u = id->peak_writes10;
		t = dmax(DESTR_MIN, DESTR_X * u) * (share >= DESTR_WRITER_SHARE ? 2 : 1);
	} else {
		g = peers_pick(e, id, PEER_MIN_MEMBERS);
		if (!g)
			return;
		u = hist_quantile(&g->writes10, PEER_Q);
		t = dmax(2 * DESTR_MIN, PEER_X * u);
	}
	if (w10 < t)
		return;
	struct alert *a = alert_begin(x, DET_DESTRUCTIVE, 0);
	if (!a)
		return;
	if (!g)
		snprintf(a->summary, sizeof a->summary,
			 "%s made %.0f DELETE/PUT/PATCH requests in 10 min; usual <= %.0f (writes are "
			 "%.1f%% of its traffic)",
			 ectx_who(x), w10, u, share * 100);
	else
		snprintf(a->summary, sizeof a->summary,
			 "%s made %.0f DELETE/PUT/PATCH requests in 10 min while still learning its "
			 "baseline; its peers (%s) stay <= %.0f",
			 ectx_who(x), w10, g->label, u);
	char method[40];
	json_esc(method, sizeof method, x->ev->method);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"writes_10m\":%.0f,\"usual\":%.0f,\"threshold\":%.0f,\"write_share\":%.4f,"
		 "\"method\":\"%s\",\"baseline\":\"%s\"}",
		 w10, u, t, share, method, g ? "peers" : "own");
	alert_emit(x, DET_DESTRUCTIVE, pareto_p(w10, u, 3));
}
