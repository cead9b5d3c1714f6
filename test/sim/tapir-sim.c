/*
 * tapir-sim.c - the scenario test bench's simulator (see sim.h).
 *
 *   tapir-sim --seed N --days D --identities K --out DIR [--per-kind N] [--learning DUR]
 *   tapir-sim --demo [--seed N] --out DIR
 *
 * Writes DIR/traffic.pcap, DIR/truth.jsonl (one line per injected scenario),
 * DIR/identities.jsonl (the population) and DIR/summary.json (what was
 * written); with --demo a small capture of a few hours, DIR/demo.pcap and
 * DIR/demo.truth.jsonl. The same arguments give the same bytes.
 * On stderr: "tapir-sim: requests N" (exchanges written), then a summary.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The HS256 secret of the simulated identity provider (config/eval.yaml
 * gives tapir the same file so it can verify the tokens). */
#define JWT_SECRET_FILE "test/sim/jwt.secret"
#define JWT_SECRET_DEFAULT "tapir-sim-hs256-test-secret-not-for-production"

#define H1_IDLE_SPLIT (73 * US_PER_S)  /* a little under the server's 75 s */
#define H2_IDLE_SPLIT (178 * US_PER_S) /* ... and 180 s */
#define CONN_MAX_REQS 1000
#define CONN_MAX_LIFE HOUR_US

/* ---------------------------------------------------------------- requests */

struct req *reqv_add(struct reqv *v)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = xrealloc(v->v, v->cap * sizeof *v->v);
	}
	memset(&v->v[v->n], 0, sizeof v->v[0]);
	return &v->v[v->n++];
}

static int req_cmp(const void *a, const void *b)
{
	const struct req *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

void reqv_sort(struct reqv *v)
{
	/* merge-stable enough: equal timestamps are rare and then order does not matter */
	qsort(v->v, v->n, sizeof *v->v, req_cmp);
}

void world_add_conn(struct world *w, const struct conn *c, const struct req *q, size_t n)
{
	/* only what falls inside the capture */
	size_t a = 0, b = n;
	while (a < b && q[a].ts < w->t0 + 5 * US_PER_S)
		a++;
	while (b > a && q[b - 1].ts >= w->t_end)
		b--;
	if (a == b)
		return;
	if (w->n_reqs + (b - a) > w->cap_reqs) {
		w->cap_reqs = (w->n_reqs + (b - a)) * 2;
		w->reqs = xrealloc(w->reqs, w->cap_reqs * sizeof *w->reqs);
	}
	if (w->n_conns == w->cap_conns) {
		w->cap_conns = w->cap_conns ? w->cap_conns * 2 : 4096;
		w->conns = xrealloc(w->conns, w->cap_conns * sizeof *w->conns);
	}
	struct conn *nc = &w->conns[w->n_conns++];
	*nc = *c;
	nc->first = (uint32_t)w->n_reqs;
	nc->n = (uint32_t)(b - a);
	nc->start = q[a].ts;
	memcpy(w->reqs + w->n_reqs, q + a, (b - a) * sizeof *q);
	w->n_reqs += b - a;

	struct ident *id = &w->ids[c->ident];
	for (size_t k = a; k < b; k++) {
		uint64_t ts = q[k].ts;
		if (!id->nreq || ts < id->first_ts)
			id->first_ts = ts;
		if (ts > id->last_ts)
			id->last_ts = ts;
		id->nreq++;
		size_t day = (size_t)((ts - SIM_T0) / DAY_US);
		if (day < SIM_MAX_DAYS)
			id->day_reqs[day]++;
	}
	if (c->scenario >= 0) {
		struct scenario *s = &w->sc[c->scenario];
		if (!s->nreq || q[a].ts < s->start)
			s->start = q[a].ts;
		if (q[b - 1].ts > s->end)
			s->end = q[b - 1].ts;
		s->nreq += (uint32_t)(b - a);
	}
}

char *world_keep(struct world *w, char *s)
{
	if (w->n_owned == w->cap_owned) {
		w->cap_owned = w->cap_owned ? w->cap_owned * 2 : 64;
		w->owned = xrealloc(w->owned, w->cap_owned * sizeof *w->owned);
	}
	w->owned[w->n_owned++] = s;
	return s;
}

void world_free(struct world *w)
{
	for (size_t k = 0; k < w->n_owned; k++)
		free(w->owned[k]);
	for (int i = 0; i < w->n_ids; i++)
		for (int d = 0; d <= SIM_MAX_DAYS; d++)
			free(w->ids[i].token[d]);
	free(w->owned);
	free(w->ids);
	free(w->reqs);
	free(w->conns);
	free(w);
}

void emit_activity(struct world *w, const struct conn *tmpl, struct req *q, size_t n)
{
	if (!n)
		return;
	uint8_t fam = agents[tmpl->agent].family;
	bool one_shot = fam == AF_CURL || fam == AF_HTTPIE; /* one command, one connection */
	uint64_t idle = tmpl->proto == P_H2 ? H2_IDLE_SPLIT : H1_IDLE_SPLIT;
	size_t a = 0;
	for (size_t k = 1; k <= n; k++) {
		bool cut = k == n || one_shot || q[k].ts - q[k - 1].ts > idle || k - a >= CONN_MAX_REQS ||
			   q[k].ts - q[a].ts > CONN_MAX_LIFE;
		if (!cut)
			continue;
		struct conn c = *tmpl;
		if (k < n && !(q[k].ts - q[k - 1].ts > idle))
			c.flags |= CF_CLIENT_CLOSES; /* the client moves to a fresh connection */
		if (one_shot)
			c.flags |= CF_CLIENT_CLOSES;
		if ((c.flags & CF_CLIENT_CLOSES) && (mix64(q[a].ts) % 100) < 3)
			c.flags |= CF_RST;
		world_add_conn(w, &c, q + a, k - a);
		a = k;
	}
}

/* ---------------------------------------------------------------- client ports */

struct portmap {
	struct addr key[65536];
	uint16_t next[65536];
	bool used[65536];
};

static uint16_t port_for(struct portmap *m, const struct addr *a)
{
	uint64_t h = 0;
	for (int i = 0; i < 16; i++)
		h = h * 131 + a->b[i];
	h = mix64(h + a->v6);
	size_t k = (size_t)(h & 65535);
	while (m->used[k] && !addr_eq(&m->key[k], a))
		k = (k + 1) & 65535;
	if (!m->used[k]) {
		m->used[k] = true;
		m->key[k] = *a;
		m->next[k] = (uint16_t)(32768 + (h >> 20) % 28000);
	}
	uint16_t p = m->next[k];
	uint32_t nx = (uint32_t)p + 1 + (uint32_t)((h >> 40) % 3);
	m->next[k] = (uint16_t)(nx > 60999 ? 32768 + nx % 60999 : nx);
	return p;
}

/* ---------------------------------------------------------------- output */

static int conn_cmp(const void *a, const void *b)
{
	const struct conn *const *x = a, *const *y = b;
	if ((*x)->start != (*y)->start)
		return (*x)->start < (*y)->start ? -1 : 1;
	return *x < *y ? -1 : *x > *y;
}

static void offset_str(int min, char *out, size_t n)
{
	snprintf(out, n, "%c%02d:%02d", min < 0 ? '-' : '+', abs(min) / 60, abs(min) % 60);
}

static void write_identities(const struct world *w, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	char buf[128];
	for (int i = 0; i < w->n_ids; i++) {
		const struct ident *id = &w->ids[i];
		if (!id->nreq && w->demo)
			continue;
		fprintf(f, "{\"identity\":{\"kind\":\"%s\",\"id\":", kind_name(id->kind) );
		json_str(f, id->id);
		fprintf(f, "},\"name\":");
		json_str(f, id->name);
		fprintf(f, ",\"role\":\"%s\",\"schedule\":\"%s\",\"tz\":\"%s\"", role_name(id->role),
			sched_name(id->sched), tzs[id->tz].name);
		offset_str(tzs[id->tz].offset_min, buf, sizeof buf);
		fprintf(f, ",\"utc_offset\":\"%s\"", buf);
		if (id->sched == SC_SERVICE)
			fprintf(f, ",\"hours\":\"00:00-24:00\",\"days\":\"all\"");
		else
			fprintf(f, ",\"hours\":\"%02d:%02d-%02d:%02d\",\"days\":\"%s\"", id->start_min / 60,
				id->start_min % 60, id->end_min / 60 % 24, id->end_min % 60,
				id->sched == SC_CRON ? "all" : "mon-fri");
		fprintf(f, ",\"prefixes\":[");
		for (int k = 0; k < id->n_pfx; k++) {
			prefix_fmt(&id->pfx[k], buf, sizeof buf);
			fprintf(f, "%s\"%s\"", k ? "," : "", buf);
		}
		fprintf(f, "],\"agents\":[");
		for (int k = 0; k < id->n_agent; k++) {
			fprintf(f, "%s", k ? "," : "");
			json_str(f, agents[id->agent[k]].ua);
		}
		if (id->cli_agent >= 0) {
			fprintf(f, ",");
			json_str(f, agents[id->cli_agent].ua);
		}
		fprintf(f, "],\"http2\":%s,\"via_proxy\":%s", id->h2_share > 0.5 ? "true" : "false",
			id->via_proxy ? "true" : "false");
		if (id->upgrade_day >= 0)
			fprintf(f, ",\"browser_update_day\":%d", id->upgrade_day);
		if (id->vacation)
			fprintf(f, ",\"days_off_mask\":%u", id->vacation);
		if (id->nreq) {
			fmt_rfc3339(buf, sizeof buf, id->first_ts);
			fprintf(f, ",\"first_seen\":\"%s\"", buf);
			fmt_rfc3339(buf, sizeof buf, id->last_ts);
			fprintf(f, ",\"last_seen\":\"%s\"", buf);
		}
		fprintf(f, ",\"requests\":%u,\"requests_per_day\":[", id->nreq);
		int days = (int)((w->t_end - SIM_T0 + DAY_US - 1) / DAY_US);
		for (int d = 0; d < days && d < SIM_MAX_DAYS; d++)
			fprintf(f, "%s%u", d ? "," : "", id->day_reqs[d]);
		fprintf(f, "],\"scenario\":");
		if (id->scenario >= 0)
			fprintf(f, "\"%s\"", sc_kind_names[w->sc[id->scenario].kind]);
		else
			fprintf(f, "null");
		fprintf(f, "}\n");
	}
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static uint64_t parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t unit = !strcmp(end, "d") ? DAY_US : !strcmp(end, "h") ? HOUR_US : !strcmp(end, "m") ? MIN_US
		      : !strcmp(end, "s") ? US_PER_S : 0;
	if (!unit || v < 0)
		die("bad duration %s (use e.g. 3d, 90m)", s);
	return (uint64_t)(v * (double)unit);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tapir-sim --seed N --days D --identities K --out DIR [--per-kind N] [--learning DUR]\n"
		"       tapir-sim --demo [--seed N] --out DIR\n"
		"writes DIR/traffic.pcap, DIR/truth.jsonl, DIR/identities.jsonl, DIR/summary.json\n"
		"(--demo: DIR/demo.pcap and DIR/demo.truth.jsonl)\n");
	exit(2);
}

static const char *load_secret(void)
{
	static char buf[256];
	FILE *f = fopen(JWT_SECRET_FILE, "r");
	if (!f)
		return JWT_SECRET_DEFAULT;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	return n ? buf : JWT_SECRET_DEFAULT;
}

int main(int argc, char **argv)
{
	struct world *w = xcalloc(1, sizeof *w);
	const char *out = NULL, *secret = NULL;
	w->seed = 1;
	w->days = 7;
	w->n_ids = 200;
	w->per_kind = -1;
	w->learning_us = 3 * DAY_US;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--demo")) {
			w->demo = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--seed"))
			w->seed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--days"))
			w->days = atoi(v);
		else if (!strcmp(a, "--identities"))
			w->n_ids = atoi(v);
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--per-kind"))
			w->per_kind = atoi(v);
		else if (!strcmp(a, "--learning"))
			w->learning_us = parse_duration(v);
		else if (!strcmp(a, "--jwt-secret"))
			secret = v;
		else
			usage();
	}
	if (!out)
		usage();
	if (w->days < 1 || w->days > SIM_MAX_DAYS)
		die("--days must be 1..%d", SIM_MAX_DAYS);
	if (w->n_ids < 1 || w->n_ids > SIM_MAX_IDENTITIES)
		die("--identities must be 1..%d", SIM_MAX_IDENTITIES);
	if (mkdir(out, 0755) && errno != EEXIST)
		die("%s: %s", out, strerror(errno));
	w->jwt_secret = secret ? secret : load_secret();
	rng_seed(&w->rng, w->seed, 7);

	struct timespec t_start;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (w->demo) {
		/* a weekday morning in Berlin: 07:30 - 11:30 local */
		w->days = 1;
		w->n_ids = 16;
		w->learning_us = HOUR_US;
		w->t0 = SIM_T0 + 6 * HOUR_US + 30 * MIN_US;
		w->t_end = w->t0 + 4 * HOUR_US;
	} else {
		w->t0 = SIM_T0;
		w->t_end = SIM_T0 + (uint64_t)w->days * DAY_US;
	}
	if (w->per_kind < 0)
		w->per_kind = w->n_ids >= 200 ? 4 : w->n_ids >= 100 ? 2 : w->n_ids >= 40 ? 1 : 0;
	if (w->per_kind > SIM_MAX_PER_KIND)
		die("--per-kind must be 0..%d", SIM_MAX_PER_KIND);

	population_make(w);
	scenarios_plan(w);
	population_traffic(w);
	scenarios_traffic(w);

	/* render, in order of connection start */
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", out, w->demo ? "demo.pcap" : "traffic.pcap");
	struct sink *sink = sink_open(path);
	for (int k = 0; k < w->n_sc; k++)
		if (w->sc[k].kind == SK_BLIND_SPOT)
			sink_add_drop(sink, w->sc[k].start, w->sc[k].end, w->sc[k].drop_per_mille);
	struct conn **order = xmalloc(w->n_conns * sizeof *order);
	for (size_t k = 0; k < w->n_conns; k++)
		order[k] = &w->conns[k];
	qsort(order, w->n_conns, sizeof *order, conn_cmp);
	struct portmap *ports = xcalloc(1, sizeof *ports);
	uint64_t n_h2 = 0, resp_bytes = 0;
	for (size_t k = 0; k < w->n_conns; k++) {
		const struct conn *c = order[k];
		sink_flush_before(sink, c->start > 3 * US_PER_S ? c->start - 3 * US_PER_S : 0);
		struct addr wc;
		wire_client(c, &wc);
		uint16_t cport = port_for(ports, &wc);
		if (c->proto == P_H2) {
			render_h2(w, sink, c, cport);
			n_h2 += c->n;
		} else {
			render_h1(w, sink, c, cport);
		}
		for (uint32_t x = 0; x < c->n; x++)
			resp_bytes += w->reqs[c->first + x].resp_len;
	}
	struct sink_stats st;
	sink_close(sink, &st);
	free(ports);
	free(order);

	/* ground truth and population */
	snprintf(path, sizeof path, "%s/%s", out, w->demo ? "demo.truth.jsonl" : "truth.jsonl");
	FILE *f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	scenarios_write_truth(w, f);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
	uint64_t scen_reqs = 0;
	for (int k = 0; k < w->n_sc; k++)
		scen_reqs += w->sc[k].nreq;
	if (!w->demo) {
		snprintf(path, sizeof path, "%s/identities.jsonl", out);
		write_identities(w, path);
		snprintf(path, sizeof path, "%s/summary.json", out);
		f = fopen(path, "w");
		if (!f)
			die("%s: %s", path, strerror(errno));
		char a[40], b[40];
		fmt_rfc3339(a, sizeof a, w->t0);
		fmt_rfc3339(b, sizeof b, w->t_end);
		fprintf(f,
			"{\"seed\":%llu,\"days\":%d,\"identities\":%d,\"start\":\"%s\",\"end\":\"%s\","
			"\"learning_period_s\":%llu,\"requests\":%zu,\"http2_requests\":%llu,\"connections\":%zu,"
			"\"scenarios\":%d,\"scenario_requests\":%llu,\"packets\":%llu,\"bytes\":%llu,"
			"\"dropped_packets\":%llu,\"response_body_bytes\":%llu}\n",
			(unsigned long long)w->seed, w->days, w->n_ids, a, b,
			(unsigned long long)(w->learning_us / US_PER_S), w->n_reqs, (unsigned long long)n_h2,
			w->n_conns, w->n_sc, (unsigned long long)scen_reqs, (unsigned long long)st.packets,
			(unsigned long long)st.bytes + 24, (unsigned long long)st.dropped,
			(unsigned long long)resp_bytes);
		if (fclose(f))
			die("%s: %s", path, strerror(errno));
	}

	struct timespec t_done;
	clock_gettime(CLOCK_MONOTONIC, &t_done);
	double secs = (double)(t_done.tv_sec - t_start.tv_sec) + (double)(t_done.tv_nsec - t_start.tv_nsec) / 1e9;
	fprintf(stderr, "tapir-sim: requests %zu\n", w->n_reqs);
	fprintf(stderr,
		"tapir-sim: seed %llu, %d identities, %.1f h of traffic: %zu connections (%llu requests over HTTP/2), "
		"%d scenarios (%llu requests), %llu packets (%llu dropped in blind spots), %.1f MB, %.1f s\n",
		(unsigned long long)w->seed, w->n_ids, (double)(w->t_end - w->t0) / (double)HOUR_US, w->n_conns,
		(unsigned long long)n_h2, w->n_sc, (unsigned long long)scen_reqs, (unsigned long long)st.packets,
		(unsigned long long)st.dropped, (double)(st.bytes + 24) / 1e6, secs);
	world_free(w);
	return 0;
}
