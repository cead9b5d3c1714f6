/*
 * engine-bench.c - the anomaly engine alone: events per second on one core
 * at 100,000 identities (issue 5's target: >= 1,000,000).
 *
 * A synthetic stream: 100,000 JWT identities in 40 roles, each with a home
 * address among 5,000 /24s and one of 8 client software families, 64 route
 * templates of which half carry an object id, 2xx mostly with some 401,
 * 403, 404 and writes. Identities are drawn uniformly, the clock advances
 * 100 µs an event (10 events a second per identity), so 10 million events
 * span about 17 minutes of traffic time: windows roll, trackers turn over,
 * the learned models close their buckets. The events are prepared before
 * the clock starts: 256 templates, in cache like the sensor's one event in
 * flight, with the identity, role, address, object id and time patched in
 * from precomputed sequences (a few copies), so the figure is the engine's.
 *
 *   test/bench/run-one.sh test/bench/engine-bench.c [events] [identities]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../models/engine.h"

#define RING 256    /* events in flight: cache-resident, as the sensor's event is */
#define SEQ (1 << 20) /* the identities and templates drawn, in order */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static const char *const agents[8] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "curl/8.5.0",
	"python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/1.1", "axios/1.7.7",
	"Apache-HttpClient/4.5.14 (Java/17.0.9)", "PostmanRuntime/7.42.0",
};

struct tmpl {
	char route[64];
	char path[64];
	const char *method;
};

/* Decimal digits and a NUL at p. */
static void utoa(char *p, uint32_t v)
{
	char b[12];
	int n = 0;
	do
		b[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = b[--n];
	*p = '\0';
}

static long n_alerts;
static void on_alert(void *ctx, const struct alert *a)
{
	(void)ctx;
	(void)a;
	n_alerts++;
}

int main(int argc, char **argv)
{
	long n_events = argc > 1 ? atol(argv[1]) : 10000000;
	uint32_t n_ids = argc > 2 ? (uint32_t)atol(argv[2]) : 100000;

	struct engine_config cfg;
	engine_config_default(&cfg);
	cfg.max_identities = n_ids;
	cfg.learning_period_us = 60ull * 1000000; /* detectors past learning do their full work */
	static struct engine_sensitive sens[] = {{"", "/admin/**"}, {"GET", "/v1/customers/**"}};
	cfg.sensitive = sens;
	cfg.n_sensitive = 2;
	struct engine *e = engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "engine-bench: out of memory\n");
		return 1;
	}

	struct tmpl t[64];
	for (int i = 0; i < 64; i++) {
		t[i].method = i % 16 == 5 ? "DELETE" : i % 16 == 9 ? "PUT" : i % 16 == 11 ? "POST" : "GET";
		if (i % 2) {
			snprintf(t[i].route, sizeof t[i].route, "/v1/res%d/{id}", i);
			snprintf(t[i].path, sizeof t[i].path, "/v1/res%d/", i);
		} else {
			snprintf(t[i].route, sizeof t[i].route, "%s/res%d", i < 8 ? "/admin" : "/v1", i);
			memcpy(t[i].path, t[i].route, sizeof t[i].path);
		}
	}
	char (*ids)[16] = malloc((size_t)n_ids * 16);
	uint16_t *home = malloc((size_t)n_ids * sizeof *home);
	for (uint32_t i = 0; i < n_ids; i++) {
		snprintf(ids[i], 16, "u%07u", i);
		home[i] = (uint16_t)(next() % 5000);
	}
	/* Each ring slot is one template (route, method, status, size, agent);
	 * the identity, its role, its address and the object id are patched in
	 * per event from precomputed sequences. */
	struct api_event *ring = calloc(RING, sizeof *ring);
	const char **routes = calloc(RING, sizeof *routes);
	uint32_t *who = calloc(SEQ, sizeof *who);
	uint32_t *obj = calloc(SEQ, sizeof *obj);
	size_t *objat = calloc(RING, sizeof *objat);
	char (*roles)[8] = malloc(40 * 8);
	for (int r = 0; r < 40; r++)
		snprintf(roles[r], 8, "role%02d", r);
	for (uint32_t k = 0; k < SEQ; k++) {
		who[k] = (uint32_t)(next() % n_ids);
		obj[k] = (uint32_t)(next() % 100000);
	}
	for (int k = 0; k < RING; k++) {
		struct api_event *ev = &ring[k];
		const struct tmpl *tp = &t[next() % 64];
		ev->proto = EV_HTTP11;
		snprintf(ev->method, sizeof ev->method, "%s", tp->method);
		snprintf(ev->host, sizeof ev->host, "api.example.com");
		ev->has_host = true;
		snprintf(ev->path, sizeof ev->path, "%s", tp->path);
		objat[k] = strchr(tp->route, '{') ? strlen(ev->path) : 0;
		routes[k] = tp->route;
		snprintf(ev->user_agent, sizeof ev->user_agent, "%s", agents[k % 8]);
		ev->has_user_agent = true;
		uint64_t r = next() % 100;
		ev->status = r < 90 ? 200 : r < 93 ? 404 : r < 96 ? 403 : r < 98 ? 401 : 500;
		ev->resp_bytes = 200 + next() % 8000;
		ev->identity.kind = ID_JWT;
		ev->identity.has_claims = true;
		ev->identity.claims.present = JWT_HAS_ROLES | JWT_HAS_SCOPE;
		ev->identity.claims.n_roles = 1;
		ev->client_ip[10] = ev->client_ip[11] = 0xff;
		ev->client_ip[12] = 10;
	}

	uint64_t ts = 1795000000ull * 1000000;
	/* One event: identity i on template slot k at the next 100 µs. */
#define FILL(ev, i, k, n)                                                               \
	do {                                                                           \
		memcpy((ev)->identity.id, ids[i], 16);                                 \
		memcpy((ev)->identity.claims.roles, roles[(i) % 40], 8);               \
		(ev)->client_ip[13] = (uint8_t)(home[i] >> 8);                         \
		(ev)->client_ip[14] = (uint8_t)home[i];                                \
		(ev)->client_ip[15] = (uint8_t)(1 + (i) % 200);                        \
		if (objat[k])                                                          \
			utoa((ev)->path + objat[k], obj[(n) & (SEQ - 1)]);               \
		(ev)->ts_us = ts += 100;                                               \
	} while (0)
	/* Warm-up: every identity seen once (the table at its full size). */
	for (uint32_t i = 0; i < n_ids; i++) {
		int k = (int)(i % RING);
		FILL(&ring[k], i, k, i);
		engine_event(e, &ring[k], routes[k], ROUTES_NO_SPEC, on_alert, NULL);
	}

	double t0 = now_s();
	for (long n = 0; n < n_events; n++) {
		int k = (int)(n & (RING - 1));
		uint32_t i = who[n & (SEQ - 1)];
		FILL(&ring[k], i, k, n);
		engine_event(e, &ring[k], routes[k], ROUTES_NO_SPEC, on_alert, NULL);
	}
	double dt = now_s() - t0;
	struct engine_stats st;
	engine_get_stats(e, &st);
	printf("engine-bench: %ld events, %u identities (%llu hot, %llu demoted): %.2f s, %.0f events/s, "
	       "%.0f ns/event; %ld alerts, %llu suppressed; memory %.1f MiB (%.0f bytes/identity all "
	       "told)\n",
	       n_events, n_ids, (unsigned long long)st.identities,
	       (unsigned long long)st.identities_evicted, dt, n_events / dt, dt * 1e9 / n_events,
	       n_alerts, (unsigned long long)st.suppressed, st.memory / 1048576.0,
	       (double)st.memory / n_ids);
	engine_free(e);
	free(ids);
	free(home);
	free(ring);
	free(routes);
	free(who);
	free(obj);
	free(objat);
	free(roles);
	return 0;
}
