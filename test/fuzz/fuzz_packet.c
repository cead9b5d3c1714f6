/*
 * fuzz_packet.c - the packet decoder (decoders/packet.c) for every link type,
 * with IP fragment reassembly (sensor/ipfrag.c) and the TCP decode of a
 * rebuilt datagram behind it, the way sensor.c chains them.
 *
 * Input: byte 0 picks the link type (low 3 bits) and one of four fragment
 * limit profiles (bits 3-4: tiny caps exercise eviction and drops); then
 * frames, each [u8 time step in 100 ms][u16 length][bytes]. Every frame is
 * copied to an allocation of its exact size so a read past its end is caught.
 * Asserts what the decoder promises: views point inside their input, the
 * fragment table stays under its byte cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../decoders/packet.h"
#include "../../sensor/ipfrag.h"
#include "fuzz_input.h"

static const struct ipfrag_limits profiles[4] = {
	{.max_bytes = 1u << 20, .max_datagrams = 64, .timeout_us = 30000000,
	 .max_datagram_len = 65535},
	{.max_bytes = 4096, .max_datagrams = 4, .timeout_us = 1000000, .max_datagram_len = 65535},
	{.max_bytes = 1u << 16, .max_datagrams = 1, .timeout_us = 200000, .max_datagram_len = 65535},
	{.max_bytes = 0, .max_datagrams = 2, .timeout_us = 100000, .max_datagram_len = 1500},
};

static int within(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return n == 0 || (p >= base && p <= base + len && n <= (size_t)(base + len - p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t opt = fz_u8(&in);
	enum pkt_link link = (enum pkt_link)(opt & 7);
	const struct ipfrag_limits *lim = &profiles[(opt >> 3) & 3];
	struct ipfrag *frag = ipfrag_new(lim);
	if (!frag)
		return 0;
	uint64_t now = 1700000000ull * 1000000;
	while (fz_left(&in)) {
		now += (uint64_t)fz_u8(&in) * 100000;
		size_t len;
		const uint8_t *src = fz_bytes(&in, fz_u16(&in), &len);
		uint8_t *frame = malloc(len ? len : 1);
		if (!frame)
			break;
		memcpy(frame, src, len);
		struct pkt_view v;
		enum pkt_result r = pkt_decode(link, frame, len, &v);
		if (r == PKT_TCP)
			FZ_CHECK(within(v.payload, v.payload_len, frame, len));
		if (r == PKT_MALFORMED)
			FZ_CHECK(v.bad > PKT_BAD_NONE && v.bad < PKT_BAD__COUNT);
		if (r == PKT_FRAGMENT) {
			FZ_CHECK(within(v.frag_data, v.frag_len, frame, len));
			const uint8_t *dgram;
			size_t dlen;
			if (ipfrag_feed(frag, &v, now, &dgram, &dlen) == 1) {
				FZ_CHECK(dlen <= lim->max_datagram_len);
				if (pkt_decode_tcp(dgram, dlen, &v) == PKT_TCP)
					FZ_CHECK(within(v.payload, v.payload_len, dgram, dlen));
			}
			FZ_CHECK(ipfrag_stats(frag)->bytes_held <= lim->max_bytes);
		}
		free(frame);
	}
	ipfrag_free(frag);
	return 0;
}
