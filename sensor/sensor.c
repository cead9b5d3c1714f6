/*
 * sensor.c - the per-packet path, and the counters of everything on it.
 */
#include "sensor.h"

#include <stdlib.h>
#include <string.h>

#include "tcp.h"

struct sensor {
	struct sensor_limits lim;
	struct sensor_counters c;
	uint64_t now;
	uint64_t seq;          /* sensor_set_seq */
	uint64_t ending_order; /* of the flow being ended (sensor_ending) */
	bool ending_closed;
	struct ipfrag *frag;
	struct flow_table *flows;
	struct tcp_env tcp;
	struct session_env app;
	struct idcache *idcache; /* Authorization value -> identity, for app.lim.exchange */
};

void sensor_limits_default(struct sensor_limits *lim)
{
	*lim = (struct sensor_limits){
		.flow = {.max_flows = 262144, .idle_us = 300ull * 1000000, .closed_us = 10ull * 1000000},
		.reasm = {.max_held_bytes = 1u << 20, .max_held_segs = 2048},
		.reasm_memcap = 256u << 20,
		.frag = {.max_bytes = 32u << 20, .max_datagrams = 8192, .timeout_us = 30ull * 1000000,
			 .max_datagram_len = 65535},
		.session = {.h1 = {.max_head_bytes = 65536, .max_line_bytes = 4096,
				   .max_resync_bytes = 65536},
			    .max_pending = 64,
			    .memcap = 128u << 20},
	};
	h2_limits_default(&lim->session.h2);
}

static void on_flow_end(void *ctx, struct flow *f, enum flow_end_reason why)
{
	(void)why;
	struct sensor *s = ctx;
	s->ending_order = f->order;
	s->ending_closed = f->closed;
	tcp_flow_end(&s->tcp, f, s->now);
}

struct sensor *sensor_new(const struct sensor_limits *lim, session_emit_fn emit, void *ctx,
			  uint64_t seed)
{
	struct sensor *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->lim = *lim;
	s->frag = ipfrag_new(&lim->frag);
	s->flows = flow_table_new(&lim->flow, seed, on_flow_end, s);
	s->idcache = idcache_new();
	if (!s->frag || !s->flows || !s->idcache) {
		sensor_free(s);
		return NULL;
	}
	s->app.lim = lim->session;
	s->app.lim.exchange.idcache = s->idcache;
	s->app.emit = emit;
	s->app.emit_ctx = ctx;
	s->tcp.lim = lim->reasm;
	s->tcp.pool.cap = lim->reasm_memcap;
	s->tcp.app = &s->app;
	return s;
}

/* The flow of v, created when new; `hash`: flow_hash's, or NULL to compute it. */
static struct flow *lookup(struct sensor *s, const struct pkt_view *v, const uint64_t *hash,
			   int *side)
{
	if (hash)
		return flow_lookup_hashed(s->flows, *hash, v->src, v->sport, v->dst, v->dport,
					  v->vlan, s->now, true, side);
	return flow_lookup(s->flows, v->src, v->sport, v->dst, v->dport, v->vlan, s->now, true,
			   side);
}

static void handle_tcp(struct sensor *s, const struct pkt_view *v, const uint64_t *hash)
{
	s->c.tcp++;
	int side;
	bool syn_only = (v->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	struct flow *f = lookup(s, v, hash, &side);
	if (!f) {
		s->c.flow_alloc_failed++;
		return;
	}
	/* A fresh SYN on a finished connection is a new connection on the same ports. */
	if (syn_only && (f->closed || f->rst_seen) && f->packets > 0) {
		s->tcp.port_reuse++;
		flow_end(s->flows, f, FLOW_END_CLOSED);
		f = lookup(s, v, hash, &side);
		if (!f) {
			s->c.flow_alloc_failed++;
			return;
		}
	}
	f->packets++;
	f->order = s->seq;
	tcp_segment(&s->tcp, f, side, v, s->now);
	if (!f->closed && (f->rst_seen || (f->dir[0].finished && f->dir[1].finished)))
		flow_mark_closed(s->flows, f);
}

void sensor_advance(struct sensor *s, uint64_t now)
{
	if (now > s->now)
		s->now = now;
	flow_expire(s->flows, s->now);
}

uint64_t sensor_next_expiry(const struct sensor *s)
{
	return flow_next_expiry(s->flows);
}

void sensor_set_seq(struct sensor *s, uint64_t seq)
{
	s->seq = seq;
}

void sensor_ending(const struct sensor *s, uint64_t *order, bool *closed)
{
	*order = s->ending_order;
	*closed = s->ending_closed;
}

void sensor_tcp(struct sensor *s, const struct pkt_view *v, uint64_t hash)
{
	handle_tcp(s, v, &hash);
}

enum sensor_frame sensor_classify(struct sensor_counters *c, struct ipfrag *frag,
				  enum pkt_link link, uint64_t *now, uint64_t ts_us,
				  const uint8_t *frame, size_t caplen, struct pkt_view *v)
{
	c->packets++;
	c->bytes += caplen;
	if (ts_us < *now)
		c->clock_backwards++;
	else
		*now = ts_us;
	switch (pkt_decode(link, frame, caplen, v)) {
	case PKT_TCP:
		return SENSOR_FRAME_TCP;
	case PKT_FRAGMENT: {
		c->fragments++;
		const uint8_t *dgram;
		size_t len;
		if (ipfrag_feed(frag, v, *now, &dgram, &len) != 1)
			return SENSOR_FRAME_NONE;
		if (v->frag_proto != 6) {
			c->other++;
			return SENSOR_FRAME_NONE;
		}
		if (pkt_decode_tcp(dgram, len, v) == PKT_TCP)
			return SENSOR_FRAME_REBUILT;
		c->malformed[v->bad]++;
		return SENSOR_FRAME_NONE;
	}
	case PKT_OTHER:
		c->other++;
		return SENSOR_FRAME_NONE;
	case PKT_MALFORMED:
		c->malformed[v->bad]++;
		return SENSOR_FRAME_NONE;
	}
	return SENSOR_FRAME_NONE;
}

void sensor_packet(struct sensor *s, enum pkt_link link, uint64_t ts_us, const uint8_t *frame,
		   size_t caplen)
{
	struct pkt_view v;
	enum sensor_frame got =
		sensor_classify(&s->c, s->frag, link, &s->now, ts_us, frame, caplen, &v);
	/* Decoding and IP fragments do not touch flows: expiry may follow them. */
	flow_expire(s->flows, s->now);
	if (got != SENSOR_FRAME_NONE)
		handle_tcp(s, &v, NULL);
}

void sensor_set_exchange(struct sensor *s, const struct exchange_config *xc)
{
	s->app.lim.exchange = *xc;
	/* New keys verify differently: no identity decoded with the old ones may be reused. */
	idcache_clear(s->idcache);
	s->app.lim.exchange.idcache = s->idcache;
}

void sensor_get_stats(const struct sensor *s, struct sensor_stats *st)
{
	st->c = s->c;
	st->frag = *ipfrag_stats(s->frag);
	st->flows = *flow_table_stats(s->flows);
	st->reasm = s->tcp.pool.stats;
	st->reasm_memory_peak = s->tcp.pool.peak;
	st->syn_data = s->tcp.syn_data;
	st->resets = s->tcp.resets;
	st->port_reuse = s->tcp.port_reuse;
	st->app = s->app.stats;
	st->app_memory = s->app.memory;
}

_Static_assert(sizeof(struct sensor_stats) % sizeof(uint64_t) == 0 && sizeof(size_t) == 8,
	       "sensor_stats is summed as an array of 64-bit counters");

void sensor_stats_add(struct sensor_stats *sum, const struct sensor_stats *st)
{
	uint64_t w[sizeof *st / 8], a[sizeof *st / 8];
	memcpy(w, sum, sizeof w);
	memcpy(a, st, sizeof a);
	for (size_t i = 0; i < sizeof w / 8; i++)
		w[i] += a[i];
	memcpy(sum, w, sizeof w);
}

void sensor_stats_blindness(const struct sensor_stats *st, struct sensor_blindness *b)
{
	const struct reasm_stats *r = &st->reasm;
	const struct flow_stats *fl = &st->flows;
	const struct ipfrag_stats *fs = &st->frag;
	const struct session_stats *a = &st->app;
	b->gaps = r->gaps;
	b->gap_bytes = r->gap_bytes;
	/* Caps reached: each of these means traffic was seen less than fully. */
	b->cap_hits = r->memcap_gaps + r->limit_gaps + fl->ended[FLOW_END_EVICTED] + fs->evicted +
		      fs->dropped + a->pending_overflow + a->memcap_early + a->h1.gave_up +
		      a->h2.v[H2_STAT_CONTINUATION_FLOOD] + a->h2.v[H2_STAT_MEMORY_CAP] +
		      a->h2.v[H2_STAT_STREAMS_EVICTED];
}

void sensor_finish(struct sensor *s)
{
	flow_end_all(s->flows);
}

void sensor_free(struct sensor *s)
{
	if (!s)
		return;
	flow_table_free(s->flows);
	ipfrag_free(s->frag);
	idcache_free(s->idcache);
	free(s);
}

#define U(name, val) fprintf(out, ",\"%s\":%llu", name, (unsigned long long)(val))

void sensor_stats_json(const struct sensor_stats *st, FILE *out)
{
	const struct sensor_counters *c = &st->c;
	fprintf(out, "\"packets\":%llu", (unsigned long long)c->packets);
	U("bytes", c->bytes);
	U("tcp_packets", c->tcp);
	U("other_packets", c->other);
	U("ip_fragments", c->fragments);
	U("clock_backwards", c->clock_backwards);
	U("flow_alloc_failed", c->flow_alloc_failed);
	fprintf(out, ",\"malformed\":{");
	for (int i = 1, first = 1; i < PKT_BAD__COUNT; i++) {
		fprintf(out, "%s\"%s\":%llu", first ? "" : ",", pkt_bad_names[i],
			(unsigned long long)c->malformed[i]);
		first = 0;
	}
	fprintf(out, "}");

	const struct ipfrag_stats *fs = &st->frag;
	fprintf(out, ",\"ipfrag\":{\"fragments\":%llu", (unsigned long long)fs->fragments);
	U("reassembled", fs->reassembled);
	U("timeouts", fs->timeouts);
	U("overlaps", fs->overlaps);
	U("evicted", fs->evicted);
	U("dropped", fs->dropped);
	U("bytes_peak", fs->bytes_peak);
	fprintf(out, "}");

	const struct flow_stats *fl = &st->flows;
	fprintf(out, ",\"flows\":{\"created\":%llu", (unsigned long long)fl->created);
	for (int i = 0; i < 4; i++)
		U(flow_end_names[i], fl->ended[i]);
	U("vlan_asymmetric", fl->vlan_asymmetric);
	U("active", fl->active);
	U("peak", fl->peak);
	fprintf(out, "}");

	const struct reasm_stats *r = &st->reasm;
	fprintf(out, ",\"tcp\":{\"segments\":%llu", (unsigned long long)r->segments);
	U("bytes", r->bytes);
	U("out_of_order", r->ooo_segments);
	U("retransmits", r->retransmits);
	U("overlaps", r->overlaps);
	U("overlap_conflicts", r->overlap_conflicts);
	U("gaps", r->gaps);
	U("gap_bytes", r->gap_bytes);
	U("limit_gaps", r->limit_gaps);
	U("memcap_gaps", r->memcap_gaps);
	U("memory_peak", st->reasm_memory_peak);
	U("syn_data", st->syn_data);
	U("resets", st->resets);
	U("port_reuse", st->port_reuse);
	fprintf(out, "}");

	const struct session_stats *a = &st->app;
	fprintf(out, ",\"http\":{\"sessions\":%llu", (unsigned long long)a->sessions);
	U("events", a->events);
	U("no_response", a->no_response);
	U("orphan_responses", a->orphan_responses);
	U("pending_overflow", a->pending_overflow);
	U("memcap_early", a->memcap_early);
	U("late_responses", a->late_responses);
	U("memory", st->app_memory);
	U("tunnels", a->tunnels);
	U("http2_preface", a->http2_preface);
	U("not_http", a->not_http);
	U("gap_exchanges", a->gap_exchanges);
	U("messages", a->h1.messages);
	U("resyncs", a->h1.resyncs);
	U("resync_skipped", a->h1.resync_skipped);
	U("gave_up", a->h1.gave_up);
	U("headers_dropped", a->h1.headers_dropped);
	fprintf(out, ",\"errors\":{");
	for (int i = 0; i < H1_ERR__COUNT; i++)
		fprintf(out, "%s\"%s\":%llu", i ? "," : "", h1_error_names[i],
			(unsigned long long)a->h1.errors[i]);
	fprintf(out, "}}");

	const struct h2_stats *h2 = &st->app.h2;
	fprintf(out, ",\"http2\":{");
	for (int i = 0; i < H2_STAT__COUNT; i++)
		fprintf(out, "%s\"%s\":%llu", i ? "," : "", h2_stat_names[i],
			(unsigned long long)h2->v[i]);
	fprintf(out, "}");
}
