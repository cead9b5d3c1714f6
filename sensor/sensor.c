/*
 * sensor.c - the per-packet path, and the counters of everything on it.
 */
#include "sensor.h"

#include <stdlib.h>

#include "tcp.h"

struct sensor {
	struct sensor_limits lim;
	struct sensor_counters c;
	uint64_t now;
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

static void handle_tcp(struct sensor *s, const struct pkt_view *v)
{
	s->c.tcp++;
	int side;
	bool syn_only = (v->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	struct flow *f = flow_lookup(s->flows, v->src, v->sport, v->dst, v->dport, v->vlan, s->now,
				     true, &side);
	if (!f) {
		s->c.flow_alloc_failed++;
		return;
	}
	/* A fresh SYN on a finished connection is a new connection on the same ports. */
	if (syn_only && (f->closed || f->rst_seen) && f->packets > 0) {
		s->tcp.port_reuse++;
		flow_end(s->flows, f, FLOW_END_CLOSED);
		f = flow_lookup(s->flows, v->src, v->sport, v->dst, v->dport, v->vlan, s->now, true,
				&side);
		if (!f) {
			s->c.flow_alloc_failed++;
			return;
		}
	}
	f->packets++;
	tcp_segment(&s->tcp, f, side, v, s->now);
	if (!f->closed && (f->rst_seen || (f->dir[0].finished && f->dir[1].finished)))
		flow_mark_closed(s->flows, f);
}

void sensor_packet(struct sensor *s, enum pkt_link link, uint64_t ts_us, const uint8_t *frame,
		   size_t caplen)
{
	s->c.packets++;
	s->c.bytes += caplen;
	if (ts_us < s->now)
		s->c.clock_backwards++;
	else
		s->now = ts_us;
	flow_expire(s->flows, s->now);

	struct pkt_view v;
	switch (pkt_decode(link, frame, caplen, &v)) {
	case PKT_TCP:
		handle_tcp(s, &v);
		break;
	case PKT_FRAGMENT: {
		s->c.fragments++;
		const uint8_t *dgram;
		size_t len;
		if (ipfrag_feed(s->frag, &v, s->now, &dgram, &len) != 1)
			break;
		if (v.frag_proto != 6) {
			s->c.other++;
			break;
		}
		if (pkt_decode_tcp(dgram, len, &v) == PKT_TCP)
			handle_tcp(s, &v);
		else
			s->c.malformed[v.bad]++;
		break;
	}
	case PKT_OTHER:
		s->c.other++;
		break;
	case PKT_MALFORMED:
		s->c.malformed[v.bad]++;
		break;
	}
}

void sensor_set_exchange(struct sensor *s, const struct exchange_config *xc)
{
	s->app.lim.exchange = *xc;
	/* New keys verify differently: no identity decoded with the old ones may be reused. */
	idcache_clear(s->idcache);
	s->app.lim.exchange.idcache = s->idcache;
}

void sensor_blindness(const struct sensor *s, struct sensor_blindness *b)
{
	const struct reasm_stats *r = &s->tcp.pool.stats;
	const struct flow_stats *fl = flow_table_stats(s->flows);
	const struct ipfrag_stats *fs = ipfrag_stats(s->frag);
	const struct session_stats *a = &s->app.stats;
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

void sensor_stats_json(const struct sensor *s, FILE *out)
{
	fprintf(out, "\"packets\":%llu", (unsigned long long)s->c.packets);
	U("bytes", s->c.bytes);
	U("tcp_packets", s->c.tcp);
	U("other_packets", s->c.other);
	U("ip_fragments", s->c.fragments);
	U("clock_backwards", s->c.clock_backwards);
	U("flow_alloc_failed", s->c.flow_alloc_failed);
	fprintf(out, ",\"malformed\":{");
	for (int i = 1, first = 1; i < PKT_BAD__COUNT; i++) {
		fprintf(out, "%s\"%s\":%llu", first ? "" : ",", pkt_bad_names[i],
			(unsigned long long)s->c.malformed[i]);
		first = 0;
	}
	fprintf(out, "}");

	const struct ipfrag_stats *fs = ipfrag_stats(s->frag);
	fprintf(out, ",\"ipfrag\":{\"fragments\":%llu", (unsigned long long)fs->fragments);
	U("reassembled", fs->reassembled);
	U("timeouts", fs->timeouts);
	U("overlaps", fs->overlaps);
	U("evicted", fs->evicted);
	U("dropped", fs->dropped);
	U("bytes_peak", fs->bytes_peak);
	fprintf(out, "}");

	const struct flow_stats *fl = flow_table_stats(s->flows);
	fprintf(out, ",\"flows\":{\"created\":%llu", (unsigned long long)fl->created);
	for (int i = 0; i < 4; i++)
		U(flow_end_names[i], fl->ended[i]);
	U("vlan_asymmetric", fl->vlan_asymmetric);
	U("active", fl->active);
	U("peak", fl->peak);
	fprintf(out, "}");

	const struct reasm_stats *r = &s->tcp.pool.stats;
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
	U("memory_peak", s->tcp.pool.peak);
	U("syn_data", s->tcp.syn_data);
	U("resets", s->tcp.resets);
	U("port_reuse", s->tcp.port_reuse);
	fprintf(out, "}");

	const struct session_stats *a = &s->app.stats;
	fprintf(out, ",\"http\":{\"sessions\":%llu", (unsigned long long)a->sessions);
	U("events", a->events);
	U("no_response", a->no_response);
	U("orphan_responses", a->orphan_responses);
	U("pending_overflow", a->pending_overflow);
	U("memcap_early", a->memcap_early);
	U("late_responses", a->late_responses);
	U("memory", s->app.memory);
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

	const struct h2_stats *h2 = &s->app.stats.h2;
	fprintf(out, ",\"http2\":{");
	for (int i = 0; i < H2_STAT__COUNT; i++)
		fprintf(out, "%s\"%s\":%llu", i ? "," : "", h2_stat_names[i],
			(unsigned long long)h2->v[i]);
	fprintf(out, "}");
}
