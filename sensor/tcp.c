/*
 * tcp.c - per-flow TCP state between the flow table and the reassemblers.
 *
 * The client is the side whose SYN (without ACK) we saw, or failing that the
 * receiver of a SYN+ACK; with no handshake at all the session layer decides
 * from the bytes. A SYN's payload (TCP Fast Open, RFC 7413) starts at ISN+1.
 */
#include "tcp.h"

#include <stdbool.h>

struct sink_ctx {
	struct tcp_env *env;
	struct flow *f;
	int side;
	uint64_t now;
};

static void sink_data(void *ctx, const uint8_t *p, size_t len)
{
	struct sink_ctx *c = ctx;
	session_data(c->env->app, c->f, c->side, p, len, c->now);
}

static void sink_gap(void *ctx, uint32_t len)
{
	struct sink_ctx *c = ctx;
	session_gap(c->env->app, c->f, c->side, len, c->now);
}

static void sink_fin(void *ctx)
{
	struct sink_ctx *c = ctx;
	session_fin(c->env->app, c->f, c->side, c->now);
}

static struct reasm_sink make_sink(struct sink_ctx *c)
{
	return (struct reasm_sink){sink_data, sink_gap, sink_fin, c};
}

void tcp_segment(struct tcp_env *env, struct flow *f, int side, const struct pkt_view *v,
		 uint64_t now)
{
	struct sink_ctx mine = {env, f, side, now};
	struct reasm_sink sink = make_sink(&mine);
	uint32_t seq = v->seq;

	if (v->flags & TCP_SYN) {
		if (!(v->flags & TCP_ACK)) {
			f->client_side = (uint8_t)side;
		} else if (!f->syn_seen[!side]) {
			f->client_side = (uint8_t)!side;
		}
		if (!f->syn_seen[side] && !f->dir[side].started) {
			reasm_syn(&f->dir[side], seq);
		}
		f->syn_seen[side] = true;
		seq++; /* the SYN occupies one sequence number; data follows it */
		if (v->payload_len)
			env->syn_data++;
	}

	if (v->flags & TCP_RST) {
		env->resets++;
		f->rst_seen = true;
	}

	bool fin = (v->flags & TCP_FIN) != 0;
	if (v->payload_len || fin) {
		reasm_segment(&f->dir[side], &env->pool, &env->lim, seq, v->payload,
			      v->payload_len, fin, &sink);
		if (fin)
			f->fin_seen[side] = true;
	}

	if ((v->flags & TCP_ACK) && f->dir[!side].started) {
		struct sink_ctx theirs = {env, f, !side, now};
		struct reasm_sink tsink = make_sink(&theirs);
		reasm_acked(&f->dir[!side], &env->pool, v->ack, &tsink);
	}

	if (f->rst_seen) {
		/* No more data will be acknowledged: what is held is all there will be. */
		for (int i = 0; i < 2; i++) {
			struct sink_ctx c = {env, f, i, now};
			struct reasm_sink s = make_sink(&c);
			reasm_flush(&f->dir[i], &env->pool, &s);
		}
	}
}

void tcp_flow_end(struct tcp_env *env, struct flow *f, uint64_t now)
{
	for (int i = 0; i < 2; i++) {
		struct sink_ctx c = {env, f, i, now};
		struct reasm_sink s = make_sink(&c);
		reasm_flush(&f->dir[i], &env->pool, &s);
		reasm_release(&f->dir[i], &env->pool);
	}
	session_end(env->app, f, now);
}
