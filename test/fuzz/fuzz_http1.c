/*
 * fuzz_http1.c - HTTP/1 through session.c: both directions of one connection
 * parsed by decoders/http1.c, requests paired with responses, events built by
 * exchange.c (identity, forwarding headers), and the hand-over to HTTP/2 on a
 * preface or an h2c upgrade.
 *
 * Input: byte 0 = options
 *   bit 0  the handshake was seen (the client side is known)
 *   bit 1  the client is flow side 1 (else side 0)
 *   bit 2  feed every data record one byte at a time (every split point)
 *   bit 3  tiny limits
 *   bit 4  differential: run whole records, then byte by byte, and require
 *          the same events (HTTP/1 framing must not depend on how the stream
 *          was cut; HTTP/2 detection may look at the first piece, so
 *          connections that went to HTTP/2 are not compared)
 * then stream records (fuzz_input.h): [ctl][u16 len][data], ctl bit 0 = from
 * the server, bit 1 = a gap of len bytes, bit 2 = FIN. Each record's data is
 * copied to an exact-size allocation. The session must give back every byte
 * it accounted for once it ends.
 */
#include <stdlib.h>
#include <string.h>

#include "../../sensor/session.h"
#include "fuzz_event.h"
#include "fuzz_input.h"
#include "fuzz_session.h"

static void feed(struct session_env *env, struct flow *f, int side, const uint8_t *p, size_t n,
		 bool bytewise, uint64_t now)
{
	if (!bytewise) {
		session_data(env, f, side, p, n, now);
		return;
	}
	for (size_t i = 0; i < n; i++)
		session_data(env, f, side, p + i, 1, now);
}

/* One connection from the records after the option byte; false if it went HTTP/2. */
static bool run(struct fz in, uint8_t opt, bool bytewise, struct fz_outcome *out)
{
	struct session_env env;
	fz_session_env(&env, opt & 8);
	env.emit = fz_collect;
	env.emit_ctx = out;

	struct flow f;
	memset(&f, 0, sizeof f);
	int client = (opt >> 1) & 1;
	f.key.addr[0][10] = f.key.addr[0][11] = f.key.addr[1][10] = f.key.addr[1][11] = 0xff;
	f.key.addr[0][12] = f.key.addr[1][12] = 10;
	f.key.addr[0][15] = 1;
	f.key.addr[1][15] = 2;
	f.key.port[client] = 40000;
	f.key.port[!client] = 80;
	f.client_side = (uint8_t)client;
	f.syn_seen[client] = f.syn_seen[!client] = opt & 1;

	uint64_t now = 1700000000ull * 1000000;
	struct fz_rec r;
	while (fz_rec_next(&in, &r)) {
		int side = (r.ctl & FZ_REC_SIDE) ? !client : client;
		now += 1000;
		if (r.ctl & FZ_REC_GAP) {
			session_gap(&env, &f, side, r.len, now);
		} else if (r.ctl & FZ_REC_FIN) {
			session_fin(&env, &f, side, now);
		} else if (r.got) { /* reasm never delivers 0 bytes */
			uint8_t *copy = malloc(r.got);
			FZ_CHECK(copy != NULL);
			memcpy(copy, r.data, r.got);
			feed(&env, &f, side, copy, r.got, bytewise, now);
			free(copy);
		}
	}
	session_end(&env, &f, now);
	fz_session_check_freed(&env);
	return env.stats.h2.v[H2_STAT_CONNECTIONS] == 0 && env.stats.http2_preface == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t opt = fz_u8(&in);
	struct fz_outcome whole = {0, 0}, bytes = {0, 0};
	if (!(opt & 16)) {
		run(in, opt, opt & 4, &whole);
		return 0;
	}
	bool h1_only = run(in, opt, false, &whole);
	h1_only &= run(in, opt, true, &bytes);
	if (h1_only) {
		FZ_CHECK(whole.events == bytes.events);
		FZ_CHECK(whole.hash == bytes.hash);
	}
	return 0;
}
