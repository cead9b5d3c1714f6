/*
 * tcp.h - TCP connection tracking for one flow (RFC 9293 3.5, 3.6): the
 * handshake sets each direction's initial sequence number and who the client
 * is, payload and FIN go into that direction's reassembler, ACKs tell the
 * opposite reassembler which holes will never fill, RST ends both streams.
 * What the reassemblers deliver goes to the HTTP session layer.
 */
#ifndef TAPIR_TCP_H
#define TAPIR_TCP_H

#include <stdint.h>

#include "../decoders/packet.h"
#include "flow.h"
#include "reasm.h"
#include "session.h"

struct tcp_env {
	struct reasm_pool pool;
	struct reasm_limits lim;
	struct session_env *app;
	uint64_t syn_data;     /* SYNs carrying data (TCP Fast Open) */
	uint64_t resets;
	uint64_t port_reuse;   /* a new SYN on a closed flow started a new connection */
};

/* One segment of flow `f` sent by `side`. */
void tcp_segment(struct tcp_env *env, struct flow *f, int side, const struct pkt_view *v,
		 uint64_t now);

/* The flow leaves the table: give up on holes, deliver everything, end the session. */
void tcp_flow_end(struct tcp_env *env, struct flow *f, uint64_t now);

#endif
