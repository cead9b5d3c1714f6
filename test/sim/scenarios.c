/*
 * scenarios.c - labelled insider scenarios and their ground truth.
 *
 * Each kind is injected per_kind times, alternately blatant and low-and-slow,
 * into a victim no other scenario touches, after that victim's learning
 * period (its first request + learning_us + a margin), at a time that makes
 * sense for it (working hours, except offhours at 02:00 local and dormant on
 * the last day). Planning comes before normal traffic, so a scenario that
 * replaces the victim's own activity (the insider runs a script instead of
 * clicking, works from abroad) can suppress it for that window.
 *
 * The truth line lists the detector names that count as catching it: its
 * own, plus the ones that describe the same behaviour from another angle
 * (a sketch-based "burst" scorer and a "multivariate" model count for the
 * volumetric kinds). A blind_spot has no identity: any blind_spot alert in
 * its window counts.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

const char *const sc_kind_names[SK_COUNT] = {
	"new_origin", "token_sharing", "rate_spike", "volume_spike", "offhours", "enumeration",
	"privilege_probe", "new_route", "shadow_endpoint", "destructive", "dormant", "token_misuse",
	"agent_change", "blind_spot",
};

static const char *const accepted[SK_COUNT][6] = {
	[SK_NEW_ORIGIN] = {"new_origin", "token_sharing", "burst", "multivariate"},
	[SK_TOKEN_SHARING] = {"token_sharing", "new_origin", "burst", "multivariate"},
	[SK_RATE_SPIKE] = {"rate_spike", "volume_spike", "enumeration", "burst", "multivariate"},
	[SK_VOLUME_SPIKE] = {"volume_spike", "burst", "multivariate"},
	[SK_OFFHOURS] = {"offhours", "offhours_sensitive", "multivariate"},
	[SK_ENUMERATION] = {"enumeration", "rate_spike", "burst", "multivariate"},
	[SK_PRIVILEGE_PROBE] = {"privilege_probe", "new_route", "burst", "multivariate"},
	[SK_NEW_ROUTE] = {"new_route", "privilege_probe", "multivariate"},
	[SK_SHADOW_ENDPOINT] = {"shadow_endpoint", "new_route"},
	[SK_DESTRUCTIVE] = {"destructive", "new_route", "burst", "multivariate"},
	[SK_DORMANT] = {"dormant"},
	[SK_TOKEN_MISUSE] = {"token_misuse"},
	[SK_AGENT_CHANGE] = {"agent_change", "multivariate"},
	[SK_BLIND_SPOT] = {"blind_spot"},
};

/* Business hours of config/eval.yaml: mon-fri 08:00-18:00 Europe/Berlin (UTC+1 in November). */
#define BH_OFFSET_MIN 60
#define BH_START_MIN (8 * 60)
#define BH_END_MIN (18 * 60)

/* Networks nobody in the population uses: hosting and ISPs in other countries. */
struct foreign {
	uint8_t a, b, c;
	int region; /* 0 Europe, 1 Americas, 2 Asia, 3 elsewhere */
	const char *where;
};
static const struct foreign foreign_nets[] = {
	{45, 153, 160, 0, "a Dutch hosting provider"}, {185, 107, 56, 0, "a Romanian VPS range"},
	{91, 219, 236, 0, "a Ukrainian ISP"},          {5, 188, 62, 0, "a Russian hosting range"},
	{103, 152, 220, 2, "an Indonesian ISP"},        {27, 124, 10, 2, "a Vietnamese ISP"},
	{177, 54, 144, 1, "a Brazilian ISP"},           {190, 210, 32, 1, "an Argentinian ISP"},
	{41, 77, 12, 3, "a Moroccan ISP"},              {196, 196, 53, 3, "a South African VPN exit"},
	{102, 89, 34, 3, "a Nigerian ISP"},             {154, 16, 49, 3, "an Egyptian hosting range"},
	{3, 120, 88, 0, "a public cloud range"},        {18, 184, 21, 0, "a public cloud range"},
};
#define N_FOREIGN (sizeof foreign_nets / sizeof foreign_nets[0])

static int foreign_used[N_FOREIGN];

/* ---------------------------------------------------------------- helpers */

static bool is_human(const struct ident *id)
{
	return id->sched == SC_OFFICE && id->role < RO_BATCH;
}

static bool is_browser_user(const struct ident *id)
{
	return is_human(id) && (id->kind == IK_JWT || id->kind == IK_COOKIE);
}

static uint64_t first_activity(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	if (id->sched == SC_SERVICE)
		return w->t0 + (id->role == RO_SVC_REPORTS ? 3 * HOUR_US + 15 * MIN_US : 20 * MIN_US);
	for (int d = 0; d < w->days; d++) {
		uint64_t from, to;
		if (!ident_works(w, i, d))
			continue;
		ident_day_window(w, i, d, &from, &to);
		if (to <= w->t0)
			continue;
		return from < w->t0 ? w->t0 : from;
	}
	return w->t_end;
}

/* When the victim's learning period is surely over (the first request may
 * come a while after the day starts: a margin of three hours). */
static uint64_t learned_at(const struct world *w, int i)
{
	return first_activity(w, i) + w->learning_us + (w->demo ? 25 * MIN_US : 3 * HOUR_US);
}

/* A time on a working day of victim i after its learning period with room
 * for dur (uniform in that day's window). Returns false if there is none. */
static bool pick_work_time(struct world *w, int i, uint64_t dur, uint64_t *at)
{
	uint64_t after = learned_at(w, i);
	int n = 0;
	uint64_t lo[SIM_MAX_DAYS], hi[SIM_MAX_DAYS];
	for (int d = 0; d < w->days; d++) {
		if (!ident_works(w, i, d))
			continue;
		uint64_t from, to;
		ident_day_window(w, i, d, &from, &to);
		if (w->ids[i].sched != SC_SERVICE) {
			from += 40 * MIN_US; /* not the first minutes of the day */
			to -= 20 * MIN_US;
		}
		if (from < after)
			from = after;
		if (to > w->t_end - 30 * MIN_US)
			to = w->t_end - 30 * MIN_US;
		if (to <= from + dur)
			continue;
		lo[n] = from;
		hi[n++] = to - dur;
	}
	if (!n)
		return false;
	int k = (int)rng_below(&w->rng, (uint32_t)n);
	*at = lo[k] + (uint64_t)(rng_unit(&w->rng) * (double)(hi[k] - lo[k]));
	return true;
}

typedef bool (*elig_fn)(const struct world *w, int i);

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int pick_victim(struct world *w, elig_fn ok)
{
	int n = w->n_ids;
	uint32_t start = rng_below(&w->rng, (uint32_t)n);
	/* a stride coprime with n visits everyone once */
	uint32_t step = 1 + rng_below(&w->rng, (uint32_t)n);
	while (step > 1 && gcd(step, (uint32_t)n) != 1)
		step--;
	for (int k = 0; k < n; k++) {
		int i = (int)((start + (uint32_t)k * step) % (uint32_t)n);
		if (w->ids[i].scenario == -1 && ok(w, i))
			return i;
	}
	return -1;
}

static void suppress(struct ident *id, uint64_t from, uint64_t to)
{
	if (id->n_suppress < SUPPRESS_MAX) {
		id->suppress_from[id->n_suppress] = from;
		id->suppress_to[id->n_suppress] = to;
		id->n_suppress++;
	}
}

/* The victim's usual route for a list of records, for bulk reads. */
static enum route list_route(enum role role)
{
	switch (role) {
	case RO_FINANCE: return R_PAYMENTS;
	case RO_AUDITOR: return R_PAYMENTS;
	case RO_ANALYST: return R_ORDERS;
	case RO_ADMIN: return R_ADMIN_USERS;
	case RO_LEGACY: return R_ORDERS;
	case RO_ENGINEER: return R_PRODUCTS;
	default: return R_CUSTOMERS;
	}
}

/* A sensitive object route the role reads every day. */
static enum route sensitive_route(enum role role)
{
	switch (role) {
	case RO_FINANCE:
	case RO_AUDITOR: return R_PAYMENT;
	case RO_ADMIN: return R_ADMIN_USER;
	default: return R_CUSTOMER;
	}
}

/* ---------------------------------------------------------------- eligibility */

static bool el_human(const struct world *w, int i)
{
	return is_human(&w->ids[i]) && w->ids[i].kind != IK_BASIC;
}

static bool el_human_any(const struct world *w, int i)
{
	return is_human(&w->ids[i]);
}

static bool el_sharing(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_browser_user(id) ||
	       (id->kind == IK_APIKEY && (id->role == RO_SVC_BILLING || id->role == RO_SVC_INVENTORY ||
					  id->role == RO_SVC_NOTIFIER || id->role == RO_SVC_EVENTS));
}

static bool el_rate(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	if (is_browser_user(id))
		return id->daily_pv >= 30;
	return id->kind == IK_APIKEY && (id->role == RO_SVC_BILLING || id->role == RO_SVC_INVENTORY ||
					 id->role == RO_SVC_NOTIFIER || id->role == RO_SVC_CRM);
}

static bool el_volume(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_browser_user(id) && id->role != RO_ENGINEER && id->role != RO_ADMIN;
}

static bool offhours_ok(const struct ident *id)
{
	/* 01:45 - 04:00 local must fall outside the business hours (with an hour's margin) */
	int off = tzs[id->tz].offset_min;
	for (int m = 105; m <= 240; m += 15) {
		int bh = ((m - off + BH_OFFSET_MIN) % 1440 + 1440) % 1440;
		if (bh >= BH_START_MIN - 60 && bh < BH_END_MIN + 60)
			return false;
	}
	return true;
}

static bool el_offhours(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_human(id) && id->weekend == 0 && offhours_ok(id) &&
	       role_uses(id->role, sensitive_route(id->role));
}

static bool el_enum(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_human(id) && role_uses(id->role, R_CUSTOMER) && id->role != RO_ADMIN;
}

static bool el_probe(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_browser_user(id) && id->role != RO_ADMIN && id->role != RO_AUDITOR;
}

static bool el_new_route(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_browser_user(id) && (id->role == RO_SUPPORT || id->role == RO_SALES ||
				       id->role == RO_ENGINEER || id->role == RO_ANALYST);
}

static bool el_destructive(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_human(id) && (id->role == RO_ANALYST || id->role == RO_AUDITOR ||
				id->role == RO_ENGINEER || id->role == RO_LEGACY);
}

static bool el_dormant(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_human(id) && id->vacation == 0 && ident_works(w, i, 0) && ident_works(w, i, w->days - 1);
}

static bool el_jwt(const struct world *w, int i)
{
	return is_human(&w->ids[i]) && w->ids[i].kind == IK_JWT;
}

static bool el_agent(const struct world *w, int i)
{
	const struct ident *id = &w->ids[i];
	return is_browser_user(id) && id->n_agent == 1 && id->cli_agent < 0;
}

static const elig_fn eligible[SK_COUNT] = {
	[SK_NEW_ORIGIN] = el_human_any, [SK_TOKEN_SHARING] = el_sharing, [SK_RATE_SPIKE] = el_rate,
	[SK_VOLUME_SPIKE] = el_volume, [SK_OFFHOURS] = el_offhours, [SK_ENUMERATION] = el_enum,
	[SK_PRIVILEGE_PROBE] = el_probe, [SK_NEW_ROUTE] = el_new_route, [SK_SHADOW_ENDPOINT] = el_human,
	[SK_DESTRUCTIVE] = el_destructive, [SK_DORMANT] = el_dormant, [SK_TOKEN_MISUSE] = el_jwt,
	[SK_AGENT_CHANGE] = el_agent,
};

/* planned length of each kind: [blatant, low and slow] */
static const uint64_t duration[SK_COUNT][2] = {
	[SK_NEW_ORIGIN] = {75 * MIN_US, 45 * MIN_US},
	[SK_TOKEN_SHARING] = {45 * MIN_US, 25 * MIN_US},
	[SK_RATE_SPIKE] = {15 * MIN_US, 120 * MIN_US},
	[SK_VOLUME_SPIKE] = {12 * MIN_US, 120 * MIN_US},
	[SK_OFFHOURS] = {20 * MIN_US, 60 * MIN_US},
	[SK_ENUMERATION] = {6 * MIN_US, 130 * MIN_US},
	[SK_PRIVILEGE_PROBE] = {3 * MIN_US, 60 * MIN_US},
	[SK_NEW_ROUTE] = {10 * MIN_US, 60 * MIN_US},
	[SK_SHADOW_ENDPOINT] = {5 * MIN_US, 20 * MIN_US},
	[SK_DESTRUCTIVE] = {3 * MIN_US, 60 * MIN_US},
	[SK_DORMANT] = {60 * MIN_US, 30 * MIN_US},
	[SK_TOKEN_MISUSE] = {5 * MIN_US, 30 * MIN_US},
	[SK_AGENT_CHANGE] = {20 * MIN_US, 30 * MIN_US},
	[SK_BLIND_SPOT] = {3 * MIN_US, 30 * MIN_US},
};

/* ---------------------------------------------------------------- planning */

static void plan_one(struct world *w, enum sc_kind kind, bool blatant, int ordinal)
{
	struct scenario *s = &w->sc[w->n_sc];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->blatant = blatant;
	s->variant = ordinal;
	uint64_t dur = duration[kind][blatant ? 0 : 1];

	for (int attempt = 0; attempt < 40; attempt++) {
		int i = pick_victim(w, eligible[kind]);
		if (i < 0)
			return;
		struct ident *id = &w->ids[i];
		uint64_t at;
		if (kind == SK_DORMANT) {
			if (w->days < 6)
				return;
			uint64_t from, to;
			id->sched = SC_DORMANT;
			id->dormant_day = 0;
			ident_day_window(w, i, w->days - 1, &from, &to);
			at = from + 30 * MIN_US + (uint64_t)(rng_unit(&w->rng) * (double)(to - from - dur - 60 * MIN_US));
			if (at + dur >= w->t_end) {
				id->sched = SC_OFFICE;
				id->dormant_day = -1;
				continue;
			}
		} else if (kind == SK_OFFHOURS) {
			/* 02:00 local on a night after the learning period */
			int cand[SIM_MAX_DAYS], n = 0;
			uint64_t after = learned_at(w, i);
			for (int d = 1; d < w->days; d++) {
				uint64_t mid = SIM_T0 + (uint64_t)d * DAY_US - (uint64_t)((int64_t)tzs[id->tz].offset_min * (int64_t)MIN_US);
				uint64_t t = mid + 2 * HOUR_US;
				if (t > after && t + dur + HOUR_US < w->t_end)
					cand[n++] = d;
			}
			if (!n)
				continue;
			int day = cand[rng_below(&w->rng, (uint32_t)n)];
			uint64_t mid = SIM_T0 + (uint64_t)day * DAY_US - (uint64_t)((int64_t)tzs[id->tz].offset_min * (int64_t)MIN_US);
			at = mid + 2 * HOUR_US + rng_below(&w->rng, 15) * MIN_US;
		} else if (!pick_work_time(w, i, dur, &at)) {
			id->scenario = -2; /* not this one: look elsewhere */
			continue;
		}
		id->scenario = w->n_sc;
		s->ident = i;
		s->plan_at = at;
		s->start = 0;
		s->end = 0;
		/* the insider's own activity makes room where the scenario replaces it */
		if (kind == SK_NEW_ORIGIN)
			suppress(id, at - 20 * MIN_US, at + dur + 20 * MIN_US);
		if (kind == SK_RATE_SPIKE || (kind == SK_AGENT_CHANGE && blatant))
			suppress(id, at - 2 * MIN_US, at + dur + 2 * MIN_US);
		w->n_sc++;
		return;
	}
}

/* Whether [from, to) comes within 10 minutes of a planned scenario (only the
 * blatant ones when blatant_only: a low and slow one spread over hours loses
 * a few of its packets to a light blind spot, as it would). */
static bool overlaps_any(const struct world *w, uint64_t from, uint64_t to, bool blatant_only)
{
	for (int k = 0; k < w->n_sc; k++) {
		const struct scenario *s = &w->sc[k];
		if (blatant_only && !s->blatant)
			continue;
		uint64_t a = s->plan_at, b = s->plan_at + duration[s->kind][s->blatant ? 0 : 1];
		if (from < b + 10 * MIN_US && to + 10 * MIN_US > a)
			return true;
	}
	return false;
}

static void plan_blind_spot(struct world *w, bool blatant)
{
	uint64_t dur = duration[SK_BLIND_SPOT][blatant ? 0 : 1];
	for (int attempt = 0; attempt < 400; attempt++) {
		int d = (int)rng_range(&w->rng, (int64_t)((w->learning_us + DAY_US - 1) / DAY_US), w->days - 1);
		int wd = (SIM_T0_WDAY + d) % 7;
		if ((wd == 0 || wd == 6) && attempt < 300)
			continue;
		/* busy weekday hours, when Europe and America overlap (a quiet
		 * weekend loses little) */
		uint64_t at = SIM_T0 + (uint64_t)d * DAY_US + 13 * HOUR_US + rng_below(&w->rng, 240) * MIN_US;
		if (at < w->t0 + w->learning_us + HOUR_US || at + dur >= w->t_end)
			continue;
		if (overlaps_any(w, at, at + dur, !blatant) && attempt < 380)
			continue;
		if (overlaps_any(w, at, at + dur, true) && attempt < 390)
			continue;
		struct scenario *s = &w->sc[w->n_sc++];
		memset(s, 0, sizeof *s);
		s->kind = SK_BLIND_SPOT;
		s->blatant = blatant;
		s->ident = -1;
		s->plan_at = at;
		s->start = at;
		s->end = at + dur;
		s->drop_per_mille = blatant ? 500 : 50;
		snprintf(s->note, sizeof s->note,
			 "the mirror port loses %u%% of the packets for %llu minutes: reassembly gaps on every connection open then",
			 s->drop_per_mille / 10, (unsigned long long)(dur / MIN_US));
		return;
	}
}

static void plan_demo(struct world *w)
{
	static const struct {
		enum sc_kind kind;
		elig_fn ok;
		uint64_t after_start;
	} demo[] = {
		{SK_ENUMERATION, el_enum, 2 * HOUR_US + 5 * MIN_US},
		{SK_PRIVILEGE_PROBE, el_probe, 2 * HOUR_US + 40 * MIN_US},
		{SK_TOKEN_MISUSE, el_jwt, 3 * HOUR_US + 10 * MIN_US},
	};
	for (size_t k = 0; k < 3; k++) {
		int i = pick_victim(w, demo[k].ok);
		if (i < 0)
			continue;
		struct scenario *s = &w->sc[w->n_sc];
		memset(s, 0, sizeof *s);
		s->kind = demo[k].kind;
		s->blatant = true;
		s->ident = i;
		s->plan_at = w->t0 + demo[k].after_start;
		w->ids[i].scenario = w->n_sc++;
	}
}

void scenarios_plan(struct world *w)
{
	if (w->demo) {
		plan_demo(w);
		return;
	}
	for (int j = 0; j < w->per_kind; j++)
		for (int k = 0; k < SK_COUNT; k++)
			if (k != SK_BLIND_SPOT)
				plan_one(w, (enum sc_kind)k, j % 2 == 0, j);
	for (int i = 0; i < w->n_ids; i++)
		if (w->ids[i].scenario == -2)
			w->ids[i].scenario = -1;
	for (int j = 0; j < w->per_kind; j++)
		plan_blind_spot(w, j % 2 == 0);
}

/* ---------------------------------------------------------------- traffic */

struct gen {
	struct world *w;
	struct scenario *s;
	int k;               /* scenario index */
	int i;               /* victim */
	struct ident *id;
	int day;             /* victim's local day of the anchor */
	struct rng r;
	struct conn tmpl;    /* the victim's usual transport that day, tagged with the scenario */
	struct reqv v;
};

/* The credential the victim would hold at ts. */
static const char *cred_at(struct gen *g, uint64_t ts)
{
	if (g->id->kind != IK_JWT)
		return g->id->cred;
	int d = ident_local_day(g->w, g->i, ts);
	const char *tok = ident_token(g->w, g->i, d);
	uint64_t iat = g->id->token_iat[d + 1];
	if (ts >= iat && ts + 30 * MIN_US < iat + 12 * HOUR_US)
		return tok;
	/* a fresh login */
	char jti[24];
	snprintf(jti, sizeof jti, "%016llx", (unsigned long long)mix64(ts ^ (uint64_t)g->i));
	return world_keep(g->w, jwt_make(g->w->jwt_secret, "HS256", g->id->name, g->id->role,
					 ts - 60 * US_PER_S, ts + 11 * HOUR_US, 0, jti, false));
}

static void gen_init(struct gen *g, struct world *w, int k)
{
	memset(g, 0, sizeof *g);
	g->w = w;
	g->k = k;
	g->s = &w->sc[k];
	g->i = g->s->ident;
	g->id = &w->ids[g->i];
	rng_seed(&g->r, w->seed, 9000000 + (uint64_t)k);
	/* not before the learning period is over, whatever the plan said */
	uint64_t floor = g->id->first_ts + w->learning_us + 20 * MIN_US;
	if (g->id->nreq && g->s->plan_at < floor)
		g->s->plan_at = floor;
	g->day = ident_local_day(w, g->i, g->s->plan_at);
	int pfx = g->id->sched == SC_SERVICE ? 0 : ident_origin(w, g->i, g->day, &g->r);
	if (g->id->sched == SC_DORMANT)
		pfx = 0;
	ident_transport(w, g->i, g->day, pfx, &g->r, &g->tmpl);
	g->tmpl.cred = cred_at(g, g->s->plan_at);
	g->tmpl.scenario = k;
}

static void gen_emit(struct gen *g, struct conn *tmpl)
{
	reqv_sort(&g->v);
	emit_activity(g->w, tmpl, g->v.v, g->v.n);
	g->v.n = 0;
}

#define PG_ALL 0
#define PG_FIRST 1      /* one request per page view (a command-line tool) */
#define PG_READS 2      /* reads only (a script that collects data) */

/* Page views of the victim's role at mean gap `gap` over [from, from + dur). */
static void pages_over(struct gen *g, uint64_t from, uint64_t dur, double gap_us, int how)
{
	struct req page[8];
	for (uint64_t t = from + (uint64_t)rng_exp(&g->r, gap_us / 2); t < from + dur;
	     t += (uint64_t)rng_exp(&g->r, gap_us) + 1000) {
		size_t m = role_page(&g->r, g->id->role, t, page);
		for (size_t x = 0; x < (how == PG_FIRST ? 1 : m); x++)
			if (how != PG_READS || !strcmp(api_routes[page[x].route].method, "GET"))
				*reqv_add(&g->v) = page[x];
	}
}

static double usual_gap(const struct ident *id)
{
	double minutes = (double)(id->end_min - id->start_min);
	return minutes / (id->daily_pv > 5 ? id->daily_pv : 5) * (double)MIN_US;
}

static int take_foreign(struct gen *g, int not_region)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		int f = (int)rng_below(&g->r, N_FOREIGN);
		if (foreign_nets[f].region == not_region || foreign_used[f] > attempt / 10)
			continue;
		foreign_used[f]++;
		return f;
	}
	return (int)rng_below(&g->r, N_FOREIGN);
}

static void set_foreign(struct gen *g, struct conn *c, int f)
{
	struct prefix p = {{0, {foreign_nets[f].a, foreign_nets[f].b, foreign_nets[f].c, 0}}, 24, PFX_FOREIGN};
	prefix_host(&p, rng_below(&g->r, 250), &c->client);
	c->rtt_us = 60000 + rng_below(&g->r, 180000);
	c->bw_mbps = 20 + rng_below(&g->r, 80);
	c->mss = 1400;
	c->ttl = (uint8_t)((strstr(agents[c->agent].ua, "Windows") ? 128 : 64) - 18 - rng_below(&g->r, 8));
}

static void who(const struct gen *g, char *out, size_t n)
{
	bool named = g->id->kind == IK_JWT || g->id->kind == IK_BASIC;
	snprintf(out, n, "%s %s (%s, %s)", kind_name(g->id->kind), named ? g->id->name : g->id->id,
		 role_name(g->id->role), tzs[g->id->tz].name);
}

static void gen_new_origin(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_NEW_ORIGIN][g->s->blatant ? 0 : 1];
	int f = take_foreign(g, tzs[g->id->tz].region);
	struct conn c = g->tmpl;
	set_foreign(g, &c, f);
	char w[200];
	who(g, w, sizeof w);
	if (g->s->blatant) {
		double gap = usual_gap(g->id);
		pages_over(g, at, dur, gap < 3 * MIN_US ? gap : 3 * MIN_US, PG_ALL);
	} else {
		for (int k = 0; k < 4; k++) {
			struct req page[8];
			role_page(&g->r, g->id->role, at + (uint64_t)k * dur / 4 + rng_below(&g->r, 300) * US_PER_S, page);
			*reqv_add(&g->v) = page[0];
		}
	}
	snprintf(g->s->note, sizeof g->s->note,
		 "%s works from %u.%u.%u.0/24 (%s), never seen for it, instead of its usual networks",
		 w, foreign_nets[f].a, foreign_nets[f].b, foreign_nets[f].c, foreign_nets[f].where);
	gen_emit(g, &c);
}

static void gen_token_sharing(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_TOKEN_SHARING][g->s->blatant ? 0 : 1];
	int others = g->s->blatant ? 2 : 1;
	char w[200], nets[120] = "";
	who(g, w, sizeof w);
	bool human = g->id->sched == SC_OFFICE;
	/* the owner keeps working as usual meanwhile (normal traffic) */
	if (human) {
		struct conn own = g->tmpl;
		own.scenario = -1;
		pages_over(g, at - 5 * MIN_US, dur + 10 * MIN_US, 1.5 * MIN_US, PG_ALL);
		gen_emit(g, &own);
	}
	for (int o = 0; o < others; o++) {
		struct conn c = g->tmpl;
		int f = take_foreign(g, human ? tzs[g->id->tz].region : -1);
		set_foreign(g, &c, f);
		if (human && g->s->blatant) {
			pages_over(g, at, dur, 1.2 * MIN_US, PG_READS);
		} else if (human) {
			for (int k = 0; k < 5; k++) {
				struct req page[8];
				role_page(&g->r, g->id->role, at + (uint64_t)k * dur / 5 + rng_below(&g->r, 120) * US_PER_S, page);
				*reqv_add(&g->v) = page[0];
			}
		} else {
			/* the leaked key replays the service's own calls */
			enum route rt = g->id->role == RO_SVC_BILLING ? R_PAYMENT
				      : g->id->role == RO_SVC_INVENTORY ? R_INVENTORY
				      : g->id->role == RO_SVC_EVENTS ? R_EVENTS_POST : R_ORDERS;
			int n = g->s->blatant ? 40 : 6;
			for (int k = 0; k < n; k++)
				api_req(&g->r, reqv_add(&g->v), rt, at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 20) * US_PER_S);
		}
		gen_emit(g, &c);
		snprintf(nets + strlen(nets), sizeof nets - strlen(nets), "%s%u.%u.%u.0/24", o ? " and " : "",
			 foreign_nets[f].a, foreign_nets[f].b, foreign_nets[f].c);
	}
	snprintf(g->s->note, sizeof g->s->note,
		 "the credential of %s is used from %s while its owner is active from its usual network",
		 w, nets);
}

static void gen_rate_spike(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_RATE_SPIKE][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	double factor;
	if (g->id->sched == SC_SERVICE) {
		/* the service's batches, many times as often */
		factor = g->s->blatant ? 12 : 4;
		struct ident *id = g->id;
		uint64_t period = id->role == RO_SVC_BILLING ? 600 * US_PER_S : id->role == RO_SVC_CRM ? 900 * US_PER_S
				: id->role == RO_SVC_INVENTORY ? 300 * US_PER_S : 120 * US_PER_S;
		period = (uint64_t)((double)period / id->daily_pv / factor);
		enum route rt = id->role == RO_SVC_BILLING ? R_PAYMENT : id->role == RO_SVC_CRM ? R_CUSTOMERS
			      : id->role == RO_SVC_INVENTORY ? R_INVENTORY : R_ORDERS;
		for (uint64_t t = at; t < at + dur; t += period)
			for (int k = 0; k < 4; k++)
				api_req(&g->r, reqv_add(&g->v), rt, t + (uint64_t)k * 300000);
	} else if (g->s->blatant) {
		/* a script drives the user's session: about one request a second */
		factor = usual_gap(g->id) / (1.6 * US_PER_S);
		pages_over(g, at, dur, 1.6 * US_PER_S, PG_READS);
	} else {
		factor = 4;
		pages_over(g, at, dur, usual_gap(g->id) / 4, PG_READS);
	}
	snprintf(g->s->note, sizeof g->s->note,
		 "%s sends about %.0fx its usual request rate for %llu minutes, same routes, network and software",
		 w, factor, (unsigned long long)(dur / MIN_US));
	gen_emit(g, &g->tmpl);
}

static void gen_volume_spike(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_VOLUME_SPIKE][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	enum route rt = list_route(g->id->role);
	int n = g->s->blatant ? 3 : 10;
	uint64_t total = 0;
	for (int k = 0; k < n; k++) {
		struct req *q = reqv_add(&g->v);
		api_req(&g->r, q, rt, at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 60) * US_PER_S);
		q->qv = QV_BULK;
		q->obj = (uint32_t)k + 1;
		q->resp_len = g->s->blatant ? 1400000 + rng_below(&g->r, 400000) : 220000 + rng_below(&g->r, 80000);
		q->proc_ms = (uint16_t)(800 + rng_below(&g->r, 1500));
		total += q->resp_len;
	}
	char tp[80];
	api_template(rt, tp, sizeof tp);
	snprintf(g->s->note, sizeof g->s->note,
		 "%s downloads %d pages of %s with per_page=5000: %.1f MB in %llu minutes (its pages are usually a few kB)",
		 w, n, tp, (double)total / 1e6, (unsigned long long)(dur / MIN_US));
	gen_emit(g, &g->tmpl);
}

static void gen_offhours(struct gen *g)
{
	uint64_t at = g->s->plan_at;
	char w[200];
	who(g, w, sizeof w);
	struct conn c = g->tmpl;
	/* from home (or the VPN) */
	int pfx = g->id->n_pfx - 1;
	struct rng r2 = g->r;
	ident_transport(g->w, g->i, g->day, pfx, &r2, &c);
	c.scenario = g->k;
	c.cred = cred_at(g, at);
	enum route rt = sensitive_route(g->id->role);
	int n = g->s->blatant ? 25 : 3;
	uint64_t dur = duration[SK_OFFHOURS][g->s->blatant ? 0 : 1];
	for (int k = 0; k < n; k++)
		api_req(&g->r, reqv_add(&g->v), rt, at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 30) * US_PER_S);
	int lm = (int)(((at / MIN_US) + (uint64_t)(tzs[g->id->tz].offset_min + 1440)) % 1440);
	char tp[80];
	api_template(rt, tp, sizeof tp);
	snprintf(g->s->note, sizeof g->s->note,
		 "%s reads %d %s records at %02d:%02d local time; it works %02d:%02d-%02d:%02d on weekdays",
		 w, n, tp, lm / 60, lm % 60, g->id->start_min / 60, g->id->start_min % 60,
		 g->id->end_min / 60, g->id->end_min % 60);
	gen_emit(g, &c);
}

static void gen_enumeration(struct gen *g)
{
	uint64_t at = g->s->plan_at;
	char w[200];
	who(g, w, sizeof w);
	int n = g->w->demo ? 200 : g->s->blatant ? 400 : 160;
	double gap = g->s->blatant ? 0.65 * US_PER_S : 47.0 * US_PER_S;
	uint32_t first = (uint32_t)rng_range(&g->r, 12000, 60000);
	double t = (double)at;
	for (int k = 0; k < n; k++) {
		struct req *q = reqv_add(&g->v);
		api_req(&g->r, q, R_CUSTOMER, (uint64_t)t);
		q->obj = first + (uint32_t)k;
		if (q->status == 404)
			q->status = 200, q->resp_len = (uint32_t)rng_lognormal(&g->r, 1450, 0.25);
		if (rng_chance(&g->r, 0.03))
			q->status = 404, q->resp_len = 64;
		t += gap * (0.6 + 0.8 * rng_unit(&g->r));
	}
	snprintf(g->s->note, sizeof g->s->note, "%s walks /v1/customers/{id} from %u to %u, one id every %.1f s",
		 w, first, first + (uint32_t)n - 1, gap / 1e6);
	gen_emit(g, &g->tmpl);
}

static void gen_privilege_probe(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_PRIVILEGE_PROBE][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	static const enum route probes[] = {R_ADMIN_USERS, R_ADMIN_USER, R_ADMIN_ROLES, R_ADMIN_KEYS,
					    R_ADMIN_AUDIT, R_ADMIN_USER};
	int n = g->s->blatant ? 30 : 6;
	for (int k = 0; k < n; k++) {
		struct req *q = reqv_add(&g->v);
		api_req(&g->r, q, probes[k % 6], at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 5) * US_PER_S);
		q->status = 403;
		q->resp_len = 66;
		q->proc_ms = 3;
	}
	snprintf(g->s->note, sizeof g->s->note, "%s tries /admin routes %d times in %llu minutes: all 403",
		 w, n, (unsigned long long)(dur / MIN_US));
	gen_emit(g, &g->tmpl);
}

static void gen_new_route(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_NEW_ROUTE][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	/* a route of another role, documented and in daily use by that role;
	 * for a cookie session (no role claim: its peers are the other browser
	 * sessions, support and sales) one that no session uses */
	static const enum route cand[] = {R_PAYMENT, R_INVOICE, R_CUSTOMER, R_TICKET, R_REPORT};
	bool cookie = g->id->kind == IK_COOKIE;
	enum route rt = R_PAYMENT;
	for (int k = 0; k < 20; k++) {
		enum route x = cand[rng_below(&g->r, 5)];
		if (!role_uses(g->id->role, x) &&
		    !(cookie && (role_uses(RO_SUPPORT, x) || role_uses(RO_SALES, x)))) {
			rt = x;
			break;
		}
	}
	int n = g->s->blatant ? 20 : 3;
	for (int k = 0; k < n; k++)
		api_req(&g->r, reqv_add(&g->v), rt, at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 20) * US_PER_S);
	for (size_t k = 0; k < g->v.n; k++)
		if (g->v.v[k].status == 404)
			g->v.v[k].status = 200, g->v.v[k].resp_len = api_routes[rt].resp_median;
	char tp[80];
	api_template(rt, tp, sizeof tp);
	snprintf(g->s->note, sizeof g->s->note,
		 "%s calls %s %s %d times, answered 200: a route its role never uses (broken function-level authorisation)",
		 w, api_routes[rt].method, tp, n);
	gen_emit(g, &g->tmpl);
}

static int shadow_next;

static void gen_shadow(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_SHADOW_ENDPOINT][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	int paths = g->s->blatant ? 2 : 1, n = g->s->blatant ? 12 : 2;
	uint32_t p0 = (uint32_t)(shadow_next++ % (int)api_n_shadow_paths);
	uint32_t p1 = p0;
	if (paths > 1)
		p1 = (uint32_t)(shadow_next++ % (int)api_n_shadow_paths);
	for (int k = 0; k < n; k++) {
		struct req *q = reqv_add(&g->v);
		api_req(&g->r, q, R_SHADOW, at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 10) * US_PER_S);
		q->obj = k % 2 ? p1 : p0;
	}
	snprintf(g->s->note, sizeof g->s->note, "%s calls undocumented %s%s%s (%d requests, 200)", w,
		 api_shadow_paths[p0], paths > 1 ? " and " : "", paths > 1 ? api_shadow_paths[p1] : "", n);
	gen_emit(g, &g->tmpl);
}

static void gen_destructive(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_DESTRUCTIVE][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	enum route rt = g->s->blatant ? R_CUSTOMER_DELETE : R_ORDER_DELETE;
	int n = g->s->blatant ? 40 : 5;
	for (int k = 0; k < n; k++)
		api_req(&g->r, reqv_add(&g->v), rt, at + (uint64_t)k * dur / (uint64_t)n + rng_below(&g->r, 3) * US_PER_S);
	char tp[80];
	api_template(rt, tp, sizeof tp);
	snprintf(g->s->note, sizeof g->s->note, "%s, which never writes, sends %d DELETE %s in %llu minutes (204)",
		 w, n, tp, (unsigned long long)(dur / MIN_US));
	gen_emit(g, &g->tmpl);
}

static void gen_dormant(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_DORMANT][g->s->blatant ? 0 : 1];
	char w[200], last[40];
	who(g, w, sizeof w);
	fmt_rfc3339_s(last, sizeof last, g->id->last_ts);
	if (g->s->blatant)
		pages_over(g, at, dur, usual_gap(g->id) / 1.5, PG_READS);
	else
		pages_over(g, at, dur, (double)dur / 3, PG_FIRST);
	if (!g->v.n)
		role_page(&g->r, g->id->role, at, reqv_add(&g->v));
	snprintf(g->s->note, sizeof g->s->note, "%s, silent since %s, is used again for %llu minutes",
		 w, last, (unsigned long long)(dur / MIN_US));
	gen_emit(g, &g->tmpl);
}

static void gen_token_misuse(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_TOKEN_MISUSE][g->s->blatant ? 0 : 1];
	char w[200], jti[24];
	who(g, w, sizeof w);
	struct conn c = g->tmpl;
	snprintf(jti, sizeof jti, "f%015llx", (unsigned long long)mix64(at));
	const char *what;
	int n;
	if (g->s->blatant) {
		c.cred = world_keep(g->w, jwt_make("", "none", g->id->name, g->id->role, at - 120 * US_PER_S,
						   at + 4 * HOUR_US, 0, jti, true));
		what = "an unsigned token (alg none) claiming the admin role";
		n = 10;
	} else if (g->s->variant % 4 == 1) {
		c.cred = world_keep(g->w, jwt_make(g->w->jwt_secret, "HS256", g->id->name, g->id->role, at - 15 * HOUR_US,
				  at - 3 * HOUR_US, 0, jti, false));
		what = "a token that expired 3 hours earlier";
		n = 3;
	} else {
		c.cred = world_keep(g->w, jwt_make(g->w->jwt_secret, "HS256", g->id->name, g->id->role, at - 200 * DAY_US,
				  at + 30 * DAY_US, 0, jti, false));
		what = "a token issued 200 days earlier (past the 90-day rotation policy)";
		n = 3;
	}
	for (int k = 0; k < n; k++) {
		struct req page[8];
		role_page(&g->r, g->id->role, at + (uint64_t)k * dur / (uint64_t)n, page);
		page[0].status = page[0].status >= 400 ? 200 : page[0].status;
		*reqv_add(&g->v) = page[0];
	}
	if (g->s->blatant) {
		for (int k = 0; k < 2; k++)
			api_req(&g->r, reqv_add(&g->v), k ? R_ADMIN_USERS : R_ADMIN_AUDIT, at + dur / 2 + (uint64_t)k * 20 * US_PER_S);
	}
	snprintf(g->s->note, sizeof g->s->note, "%s sends %s, answered 2xx (%zu requests)", w, what, g->v.n);
	gen_emit(g, &c);
}

static void gen_agent_change(struct gen *g)
{
	uint64_t at = g->s->plan_at, dur = duration[SK_AGENT_CHANGE][g->s->blatant ? 0 : 1];
	char w[200];
	who(g, w, sizeof w);
	struct conn c = g->tmpl;
	c.proto = P_H1;
	c.agent = (uint16_t)agent_find(g->s->blatant ? "python-requests/2.31" : "curl/8");
	/* same machine: the TTL stays */
	if (g->s->blatant)
		pages_over(g, at, dur, 30.0 * US_PER_S, PG_FIRST);
	else
		pages_over(g, at, dur, (double)dur / 3, PG_FIRST);
	snprintf(g->s->note, sizeof g->s->note, "%s, always in %s, calls the API with %s (%zu requests)", w,
		 agents[g->id->agent[0]].ua, agents[c.agent].ua, g->v.n);
	gen_emit(g, &c);
}

void scenarios_traffic(struct world *w)
{
	for (int k = 0; k < w->n_sc; k++) {
		struct scenario *s = &w->sc[k];
		if (s->kind == SK_BLIND_SPOT)
			continue;
		struct gen g;
		gen_init(&g, w, k);
		switch (s->kind) {
		case SK_NEW_ORIGIN: gen_new_origin(&g); break;
		case SK_TOKEN_SHARING: gen_token_sharing(&g); break;
		case SK_RATE_SPIKE: gen_rate_spike(&g); break;
		case SK_VOLUME_SPIKE: gen_volume_spike(&g); break;
		case SK_OFFHOURS: gen_offhours(&g); break;
		case SK_ENUMERATION: gen_enumeration(&g); break;
		case SK_PRIVILEGE_PROBE: gen_privilege_probe(&g); break;
		case SK_NEW_ROUTE: gen_new_route(&g); break;
		case SK_SHADOW_ENDPOINT: gen_shadow(&g); break;
		case SK_DESTRUCTIVE: gen_destructive(&g); break;
		case SK_DORMANT: gen_dormant(&g); break;
		case SK_TOKEN_MISUSE: gen_token_misuse(&g); break;
		case SK_AGENT_CHANGE: gen_agent_change(&g); break;
		default: break;
		}
		free(g.v.v);
	}
}

void scenarios_write_truth(const struct world *w, FILE *f)
{
	char a[40], b[40];
	for (int k = 0; k < w->n_sc; k++) {
		const struct scenario *s = &w->sc[k];
		if (s->kind != SK_BLIND_SPOT && !s->nreq)
			continue;
		fmt_rfc3339(a, sizeof a, s->start);
		fmt_rfc3339(b, sizeof b, s->end);
		fprintf(f, "{\"kind\":\"%s\",\"identity\":", sc_kind_names[s->kind]);
		if (s->ident >= 0) {
			fprintf(f, "{\"kind\":\"%s\",\"id\":", kind_name(w->ids[s->ident].kind));
			json_str(f, w->ids[s->ident].id);
			fprintf(f, "}");
		} else {
			fprintf(f, "null");
		}
		fprintf(f, ",\"start\":\"%s\",\"end\":\"%s\",\"detectors\":[", a, b);
		for (int d = 0; d < 6 && accepted[s->kind][d]; d++)
			fprintf(f, "%s\"%s\"", d ? "," : "", accepted[s->kind][d]);
		fprintf(f, "],\"intensity\":\"%s\",\"requests\":%u,\"note\":", s->blatant ? "blatant" : "low_and_slow",
			s->nreq);
		json_str(f, s->note);
		fprintf(f, "}\n");
	}
}
