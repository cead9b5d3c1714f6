/*
 * population.c - who uses the API and how, on an ordinary day.
 *
 * Kinds: JWT users (about half: HS256 tokens with sub, roles and scope,
 * issued at the start of each local working day for 12 hours), browser
 * users with a long-lived session cookie behind the ingress proxy
 * (X-Forwarded-For), Basic-auth legacy users (a desktop tool during the day,
 * or a nightly batch job), service accounts with API keys running day and
 * night at steady rates, partners with opaque bearer tokens during their
 * business hours.
 *
 * People work in seven time zones: a usual start and end with day-to-day
 * jitter, a lunch dip, stretches of activity and meetings, shorter Fridays,
 * a few weekend sessions, a few days off. Each works from a few usual
 * networks (an office floor /24, the region's VPN pool, home over IPv4 or
 * IPv6) and each of them appears in the first working days; they use one or
 * two browsers (updated mid-run to the next version of the same family),
 * engineers also curl or HTTPie. Their role decides what pages they open and
 * so the route mix: support reads tickets and customers, finance payments
 * and invoices, admins /admin, analysts reports and the odd export. A page
 * view is one to three requests a few tens of milliseconds apart.
 *
 * Everything here is a pure function of (seed, identity, day), so the
 * scenario planner can ask when someone works before any traffic exists.
 */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct tz tzs[] = {
	{"Europe/Berlin", 60, 0, 0},     {"Europe/London", 0, 0, 1},
	{"America/New_York", -300, 1, 2}, {"America/Chicago", -360, 1, 3},
	{"America/Los_Angeles", -480, 1, 4}, {"Asia/Kolkata", 330, 2, 5},
	{"Asia/Singapore", 480, 2, 6},
};
const size_t n_tzs = sizeof tzs / sizeof tzs[0];
static const double tz_w[] = {35, 15, 20, 5, 10, 10, 5};

/* office networks: 10.<office>.<floor>.0/24 */
static const uint8_t office_net[] = {20, 21, 30, 31, 40, 50, 60};
/* home ISPs per zone: first octets, and IPv6 /32s */
static const uint8_t home_v4[][3] = {{84, 91, 93}, {81, 86, 90}, {73, 98, 24},
				     {71, 73, 98}, {73, 24, 76}, {49, 106, 117}, {116, 118, 175}};
static const uint16_t home_v6[][2] = {{0x2a02, 0x8108}, {0x2a00, 0x23c5}, {0x2601, 0x0184},
				      {0x2601, 0x0240}, {0x2600, 0x1700}, {0x2409, 0x40f2},
				      {0x2406, 0x3003}};
/* one-way distance to the data centre (Frankfurt), ms */
static const uint32_t zone_ms[] = {6, 9, 42, 52, 70, 65, 80};

static const char *const first_names[] = {
	"anna", "ben", "carla", "david", "elena", "felix", "greta", "hannah", "ivan", "julia",
	"karim", "lena", "marco", "nina", "oliver", "paula", "quentin", "rosa", "samir", "tara",
	"umar", "vera", "william", "xenia", "yusuf", "zoe", "aisha", "bruno", "chloe", "dmitri",
	"emma", "farid", "gina", "hugo", "ines", "jonas", "kira", "lukas", "maya", "noah",
	"olga", "pedro", "rahul", "sofia", "tomas", "ulla", "victor", "wei", "yara", "priya",
};
static const char *const last_names[] = {
	"mueller", "schmidt", "nguyen", "garcia", "kowalski", "smith", "jones", "patel", "kim",
	"rossi", "novak", "silva", "tanaka", "fischer", "weber", "meyer", "wagner", "becker",
	"hoffmann", "schulz", "martin", "bernard", "dubois", "lopez", "gonzalez", "brown",
	"taylor", "wilson", "anderson", "thomas", "moore", "jackson", "white", "harris", "clark",
	"lewis", "walker", "hall", "young", "king", "wright", "scott", "green", "baker", "adams",
	"nelson", "hill", "campbell", "mitchell", "roberts",
};

const char *role_name(enum role r)
{
	static const char *const n[RO_COUNT] = {
		"support", "sales", "finance", "analyst", "engineer", "admin", "auditor",
		"legacy-reporting", "batch", "svc-monitor", "svc-billing", "svc-crm-sync",
		"svc-events", "svc-inventory", "svc-indexer", "svc-reports", "svc-notifier",
		"partner",
	};
	return n[r];
}

const char *kind_name(enum id_kind k)
{
	static const char *const n[] = {"jwt", "cookie", "basic", "api_key", "bearer"};
	return n[k];
}

const char *sched_name(enum sched s)
{
	static const char *const n[] = {"office", "cron", "service", "partner", "dormant"};
	return n[s];
}

static const char *const role_scope[] = {
	[RO_SUPPORT] = "customers:read tickets:read tickets:write orders:read",
	[RO_SALES] = "customers:read orders:read orders:write products:read",
	[RO_FINANCE] = "payments:read payments:refund invoices:read reports:read",
	[RO_ANALYST] = "reports:read exports:read orders:read products:read",
	[RO_ENGINEER] = "products:read orders:read inventory:read",
	[RO_ADMIN] = "admin users:write customers:read customers:delete audit:read",
	[RO_AUDITOR] = "audit:read payments:read invoices:read reports:read",
};

/* ---------------------------------------------------------------- pages */

enum page {
	PG_ME, PG_TICKET_QUEUE, PG_TICKET_VIEW, PG_TICKET_REPLY, PG_CUSTOMER_LIST, PG_CUSTOMER_VIEW,
	PG_CUSTOMER_EDIT, PG_ORDERS_LIST, PG_ORDER_VIEW, PG_ORDER_CREATE, PG_PRODUCTS, PG_PRODUCT,
	PG_SEARCH, PG_PAYMENTS, PG_PAYMENT_VIEW, PG_REFUND, PG_INVOICES, PG_INVOICE_VIEW, PG_REPORT,
	PG_EXPORT, PG_INVENTORY, PG_HEALTH, PG_ADMIN_USERS, PG_ADMIN_USER, PG_ADMIN_ROLES,
	PG_ADMIN_AUDIT, PG_ADMIN_KEYS, PG_ADMIN_DELETE, PG_LEGACY,
	PG_COUNT
};

struct page_def {
	uint8_t route[3];
	uint8_t n;
	uint8_t same_obj; /* later requests use the first one's object (customer, ticket, ...) */
};

static const struct page_def pages[PG_COUNT] = {
	[PG_ME] = {{R_ME}, 1, 0},
	[PG_TICKET_QUEUE] = {{R_TICKETS}, 1, 0},
	[PG_TICKET_VIEW] = {{R_TICKET, R_CUSTOMER, R_CUSTOMER_ORDERS}, 3, 2},
	[PG_TICKET_REPLY] = {{R_TICKET_COMMENT, R_TICKET}, 2, 1},
	[PG_CUSTOMER_LIST] = {{R_CUSTOMERS}, 1, 0},
	[PG_CUSTOMER_VIEW] = {{R_CUSTOMER, R_CUSTOMER_ORDERS}, 2, 1},
	[PG_CUSTOMER_EDIT] = {{R_CUSTOMER_PATCH, R_CUSTOMER}, 2, 1},
	[PG_ORDERS_LIST] = {{R_ORDERS}, 1, 0},
	[PG_ORDER_VIEW] = {{R_ORDER}, 1, 0},
	[PG_ORDER_CREATE] = {{R_PRODUCT, R_ORDER_POST}, 2, 0},
	[PG_PRODUCTS] = {{R_PRODUCTS, R_PRODUCT}, 2, 0},
	[PG_PRODUCT] = {{R_PRODUCT}, 1, 0},
	[PG_SEARCH] = {{R_SEARCH}, 1, 0},
	[PG_PAYMENTS] = {{R_PAYMENTS}, 1, 0},
	[PG_PAYMENT_VIEW] = {{R_PAYMENT, R_ORDER}, 2, 0},
	[PG_REFUND] = {{R_PAYMENT, R_REFUND}, 2, 1},
	[PG_INVOICES] = {{R_INVOICES}, 1, 0},
	[PG_INVOICE_VIEW] = {{R_INVOICE}, 1, 0},
	[PG_REPORT] = {{R_REPORT}, 1, 0},
	[PG_EXPORT] = {{R_EXPORT}, 1, 0},
	[PG_INVENTORY] = {{R_INVENTORY}, 1, 0},
	[PG_HEALTH] = {{R_HEALTH}, 1, 0},
	[PG_ADMIN_USERS] = {{R_ADMIN_USERS}, 1, 0},
	[PG_ADMIN_USER] = {{R_ADMIN_USER}, 1, 0},
	[PG_ADMIN_ROLES] = {{R_ADMIN_USER, R_ADMIN_ROLES}, 2, 1},
	[PG_ADMIN_AUDIT] = {{R_ADMIN_AUDIT}, 1, 0},
	[PG_ADMIN_KEYS] = {{R_ADMIN_KEYS}, 1, 0},
	[PG_ADMIN_DELETE] = {{R_CUSTOMER, R_CUSTOMER_DELETE}, 2, 1},
	[PG_LEGACY] = {{R_LEGACY_REPORT}, 1, 0},
};

/* page weights per human role */
static const double role_pages[RO_BATCH][PG_COUNT] = {
	[RO_SUPPORT] = {[PG_ME] = 2, [PG_TICKET_QUEUE] = 18, [PG_TICKET_VIEW] = 30, [PG_TICKET_REPLY] = 10,
			[PG_CUSTOMER_LIST] = 8, [PG_SEARCH] = 4, [PG_CUSTOMER_VIEW] = 15,
			[PG_CUSTOMER_EDIT] = 3, [PG_ORDER_VIEW] = 8, [PG_PRODUCT] = 2},
	[RO_SALES] = {[PG_ME] = 2, [PG_CUSTOMER_LIST] = 12, [PG_SEARCH] = 5, [PG_CUSTOMER_VIEW] = 25,
		      [PG_ORDERS_LIST] = 18, [PG_ORDER_VIEW] = 18, [PG_ORDER_CREATE] = 7,
		      [PG_PRODUCTS] = 10},
	[RO_FINANCE] = {[PG_ME] = 2, [PG_PAYMENTS] = 20, [PG_PAYMENT_VIEW] = 30, [PG_REFUND] = 2,
			[PG_INVOICES] = 14, [PG_INVOICE_VIEW] = 20, [PG_REPORT] = 6},
	[RO_ANALYST] = {[PG_ME] = 2, [PG_REPORT] = 40, [PG_ORDERS_LIST] = 18, [PG_PRODUCTS] = 14,
			[PG_SEARCH] = 14, [PG_EXPORT] = 1.2},
	[RO_ENGINEER] = {[PG_ME] = 5, [PG_PRODUCT] = 20, [PG_PRODUCTS] = 6, [PG_ORDER_VIEW] = 15,
			 [PG_INVENTORY] = 18, [PG_HEALTH] = 8, [PG_SEARCH] = 10},
	[RO_ADMIN] = {[PG_ME] = 3, [PG_ADMIN_USERS] = 22, [PG_ADMIN_USER] = 30, [PG_ADMIN_ROLES] = 4,
		      [PG_ADMIN_AUDIT] = 14, [PG_ADMIN_KEYS] = 1, [PG_ADMIN_DELETE] = 0.6,
		      [PG_CUSTOMER_VIEW] = 10, [PG_ORDER_VIEW] = 8},
	[RO_AUDITOR] = {[PG_ME] = 2, [PG_ADMIN_AUDIT] = 30, [PG_PAYMENTS] = 18, [PG_PAYMENT_VIEW] = 20,
			[PG_INVOICE_VIEW] = 18, [PG_REPORT] = 10},
	[RO_LEGACY] = {[PG_ME] = 1, [PG_LEGACY] = 55, [PG_CUSTOMER_VIEW] = 20, [PG_ORDERS_LIST] = 20},
};

/* page views on a working day, median per role */
static const double role_pv[RO_BATCH] = {
	[RO_SUPPORT] = 50, [RO_SALES] = 40, [RO_FINANCE] = 34, [RO_ANALYST] = 26,
	[RO_ENGINEER] = 28, [RO_ADMIN] = 22, [RO_AUDITOR] = 16, [RO_LEGACY] = 14,
};

bool role_uses(enum role role, enum route route)
{
	if (role >= RO_BATCH)
		return false;
	for (int p = 0; p < PG_COUNT; p++) {
		if (role_pages[role][p] <= 0)
			continue;
		for (int k = 0; k < pages[p].n; k++)
			if (pages[p].route[k] == route)
				return true;
	}
	return false;
}

size_t role_page(struct rng *r, enum role role, uint64_t ts, struct req *q)
{
	int p = rng_weighted(r, role_pages[role], PG_COUNT);
	const struct page_def *pg = &pages[p];
	uint64_t t = ts;
	for (int k = 0; k < pg->n; k++) {
		api_req(r, &q[k], (enum route)pg->route[k], t);
		if (k && k >= pg->n - pg->same_obj) {
			/* the same customer/ticket/payment as the first request of the page */
			const struct route_def *a = &api_routes[q[0].route], *b = &api_routes[q[k].route];
			if (a->obj_lo == b->obj_lo)
				q[k].obj = q[0].obj;
			else if (q[k].route == R_CUSTOMER || q[k].route == R_CUSTOMER_ORDERS)
				q[k].obj = k > 1 ? q[k - 1].obj : q[k].obj;
		}
		t += 20000 + rng_below(r, 230000);
	}
	return (size_t)pg->n;
}

/* ---------------------------------------------------------------- JWT */

char *jwt_make(const char *secret, const char *alg, const char *sub, enum role role, uint64_t iat,
	       uint64_t exp, uint64_t nbf, const char *jti, bool admin_claim)
{
	char header[128], claims[1024], nbfs[48] = "";
	char hb[256], cb[1500], sig[128];
	uint8_t mac[32];
	unsigned maclen = 0;
	snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"%s}", alg,
		 strcmp(alg, "none") ? ",\"kid\":\"sim-2026-11\"" : "");
	if (nbf)
		snprintf(nbfs, sizeof nbfs, ",\"nbf\":%llu", (unsigned long long)(nbf / US_PER_S));
	snprintf(claims, sizeof claims,
		 "{\"sub\":\"%s\",\"iss\":\"https://auth.example.com\",\"aud\":\"api.example.com\","
		 "\"scope\":\"%s\",\"roles\":[\"%s\"],\"iat\":%llu,\"exp\":%llu%s,\"jti\":\"%s\"}",
		 sub, admin_claim ? role_scope[RO_ADMIN] : (role < RO_LEGACY ? role_scope[role] : ""),
		 admin_claim ? "admin" : role_name(role), (unsigned long long)(iat / US_PER_S),
		 (unsigned long long)(exp / US_PER_S), nbfs, jti);
	b64_encode(hb, header, strlen(header), true);
	b64_encode(cb, claims, strlen(claims), true);
	char signing[1800];
	snprintf(signing, sizeof signing, "%s.%s", hb, cb);
	sig[0] = 0;
	if (strcmp(alg, "none")) {
		if (!hmac_sha256(secret, signing, mac, &maclen))
			die("HMAC failed");
		b64_encode(sig, mac, maclen, true);
	}
	size_t n = strlen(signing) + strlen(sig) + 16;
	char *out = xmalloc(n);
	snprintf(out, n, "Bearer %s.%s", signing, sig);
	return out;
}

/* ---------------------------------------------------------------- identities */

static void random_alnum(struct rng *r, char *out, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	for (size_t i = 0; i < n; i++)
		out[i] = a[rng_below(r, 62)];
	out[n] = 0;
}

static struct prefix pfx4(uint8_t a, uint8_t b, uint8_t c, enum pfx_kind k)
{
	struct prefix p = {{0, {a, b, c, 0}}, 24, (uint8_t)k};
	return p;
}

static struct prefix pfx6(uint16_t g0, uint16_t g1, uint16_t g2, uint16_t g3, enum pfx_kind k)
{
	struct prefix p = {{1, {(uint8_t)(g0 >> 8), (uint8_t)g0, (uint8_t)(g1 >> 8), (uint8_t)g1,
				(uint8_t)(g2 >> 8), (uint8_t)g2, (uint8_t)(g3 >> 8), (uint8_t)g3}},
			   64, (uint8_t)k};
	return p;
}

static void add_pfx(struct ident *id, struct rng *r, struct prefix p, double w, uint32_t rtt_ms,
		    uint32_t bw, uint16_t mss, uint8_t hops)
{
	int k = id->n_pfx++;
	id->pfx[k] = p;
	id->pfx_w[k] = w;
	id->pfx_host[k] = rng_below(r, 250);
	id->rtt_us[k] = rtt_ms * 1000 + rng_below(r, 1500);
	id->bw_mbps[k] = bw;
	id->mss[k] = mss;
	id->hops[k] = hops;
}

static void add_agent(struct ident *id, int agent, double w)
{
	id->agent[id->n_agent] = agent;
	id->agent_w[id->n_agent] = w;
	id->n_agent++;
}

/* A person's browser: the older version of an updatable one most of the time. */
static int pick_browser(struct rng *r)
{
	static const double w[] = {35, 20, 15, 10, 5, 15};
	static const int older[] = {0, 2, 8, 4, 6, 7};
	int k = rng_weighted(r, w, 6);
	int a = older[k];
	if (agents[a].upgrade >= 0 && rng_chance(r, 0.35))
		a = agents[a].upgrade;
	return a;
}

static void make_human(struct world *w, struct ident *id, struct rng *r)
{
	int tz = rng_weighted(r, tz_w, (int)n_tzs);
	if (w->demo)
		tz = 0; /* the demo is one morning in Berlin */
	id->tz = tz;
	id->sched = SC_OFFICE;
	id->start_min = (int)(8.75 * 60 + rng_normal(r) * 36);
	if (id->start_min < 7 * 60)
		id->start_min = 7 * 60 + (int)rng_below(r, 20);
	if (id->start_min > 10 * 60 + 30)
		id->start_min = 10 * 60 + 30;
	if (w->demo)
		id->start_min = 7 * 60 + 30 + (int)rng_below(r, 40);
	int len = (int)(8.7 * 60 + rng_normal(r) * 30);
	len = len < 450 ? 450 : len > 600 ? 600 : len;
	id->end_min = id->start_min + len;
	id->lunch_min = 12 * 60 + (int)rng_below(r, 75);
	id->daily_pv = rng_lognormal(r, role_pv[id->role], 0.35) * (w->demo ? 1.3 : 1.0);

	/* networks: an office floor, the region's VPN pool, home */
	uint32_t far = zone_ms[tz];
	bool remote = rng_chance(r, 0.1);
	uint8_t hops = (uint8_t)(4 + far / 10);
	if (!remote)
		add_pfx(id, r, pfx4(10, office_net[tz], (uint8_t)(1 + rng_below(r, 6)), PFX_OFFICE), 0.68,
			2 * far, 500 + rng_below(r, 500), 1460, hops);
	if (remote || rng_chance(r, 0.7)) {
		static const uint8_t vpn_pools[] = {4, 4, 4}; /* /24s per region pool */
		int region = tzs[tz].region;
		add_pfx(id, r, pfx4(10, (uint8_t)(8 + region), (uint8_t)rng_below(r, vpn_pools[region]), PFX_VPN),
			0.2, 2 * far + 8, 50 + rng_below(r, 150), 1360, (uint8_t)(hops + 3));
	}
	if (remote || rng_chance(r, 0.45)) {
		if (rng_chance(r, 0.35))
			add_pfx(id, r, pfx6(home_v6[tz][0], home_v6[tz][1], (uint16_t)rng_below(r, 65536),
					    (uint16_t)rng_below(r, 65536), PFX_HOME),
				0.12, 2 * far + 12, 40 + rng_below(r, 260), 1440, (uint8_t)(hops + 8));
		else
			add_pfx(id, r, pfx4(home_v4[tz][rng_below(r, 3)], (uint8_t)rng_below(r, 256),
					    (uint8_t)rng_below(r, 256), PFX_HOME),
				0.12, 2 * far + 12, 30 + rng_below(r, 270), rng_chance(r, 0.4) ? 1452 : 1460,
				(uint8_t)(hops + 8));
	}

	/* software */
	id->cli_agent = -1;
	if (id->role == RO_LEGACY) {
		add_agent(id, rng_chance(r, 0.6) ? agent_find("Microsoft Office") : agent_find("Java/1.8"), 1);
	} else {
		int b = pick_browser(r);
		add_agent(id, b, 1);
		if (rng_chance(r, 0.12)) {
			int b2 = pick_browser(r);
			if (agents[b2].family != agents[b].family)
				add_agent(id, b2, 0.15);
		}
		if (id->role == RO_ENGINEER) {
			double x = rng_unit(r);
			id->cli_agent = x < 0.6 ? agent_find("curl/8") : x < 0.85 ? agent_find("HTTPie") : agent_find("PostmanRuntime");
		}
	}
	id->upgrade_day = -1;
	if (agents[id->agent[0]].upgrade >= 0 && rng_chance(r, 0.6) && w->days > 1)
		id->upgrade_day = (int)rng_range(r, 1, w->days - 1);

	/* days off and weekend sessions */
	/* a day off, after the first four days (so a learning period sees the
	 * usual week; with a weekend at most 3.6 days without a request) */
	if (rng_chance(r, 0.06) && w->days > 4)
		id->vacation |= 1u << rng_range(r, 4, w->days - 1);
	if (rng_chance(r, 0.1))
		for (int d = 0; d < w->days; d++)
			if (rng_chance(r, 0.6))
				id->weekend |= 1u << d;
}

static void human_name(struct world *w, int i, char *out, size_t n, bool short_form)
{
	uint32_t c = (uint32_t)(((uint64_t)i * 1013 + w->seed * 7919) % 2500);
	const char *f = first_names[c % 50], *l = last_names[c / 50];
	if (short_form) /* legacy account names: initial, surname, a number (unique) */
		snprintf(out, n, "%c%s%02u", f[0], l, c % 50);
	else
		snprintf(out, n, "%s.%s", f, l);
	if (i >= 2500)
		snprintf(out + strlen(out), n - strlen(out), "%d", i / 2500);
}

static const enum role service_roles[] = {
	RO_SVC_MONITOR, RO_SVC_BILLING, RO_SVC_EVENTS, RO_SVC_INVENTORY, RO_SVC_CRM,
	RO_SVC_NOTIFIER, RO_SVC_INDEXER, RO_SVC_REPORTS,
};
static const char *const partner_names[] = {
	"acme-logistics", "globex-retail", "initech-erp", "umbrella-shop", "stark-supply",
	"wayne-distribution", "hooli-marketplace", "soylent-foods", "tyrell-parts", "cyberdyne-b2b",
	"wonka-wholesale", "gringotts-pay", "oscorp-fulfilment", "vandelay-imports", "massive-dynamic",
	"pied-piper-cloud",
};

void population_make(struct world *w)
{
	int K = w->n_ids;
	w->ids = xcalloc((size_t)K, sizeof *w->ids);
	/* kinds: half JWT, a fifth cookie sessions, a tenth Basic, a tenth API keys, the rest bearer */
	int n_cookie = K * 22 / 100, n_basic = K * 10 / 100, n_api = K * 10 / 100, n_bearer = K * 8 / 100;
	if (K >= 10) {
		if (!n_api)
			n_api = 1;
		if (!n_bearer)
			n_bearer = 1;
	}
	int n_jwt = K - n_cookie - n_basic - n_api - n_bearer;
	static const double jwt_roles[] = {30, 18, 14, 10, 14, 7, 7};
	/* the demo's few people share roles, so that each has peers */
	static const double demo_roles[] = {45, 35, 20, 0, 0, 0, 0};
	int svc = 0, partner = 0, batch = 0;

	for (int i = 0; i < K; i++) {
		struct ident *id = &w->ids[i];
		struct rng r;
		rng_seed(&r, w->seed, 1000 + (uint64_t)i);
		id->scenario = -1;
		id->dormant_day = -1;
		id->upgrade_day = -1;
		id->cli_agent = -1;
		if (i < n_jwt) {
			id->kind = IK_JWT;
			id->role = (enum role)rng_weighted(&r, w->demo ? demo_roles : jwt_roles, 7);
			make_human(w, id, &r);
			human_name(w, i, id->name, sizeof id->name, false);
			snprintf(id->id, sizeof id->id, "%s", id->name);
			id->h2_share = rng_chance(&r, 0.55) ? 1.0 : 0.0;
		} else if (i < n_jwt + n_cookie) {
			id->kind = IK_COOKIE;
			id->role = rng_chance(&r, 0.6) ? RO_SUPPORT : RO_SALES;
			make_human(w, id, &r);
			human_name(w, i, id->name, sizeof id->name, false);
			id->via_proxy = true;
			random_alnum(&r, id->secret, 32);
			char ga[48];
			snprintf(ga, sizeof ga, "GA1.1.%u.%u", 100000000 + rng_below(&r, 899999999),
				 1700000000 + rng_below(&r, 90000000));
			snprintf(id->cred, sizeof id->cred, "_ga=%s; theme=%s; sid=%s; csrftoken=%08x%08x", ga,
				 rng_chance(&r, 0.5) ? "light" : "dark", id->secret, (unsigned)rng_next(&r),
				 (unsigned)rng_next(&r));
			fingerprint(id->secret, id->id);
		} else if (i < n_jwt + n_cookie + n_basic) {
			id->kind = IK_BASIC;
			random_alnum(&r, id->secret, 14);
			if (batch++ % 5 < 2 && !w->demo) {
				static const char *const jobs[] = {"rpt_nightly", "etl_customers", "crm_export",
								   "dwh_loader", "audit_batch"};
				id->role = RO_BATCH;
				id->sched = SC_CRON;
				snprintf(id->name, sizeof id->name, "%s%02d", jobs[(batch / 5) % 5], batch);
				id->tz = rng_chance(&r, 0.6) ? 0 : 2;
				id->start_min = 90 + (int)rng_below(&r, 40);
				id->end_min = id->start_min + 20;
				add_pfx(id, &r, pfx4(10, 100, 5, PFX_DC), 1, 1, 10000, 1460, 2);
				add_agent(id, rng_chance(&r, 0.5) ? agent_find("Java/1.8") : agent_find("python-requests/2.31"), 1);
				id->daily_pv = 15 + rng_below(&r, 15);
			} else {
				id->role = RO_LEGACY;
				make_human(w, id, &r);
				human_name(w, i, id->name, sizeof id->name, true);
			}
			char up[160], b64[240];
			snprintf(up, sizeof up, "%s:%s", id->name, id->secret);
			b64_encode(b64, up, strlen(up), false);
			snprintf(id->cred, sizeof id->cred, "Basic %s", b64);
			snprintf(id->id, sizeof id->id, "%s", id->name);
		} else if (i < n_jwt + n_cookie + n_basic + n_api) {
			id->kind = IK_APIKEY;
			id->role = service_roles[svc % 8];
			id->sched = SC_SERVICE;
			snprintf(id->name, sizeof id->name, "%s-%d", role_name(id->role) + 4, svc / 8 + 1);
			svc++;
			id->tz = 0;
			char key[40];
			random_alnum(&r, key, 32);
			snprintf(id->secret, sizeof id->secret, "sk_live_%s", key);
			snprintf(id->cred, sizeof id->cred, "%s", id->secret);
			fingerprint(id->secret, id->id);
			uint8_t node = (uint8_t)rng_below(&r, 16);
			add_pfx(id, &r, pfx4(10, 244, node, PFX_DC), 0.85, 0, 10000, 1460, 1);
			add_pfx(id, &r, pfx4(10, 244, (uint8_t)((node + 1 + rng_below(&r, 15)) % 16), PFX_DC), 0.15, 0,
				10000, 1460, 1);
			static const char *const ua[] = {
				[RO_SVC_MONITOR] = "kube-probe", [RO_SVC_BILLING] = "Apache-HttpClient",
				[RO_SVC_CRM] = "python-requests/2.32", [RO_SVC_EVENTS] = "Go-http-client/2.0",
				[RO_SVC_INVENTORY] = "okhttp", [RO_SVC_INDEXER] = "Go-http-client/1.1",
				[RO_SVC_REPORTS] = "python-requests/2.31", [RO_SVC_NOTIFIER] = "axios",
			};
			int a = agent_find(ua[id->role]);
			add_agent(id, a, 1);
			id->h2_share = (agents[a].family == AF_OKHTTP || !strcmp(agents[a].ua, "Go-http-client/2.0")) ? 1 : 0;
			id->daily_pv = rng_lognormal(&r, 1.0, 0.25); /* rate multiplier */
		} else {
			id->kind = IK_BEARER;
			id->role = RO_PARTNER;
			id->sched = SC_PARTNER;
			snprintf(id->name, sizeof id->name, "%s", partner_names[partner % 16]);
			if (partner >= 16)
				snprintf(id->name + strlen(id->name), sizeof id->name - strlen(id->name), "-%d",
					 partner / 16 + 1);
			partner++;
			id->tz = w->demo ? 0 : rng_weighted(&r, tz_w, (int)n_tzs);
			id->start_min = 8 * 60;
			id->end_min = 19 * 60;
			for (int k = 0; k < 40; k++)
				id->secret[k] = "0123456789abcdef"[rng_below(&r, 16)];
			id->secret[40] = 0;
			snprintf(id->cred, sizeof id->cred, "Bearer %s", id->secret);
			fingerprint(id->secret, id->id);
			static const uint8_t nets[][2] = {{62, 96}, {80, 150}, {212, 227}, {52, 28}, {34, 107}, {13, 52}};
			const uint8_t *n = nets[rng_below(&r, 6)];
			add_pfx(id, &r, pfx4(n[0], n[1], (uint8_t)rng_below(&r, 256), PFX_PARTNER), 1,
				10 + rng_below(&r, 60), 200 + rng_below(&r, 800), 1460, (uint8_t)(8 + rng_below(&r, 8)));
			static const char *const ua[] = {"PartnerSync", "Apache-HttpClient", "python-requests/2.32", "Go-http-client/1.1"};
			add_agent(id, agent_find(ua[rng_below(&r, 4)]), 1);
			id->daily_pv = 30 + rng_below(&r, 40);
		}
	}
}

/* ---------------------------------------------------------------- schedules */

static int wday(int d)
{
	return (SIM_T0_WDAY + d % 7 + 7) % 7;
}

static uint64_t local_midnight(const struct ident *id, int d)
{
	return (uint64_t)((int64_t)SIM_T0 + (int64_t)d * (int64_t)DAY_US -
			  (int64_t)tzs[id->tz].offset_min * (int64_t)MIN_US);
}

int ident_local_day(const struct world *w, int i, uint64_t ts)
{
	const struct ident *id = &w->ids[i];
	int64_t off = (int64_t)ts - (int64_t)SIM_T0 + (int64_t)tzs[id->tz].offset_min * (int64_t)MIN_US;
	return (int)((off - (off < 0 ? (int64_t)DAY_US - 1 : 0)) / (int64_t)DAY_US);
}

bool ident_works(const struct world *w, int i, int d)
{
	const struct ident *id = &w->ids[i];
	int wd = wday(d);
	switch (id->sched) {
	case SC_OFFICE:
		return wd >= 1 && wd <= 5 && !(d >= 0 && d < 32 && (id->vacation >> d & 1));
	case SC_DORMANT:
		return d == id->dormant_day;
	case SC_CRON:
	case SC_SERVICE:
		return true;
	case SC_PARTNER:
		return wd >= 1 && wd <= 5;
	}
	return false;
}

static bool ident_weekend(const struct world *w, int i, int d)
{
	const struct ident *id = &w->ids[i];
	int wd = wday(d);
	return id->sched == SC_OFFICE && (wd == 0 || wd == 6) && d >= 0 && d < 32 && (id->weekend >> d & 1);
}

void ident_day_window(const struct world *w, int i, int d, uint64_t *from, uint64_t *to)
{
	const struct ident *id = &w->ids[i];
	struct rng r;
	rng_seed(&r, w->seed, 500000 + (uint64_t)i * 64 + (uint64_t)(d + 1));
	uint64_t mid = local_midnight(id, d);
	int s, e;
	switch (id->sched) {
	case SC_SERVICE:
		*from = SIM_T0 + (uint64_t)d * DAY_US;
		*to = *from + DAY_US;
		return;
	case SC_CRON:
		s = id->start_min + (int)rng_range(&r, -3, 3);
		e = s + 25;
		break;
	case SC_PARTNER:
		s = id->start_min + (int)rng_range(&r, -20, 20);
		e = id->end_min + (int)rng_range(&r, -30, 30);
		break;
	default:
		if (ident_weekend(w, i, d)) {
			s = 10 * 60 + (int)rng_below(&r, 300);
			e = s + 30 + (int)rng_below(&r, 70);
			break;
		}
		s = id->start_min + (int)(rng_normal(&r) * 15);
		e = id->end_min + (int)(rng_normal(&r) * 25);
		if (wday(d) == 5)
			e -= 40;
		if (e > s + 660)
			e = s + 660;
		if (e < s + 240)
			e = s + 240;
		break;
	}
	*from = mid + (uint64_t)s * MIN_US + rng_below(&r, 60) * US_PER_S;
	*to = mid + (uint64_t)e * MIN_US;
}

/* Working days before day d: the usual networks and software all show up in
 * the first ones (what a learning period would see of a person). */
static int days_worked_before(const struct world *w, int i, int d)
{
	int k = 0;
	for (int x = 0; x < d; x++)
		k += ident_works(w, i, x);
	return k;
}

int ident_origin(const struct world *w, int i, int d, struct rng *r)
{
	const struct ident *id = &w->ids[i];
	if (id->n_pfx <= 1)
		return 0;
	if ((id->sched == SC_OFFICE || id->sched == SC_DORMANT) && ident_weekend(w, i, d))
		return id->n_pfx - 1; /* from home (or the VPN) */
	int k = days_worked_before(w, i, d);
	if (k < id->n_pfx)
		return k;
	return rng_weighted(r, id->pfx_w, id->n_pfx);
}

const char *ident_token(struct world *w, int i, int d)
{
	struct ident *id = &w->ids[i];
	if (d < -1 || d >= SIM_MAX_DAYS)
		die("internal: token day %d", d);
	if (!id->token[d + 1]) {
		uint64_t from, to;
		ident_day_window(w, i, d, &from, &to);
		if (!ident_works(w, i, d) && !ident_weekend(w, i, d))
			from = local_midnight(id, d) + 9 * HOUR_US;
		uint64_t iat = from - 90 * US_PER_S;
		char jti[24];
		snprintf(jti, sizeof jti, "%016llx", (unsigned long long)mix64(w->seed ^ ((uint64_t)i << 20) ^ (uint64_t)(d + 7)));
		id->token[d + 1] = jwt_make(w->jwt_secret, "HS256", id->name, id->role, iat, iat + 12 * HOUR_US, 0,
					    jti, false);
		id->token_iat[d + 1] = iat;
	}
	return id->token[d + 1];
}

void ident_transport(const struct world *w, int i, int d, int pfx, struct rng *r, struct conn *c)
{
	const struct ident *id = &w->ids[i];
	memset(c, 0, sizeof *c);
	c->ident = i;
	c->scenario = -1;
	uint64_t host = id->pfx_host[pfx];
	if (id->pfx[pfx].kind == PFX_VPN || id->pfx[pfx].kind == PFX_DC)
		host = mix64((uint64_t)i * 977 + (uint64_t)d) % 250; /* a new lease / pod every day */
	prefix_host(&id->pfx[pfx], host, &c->client);
	c->rtt_us = (uint32_t)(id->rtt_us[pfx] * (0.9 + 0.2 * rng_unit(r))) + 150;
	c->bw_mbps = id->bw_mbps[pfx];
	c->mss = id->mss[pfx];
	int k = days_worked_before(w, i, d);
	int a = id->agent[id->n_agent > 1 ? (k < id->n_agent ? k : rng_weighted(r, id->agent_w, id->n_agent)) : 0];
	if (id->upgrade_day >= 0 && d >= id->upgrade_day && agents[a].upgrade >= 0)
		a = agents[a].upgrade;
	c->agent = (uint16_t)a;
	int ttl0 = strstr(agents[a].ua, "Windows") ? 128 : 64;
	c->ttl = (uint8_t)(ttl0 - id->hops[pfx]);
	c->proto = rng_unit(r) < id->h2_share ? P_H2 : P_H1;
	if (id->via_proxy)
		c->flags |= CF_PROXY;
	switch (id->kind) {
	case IK_JWT:
		c->cred_kind = CK_AUTHZ;
		c->cred = ident_token((struct world *)w, i, d);
		break;
	case IK_COOKIE:
		c->cred_kind = CK_COOKIE;
		c->cred = id->cred;
		break;
	case IK_APIKEY:
		c->cred_kind = CK_APIKEY;
		c->cred = id->cred;
		break;
	default:
		c->cred_kind = CK_AUTHZ;
		c->cred = id->cred;
		break;
	}
}

bool ident_suppressed(const struct ident *id, uint64_t ts)
{
	for (int k = 0; k < id->n_suppress; k++)
		if (ts >= id->suppress_from[k] && ts < id->suppress_to[k])
			return true;
	return false;
}

/* ---------------------------------------------------------------- normal days */

/* n times in [from, to): stretches of work and meetings, a lunch dip, a slow start. */
static void day_times(struct rng *r, const struct ident *id, int d, uint64_t from, uint64_t to,
		      uint32_t n, uint64_t *out)
{
	size_t minutes = (size_t)((to - from) / MIN_US) + 1;
	double *cum = xmalloc(minutes * sizeof *cum);
	uint64_t lunch = local_midnight(id, d) + (uint64_t)id->lunch_min * MIN_US;
	double acc = 0;
	bool on = true;
	double left = rng_exp(r, 40);
	for (size_t m = 0; m < minutes; m++) {
		if ((left -= 1) <= 0) {
			on = !on;
			left = on ? rng_exp(r, 40) : rng_exp(r, 14);
		}
		uint64_t t = from + m * MIN_US;
		double wgt = on ? 1.0 : 0.08;
		if (t >= lunch && t < lunch + 45 * MIN_US)
			wgt *= 0.12;
		if (m < 20)
			wgt *= 0.6;
		acc += wgt;
		cum[m] = acc;
	}
	for (uint32_t k = 0; k < n; k++) {
		double x = rng_unit(r) * acc;
		size_t lo = 0, hi = minutes - 1;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (cum[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		uint64_t t = from + lo * MIN_US + rng_below(r, 60000000);
		out[k] = t < to ? t : to - 1;
	}
	free(cum);
	/* sort */
	for (uint32_t a = 1; a < n; a++) {
		uint64_t v = out[a];
		uint32_t b = a;
		for (; b > 0 && out[b - 1] > v; b--)
			out[b] = out[b - 1];
		out[b] = v;
	}
}

static void drop_suppressed(const struct ident *id, struct reqv *v)
{
	size_t o = 0;
	for (size_t k = 0; k < v->n; k++)
		if (!ident_suppressed(id, v->v[k].ts))
			v->v[o++] = v->v[k];
	v->n = o;
}

/* A route the role never uses: an occasional click on something not theirs (403). */
static enum route foreign_route(struct rng *r, enum role role)
{
	static const enum route pool[] = {R_PAYMENT, R_INVOICE, R_ADMIN_USERS, R_ADMIN_AUDIT, R_TICKET,
					  R_REPORT, R_CUSTOMER};
	for (int k = 0; k < 10; k++) {
		enum route x = pool[rng_below(r, 7)];
		if (!role_uses(role, x))
			return x;
	}
	return R_ADMIN_USERS;
}

static void office_day(struct world *w, int i, int d)
{
	struct ident *id = &w->ids[i];
	struct rng r;
	rng_seed(&r, w->seed, 2000000 + (uint64_t)i * 64 + (uint64_t)(d + 1));
	uint64_t from, to;
	ident_day_window(w, i, d, &from, &to);
	bool weekend = ident_weekend(w, i, d);
	double nominal = (double)(id->end_min - id->start_min);
	double span = (double)(to - from) / (double)MIN_US;
	double lambda = id->daily_pv * span / nominal * (weekend ? 0.7 : rng_lognormal(&r, 1.0, 0.22));
	uint32_t n = rng_poisson(&r, lambda);
	if (!n)
		return;
	uint64_t *times = xmalloc(n * sizeof *times);
	day_times(&r, id, d, from, to, n, times);

	struct reqv main = {0}, cli = {0};
	struct req page[8];
	bool morning_401 = id->kind == IK_JWT && rng_chance(&r, 0.3);
	if (morning_401) {
		struct req *q = reqv_add(&main);
		api_req(&r, q, R_ME, times[0] > 1500000 ? times[0] - 1500000 : times[0]);
		q->flags |= RQ_ALT_CRED;
		q->status = 401;
		q->resp_len = 71;
	}
	for (uint32_t k = 0; k < n; k++) {
		bool to_cli = id->cli_agent >= 0 && rng_chance(&r, 0.12);
		struct reqv *v = to_cli ? &cli : &main;
		if (!to_cli && rng_chance(&r, 0.0005)) {
			struct req *q = reqv_add(v);
			api_req(&r, q, foreign_route(&r, id->role), times[k]);
			q->status = 403;
			q->resp_len = 66;
			continue;
		}
		size_t m = role_page(&r, id->role, times[k], page);
		for (size_t x = 0; x < (to_cli ? 1 : m); x++)
			*reqv_add(v) = page[x];
	}
	free(times);
	drop_suppressed(id, &main);
	drop_suppressed(id, &cli);

	int pfx = ident_origin(w, i, d, &r);
	struct conn tmpl;
	ident_transport(w, i, d, pfx, &r, &tmpl);
	if (morning_401)
		tmpl.cred_alt = ident_token(w, i, d - 1);
	reqv_sort(&main);
	emit_activity(w, &tmpl, main.v, main.n);
	if (cli.n) {
		tmpl.agent = (uint16_t)id->cli_agent;
		tmpl.proto = P_H1;
		tmpl.flags &= (uint8_t)~CF_PROXY; /* straight to the API, same machine */
		reqv_sort(&cli);
		emit_activity(w, &tmpl, cli.v, cli.n);
	}
	free(main.v);
	free(cli.v);
}

static void cron_day(struct world *w, int i, int d)
{
	struct ident *id = &w->ids[i];
	struct rng r;
	rng_seed(&r, w->seed, 2000000 + (uint64_t)i * 64 + (uint64_t)(d + 1));
	uint64_t from, to;
	ident_day_window(w, i, d, &from, &to);
	struct reqv v = {0};
	uint64_t t = from;
	int nrep = 3 + (int)rng_below(&r, 3);
	for (int k = 0; k < nrep; k++) {
		api_req(&r, reqv_add(&v), R_LEGACY_REPORT, t);
		v.v[v.n - 1].obj = (uint32_t)k;
		t += 2 * US_PER_S + rng_below(&r, 4000000);
	}
	uint32_t pages_n = (uint32_t)id->daily_pv;
	for (uint32_t p = 1; p <= pages_n; p++) {
		struct req *q = reqv_add(&v);
		api_req(&r, q, R_CUSTOMERS, t);
		q->obj = p;
		t += 800000 + rng_below(&r, 1500000);
	}
	drop_suppressed(id, &v);
	struct conn tmpl;
	ident_transport(w, i, d, 0, &r, &tmpl);
	emit_activity(w, &tmpl, v.v, v.n);
	free(v.v);
}

static void batch_at(struct rng *r, struct reqv *v, uint64_t t, enum route route, uint32_t count)
{
	for (uint32_t k = 0; k < count; k++) {
		api_req(r, reqv_add(v), route, t);
		t += 150000 + rng_below(r, 900000);
	}
}

static void service_day(struct world *w, int i, int d)
{
	struct ident *id = &w->ids[i];
	struct rng r;
	rng_seed(&r, w->seed, 2000000 + (uint64_t)i * 64 + (uint64_t)(d + 1));
	uint64_t from, to;
	ident_day_window(w, i, d, &from, &to);
	struct reqv v = {0};
	double mult = id->daily_pv;
	uint64_t period;
	switch (id->role) {
	case RO_SVC_MONITOR: period = (uint64_t)(300 * US_PER_S); break;
	case RO_SVC_BILLING: period = (uint64_t)(1200 * US_PER_S / mult); break;
	case RO_SVC_CRM: period = (uint64_t)(1800 * US_PER_S / mult); break;
	case RO_SVC_INVENTORY: period = (uint64_t)(900 * US_PER_S / mult); break;
	case RO_SVC_INDEXER: period = 2 * HOUR_US; break;
	case RO_SVC_NOTIFIER: period = (uint64_t)(600 * US_PER_S / mult); break;
	case RO_SVC_REPORTS: period = DAY_US; break;
	default: period = 0; break;
	}
	uint64_t phase = mix64((uint64_t)i * 31 + w->seed) % (period ? period : 1);
	if (id->role == RO_SVC_REPORTS)
		phase = 2 * HOUR_US + 5 * MIN_US; /* 03:05 in Berlin */
	if (id->role == RO_SVC_EVENTS) {
		/* Poisson, busier in the European day */
		double t = (double)from;
		for (;;) {
			uint64_t ts = (uint64_t)t;
			int hour = (int)((ts / HOUR_US) % 24);
			double rate = (hour >= 6 && hour < 21 ? 0.2 : 0.05) * mult / (double)MIN_US;
			t += rng_exp(&r, 1.0 / rate);
			if ((uint64_t)t >= to)
				break;
			api_req(&r, reqv_add(&v), R_EVENTS_POST, (uint64_t)t);
		}
	} else {
		for (uint64_t t = from + phase; t < to; t += period) {
			uint64_t ts = t + rng_below(&r, (uint32_t)(period / 40 + 1));
			struct req *q;
			switch (id->role) {
			case RO_SVC_MONITOR:
				api_req(&r, reqv_add(&v), R_HEALTH, ts);
				break;
			case RO_SVC_BILLING:
				q = reqv_add(&v);
				api_req(&r, q, R_PAYMENTS, ts);
				q->qv = QV_SINCE;
				q->resp_len = (uint32_t)rng_lognormal(&r, 1600, 0.5);
				batch_at(&r, &v, ts + 300000, R_PAYMENT, 1 + rng_below(&r, 3));
				batch_at(&r, &v, ts + 3000000, R_INVOICE, rng_below(&r, 3));
				break;
			case RO_SVC_CRM:
				q = reqv_add(&v);
				api_req(&r, q, R_CUSTOMERS, ts);
				q->qv = QV_SINCE;
				q->resp_len = (uint32_t)rng_lognormal(&r, 6000, 0.5);
				batch_at(&r, &v, ts + 500000, R_CUSTOMER_PATCH, rng_below(&r, 4));
				break;
			case RO_SVC_INVENTORY:
				batch_at(&r, &v, ts, R_INVENTORY, 1 + rng_below(&r, 4));
				batch_at(&r, &v, ts + 4000000, R_INVENTORY_PUT, rng_below(&r, 3));
				break;
			case RO_SVC_INDEXER:
				for (uint32_t p = 1; p <= 4; p++) {
					q = reqv_add(&v);
					api_req(&r, q, R_PRODUCTS, ts + p * 700000);
					q->obj = p;
				}
				break;
			case RO_SVC_NOTIFIER:
				q = reqv_add(&v);
				api_req(&r, q, R_ORDERS, ts);
				q->qv = QV_SINCE;
				q->resp_len = (uint32_t)rng_lognormal(&r, 1500, 0.6);
				break;
			case RO_SVC_REPORTS:
				q = reqv_add(&v);
				api_req(&r, q, R_EXPORT, ts);
				q->resp_len = (uint32_t)rng_lognormal(&r, 250000, 0.3);
				batch_at(&r, &v, ts + 120 * US_PER_S, R_REPORT, 5);
				break;
			default:
				break;
			}
		}
	}
	drop_suppressed(id, &v);
	reqv_sort(&v);
	int pfx = ident_origin(w, i, d, &r);
	struct conn tmpl;
	ident_transport(w, i, d, pfx, &r, &tmpl);
	emit_activity(w, &tmpl, v.v, v.n);
	free(v.v);
}

static void partner_day(struct world *w, int i, int d)
{
	struct ident *id = &w->ids[i];
	struct rng r;
	rng_seed(&r, w->seed, 2000000 + (uint64_t)i * 64 + (uint64_t)(d + 1));
	uint64_t from, to;
	ident_day_window(w, i, d, &from, &to);
	struct reqv v = {0};
	double mean = (double)(to - from) / (id->daily_pv / 3.0);
	for (uint64_t t = from + (uint64_t)rng_exp(&r, mean); t < to; t += (uint64_t)rng_exp(&r, mean)) {
		struct req *q = reqv_add(&v);
		api_req(&r, q, R_ORDERS, t);
		q->qv = QV_SINCE;
		q->resp_len = (uint32_t)rng_lognormal(&r, 1500, 0.6);
		batch_at(&r, &v, t + 400000, R_ORDER, rng_below(&r, 4));
		batch_at(&r, &v, t + 3000000, R_ORDER_POST, rng_below(&r, 2));
		batch_at(&r, &v, t + 5000000, R_INVENTORY, rng_below(&r, 3));
	}
	drop_suppressed(id, &v);
	reqv_sort(&v);
	struct conn tmpl;
	ident_transport(w, i, d, 0, &r, &tmpl);
	emit_activity(w, &tmpl, v.v, v.n);
	free(v.v);
}

void population_traffic(struct world *w)
{
	for (int i = 0; i < w->n_ids; i++) {
		for (int d = 0; d < w->days; d++) {
			switch (w->ids[i].sched) {
			case SC_OFFICE:
			case SC_DORMANT:
				if (ident_works(w, i, d) || ident_weekend(w, i, d))
					office_day(w, i, d);
				break;
			case SC_CRON: cron_day(w, i, d); break;
			case SC_SERVICE: service_day(w, i, d); break;
			case SC_PARTNER:
				if (ident_works(w, i, d))
					partner_day(w, i, d);
				break;
			}
		}
	}
}
