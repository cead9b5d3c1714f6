/*
 * audit-bench.c - the audit log under `make bench` (test/bench/run-one.sh):
 *
 *  1. appends per second on one core with signing on (Ed25519 heads every
 *     second and every 65536 records, fsync never and interval), records of
 *     realistic size (an API event's JSON line, ~450 bytes);
 *  2. search on a log of AUDIT_BENCH_BYTES (default 1 GiB; set 4G or more for
 *     a multi-GB log) in 64 MiB segments: the same queries with the segment
 *     indexes and as a full scan (--no-index, the brute-force reference).
 *
 * Environment: AUDIT_BENCH_RECORDS (default 2000000), AUDIT_BENCH_BYTES
 * (default 1G; K/M/G suffixes), AUDIT_BENCH_DIR (default build/bench/audit,
 * removed afterwards unless AUDIT_BENCH_KEEP is set).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../sensor/audit.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this (single-threaded) process: the per-core figure, whatever else
 * the machine is running. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User and system CPU seconds so far. */
static void usage_s(double *user, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t env_size(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	double v = strtod(s, &end);
	switch (*end) {
	case 'k': case 'K': v *= 1024; break;
	case 'm': case 'M': v *= 1024 * 1024; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
	default: break;
	}
	return (uint64_t)v;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define T0 1795900000000000ull
#define POOL 4096

struct rec {
	char id[40], path[96], json[700];
	uint8_t ip[16];
	size_t len;
	int alert;
};

static struct rec pool[POOL];

/*
 * Identities: 70% of requests come from 200 service accounts active all the
 * time, 30% from people, each active for a stretch of the log (`epoch`), as
 * traffic is. The JSON is an API event as tapir writes it.
 */
static void make(struct rec *r, uint64_t i, uint64_t epoch)
{
	if (rnd() % 10 < 7)
		snprintf(r->id, sizeof r->id, "svc-%03u", (unsigned)(rnd() % 200));
	else
		snprintf(r->id, sizeof r->id, "person-%llu-%u", (unsigned long long)epoch,
			 (unsigned)(rnd() % 100));
	static const char *const routes[] = {"/v1/users/%u", "/v1/users/%u/orders",
					     "/v1/orders/%u/items", "/v2/catalog/%u",
					     "/admin/export/%u", "/v1/customers/%u/invoices"};
	snprintf(r->path, sizeof r->path, routes[rnd() % 6], (unsigned)(rnd() % 100000));
	memset(r->ip, 0, 16);
	r->ip[10] = r->ip[11] = 0xff;
	r->ip[12] = 10;
	r->ip[13] = (uint8_t)(rnd() % 8);
	r->ip[14] = (uint8_t)rnd();
	r->ip[15] = (uint8_t)rnd();
	r->alert = rnd() % 200 == 0;
	int n = snprintf(
		r->json, sizeof r->json,
		"{\"type\":\"api\",\"ts\":\"2026-11-28T09:15:02.%06uZ\",\"proto\":\"HTTP/1.1\","
		"\"client_ip\":\"10.%u.%u.%u\",\"client_port\":%u,\"server_ip\":\"10.0.0.5\","
		"\"server_port\":8080,\"method\":\"GET\",\"host\":\"api.example.com\",\"path\":\"%s\","
		"\"query_keys\":[\"page\"],\"route\":\"/v1/users/{id}\",\"status\":200,\"req_bytes\":0,"
		"\"resp_bytes\":%u,\"duration_ms\":3.2,\"user_agent\":\"curl/8.0\",\"content_type\":"
		"\"application/json\",\"identity\":{\"kind\":\"jwt\",\"id\":\"%s\"},\"n\":%llu}",
		(unsigned)(i % 1000000), r->ip[13], r->ip[14], r->ip[15], (unsigned)(1024 + rnd() % 60000),
		r->path, (unsigned)(rnd() % 100000), r->id, (unsigned long long)i);
	r->len = (size_t)n;
}

static int append_run(const char *dir, const char *key, uint64_t n, enum audit_fsync fs,
		      const char *label)
{
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir;
	o.key_path = key;
	o.fsync = fs;
	char e[512];
	int st;
	for (int i = 0; i < POOL; i++)
		make(&pool[i], (uint64_t)i, 0);
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	if (!a) {
		fprintf(stderr, "audit-bench: %s\n", e);
		return -1;
	}
	double t0 = now_s(), c0 = cpu_s(), u0, s0, u1, s1;
	usage_s(&u0, &s0);
	uint64_t bytes = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct rec *r = &pool[i % POOL];
		bytes += r->len;
		if (audit_append(a, r->alert ? AUDIT_ALERT : AUDIT_EVENT, T0 + i * 100, r->id, r->ip,
				 r->path, r->alert ? "enumeration" : NULL, r->json, r->len,
				 NULL) != 0) {
			fprintf(stderr, "audit-bench: %s\n", audit_error(a));
			return -1;
		}
	}
	struct audit_stats s;
	audit_get_stats(a, &s);
	if (audit_close(a, e, sizeof e) != 0) {
		fprintf(stderr, "audit-bench: %s\n", e);
		return -1;
	}
	double dt = now_s() - t0, ct = cpu_s() - c0;
	usage_s(&u1, &s1);
	printf("audit append (%s): %llu records of %.0f bytes, %llu heads signed, %llu fdatasyncs: "
	       "%.0f records/s per CPU-second (%.2f s CPU: %.2f user, %.2f kernel), %.0f records/s "
	       "wall (%.2f s, %.0f MB/s)\n",
	       label, (unsigned long long)n, (double)bytes / (double)n,
	       (unsigned long long)s.heads + 1, (unsigned long long)s.syncs, (double)n / ct, ct,
	       u1 - u0, s1 - s0, (double)n / dt, dt, (double)s.bytes / dt / 1e6);
	return 0;
}

static int build_log(const char *dir, const char *key, uint64_t target, uint64_t *records,
		     uint64_t *epochs)
{
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir;
	o.key_path = key;
	o.fsync = AUDIT_FSYNC_NEVER;
	char e[512];
	int st;
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	if (!a) {
		fprintf(stderr, "audit-bench: %s\n", e);
		return -1;
	}
	uint64_t bytes = 0, i = 0;
	/* a person's stretch: 100,000 records (about a third of a 64 MiB segment) */
	const uint64_t stretch = 100000;
	while (bytes < target) {
		struct rec r;
		make(&r, i, i / stretch);
		bytes += r.len + 48 + strlen(r.id) + strlen(r.path);
		if (audit_append(a, r.alert ? AUDIT_ALERT : AUDIT_EVENT, T0 + i * 1000, r.id, r.ip,
				 r.path, r.alert ? "enumeration" : NULL, r.json, r.len, NULL) != 0) {
			fprintf(stderr, "audit-bench: %s\n", audit_error(a));
			return -1;
		}
		i++;
	}
	*records = i;
	*epochs = i / stretch + 1;
	return audit_close(a, e, sizeof e);
}

static double search_run(const char *dir, struct audit_query q, struct audit_search_stats *st)
{
	FILE *devnull = fopen("/dev/null", "w");
	char e[512];
	double t0 = now_s();
	if (audit_search(dir, &q, devnull, st, e, sizeof e) != 0)
		fprintf(stderr, "audit-bench: search: %s\n", e);
	double dt = now_s() - t0;
	fclose(devnull);
	return dt;
}

int main(void)
{
	const char *base = getenv("AUDIT_BENCH_DIR") ? getenv("AUDIT_BENCH_DIR") : "build/bench/audit";
	uint64_t n = env_size("AUDIT_BENCH_RECORDS", 2000000);
	uint64_t target = env_size("AUDIT_BENCH_BYTES", 1ull << 30);
	char key[512], d1[512], d2[512], d3[512], cmd[1200], e[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
	if (system(cmd) != 0)
		return 1;
	snprintf(key, sizeof key, "%s/key", base);
	snprintf(d1, sizeof d1, "%s/append-never", base);
	snprintf(d2, sizeof d2, "%s/append-interval", base);
	snprintf(d3, sizeof d3, "%s/search", base);
	if (audit_keygen(key, e, sizeof e) != 0) {
		fprintf(stderr, "audit-bench: %s\n", e);
		return 1;
	}
	if (append_run(d1, key, n, AUDIT_FSYNC_NEVER, "signed, fsync never") != 0 ||
	    append_run(d2, key, n, AUDIT_FSYNC_INTERVAL, "signed, fsync interval") != 0)
		return 1;

	uint64_t records, epochs;
	double t0 = now_s();
	if (build_log(d3, key, target, &records, &epochs) != 0)
		return 1;
	double build = now_s() - t0;
	struct audit_verify_options vo = {.dir = d3};
	char msg[2048];
	t0 = now_s();
	int vrc = audit_verify(&vo, msg, sizeof msg, NULL, 0);
	double vt = now_s() - t0;
	printf("audit log for search: %.2f GiB, %llu records, written in %.2f s; verify %s in %.2f s "
	       "(%.0f MB/s)\n",
	       (double)target / (1u << 30), (unsigned long long)records, build,
	       vrc == 0 ? "ok" : msg, vt, (double)target / vt / 1e6);
	char person[64];
	snprintf(person, sizeof person, "person-%llu-7", (unsigned long long)(epochs / 2));
	struct {
		const char *name;
		struct audit_query q;
	} qs[] = {
		{"one person (--identity)", {.identity = person}},
		{"a time window, 1% (--since/--until)",
		 {.has_since = true, .since_us = T0 + records * 1000 / 2, .has_until = true,
		  .until_us = T0 + records * 1000 / 2 + records * 10}},
		{"an unknown address (--ip)", {.has_ip = true, .ip_prefix = 128,
					       .ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}}},
		{"a service account (--identity, everywhere)", {.identity = "svc-042"}},
		{"a path glob (--path /admin/export/*)", {.path_glob = "/admin/export/*"}},
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		struct audit_search_stats a, b;
		struct audit_query full = qs[i].q;
		full.no_index = true;
		double tf = search_run(d3, full, &b);
		double ti = search_run(d3, qs[i].q, &a);
		printf("audit search %-44s indexed %8.3f s (%llu of %llu segments skipped), full scan "
		       "%7.3f s (%.0f MB/s): %.1fx; %llu matches%s\n",
		       qs[i].name, ti, (unsigned long long)a.segments_skipped,
		       (unsigned long long)a.segments, tf, (double)target / tf / 1e6, tf / ti,
		       (unsigned long long)a.matches, a.matches == b.matches ? "" : " (DIFFER!)");
	}
	if (!getenv("AUDIT_BENCH_KEEP")) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
