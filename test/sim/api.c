/*
 * api.c - the simulated API (config/eval-openapi.yaml documents it): its
 * routes with their usual statuses, response sizes and server times, the
 * request and response header fields each kind of client and the server
 * send (RFC 9110; HTTP/1 spelling, http2.c lower-cases them), JSON bodies,
 * and the client software in use.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

/* Compact JSON: every body median below is scaled by this (keeps the default
 * week of traffic near 200 MB). */
#define BODY_SCALE 0.6

/* method, path, status, body median, spread, request body, server ms, ids */
const struct route_def api_routes[R_COUNT] = {
	[R_ME] = {"GET", "/v1/me", 200, 380, 0.1, 0, 6, 0, 0},
	[R_PRODUCTS] = {"GET", "/v1/products", 200, 3200, 0.4, 0, 18, 1, 40},
	[R_PRODUCT] = {"GET", "/v1/products/%u", 200, 700, 0.3, 0, 8, 1000, 4999},
	[R_SEARCH] = {"GET", "/v1/search", 200, 1800, 0.6, 0, 45, 0, 0},
	[R_CUSTOMERS] = {"GET", "/v1/customers", 200, 3000, 0.4, 0, 32, 1, 60},
	[R_CUSTOMER] = {"GET", "/v1/customers/%u", 200, 900, 0.25, 0, 9, 10000, 69999},
	[R_CUSTOMER_PATCH] = {"PATCH", "/v1/customers/%u", 200, 900, 0.25, 180, 24, 10000, 69999},
	[R_CUSTOMER_DELETE] = {"DELETE", "/v1/customers/%u", 204, 0, 0, 0, 20, 10000, 69999},
	[R_CUSTOMER_ORDERS] = {"GET", "/v1/customers/%u/orders", 200, 1200, 0.5, 0, 22, 10000, 69999},
	[R_ORDERS] = {"GET", "/v1/orders", 200, 3200, 0.4, 0, 30, 1, 80},
	[R_ORDER] = {"GET", "/v1/orders/%u", 200, 800, 0.3, 0, 10, 200000, 899999},
	[R_ORDER_POST] = {"POST", "/v1/orders", 201, 850, 0.2, 640, 45, 0, 0},
	[R_ORDER_DELETE] = {"DELETE", "/v1/orders/%u", 204, 0, 0, 0, 18, 200000, 899999},
	[R_PAYMENTS] = {"GET", "/v1/payments", 200, 4200, 0.4, 0, 48, 1, 50},
	[R_PAYMENT] = {"GET", "/v1/payments/%u", 200, 750, 0.25, 0, 12, 500000, 999999},
	[R_REFUND] = {"POST", "/v1/payments/%u/refunds", 201, 420, 0.2, 150, 85, 500000, 999999},
	[R_INVOICES] = {"GET", "/v1/invoices", 200, 3400, 0.4, 0, 40, 1, 30},
	[R_INVOICE] = {"GET", "/v1/invoices/%u", 200, 1200, 0.3, 0, 14, 30000, 99999},
	[R_REPORT] = {"GET", "/v1/reports/%s", 200, 9000, 0.6, 0, 300, 0, 11},
	[R_EXPORT] = {"GET", "/v1/exports/customers", 200, 110000, 0.5, 0, 1400, 0, 0},
	[R_TICKETS] = {"GET", "/v1/tickets", 200, 2200, 0.4, 0, 24, 1, 10},
	[R_TICKET] = {"GET", "/v1/tickets/%u", 200, 1000, 0.4, 0, 10, 400000, 499999},
	[R_TICKET_COMMENT] = {"POST", "/v1/tickets/%u/comments", 201, 320, 0.2, 520, 30, 400000, 499999},
	[R_ADMIN_USERS] = {"GET", "/admin/users", 200, 5200, 0.3, 0, 30, 1, 12},
	[R_ADMIN_USER] = {"GET", "/admin/users/%u", 200, 650, 0.2, 0, 9, 1000, 1999},
	[R_ADMIN_ROLES] = {"PUT", "/admin/users/%u/roles", 200, 280, 0.1, 90, 30, 1000, 1999},
	[R_ADMIN_AUDIT] = {"GET", "/admin/audit", 200, 6000, 0.4, 0, 60, 0, 0},
	[R_ADMIN_KEYS] = {"POST", "/admin/keys", 201, 240, 0.1, 110, 40, 0, 0},
	[R_LEGACY_REPORT] = {"GET", "/v1/legacy/reports/%s", 200, 7000, 0.6, 0, 380, 0, 11},
	[R_HEALTH] = {"GET", "/health", 200, 21, 0, 0, 1, 0, 0},
	[R_EVENTS_POST] = {"POST", "/v1/events", 202, 34, 0, 1500, 4, 0, 0},
	[R_INVENTORY] = {"GET", "/v1/inventory/SKU-%06u", 200, 300, 0.2, 0, 6, 1000, 9999},
	[R_INVENTORY_PUT] = {"PUT", "/v1/inventory/SKU-%06u", 200, 180, 0.1, 120, 12, 1000, 9999},
	[R_SHADOW] = {"GET", NULL, 200, 2000, 0.6, 0, 4, 0, 0},
};

/* Undocumented routes the server still answers (shadow_endpoint scenarios). */
const char *const api_shadow_paths[] = {
	"/internal/debug/vars",     "/internal/debug/config",  "/internal/debug/pprof/heap",
	"/internal/flags",          "/internal/cache/dump",    "/internal/users/export",
	"/v0/customers/export",     "/v1/customers/search/raw", "/debug/sql",
	"/internal/metrics/raw",    "/internal/sessions",      "/v1/_admin/impersonate",
};
const size_t api_n_shadow_paths = sizeof api_shadow_paths / sizeof api_shadow_paths[0];

static const char *const report_names[] = {
	"daily-sales", "weekly-revenue", "churn", "top-customers", "refunds", "ar-aging",
	"inventory-levels", "support-sla", "pipeline", "cohorts", "margins", "tax-summary",
};

static const char *const search_terms[] = {
	"acme", "invoice+late", "refund", "gmbh", "berlin", "order+12", "jones", "smith",
	"enterprise", "pending", "priority", "shipping", "warranty", "renewal", "ltd", "inc",
};

const struct agent agents[] = {
	/* 0 */ {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", AF_CHROME, 1, 1},
	/* 1 */ {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", AF_CHROME, 1, -1},
	/* 2 */ {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", AF_CHROME, 1, 3},
	/* 3 */ {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", AF_CHROME, 1, -1},
	/* 4 */ {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", AF_FIREFOX, 1, 5},
	/* 5 */ {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", AF_FIREFOX, 1, -1},
	/* 6 */ {"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", AF_FIREFOX, 1, -1},
	/* 7 */ {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", AF_SAFARI, 1, -1},
	/* 8 */ {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.80", AF_EDGE, 1, 9},
	/* 9 */ {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51", AF_EDGE, 1, -1},
	/* 10 */ {"curl/8.5.0", AF_CURL, 0, -1},
	/* 11 */ {"curl/7.88.1", AF_CURL, 0, -1},
	/* 12 */ {"python-requests/2.31.0", AF_PYTHON, 0, -1},
	/* 13 */ {"python-requests/2.32.3", AF_PYTHON, 0, -1},
	/* 14 */ {"PostmanRuntime/7.42.0", AF_POSTMAN, 0, -1},
	/* 15 */ {"HTTPie/3.2.4", AF_HTTPIE, 0, -1},
	/* 16 */ {"Go-http-client/1.1", AF_GO, 0, -1},
	/* 17 */ {"Go-http-client/2.0", AF_GO, 0, -1},
	/* 18 */ {"okhttp/4.12.0", AF_OKHTTP, 0, -1},
	/* 19 */ {"Apache-HttpClient/4.5.14 (Java/17.0.9)", AF_JAVA, 0, -1},
	/* 20 */ {"Java/1.8.0_392", AF_JAVA, 0, -1},
	/* 21 */ {"axios/1.7.7", AF_AXIOS, 0, -1},
	/* 22 */ {"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Excel 16.0.17928; Pro)", AF_EXCEL, 0, -1},
	/* 23 */ {"PartnerSync/2.4 (+https://partners.example.net/sync)", AF_PARTNER, 0, -1},
	/* 24 */ {"kube-probe/1.29", AF_PROBE, 0, -1},
	/* 25 */ {"Prometheus/2.53.0", AF_PROBE, 0, -1},
};
const size_t n_agents = sizeof agents / sizeof agents[0];

int agent_find(const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < n_agents; i++)
		if (!strncmp(agents[i].ua, prefix, n))
			return (int)i;
	die("no agent %s", prefix);
}

/* The route as the OpenAPI spec writes it ("/v1/customers/{id}"). */
void api_template(enum route route, char *out, size_t n)
{
	static const char *const special[R_COUNT] = {
		[R_REPORT] = "/v1/reports/{report}", [R_LEGACY_REPORT] = "/v1/legacy/reports/{report}",
		[R_INVENTORY] = "/v1/inventory/{sku}", [R_INVENTORY_PUT] = "/v1/inventory/{sku}",
		[R_SHADOW] = "(undocumented)",
	};
	if (special[route]) {
		snprintf(out, n, "%s", special[route]);
		return;
	}
	const char *f = api_routes[route].fmt;
	size_t o = 0;
	for (; *f && o + 5 < n; f++) {
		if (f[0] == '%' && f[1] == 'u') {
			memcpy(out + o, "{id}", 4);
			o += 4;
			f++;
		} else {
			out[o++] = *f;
		}
	}
	out[o] = 0;
}

const char *api_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static uint32_t error_body(int status)
{
	return status == 404 ? 64 : status == 401 ? 71 : status == 403 ? 66 : status >= 500 ? 58 : 60;
}

void api_req(struct rng *r, struct req *q, enum route route, uint64_t ts)
{
	const struct route_def *d = &api_routes[route];
	memset(q, 0, sizeof *q);
	q->ts = ts;
	q->route = (uint8_t)route;
	q->obj = d->obj_hi > d->obj_lo ? (uint32_t)rng_range(r, d->obj_lo, d->obj_hi) : d->obj_lo;
	q->status = d->status;
	q->req_len = d->req_len ? (uint16_t)(d->req_len * (0.7 + 0.6 * rng_unit(r))) : 0;
	double proc = rng_lognormal(r, d->proc_ms, 0.5);
	q->proc_ms = (uint16_t)(proc < 1 ? 1 : proc > 20000 ? 20000 : proc);
	switch (route) {
	case R_PRODUCTS: case R_CUSTOMERS: case R_ORDERS: case R_PAYMENTS: case R_INVOICES:
	case R_TICKETS: case R_ADMIN_USERS:
		q->qv = QV_PAGE;
		/* page 1 most of the time */
		q->obj = rng_chance(r, 0.6) ? 1 : (uint32_t)rng_range(r, 2, d->obj_hi);
		break;
	case R_SEARCH: q->qv = QV_SEARCH; q->obj = rng_below(r, 1000); break;
	case R_REPORT: case R_LEGACY_REPORT: q->qv = QV_PERIOD; break;
	case R_EXPORT: q->qv = QV_CSV; break;
	case R_ADMIN_AUDIT: q->qv = QV_SINCE; break;
	default: break;
	}
	if (d->resp_median)
		q->resp_len = (uint32_t)rng_lognormal(r, d->resp_median * BODY_SCALE, d->resp_sigma);
	else
		q->resp_len = 0;
	if (q->resp_len < 2 && d->status != 204)
		q->resp_len = 2;
	/* object GETs: some ids are mistyped or gone */
	if (d->fmt && strchr(d->fmt, '%') && !strcmp(d->method, "GET") && rng_chance(r, 0.012)) {
		q->status = 404;
		q->resp_len = error_body(404);
	} else if (rng_chance(r, 0.0008)) {
		q->status = rng_chance(r, 0.7) ? 500 : 503;
		q->resp_len = error_body(500);
	}
}

/* ---------------------------------------------------------------- headers */

static void add(struct msg *m, const char *name, const char *value)
{
	size_t n = strlen(value) + 1;
	if (m->n == MSG_MAX_HDRS || m->used + n > sizeof m->buf)
		die("internal: header list full");
	memcpy(m->buf + m->used, value, n);
	m->name[m->n] = name;
	m->value[m->n] = m->buf + m->used;
	m->n++;
	m->used += n;
}

static void path_of(const struct req *q, uint64_t ts, char *out, size_t cap)
{
	const struct route_def *d = &api_routes[q->route];
	size_t o;
	if (q->route == R_SHADOW)
		o = (size_t)snprintf(out, cap, "%s", api_shadow_paths[q->obj % api_n_shadow_paths]);
	else if (q->route == R_REPORT || q->route == R_LEGACY_REPORT)
		o = (size_t)snprintf(out, cap, d->fmt, report_names[q->obj % 12]);
	else if (strchr(d->fmt, '%'))
		o = (size_t)snprintf(out, cap, d->fmt, q->obj);
	else
		o = (size_t)snprintf(out, cap, "%s", d->fmt);
	if (o >= cap)
		return;
	char since[32];
	switch (q->qv) {
	case QV_PAGE:
		snprintf(out + o, cap - o, "?page=%u&per_page=20", q->obj ? q->obj : 1);
		break;
	case QV_SEARCH:
		snprintf(out + o, cap - o, "?q=%s&limit=20", search_terms[q->obj % 16]);
		break;
	case QV_BULK:
		snprintf(out + o, cap - o, "?page=%u&per_page=5000", q->obj ? q->obj : 1);
		break;
	case QV_SINCE:
		fmt_rfc3339_s(since, sizeof since, ts - ts % HOUR_US - HOUR_US);
		snprintf(out + o, cap - o, "?updated_since=%s", since);
		break;
	case QV_PERIOD:
		snprintf(out + o, cap - o, "?period=2026-%02u", 10 + q->obj % 2);
		break;
	case QV_CSV:
		snprintf(out + o, cap - o, "?format=csv");
		break;
	default:
		break;
	}
}

void api_request(const struct world *w, const struct conn *c, const struct req *q,
		 uint64_t ts, bool h2, char *path, size_t pathcap, struct msg *m)
{
	const struct agent *ag = &agents[c->agent];
	const struct ident *id = &w->ids[c->ident];
	char tmp[64];
	m->n = 0;
	m->used = 0;
	path_of(q, ts, path, pathcap);
	if (!h2)
		add(m, "Host", API_HOST);
	add(m, "User-Agent", ag->ua);
	if (ag->browser) {
		add(m, "Accept", "application/json, text/plain, */*");
		add(m, "Accept-Language", tzs[id->tz].region == 0 ? "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"
					: tzs[id->tz].region == 2 ? "en-GB,en;q=0.9" : "en-US,en;q=0.9");
		add(m, "Accept-Encoding", "gzip, deflate, br, zstd");
		add(m, "Origin", "https://app.example.com");
		add(m, "Referer", "https://app.example.com/");
	} else if (ag->family == AF_CURL || ag->family == AF_HTTPIE) {
		add(m, "Accept", "*/*");
	} else if (ag->family == AF_PYTHON) {
		add(m, "Accept-Encoding", "gzip, deflate");
		add(m, "Accept", "*/*");
		if (!h2)
			add(m, "Connection", "keep-alive");
	} else {
		add(m, "Accept", "application/json");
	}
	const char *cred = (q->flags & RQ_ALT_CRED) && c->cred_alt ? c->cred_alt : c->cred;
	if (cred) {
		switch (c->cred_kind) {
		case CK_AUTHZ: add(m, "Authorization", cred); break;
		case CK_APIKEY: add(m, "X-API-Key", cred); break;
		case CK_COOKIE: add(m, "Cookie", cred); break;
		default: break;
		}
	}
	if (c->flags & CF_PROXY) {
		addr_fmt(&c->client, tmp, sizeof tmp);
		add(m, "X-Forwarded-For", tmp);
		add(m, "X-Forwarded-Proto", "https");
	}
	if (q->req_len) {
		add(m, "Content-Type", "application/json");
		snprintf(tmp, sizeof tmp, "%u", q->req_len);
		add(m, "Content-Length", tmp);
	}
}

void api_response(const struct conn *c, const struct req *q, uint64_t ts, bool h2, bool chunked,
		  struct msg *m)
{
	char tmp[64];
	m->n = 0;
	m->used = 0;
	fmt_http_date(tmp, sizeof tmp, ts);
	add(m, "Date", tmp);
	if (q->status != 204) {
		bool csv = q->route == R_EXPORT && q->status < 300;
		add(m, "Content-Type", csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8");
		if (chunked && !h2) {
			add(m, "Transfer-Encoding", "chunked");
		} else {
			snprintf(tmp, sizeof tmp, "%u", q->resp_len);
			add(m, "Content-Length", tmp);
		}
	}
	if (!h2)
		add(m, "Connection", "keep-alive");
	snprintf(tmp, sizeof tmp, "%016llx",
		 (unsigned long long)mix64(q->ts ^ ((uint64_t)q->obj << 20) ^ (uint64_t)c->ident));
	add(m, "X-Request-Id", tmp);
	add(m, "Cache-Control", "no-store");
	if (agents[c->agent].browser)
		add(m, "Access-Control-Allow-Origin", "https://app.example.com");
	if (q->status == 401)
		add(m, "WWW-Authenticate", "Bearer realm=\"api\", error=\"invalid_token\"");
	if (q->status == 429)
		add(m, "Retry-After", "30");
}

/* ---------------------------------------------------------------- bodies */

/*
 * Records of exactly REC bytes, so a body of any length is whole records
 * and blank padding: {"data":[ R,R,...,R {} ]} - valid JSON.
 */
#define REC 128

static void record(char *out, uint32_t n)
{
	static const char *const cities[] = {"Berlin", "London", "New York", "Austin", "Pune",
					     "Singapore", "Lyon", "Denver"};
	n = 10000 + n % 900000;
	int k = snprintf(out, REC, "{\"id\":%u,\"name\":\"Customer %u\",\"city\":\"%s\",\"tier\":%u,\"balance\":%u.%02u,\"note\":\"",
			 n, n, cities[n % 8], n % 4, (n * 7919u) % 100000u, n % 100);
	int pad = REC - 3 - k;
	memset(out + k, 'x', (size_t)pad);
	memcpy(out + k + pad, "\"},", 3);
}

void api_body_slice(uint8_t *out, size_t total, size_t off, size_t len, uint32_t seed)
{
	static const char head[] = "{\"data\":[", tail[] = "{}]}";
	if (total < 16) {
		/* {  } or a blank */
		uint8_t small[16];
		memset(small, ' ', sizeof small);
		if (total >= 2) {
			small[0] = '{';
			small[total - 1] = '}';
		}
		memcpy(out, small + off, len);
		return;
	}
	size_t nrec = (total - 13) / REC, rec_end = 9 + nrec * REC, tail_at = total - 4;
	size_t cur = SIZE_MAX;
	char rec[REC + 1];
	for (size_t i = 0; i < len;) {
		size_t p = off + i, k;
		if (p < 9) {
			out[i++] = (uint8_t)head[p];
		} else if (p < rec_end) {
			size_t r = (p - 9) / REC, ro = (p - 9) % REC;
			if (r != cur) {
				record(rec, seed * 131u + (uint32_t)r);
				cur = r;
			}
			k = REC - ro < len - i ? REC - ro : len - i;
			memcpy(out + i, rec + ro, k);
			i += k;
		} else if (p < tail_at) {
			k = tail_at - p < len - i ? tail_at - p : len - i;
			memset(out + i, ' ', k);
			i += k;
		} else {
			out[i++] = (uint8_t)tail[p - tail_at];
		}
	}
}

void api_body(uint8_t *out, size_t len, uint32_t seed)
{
	api_body_slice(out, len, 0, len, seed);
}
