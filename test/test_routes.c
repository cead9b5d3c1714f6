/*
 * test_routes.c - route templates, {param} switching, spec overrides and
 * verdicts, caps and their counters, the inventory walk and its JSON lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../models/routes.h"
#include "../sensor/inventory.h"
#include "unit.h"

static struct api_event ev;
static char route[ROUTES_ROUTE_MAX];
static uint64_t clock_us = 1795856400000000ull; /* 2026-11-28T09:00:00Z */

static struct routes *table(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	return routes_new(&lim);
}

/* One request at the next microsecond: "GET /x" on api.example.com, 200, no identity. */
static enum routes_verdict req_full(struct routes *t, const char *method, const char *host,
				    const char *path, int status, enum ev_identity_kind kind,
				    const char *id)
{
	memset(&ev, 0, sizeof ev);
	snprintf(ev.method, sizeof ev.method, "%s", method);
	if (host) {
		snprintf(ev.host, sizeof ev.host, "%s", host);
		ev.has_host = true;
	}
	snprintf(ev.path, sizeof ev.path, "%s", path);
	ev.status = status;
	ev.identity.kind = kind;
	snprintf(ev.identity.id, sizeof ev.identity.id, "%s", id ? id : "");
	ev.ts_us = clock_us++;
	return routes_observe(t, &ev, route, sizeof route);
}

static const char *tpl(struct routes *t, const char *path)
{
	req_full(t, "GET", "api.example.com", path, 200, ID_NONE, NULL);
	return route;
}

static const char *tpl_m(struct routes *t, const char *method, const char *path)
{
	req_full(t, method, "api.example.com", path, 200, ID_NONE, NULL);
	return route;
}

/* The inventory as text: one inventory_line() per route. */
struct dump {
	char *buf;
	size_t len, cap;
	int routes;
};

static int dump_route(void *ctx, const struct routes_route *r)
{
	struct dump *d = ctx;
	char line[INVENTORY_LINE_MAX];
	size_t n = inventory_line(r, line, sizeof line);
	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->buf = realloc(d->buf, d->cap);
	}
	memcpy(d->buf + d->len, line, n);
	d->len += n;
	d->buf[d->len] = '\0';
	d->routes++;
	return 0;
}

static char *inventory(const struct routes *t, int *n_routes)
{
	struct dump d = {calloc(1, 1), 0, 1, 0};
	CHECK_EQ(routes_walk(t, dump_route, &d), 0);
	if (n_routes)
		*n_routes = d.routes;
	return d.buf;
}

/* The one route (host, template) of the inventory, copied; NULL when absent. */
struct found {
	const char *host, *route;
	struct routes_route r;
	struct routes_op ops[ROUTES_METHODS_MAX];
	char methods[ROUTES_METHODS_MAX][EV_METHOD_MAX];
	bool hit;
};

static int find_route(void *ctx, const struct routes_route *r)
{
	struct found *f = ctx;
	bool host_ok = f->host ? r->host && strcmp(f->host, r->host) == 0 : r->host == NULL;
	if (!host_ok || strcmp(r->route, f->route) != 0)
		return 0;
	f->r = *r;
	for (size_t i = 0; i < r->n_ops && i < ROUTES_METHODS_MAX; i++) {
		f->ops[i] = r->ops[i];
		snprintf(f->methods[i], sizeof f->methods[i], "%s", r->ops[i].method);
		f->ops[i].method = f->methods[i];
	}
	f->r.ops = f->ops;
	f->r.route = f->route;
	f->r.host = f->host;
	f->hit = true;
	return 0;
}

static const struct routes_route *lookup(const struct routes *t, const char *host, const char *r)
{
	static struct found f;
	memset(&f, 0, sizeof f);
	f.host = host;
	f.route = r;
	CHECK_EQ(routes_walk(t, find_route, &f), 0);
	return f.hit ? &f.r : NULL;
}

static void test_segment_classes(void)
{
	struct routes *t = table();
	CHECK_STR(tpl(t, "/v1/users/42"), "/v1/users/{id}");
	CHECK_STR(tpl(t, "/v1/users/0"), "/v1/users/{id}");
	CHECK_STR(tpl(t, "/v1/sessions/3f2a9c4e-1b7d-4e8a-9f00-6c1d2e3f4a5b"), "/v1/sessions/{uuid}");
	CHECK_STR(tpl(t, "/v1/sessions/3F2A9C4E-1B7D-4E8A-9F00-6C1D2E3F4A5B"), "/v1/sessions/{uuid}");
	CHECK_STR(tpl(t, "/v1/commits/5fc521982b"), "/v1/commits/{hex}");
	CHECK_STR(tpl(t, "/v1/commits/9aaeb6b9d0769b3dd3e6f4a5e1440a6cd223674c"), "/v1/commits/{hex}");
	CHECK_STR(tpl(t, "/v1/words/deadbeef"), "/v1/words/deadbeef");   /* no digit */
	CHECK_STR(tpl(t, "/v1/words/abc1234"), "/v1/words/abc1234");     /* 7 hex */
	CHECK_STR(tpl(t, "/v1/keys/dGhpc19pc19hX3Q0a2Vu"), "/v1/keys/{token}");
	CHECK_STR(tpl(t, "/v1/keys/AbCdEfGhIJkLmNoPqRsTuV"), "/v1/keys/{token}");
	CHECK_STR(tpl(t, "/v1/keys/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"),
		  "/v1/keys/{token}");
	CHECK_STR(tpl(t, "/v1/posts/my-first-post-2023"), "/v1/posts/my-first-post-2023");
	CHECK_STR(tpl(t, "/v1/ops/GetUserProfileSettings"), "/v1/ops/GetUserProfileSettings");
	CHECK_STR(tpl(t, "/v1/files/Bookshelf-40x201_6.png"), "/v1/files/Bookshelf-40x201_6.png");
	CHECK_STR(tpl(t, "/v1/people/alice@example.com"), "/v1/people/{email}");
	CHECK_STR(tpl(t, "/v1/people/bob.smith%40example.org"), "/v1/people/{email}");
	CHECK_STR(tpl(t, "/v1/people/a@b"), "/v1/people/a@b");
	CHECK_STR(tpl(t, "/v1/reports/2026-11-28"), "/v1/reports/{date}");
	CHECK_STR(tpl(t, "/v1/reports/2026-11-28T09:00:00Z"), "/v1/reports/{date}");
	CHECK_STR(tpl(t, "/v1/reports/2026-13-01"), "/v1/reports/2026-13-01");
	CHECK_STR(tpl(t, "/v1/reports/20261128"), "/v1/reports/{id}");
	/* Every hex letter in both cases, and the bytes just past them. */
	CHECK_STR(tpl(t, "/v1/blobs/0abcdef9ABCDEF"), "/v1/blobs/{hex}");
	CHECK_STR(tpl(t, "/v1/blobs/0abcdefg9"), "/v1/blobs/0abcdefg9");
	CHECK_STR(tpl(t, "/v1/blobs/0ABCDEFG9"), "/v1/blobs/0ABCDEFG9");
	CHECK_STR(tpl(t, "/v1/blobs/12345678/"), "/v1/blobs/{id}/");
	CHECK_STR(tpl(t, "/v1/blobs/1234567:"), "/v1/blobs/1234567:");
	CHECK_STR(tpl(t, "/v1/tags/a}b"), "/v1/tags/{param}"); /* a closing brace alone */
	routes_free(t);
}

static void test_odd_paths(void)
{
	struct routes *t = table();
	char long_seg[80], path[200];
	CHECK_STR(tpl(t, "/"), "/");
	CHECK_STR(tpl(t, ""), "/");
	CHECK_STR(tpl(t, "/v1/users/"), "/v1/users/");
	CHECK_STR(tpl(t, "/v1//users"), "/v1//users");
	CHECK_STR(tpl(t, "/v1/users/{id}"), "/v1/users/{param}"); /* a literal brace is not a template */
	memset(long_seg, 'a', 64);
	long_seg[64] = '\0';
	snprintf(path, sizeof path, "/v1/%s", long_seg);
	CHECK_STR(tpl(t, path), "/v1/{param}");
	CHECK_STR(tpl_m(t, "OPTIONS", "*"), "*");
	CHECK_STR(tpl_m(t, "CONNECT", "db.internal:5432"), "{authority}");
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.literal_too_long, 2);
	CHECK_EQ(s.unrouted, 2);
	routes_free(t);
}

static const char *const users[] = {
	"alice", "bob",   "carol", "dave",  "erin",   "frank", "grace",  "heidi",  "ivan",
	"judy",  "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor",
	"walter", "wendy",
};
#define N_USERS (sizeof users / sizeof users[0])

static void test_varying_position_becomes_param(void)
{
	struct routes *t = table();
	char path[64];
	for (size_t i = 0; i < N_USERS; i++) {
		snprintf(path, sizeof path, "/v1/users/%s", users[i]);
		tpl(t, path);
		if (i < 8)
			CHECK_STR(route, path); /* not yet seen to vary */
		else
			CHECK_STR(route, "/v1/users/{param}");
	}
	/* From now on every user, old or new, is the parameter. */
	CHECK_STR(tpl(t, "/v1/users/alice"), "/v1/users/{param}");
	CHECK_STR(tpl(t, "/v1/users/zoe"), "/v1/users/{param}");
	CHECK_STR(tpl(t, "/v1/users/42"), "/v1/users/{id}"); /* classes stay apart */
	int n;
	char *inv = inventory(t, &n);
	CHECK_EQ(n, 2);
	CHECK(strstr(inv, "\"route\":\"/v1/users/alice\"") == NULL);
	const struct routes_route *r = lookup(t, "api.example.com", "/v1/users/{param}");
	CHECK(r != NULL);
	if (r)
		CHECK_EQ(r->requests, N_USERS + 2);
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.params_made, 1);
	CHECK_EQ(s.nodes_merged, 8);
	free(inv);
	routes_free(t);
}

static void test_few_values_stay_literal(void)
{
	struct routes *t = table();
	for (int i = 0; i < 5; i++) {
		CHECK_STR(tpl(t, "/v1/users/me"), "/v1/users/me");
		CHECK_STR(tpl(t, "/v1/users/export"), "/v1/users/export");
	}
	/* A dozen resource names, each used a few times: names, not values. */
	static const char *const coll[] = {"users", "orders", "products", "carts", "invoices",
					   "payments", "shipments", "reviews", "categories",
					   "coupons", "returns", "stores"};
	char path[64];
	for (size_t i = 0; i < sizeof coll / sizeof coll[0]; i++)
		for (int k = 0; k < 3; k++) {
			snprintf(path, sizeof path, "/api/%s", coll[i]);
			CHECK_STR(tpl(t, path), path);
		}
	CHECK_STR(tpl(t, "/api/users"), "/api/users");
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.params_made, 0);
	routes_free(t);
}

static void test_hot_value_is_pinned(void)
{
	struct routes *t = table();
	char path[64];
	for (int i = 0; i < 40; i++)
		tpl(t, "/v1/users/me");
	for (size_t i = 0; i < N_USERS; i++) {
		snprintf(path, sizeof path, "/v1/users/%s", users[i]);
		tpl(t, path);
	}
	CHECK_STR(tpl(t, "/v1/users/me"), "/v1/users/me");
	CHECK_STR(tpl(t, "/v1/users/alice"), "/v1/users/{param}");
	CHECK_STR(tpl(t, "/v1/users/export"), "/v1/users/{param}"); /* new after the switch */
	const struct routes_route *r = lookup(t, "api.example.com", "/v1/users/me");
	CHECK(r && r->requests == 41);
	routes_free(t);
}

static void test_repeated_values_switch_at_cap(void)
{
	struct routes *t = table();
	char path[64];
	/* 40 values seen 3 times each: not "once", but more than 32 of them. */
	for (int i = 0; i < 40; i++) {
		for (int k = 0; k < 3; k++) {
			snprintf(path, sizeof path, "/v1/tenants/t%c%c", 'a' + i / 26, 'a' + i % 26);
			tpl(t, path);
			CHECK_STR(route, i < ROUTES_CHILD_MAX ? path : "/v1/tenants/{param}");
		}
	}
	const struct routes_route *r = lookup(t, "api.example.com", "/v1/tenants/{param}");
	CHECK(r && r->requests == 120);
	routes_free(t);
}

static void test_merge_keeps_subtrees(void)
{
	struct routes *t = table();
	char path[96], id[16];
	for (size_t i = 0; i < N_USERS; i++) {
		snprintf(path, sizeof path, "/v1/users/%s/orders/%zu", users[i], i + 1);
		snprintf(id, sizeof id, "u%zu", i % 5);
		req_full(t, "GET", "api.example.com", path, 200, ID_JWT, id);
	}
	for (size_t i = 0; i < N_USERS; i++) {
		snprintf(path, sizeof path, "/v1/users/%s/orders", users[i]);
		req_full(t, "POST", "api.example.com", path, 201, ID_JWT, "u0");
		CHECK_STR(route, "/v1/users/{param}/orders");
	}
	int n;
	char *inv = inventory(t, &n);
	CHECK_EQ(n, 2);
	const struct routes_route *r = lookup(t, "api.example.com", "/v1/users/{param}/orders/{id}");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(r->requests, N_USERS);
		CHECK_EQ(r->identities, 5);
		CHECK_EQ(r->status[RS_2XX], N_USERS);
	}
	r = lookup(t, "api.example.com", "/v1/users/{param}/orders");
	CHECK(r && r->requests == N_USERS && r->n_ops == 1 && strcmp(r->ops[0].method, "POST") == 0);
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.entries, 2);
	CHECK_EQ(s.nodes, 6); /* host root, v1, users, {param}, orders, {id} */
	free(inv);
	routes_free(t);
}

static struct routes *spec_table(void)
{
	struct routes *t = table();
	char err[256];
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/users/{userId}", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "PUT", "/v1/users/{userId}", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/users/me", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/files/{name}.json", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/files/{path}", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/legacy/report", true, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, NULL, "/v1/any/{x}/thing", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/orgs/{org}/members/{member}", false, err,
				 sizeof err), 0);
	return t;
}

static void test_spec_overrides(void)
{
	struct routes *t = spec_table();
	enum routes_verdict v;

	v = req_full(t, "GET", "api.example.com", "/v1/users/42", 200, ID_NONE, NULL);
	CHECK_STR(route, "/v1/users/{userId}");
	CHECK_EQ(v, ROUTES_DOCUMENTED);
	CHECK_STR(tpl(t, "/v1/users/alice"), "/v1/users/{userId}");
	CHECK_STR(tpl(t, "/v1/users/me"), "/v1/users/me"); /* the literal wins */
	CHECK_STR(tpl(t, "/v1/users/42/"), "/v1/users/{userId}"); /* trailing '/' */
	CHECK_STR(tpl(t, "/v1/files/report.json"), "/v1/files/{name}.json");
	CHECK_STR(tpl(t, "/v1/files/report.csv"), "/v1/files/{path}");
	CHECK_STR(tpl(t, "/v1/orgs/acme/members/7"), "/v1/orgs/{org}/members/{member}");
	CHECK_STR(tpl(t, "/v1/orgs/acme/members"), "/v1/orgs/acme/members"); /* not in spec: learned */
	v = req_full(t, "HEAD", "api.example.com", "/v1/users/42", 200, ID_NONE, NULL);
	CHECK_EQ(v, ROUTES_DOCUMENTED); /* implied by GET */
	v = req_full(t, "DELETE", "api.example.com", "/v1/users/42", 204, ID_NONE, NULL);
	CHECK_STR(route, "/v1/users/{userId}");
	CHECK_EQ(v, ROUTES_SHADOW); /* a documented path, an undocumented method */
	v = req_full(t, "GET", "api.example.com", "/v1/legacy/report", 200, ID_NONE, NULL);
	CHECK_EQ(v, ROUTES_ZOMBIE);
	v = req_full(t, "PATCH", "api.example.com", "/v1/any/1/thing", 200, ID_NONE, NULL);
	CHECK_STR(route, "/v1/any/{x}/thing");
	CHECK_EQ(v, ROUTES_DOCUMENTED);
	v = req_full(t, "GET", "api.example.com", "/v1/internal/debug", 200, ID_NONE, NULL);
	CHECK_STR(route, "/v1/internal/debug");
	CHECK_EQ(v, ROUTES_SHADOW);
	/* The empty segment does not match a parameter. */
	CHECK_STR(tpl(t, "/v1/any//thing"), "/v1/any//thing");
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.spec_ops, 8);
	routes_free(t);
}

static void test_verdicts_in_inventory(void)
{
	struct routes *t = spec_table();
	req_full(t, "GET", "api.example.com", "/v1/users/1", 200, ID_JWT, "alice");
	req_full(t, "GET", "api.example.com", "/v1/users/2", 404, ID_JWT, "bob");
	req_full(t, "DELETE", "api.example.com", "/v1/users/2", 204, ID_JWT, "bob");
	req_full(t, "GET", "api.example.com", "/v1/legacy/report", 502, ID_NONE, NULL);
	req_full(t, "GET", "api.example.com", "/v1/legacy/report", 0, ID_NONE, NULL);
	req_full(t, "GET", "api.example.com", "/admin/export", 200, ID_BASIC, "root");

	const struct routes_route *r = lookup(t, "api.example.com", "/v1/users/{userId}");
	CHECK(r != NULL);
	if (r) {
		CHECK(r->from_spec);
		CHECK_EQ(r->verdict, ROUTES_SHADOW); /* DELETE is not in the spec */
		CHECK_EQ(r->n_ops, 2);
		CHECK_STR(r->ops[0].method, "DELETE");
		CHECK_EQ(r->ops[0].verdict, ROUTES_SHADOW);
		CHECK_STR(r->ops[1].method, "GET");
		CHECK_EQ(r->ops[1].verdict, ROUTES_DOCUMENTED);
		CHECK_EQ(r->requests, 3);
		CHECK_EQ(r->identities, 2);
		CHECK_EQ(r->status[RS_2XX], 2);
		CHECK_EQ(r->status[RS_4XX], 1);
	}
	r = lookup(t, "api.example.com", "/v1/legacy/report");
	CHECK(r && r->verdict == ROUTES_ZOMBIE && r->status[RS_5XX] == 1 && r->status[RS_NULL] == 1 &&
	      r->unauthenticated == 2);
	r = lookup(t, "api.example.com", "/admin/export");
	CHECK(r && !r->from_spec && r->verdict == ROUTES_SHADOW && r->identities == 1);

	char *inv = inventory(t, NULL);
	CHECK(strstr(inv, "{\"type\":\"route\",\"host\":\"api.example.com\",\"route\":\"/admin/export\","
			  "\"source\":\"learned\",\"methods\":[\"GET\"],"
			  "\"first_seen\":\"2026-11-28T"));
	CHECK(strstr(inv, "\"route\":\"/v1/legacy/report\",\"source\":\"spec\""));
	CHECK(strstr(inv, "\"status\":{\"1xx\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":1,\"null\":1},"
			  "\"verdict\":\"zombie\""));
	/* Sorted by template: /admin/export, /v1/legacy/report, /v1/users/{userId}. */
	char *a = strstr(inv, "/admin/export"), *b = strstr(inv, "/v1/legacy"),
	     *c = strstr(inv, "/v1/users/{userId}");
	CHECK(a && b && c && a < b && b < c);
	free(inv);
	routes_free(t);
}

static void test_no_spec_verdicts(void)
{
	struct routes *t = table();
	CHECK_EQ(req_full(t, "GET", "h", "/a", 200, ID_NONE, NULL), ROUTES_NO_SPEC);
	const struct routes_route *r = lookup(t, "h", "/a");
	CHECK(r && r->verdict == ROUTES_NO_SPEC && r->ops[0].verdict == ROUTES_NO_SPEC);
	/* A spec with no path: everything seen is shadow. */
	routes_set_spec(t);
	CHECK_EQ(req_full(t, "GET", "h", "/a", 200, ID_NONE, NULL), ROUTES_SHADOW);
	r = lookup(t, "h", "/a");
	CHECK(r && r->verdict == ROUTES_SHADOW);
	CHECK_STR(routes_verdict_name(ROUTES_NO_SPEC), "no_spec");
	CHECK_STR(routes_verdict_name(ROUTES_DOCUMENTED), "documented");
	CHECK_STR(routes_verdict_name(ROUTES_ZOMBIE), "zombie");
	CHECK_STR(routes_verdict_name(ROUTES_SHADOW), "shadow");
	routes_free(t);
}

static void test_evidence(void)
{
	struct routes *t = table();
	/* Scanner probes answered 404 or 401: templated, not learned, not counted. */
	req_full(t, "GET", "api.example.com", "/.env", 404, ID_NONE, NULL);
	CHECK_STR(route, "/.env");
	req_full(t, "GET", "api.example.com", "/api/v2/users/1", 401, ID_NONE, NULL);
	CHECK_STR(route, "/api/v2/users/{id}");
	int n;
	free(inventory(t, &n));
	CHECK_EQ(n, 0);
	/* A known route answered 404 (no such user) is counted. */
	req_full(t, "GET", "api.example.com", "/v1/users/7", 200, ID_NONE, NULL);
	req_full(t, "GET", "api.example.com", "/v1/users/9999", 404, ID_NONE, NULL);
	req_full(t, "GET", "api.example.com", "/v1/users/9999/x", 404, ID_NONE, NULL);
	CHECK_STR(route, "/v1/users/{id}/x");
	/* An unknown host without evidence is not remembered. */
	req_full(t, "GET", "random-1.example", "/v1/users/7", 404, ID_NONE, NULL);
	const struct routes_route *r = lookup(t, "api.example.com", "/v1/users/{id}");
	CHECK(r && r->requests == 2 && r->status[RS_4XX] == 1);
	free(inventory(t, &n));
	CHECK_EQ(n, 1);
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.unrouted, 4);
	CHECK_EQ(s.hosts, 1);
	routes_free(t);
}

/* Runs of requests on one host, in any case, between others: each counted under its own host. */
static void test_host_runs(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_hosts = 3;
	struct routes *t = routes_new(&lim);
	static const char *const seq[] = {"a.example", "a.example", "A.EXAMPLE", "b.example",
					  "b.example", "a.example", "c.example", "d.example",
					  "d.example", "c.example", "B.example"};
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
			req_full(t, "GET", seq[i], "/docs", 200, ID_NONE, NULL);
	const struct routes_route *r = lookup(t, "a.example", "/docs");
	CHECK(r && r->requests == 12);
	r = lookup(t, "b.example", "/docs");
	CHECK(r && r->requests == 9);
	r = lookup(t, "c.example", "/docs");
	CHECK(r && r->requests == 6);
	/* d.example is over the cap each time: with the requests that carry no host. */
	r = lookup(t, NULL, "/docs");
	CHECK(r && r->requests == 6);
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.hosts, 3);
	CHECK_EQ(s.hosts_full, 6);
	/* A host the length of the field (no NUL) and one that differs only in its last byte. */
	char long_a[EV_HOST_MAX + 1], long_b[EV_HOST_MAX + 1];
	memset(long_a, 'h', EV_HOST_MAX - 1);
	long_a[EV_HOST_MAX - 1] = '\0';
	memcpy(long_b, long_a, sizeof long_a);
	long_b[EV_HOST_MAX - 2] = 'i';
	struct routes *u = routes_new(&lim);
	req_full(u, "GET", long_a, "/docs", 200, ID_NONE, NULL);
	req_full(u, "GET", long_b, "/docs", 200, ID_NONE, NULL);
	req_full(u, "GET", long_a, "/docs", 200, ID_NONE, NULL);
	routes_get_stats(u, &s);
	CHECK_EQ(s.hosts, 2);
	r = lookup(u, long_b, "/docs");
	CHECK(r && r->requests == 1);
	routes_free(u);
	routes_free(t);
}

static void test_hosts(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_hosts = 2;
	struct routes *t = routes_new(&lim);
	req_full(t, "GET", "API.Example.com", "/docs", 200, ID_NONE, NULL);
	req_full(t, "GET", "api.example.com", "/docs", 200, ID_NONE, NULL);
	req_full(t, "GET", "shop.example.com", "/docs", 200, ID_NONE, NULL);
	req_full(t, "GET", NULL, "/docs", 200, ID_NONE, NULL);
	req_full(t, "GET", "third.example.com", "/docs", 200, ID_NONE, NULL); /* over the cap */
	const struct routes_route *r = lookup(t, "api.example.com", "/docs");
	CHECK(r && r->requests == 2);
	r = lookup(t, "shop.example.com", "/docs");
	CHECK(r && r->requests == 1);
	r = lookup(t, NULL, "/docs");
	CHECK(r && r->requests == 2);
	char *inv = inventory(t, NULL);
	CHECK(strstr(inv, "{\"type\":\"route\",\"host\":null,\"route\":\"/docs\""));
	/* null host first, then byte order */
	char *a = strstr(inv, "\"host\":null"), *b = strstr(inv, "\"host\":\"api."),
	     *c = strstr(inv, "\"host\":\"shop.");
	CHECK(a && b && c && a < b && b < c);
	free(inv);
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.hosts, 2);
	CHECK_EQ(s.hosts_full, 1);
	routes_free(t);
}

static void test_node_cap(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_nodes = 64;
	struct routes *t = routes_new(&lim);
	char path[64];
	/* 8 values per position never vary enough: 4096 distinct paths, 4680 positions. */
	for (int i = 0; i < 4096; i++) {
		snprintf(path, sizeof path, "/a%d/b%d/c%d/d%d", i & 7, (i >> 3) & 7, (i >> 6) & 7,
			 (i >> 9) & 7);
		tpl(t, path);
		CHECK_STR(route, path); /* a template is always given */
	}
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.nodes, 64);
	CHECK(s.nodes_full > 0);
	CHECK_EQ(s.learned + s.unrouted, 4096);
	CHECK(s.learned > 0 && s.unrouted > 0);
	CHECK(s.entries <= 64);
	routes_free(t);
}

static void test_entry_cap_and_methods(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_entries = 3;
	struct routes *t = routes_new(&lim);
	tpl_m(t, "GET", "/a");
	tpl_m(t, "POST", "/a");
	tpl_m(t, "PROPFIND", "/a");
	tpl_m(t, "GET", "/b");
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.entries, 3);
	CHECK_EQ(s.entries_full, 1);
	CHECK_EQ(s.unrouted, 1);
	const struct routes_route *r = lookup(t, "api.example.com", "/a");
	CHECK(r && r->n_ops == 3 && strcmp(r->ops[0].method, "GET") == 0 &&
	      strcmp(r->ops[1].method, "POST") == 0 && strcmp(r->ops[2].method, "PROPFIND") == 0);
	routes_free(t);

	/* Past ROUTES_METHODS_MAX - 1 names, methods are counted as OTHER. */
	t = table();
	char m[16];
	for (int i = 0; i < 40; i++) {
		snprintf(m, sizeof m, "M%02d", i);
		tpl_m(t, m, "/x");
	}
	routes_get_stats(t, &s);
	CHECK_EQ(s.methods_full, 40 - (ROUTES_METHODS_MAX - 1 - 9));
	r = lookup(t, "api.example.com", "/x");
	CHECK(r && r->n_ops == ROUTES_METHODS_MAX - 9);
	if (r)
		CHECK_STR(r->ops[r->n_ops - 1].method, "OTHER");
	routes_free(t);
}

static void test_depth_fold(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_depth = 4;
	struct routes *t = routes_new(&lim);
	CHECK_STR(tpl(t, "/a/b/c/d"), "/a/b/c/d");
	CHECK_STR(tpl(t, "/a/b/c/d/e"), "/a/b/c/{rest}");
	CHECK_STR(tpl(t, "/a/b/c/x/y/z/1/2/3"), "/a/b/c/{rest}");
	char path[256] = "";
	for (int i = 0; i < 40; i++)
		strcat(path, "/s");
	CHECK_STR(tpl(t, path), "/s/s/s/{rest}");
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.depth_folded, 3);
	const struct routes_route *r = lookup(t, "api.example.com", "/a/b/c/{rest}");
	CHECK(r && r->requests == 2);
	routes_free(t);
}

static void test_identities_and_times(void)
{
	struct routes *t = table();
	char id[32];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "user%d", i % 7);
		req_full(t, "GET", "h", "/a", 200, ID_JWT, id);
	}
	req_full(t, "GET", "h", "/a", 200, ID_API_KEY, "user1"); /* another kind, another identity */
	req_full(t, "GET", "h", "/a", 301, ID_NONE, NULL);
	const struct routes_route *r = lookup(t, "h", "/a");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(r->identities, 8);
		CHECK_EQ(r->unauthenticated, 1);
		CHECK_EQ(r->requests, 12);
		CHECK_EQ(r->status[RS_3XX], 1);
		CHECK_EQ(r->last_us - r->first_us, 11);
	}
	/* A few hundred: linear counting over the registers, within 15%. */
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof id, "u%04d", i);
		req_full(t, "GET", "h", "/c", 200, ID_JWT, id);
		req_full(t, "GET", "h", "/c", 200, ID_JWT, id);
	}
	r = lookup(t, "h", "/c");
	CHECK(r && r->identities > 170 && r->identities < 230);
	/* Many identities: estimated, within 15%. */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "sha256:%016x", (unsigned)i * 2654435761u);
		req_full(t, "GET", "h", "/b", 200, ID_BEARER, id);
	}
	r = lookup(t, "h", "/b");
	CHECK(r && r->identities > 4250 && r->identities < 5750);
	/* Time never runs backwards in the inventory. */
	clock_us -= 1000000;
	req_full(t, "GET", "h", "/a", 200, ID_NONE, NULL);
	r = lookup(t, "h", "/a");
	CHECK(r && r->first_us == clock_us - 1);
	routes_free(t);
}

static uint32_t next_rand(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull; /* Knuth's MMIX LCG */
	return (uint32_t)(*x >> 33);
}

/* A fixed pseudo-random workload: same input, same templates, same inventory. */
static char *workload(uint64_t seed, char **templates)
{
	struct routes *t = spec_table();
	char path[128], *tpls = calloc(1, 1 << 20);
	size_t used = 0;
	uint64_t x = seed;
	clock_us = 1795856400000000ull;
	for (int i = 0; i < 3000; i++) {
		uint32_t r = next_rand(&x), v = next_rand(&x);
		switch (r % 6) {
		case 0: snprintf(path, sizeof path, "/v1/users/%u", v % 100000); break;
		case 1: snprintf(path, sizeof path, "/v2/items/item%u/parts", v % 5000); break;
		case 2: snprintf(path, sizeof path, "/v2/catalog/%s", v & 1 ? "books" : "music"); break;
		case 3: snprintf(path, sizeof path, "/files/%08x.bin", v); break;
		case 4: snprintf(path, sizeof path, "/v2/u/%s/feed", users[v % 3]); break;
		default: snprintf(path, sizeof path, "/v1/legacy/report"); break;
		}
		req_full(t, (v & 8) ? "POST" : "GET", (v & 16) ? "a.example" : "b.example", path,
			 (v % 7) ? 200 : 404, (v & 32) ? ID_JWT : ID_NONE, users[v % 5]);
		used += (size_t)snprintf(tpls + used, (1 << 20) - used, "%s\n", route);
	}
	char *inv = inventory(t, NULL);
	routes_free(t);
	*templates = tpls;
	return inv;
}

static void test_deterministic(void)
{
	char *t1, *t2, *t3;
	char *a = workload(7, &t1), *b = workload(7, &t2), *c = workload(8, &t3);
	CHECK_STR(a, b);
	CHECK_STR(t1, t2);
	CHECK(strcmp(a, c) != 0);
	CHECK(strstr(a, "\"route\":\"/v2/items/{param}/parts\""));
	CHECK(strstr(a, "\"route\":\"/v2/u/alice/feed\""));
	CHECK(strstr(a, "\"route\":\"/v2/catalog/books\""));
	CHECK(strstr(a, "\"route\":\"/files/{param}\""));
	CHECK(strstr(a, "\"route\":\"/v1/users/{userId}\""));
	CHECK(strstr(a, "\"route\":\"/v1/legacy/report\",\"source\":\"spec\""));
	free(a);
	free(b);
	free(c);
	free(t1);
	free(t2);
	free(t3);
}

static void test_spec_errors(void)
{
	struct routes *t = table();
	char err[256];
	CHECK_EQ(routes_add_spec(t, "GET", "v1/users", false, err, sizeof err), -1);
	CHECK_STR(err, "\"v1/users\": a path template must start with '/'");
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/{id", false, err, sizeof err), -1);
	CHECK_STR(err, "\"/v1/{id\": '{' without '}'");
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/id}", false, err, sizeof err), -1);
	CHECK_STR(err, "\"/v1/id}\": '}' without '{'");
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/{}", false, err, sizeof err), -1);
	CHECK_STR(err, "\"/v1/{}\": empty parameter name {}");
	CHECK_EQ(routes_add_spec(t, "GET", "/v1/a\tb", false, err, sizeof err), -1);
	CHECK_STR(err, "\"/v1/a\tb\": control character in template");
	CHECK_EQ(routes_check_template("/v1/{a{b}}", err, sizeof err), -1);
	CHECK_STR(err, "'{' inside a parameter name");
	CHECK_EQ(routes_check_template("/v1/{a}-{b}", err, sizeof err), 0);
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK_EQ(s.spec_ops, 0);
	routes_free(t);

	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_spec_ops = 1;
	t = routes_new(&lim);
	CHECK_EQ(routes_add_spec(t, "GET", "/a", false, err, sizeof err), 0);
	CHECK_EQ(routes_add_spec(t, "GET", "/b", false, err, sizeof err), -1);
	CHECK_STR(err, "too many operations (limit 1)");
	routes_free(t);

	lim.max_nodes = 1;
	CHECK(routes_new(&lim) == NULL);
}

static void test_inventory_file(void)
{
	char dir[] = "/tmp/tapir-routes-XXXXXX", path[128], tmp[160], err[256], line[1024];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/inventory.jsonl", dir);
	struct routes *t = table();
	clock_us = 1795856400000000ull;
	req_full(t, "GET", "api.example.com", "/v1/users/42", 200, ID_JWT, "alice");
	req_full(t, "DELETE", "api.example.com", "/v1/users/43", 204, ID_JWT, "bob");
	req_full(t, "GET", "api.example.com", "/healthz", 0, ID_NONE, NULL);
	CHECK_EQ(inventory_write(t, path, err, sizeof err), 0);
	/* written twice: the second replaces the first */
	CHECK_EQ(inventory_write(t, path, err, sizeof err), 0);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(line, sizeof line, f) != NULL);
		CHECK_STR(line,
			  "{\"type\":\"route\",\"host\":\"api.example.com\",\"route\":\"/healthz\","
			  "\"source\":\"learned\",\"methods\":[\"GET\"],"
			  "\"first_seen\":\"2026-11-28T09:00:00.000002Z\","
			  "\"last_seen\":\"2026-11-28T09:00:00.000002Z\",\"requests\":1,"
			  "\"identities\":0,\"unauthenticated\":1,"
			  "\"status\":{\"1xx\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":0,\"null\":1},"
			  "\"verdict\":\"no_spec\",\"operations\":[{\"method\":\"GET\","
			  "\"first_seen\":\"2026-11-28T09:00:00.000002Z\","
			  "\"last_seen\":\"2026-11-28T09:00:00.000002Z\",\"requests\":1,"
			  "\"identities\":0,\"unauthenticated\":1,"
			  "\"status\":{\"1xx\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":0,\"null\":1},"
			  "\"verdict\":\"no_spec\"}]}\n");
		CHECK(fgets(line, sizeof line, f) != NULL);
		CHECK(strstr(line, "\"route\":\"/v1/users/{id}\",\"source\":\"learned\","
				   "\"methods\":[\"DELETE\",\"GET\"],"
				   "\"first_seen\":\"2026-11-28T09:00:00.000000Z\","
				   "\"last_seen\":\"2026-11-28T09:00:00.000001Z\",\"requests\":2,"
				   "\"identities\":2,\"unauthenticated\":0,") != NULL);
		CHECK(fgets(line, sizeof line, f) == NULL);
		fclose(f);
	}
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	CHECK(access(tmp, F_OK) != 0); /* no temporary file left */

	snprintf(path, sizeof path, "%s/no/such/dir/inv.jsonl", dir);
	CHECK_EQ(inventory_write(t, path, err, sizeof err), -1);
	char want[256];
	snprintf(want, sizeof want, "--inventory %s: cannot create: No such file or directory", path);
	CHECK_STR(err, want);

	/* --stats member */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	inventory_stats_json(t, m);
	fclose(m);
	CHECK(strncmp(buf, "\"routes\":{\"observed\":3,\"spec_matched\":0,\"learned\":3,", 52) == 0);
	free(buf);

	snprintf(path, sizeof path, "%s/inventory.jsonl", dir);
	unlink(path);
	rmdir(dir);
	routes_free(t);
}

static void test_no_allocation_in_steady_state(void)
{
	/* Every pool is allocated up front: memory does not move with traffic. */
	struct routes *t = table();
	struct routes_stats a, b;
	char path[64];
	routes_get_stats(t, &a);
	for (int i = 0; i < 20000; i++) {
		snprintf(path, sizeof path, "/v%d/users/%d/x%d", i % 3, i, i % 50);
		req_full(t, "GET", (i & 1) ? "a" : "b", path, 200, ID_NONE, NULL);
	}
	routes_get_stats(t, &b);
	CHECK_EQ(a.memory, b.memory);
	CHECK(b.nodes < 100);
	routes_free(t);
}

static int sum_requests(void *ctx, const struct routes_route *r)
{
	uint64_t *sum = ctx, ops = 0;
	for (size_t i = 0; i < r->n_ops; i++)
		ops += r->ops[i].requests;
	*sum += r->requests;
	return ops == r->requests ? 0 : -2;
}

/*
 * Random paths over small alphabets (so that positions switch, values are
 * pinned, subtrees merge into {param} subtrees) with a small node pool:
 * whatever happens, every counted request is in the inventory exactly once
 * and the pools stay within their caps.
 */
static void test_stress_invariants(void)
{
	static const char *const words[] = {"a", "b", "me", "x1", "42", "2026-01-02", "users",
					    "orders", "q", "zz", "", "%7B", "{odd}"};
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_nodes = 300;
	lim.max_hosts = 3;
	lim.max_depth = 5;
	struct routes *t = routes_new(&lim);
	char err[128];
	CHECK_EQ(routes_add_spec(t, "GET", "/users/{id}/orders", false, err, sizeof err), 0);
	uint64_t x = 99;
	char path[256], host[16];
	for (int i = 0; i < 60000; i++) {
		uint32_t r = next_rand(&x);
		size_t len = 0, depth = 1 + r % 7;
		for (size_t d = 0; d < depth; d++) {
			uint32_t v = next_rand(&x);
			if (v % 3 == 0)
				len += (size_t)snprintf(path + len, sizeof path - len, "/w%u", v % 97);
			else
				len += (size_t)snprintf(path + len, sizeof path - len, "/%s",
							words[v % (sizeof words / sizeof words[0])]);
		}
		snprintf(host, sizeof host, "h%u", (r >> 8) % 5);
		static const int st[] = {200, 201, 404, 401, 500, 0, 302, 999};
		req_full(t, (r & 0x10000) ? "GET" : "PUT", (r & 0x20000) ? host : NULL, path,
			 st[(r >> 20) % 8], (r & 0x40000) ? ID_JWT : ID_NONE, words[r % 5]);
		CHECK(strlen(route) > 0 && strlen(route) < sizeof route);
		if (i % 5000 == 4999) {
			struct routes_stats s;
			uint64_t sum = 0;
			CHECK_EQ(routes_walk(t, sum_requests, &sum), 0);
			routes_get_stats(t, &s);
			CHECK_EQ(sum, s.learned + s.spec_matched);
			CHECK(s.nodes <= lim.max_nodes);
			CHECK(s.hosts <= lim.max_hosts);
			CHECK_EQ(s.observed, (uint64_t)i + 1);
			CHECK_EQ(s.learned + s.spec_matched + s.unrouted, s.observed);
		}
	}
	struct routes_stats s;
	routes_get_stats(t, &s);
	CHECK(s.params_made > 0 && s.nodes_merged > 0 && s.nodes_full > 0 && s.depth_folded > 0);
	routes_free(t);
}

int main(void)
{
	RUN(test_segment_classes);
	RUN(test_odd_paths);
	RUN(test_varying_position_becomes_param);
	RUN(test_few_values_stay_literal);
	RUN(test_hot_value_is_pinned);
	RUN(test_repeated_values_switch_at_cap);
	RUN(test_merge_keeps_subtrees);
	RUN(test_spec_overrides);
	RUN(test_verdicts_in_inventory);
	RUN(test_no_spec_verdicts);
	RUN(test_evidence);
	RUN(test_hosts);
	RUN(test_host_runs);
	RUN(test_node_cap);
	RUN(test_entry_cap_and_methods);
	RUN(test_depth_fold);
	RUN(test_identities_and_times);
	RUN(test_deterministic);
	RUN(test_spec_errors);
	RUN(test_inventory_file);
	RUN(test_no_allocation_in_steady_state);
	RUN(test_stress_invariants);
	return unit_done("test_routes");
}
