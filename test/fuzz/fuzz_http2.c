/*
 * fuzz_http2.c - HTTP/2 frames and HPACK (decoders/http2.c through libnghttp2's
 * inflater) and the stream bookkeeping of sensor/h2session.c, down to events.
 *
 * Input: byte 0 = options
 *   bit 0  midstream: the connection's start was not seen (resync, lost HPACK)
 *   bit 1  h2c: stream 1 is an upgraded HTTP/1.1 request
 *   bit 2  feed every data record one byte at a time
 *   bit 3  tiny limits (every cap within reach)
 *   bit 4  differential: run whole records, then byte by byte, and require
 *          the same events (frames and HPACK must not depend on the cuts).
 *          Not compared after damage (midstream start, a gap, a bad preface,
 *          any resync or skipped byte): looking for a frame boundary checks
 *          the next header only as far as the bytes reach, so there the
 *          outcome may depend on the cuts by design.
 *   bit 5  memo differential: run with the literal memo (http2.c) on, then
 *          off, and require the same events, damage or not (the memo only
 *          skips decoding the inflater would do identically). Compared when
 *          the run without the memo met no HTTP/2 memory cap: the memo never
 *          makes an allocation fail, but a hit spares the inflater's
 *          transient string buffers, so at the cap's very edge it may keep
 *          decoding where the run without it stopped. The session memcap is
 *          the default one here: the memo's bytes count against it like any
 *          others, so a tiny one could refuse a stream with the memo on only.
 * then stream records (fuzz_input.h): [ctl][u16 len][data], ctl bit 0 = from
 * the server, bit 1 = a gap of len bytes (bit 2, FIN, is ignored here). The
 * client's records normally begin with the 24-byte connection preface.
 * The decoder's memory must all be given back when the connection ends.
 */
#include <stdlib.h>
#include <string.h>

#include "../../sensor/h2session.h"
#include "fuzz_event.h"
#include "fuzz_input.h"
#include "fuzz_session.h"

/* One connection from the records; returns false when it was damaged. */
static bool run(struct fz in, uint8_t opt, bool bytewise, bool memo_off, struct fz_outcome *out,
		uint64_t *refused)
{
	bool gap = false;
	struct session_env env;
	fz_session_env(&env, opt & 8);
	if (opt & 32) {
		struct sensor_limits dl;
		sensor_limits_default(&dl);
		env.lim.memcap = dl.session.memcap;
	}
	if (memo_off)
		env.lim.h2.memo_bytes = 0;
	env.emit = fz_collect;
	env.emit_ctx = out;

	struct api_event endpoints;
	memset(&endpoints, 0, sizeof endpoints);
	endpoints.client_ip[10] = endpoints.client_ip[11] = 0xff;
	endpoints.client_ip[15] = 1;
	endpoints.server_ip[10] = endpoints.server_ip[11] = 0xff;
	endpoints.server_ip[15] = 2;
	endpoints.client_port = 40000;
	endpoints.server_port = 443;
	struct h2session *h = h2session_new(&env, &endpoints, opt & 1);
	if (!h)
		return false;
	uint64_t now = 1700000000ull * 1000000;
	if (opt & 2) {
		struct api_event req = endpoints;
		req.proto = EV_HTTP11;
		req.ts_us = now;
		exchange_set_method(&req, "GET", 3);
		exchange_set_target(&req, "/upgraded?x=1", 13);
		req.grpc_status = -1;
		h2session_upgrade(h, &req);
	}
	struct fz_rec r;
	while (fz_rec_next(&in, &r)) {
		bool from_client = !(r.ctl & FZ_REC_SIDE);
		now += 1000;
		if (r.ctl & FZ_REC_GAP) {
			h2session_gap(h, from_client, r.len, now);
			gap = true;
			continue;
		}
		if ((r.ctl & FZ_REC_FIN) || !r.got) /* reasm never delivers 0 bytes */
			continue;
		uint8_t *copy = malloc(r.got);
		FZ_CHECK(copy != NULL);
		memcpy(copy, r.data, r.got);
		if (bytewise) {
			for (size_t i = 0; i < r.got; i++)
				h2session_data(h, from_client, copy + i, 1, now);
		} else {
			h2session_data(h, from_client, copy, r.got, now);
		}
		free(copy);
	}
	h2session_end(h, now);
	fz_session_check_freed(&env);
	const uint64_t *v = env.stats.h2.v;
	if (refused)
		*refused = v[H2_STAT_MEMORY_CAP];
	return !gap && !v[H2_STAT_MIDSTREAM] && !v[H2_STAT_BAD_PREFACE] && !v[H2_STAT_RESYNCS] &&
	       !v[H2_STAT_BYTES_SKIPPED] && !v[H2_STAT_GAVE_UP];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t opt = fz_u8(&in);
	struct fz_outcome whole = {0, 0}, bytes = {0, 0};
	if (opt & 32) {
		struct fz_outcome off = {0, 0};
		uint64_t refused_on, refused_off;
		run(in, opt, opt & 4, false, &whole, &refused_on);
		run(in, opt, opt & 4, true, &off, &refused_off);
		if (refused_off == 0) {
			FZ_CHECK(refused_on == 0);
			FZ_CHECK(whole.events == off.events);
			FZ_CHECK(whole.hash == off.hash);
		}
		return 0;
	}
	if (!(opt & 16)) {
		run(in, opt, opt & 4, false, &whole, NULL);
		return 0;
	}
	bool undamaged = run(in, opt, false, false, &whole, NULL);
	undamaged &= run(in, opt, true, false, &bytes, NULL);
	if (undamaged) {
		FZ_CHECK(whole.events == bytes.events);
		FZ_CHECK(whole.hash == bytes.hash);
	}
	return 0;
}
