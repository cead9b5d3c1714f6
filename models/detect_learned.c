/*
 * detect_learned.c - the learned models beyond the rules.
 *
 * burst: three MIDAS-R edge streams (models/midas.h) over
 *   (identity, method+route), (identity, client prefix) and (route, 4xx).
 *   Anomalous buckets are not absorbed into the totals (midas.c's rule).
 *   Every event is scored and its score's bin counted, which gives the
 *   stream's empirical tail. An alert needs, after the identity's learning
 *   period: a tail below the alert budget (0.1 alert per 1,000
 *   identity-days per stream, divided by the events per identity-day seen so
 *   far), enough scores to measure such a tail, a score >= 30, and the
 *   identity's own evidence (>= 20 requests in 10 min; for the 4xx stream,
 *   >= 10 of its own 4xx answers in the bucket). Anonymous events feed the
 *   (route, 4xx) stream and never alert.
 * multivariate: Half-Space Trees (models/hstree.h) over ten deviation
 *   features of an identity's 10-minute bucket, each scaled to [0, 1]:
 *     0 requests / peak, 1 bytes / peak, 2 requests / seasonal slot mean,
 *     3 distinct routes / peak (log ratios, 1 = 8x the usual), 4 error share,
 *     5 write share, 6 hour of week outside the identity's profile,
 *     7 novel routes/prefixes/agents, 8 distinct object ids / peak,
 *     9 denied share.
 *   It learns clean closed buckets of identities past their learning period
 *   and scores the current bucket when its request count reaches 16, 32,
 *   64 ... or a novel item appears (>= 8 requests). Alert: tail below the
 *   budget (0.1 per 1,000 identity-days over the buckets per identity-day)
 *   and at least two features >= 0.8 (a combination, not one rule's signal).
 *
 * The budget makes them quiet until they have seen enough to measure such
 * tails: about 2 million scores for a stream at 200 events per
 * identity-day, 400,000 buckets for the trees (a large deployment's first
 * days; never in a week of 200 identities). Before that, and always, they
 * inform the rule alerts: MIDAS's tail for the event (below 1e-3) and the
 * trees' tail for the identity's bucket (below 1e-2, once 1,000 buckets are
 * learned) raise the alert's score and are written in its evidence
 * ("learned").
 */
#include "engine_int.h"

#include <stdio.h>

#define BURST_MIN_SCORE 30.0
#define BURST_MIN_REQ10 20.0
#define BURST_MIN_ERR 10
#define MV_MIN_FEATURES 2
#define MV_FEATURE_HI 0.8

static const char *const stream_names[3] = {"identity-route", "identity-prefix", "route-4xx"};

int learned_init(struct engine *e)
{
	struct midas_config mc = {
		.rows = 4,
		.cols = 1u << 13,
		.bucket_us = 60ull * 1000000,
		.decay = 0.9,
		.absorb_max = 50.0,
		.seed = e->cfg.seed,
	};
	for (int i = 0; i < 3; i++) {
		mc.seed = e->cfg.seed + 0x1000u * (uint64_t)(i + 1);
		struct midas *m = midas_new(&mc);
		if (!m)
			return -1;
		e->mem += midas_memory(m);
		if (i == 0)
			e->m_route = m;
		else if (i == 1)
			e->m_pfx = m;
		else
			e->m_err = m;
	}
	struct hstree_config hc = {
		.dims = EN_MV_DIMS, .trees = 25, .depth = 10, .window = 1024, .seed = e->cfg.seed ^ 0x4857,
	};
	e->hst = hstree_new(&hc);
	if (!e->hst)
		return -1;
	e->mem += hstree_memory(e->hst);
	return 0;
}

void learned_free(struct engine *e)
{
	midas_free(e->m_route);
	midas_free(e->m_pfx);
	midas_free(e->m_err);
	hstree_free(e->hst);
}

/* 1 + floor(4 log2(1 + s)) from the bits of 1 + s (quarter octaves, no libm). */
static int burst_bin(double s)
{
	if (!(s > 0))
		return 0;
	double v = 1.0 + s;
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	int ex = (int)((u >> 52) & 0x7ff) - 1023;
	uint64_t m = u & ((1ull << 52) - 1);
	/* 2^0.25, 2^0.5, 2^0.75 as mantissa bits */
	int q = (m >= 0x306fe0a31b715ull) + (m >= 0x6a09e667f3bcdull) + (m >= 0xae89f995ad3adull);
	int b = 1 + 4 * ex + q;
	return b >= EN_SHIST_BINS ? EN_SHIST_BINS - 1 : b;
}

static int mv_bin(double s)
{
	if (!(s > 0))
		return 0;
	int b = (int)floor(s * (EN_SHIST_BINS - 1));
	return b >= EN_SHIST_BINS ? EN_SHIST_BINS - 1 : b;
}

static double budget_tail(const struct engine *e, double per_kid)
{
	double kd = e->id_days ? (double)e->id_days : 1.0;
	double per = per_kid / kd; /* items scored per identity-day */
	return per > 0 ? e->budget / per : 0;
}

/* Asks for the sketch cells learned_observe will read for a named identity (x->key, rkey, pfx set). */
void learned_prefetch(const struct ectx *x)
{
	const struct engine *e = x->e;
	midas_prefetch(e->m_route, eh_pair(x->key, x->rkey));
	midas_prefetch(e->m_pfx, eh_pair(x->key, x->pfx));
	if (x->status >= 400 && x->status < 500)
		midas_prefetch(e->m_err, eh_pair(x->route_h, 0x4e));
}

void learned_observe(struct ectx *x)
{
	struct engine *e = x->e;
	uint64_t t = e->watermark_us;
	x->ms[0] = x->ms[1] = x->ms[2] = -1;
	double best = 1;
	if (x->id) {
		x->ms[0] = midas_observe(e->m_route, eh_pair(x->key, x->rkey), t);
		x->ms[1] = midas_observe(e->m_pfx, eh_pair(x->key, x->pfx), t);
	}
	if (x->status >= 400 && x->status < 500)
		x->ms[2] = midas_observe(e->m_err, eh_pair(x->route_h, 0x4e), t);
	for (int i = 0; i < 3; i++) {
		if (x->ms[i] < 0)
			continue;
		int b = burst_bin(x->ms[i]);
		/* a tail only for scores in the top 0.1% (the cut is cached) */
		if (e->burst_h[i].total >= 10000 && b >= shist_cut(&e->burst_h[i], 1e-3)) {
			double tail = shist_tail(&e->burst_h[i], b);
			if (tail < best)
				best = tail;
		}
		shist_add(&e->burst_h[i], b);
	}
	x->learned_s = best < 1e-3 ? -log10(best) - 3 : 0;
}

void det_burst(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (!id || x->learning)
		return;
	double target = budget_tail(e, (double)e->st.events);
	uint32_t c60;
	double c10 = prof_c10(id, x->now_s, &c60);
	for (int i = 0; i < 3; i++) {
		double s = x->ms[i];
		if (s < BURST_MIN_SCORE)
			continue;
		const struct shist *h = &e->burst_h[i];
		if (target <= 0 || (double)h->total < 2.0 / target)
			continue;
		double tail = shist_tail(h, burst_bin(s));
		if (tail > target)
			continue;
		if (i < 2 && c10 < BURST_MIN_REQ10)
			continue;
		if (i == 2 && id->err_cur < BURST_MIN_ERR)
			continue;
		uint64_t item = i == 0 ? x->rkey : i == 1 ? x->pfx : x->route_h;
		struct alert *a = alert_begin(x, DET_BURST, eh_pair(item, (uint64_t)i));
		if (!a)
			continue;
		char what[320];
		if (i == 1)
			snprintf(what, sizeof what, "from its client network (latest %s %s)", x->ev->method,
				 x->route);
		else if (i == 2)
			snprintf(what, sizeof what, "of 4xx answers on %s", x->route);
		else
			snprintf(what, sizeof what, "on %s %s", x->ev->method, x->route);
		snprintf(a->summary, sizeof a->summary,
			 "%s sent a burst of requests %s: MIDAS score %.0f, rarer than 1 in %.0f minute "
			 "scores; %.0f requests in 10 min",
			 ectx_who(x), what, s, 1.0 / tail, c10);
		snprintf(a->evidence, sizeof a->evidence,
			 "{\"stream\":\"%s\",\"score\":%.2f,\"tail\":%.3g,\"budget_tail\":%.3g,"
			 "\"scores_seen\":%llu,\"requests_10m\":%.0f,\"errors_bucket\":%u}",
			 stream_names[i], s, tail, target, (unsigned long long)h->total, c10,
			 id->err_cur);
		alert_emit(x, DET_BURST, tail);
	}
}

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* log2 ratio mapped so that 1/8 of usual -> 0, usual -> 0.5, 8x usual -> 1. */
static double lr(double v, double usual)
{
	return clamp01((log2((v + 1.0) / (usual + 1.0)) + 3.0) / 6.0);
}

void mv_features(const struct ident *id, int slot, int how, double *f)
{
	uint32_t cur = id->bucket % EN_RING;
	double c = id->req[cur], n = c > 0 ? c : 1;
	double best = 0;
	for (int i = 0; i < EN_TRACKERS; i++) {
		const struct enum_tr *t = &id->tr[i];
		if (!t->route)
			continue;
		int b = __builtin_popcountll(t->bits[0]) + __builtin_popcountll(t->bits[1]) +
			__builtin_popcountll(t->bits[2]) + __builtin_popcountll(t->bits[3]);
		double est = b >= 256 ? 1420 : -256.0 * log(1.0 - b / 256.0);
		double b0 = t->sub_b0 >= 256 ? 1420 : -256.0 * log(1.0 - t->sub_b0 / 256.0);
		if (est - b0 > best)
			best = est - b0;
	}
	f[0] = lr(c, id->peak_req10);
	f[1] = lr(id->bytes[id->bucket % EN_BRING] / 1024.0, id->peak_bytes10 / 1024.0);
	f[2] = lr(c, lq_dec(id->slot_req[slot]));
	f[3] = lr(__builtin_popcountll(id->routes_bits), id->peak_routes10);
	f[4] = clamp01(id->err_cur / n);
	f[5] = clamp01(id->writes[0] / n);
	f[6] = 1.0 - clamp01(prof_how_near(id, how) / 4.0);
	f[7] = clamp01(id->new_cur / 4.0);
	f[8] = lr(best, id->peak_enum10);
	f[9] = clamp01(id->denied[0] / n);
}

void learned_bucket_close(struct engine *e, struct ident *id, const double *f)
{
	(void)id;
	double s = hstree_score_learn(e->hst, f);
	shist_add(&e->mv_h, mv_bin(s));
	e->mv_points++;
}

/* The HST score of the identity's bucket so far and its tail among learned
 * buckets (1 when there are fewer than 1,000 of them): for any alert's score. */
double learned_mv_tail(struct ectx *x, double *score)
{
	struct engine *e = x->e;
	if (e->mv_h.total < 1000 || x->id->n_buckets < 6) {
		*score = -1;
		return 1;
	}
	double f[EN_MV_DIMS];
	mv_features(x->id, x->lt.slot, x->lt.how, f);
	*score = hstree_score(e->hst, f);
	return shist_tail(&e->mv_h, mv_bin(*score));
}

static bool milestone(uint32_t c)
{
	return c >= 16 && (c & (c - 1)) == 0;
}

void det_multivariate(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (x->learning || id->n_buckets < 6)
		return;
	uint32_t c = id->req[id->bucket % EN_RING];
	bool novel = (x->new_route && x->is_ok) || x->new_pfx || x->new_agent;
	if (!milestone(c) && !(novel && c >= 8))
		return;
	double target = budget_tail(e, (double)e->mv_points);
	if (target <= 0 || (double)e->mv_h.total < 2.0 / target)
		return;
	double f[EN_MV_DIMS];
	mv_features(id, x->lt.slot, x->lt.how, f);
	int hi = 0;
	for (int i = 0; i < EN_MV_DIMS; i++)
		hi += f[i] >= MV_FEATURE_HI;
	if (hi < MV_MIN_FEATURES)
		return;
	double s = hstree_score(e->hst, f);
	double tail = shist_tail(&e->mv_h, mv_bin(s));
	if (tail > target)
		return;
	struct alert *a = alert_begin(x, DET_MULTIVARIATE, 0);
	if (!a)
		return;
	static const char *const names[EN_MV_DIMS] = {
		"requests", "bytes", "seasonal", "routes", "errors",
		"writes",   "hour",  "novelty",  "objects", "denied",
	};
	char list[160] = "";
	size_t o = 0;
	for (int i = 0; i < EN_MV_DIMS && o < sizeof list; i++)
		if (f[i] >= MV_FEATURE_HI)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", names[i]);
	snprintf(a->summary, sizeof a->summary,
		 "%s's last 10 minutes are unlike any usual pattern (unusual together: %s); "
		 "isolation score %.2f, rarer than 1 in %.0f buckets",
		 ectx_who(x), list, s, 1.0 / tail);
	o = (size_t)snprintf(a->evidence, sizeof a->evidence,
			     "{\"score\":%.4f,\"tail\":%.3g,\"budget_tail\":%.3g,\"features\":{", s,
			     tail, target);
	for (int i = 0; i < EN_MV_DIMS && o < sizeof a->evidence; i++)
		o += (size_t)snprintf(a->evidence + o, sizeof a->evidence - o, "%s\"%s\":%.3f",
				      i ? "," : "", names[i], f[i]);
	if (o < sizeof a->evidence)
		snprintf(a->evidence + o, sizeof a->evidence - o, "}}");
	alert_emit(x, DET_MULTIVARIATE, tail);
}
