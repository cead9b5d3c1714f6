/*
 * fuzz_tcp.c - the whole sensor below output: sensor_packet() on Ethernet
 * frames synthesised from the input, so the fuzzer steers TCP flags, sequence
 * and acknowledgement numbers, timing and payloads of both directions of up
 * to four connections, through flow.c, tcp.c, reasm.c, session.c (HTTP/1 and
 * HTTP/2) and exchange.c down to the emitted events.
 *
 * Input: byte 0 = options
 *   bit 0      tiny limits (2 flows, 4 held segments, small memory caps)
 *   bit 1      initial sequence numbers just below 2^32 (wrap-around)
 *   bit 2      IPv6 instead of IPv4
 * then segments, each
 *   [u8 ctl][u8 TCP flags][u16 seq offset][u8 time step][u16 length][payload]
 *   ctl bit 0: direction (0 client->server), bits 1-2: connection,
 *   bit 3: seq offset counts 4 KiB units, bit 4: the capture cut the frame
 *   short (half the payload), bit 5: acknowledgement not sent (ACK off).
 * The seq offset is a signed distance from the next byte this direction has
 * not sent yet, so in-order data is offset 0 and the fuzzer still reaches
 * overlaps, holes and retransmissions. ACK numbers follow the peer's data.
 * Events are checked by fz_check_event, the memory gauges once all flows
 * ended; each input gets a fresh sensor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sensor/sensor.h"
#include "fuzz_event.h"
#include "fuzz_input.h"

#define CONNS 4
#define MAX_PAYLOAD (65535 - 60 - 40)

struct conn_state {
	uint32_t next[2]; /* next unsent sequence number, per direction */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Ethernet + IP + 20-byte TCP header + payload; returns the frame length. */
static size_t build_frame(uint8_t *f, bool v6, int conn, int dir, uint8_t flags, uint32_t seq,
			  uint32_t ack, const uint8_t *payload, size_t len)
{
	uint16_t cport = (uint16_t)(40000 + conn), sport = conn & 1 ? 8080 : 80;
	uint8_t caddr = (uint8_t)(10 + conn), saddr = 1;
	memset(f, 0, 14);
	f[5] = (uint8_t)(dir + 1);
	f[11] = (uint8_t)(2 - dir);
	put16(f + 12, v6 ? 0x86dd : 0x0800);
	uint8_t *ip = f + 14;
	size_t iphl = v6 ? 40 : 20;
	memset(ip, 0, iphl);
	uint8_t src = dir ? saddr : caddr, dst = dir ? caddr : saddr;
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(20 + len));
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0x20;
		ip[8 + 15] = src;
		ip[24] = 0x20;
		ip[24 + 15] = dst;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + 20 + len));
		ip[8] = 64;
		ip[9] = 6;
		ip[12] = 10;
		ip[15] = src;
		ip[16] = 10;
		ip[19] = dst;
	}
	uint8_t *tcp = ip + iphl;
	memset(tcp, 0, 20);
	put16(tcp, dir ? sport : cport);
	put16(tcp + 2, dir ? cport : sport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + 20, payload, len);
	return 14 + iphl + 20 + len;
}

static void limits(struct sensor_limits *lim, bool tiny)
{
	sensor_limits_default(lim);
	if (!tiny)
		return;
	lim->flow.max_flows = 2;
	lim->reasm = (struct reasm_limits){.max_held_bytes = 4096, .max_held_segs = 4};
	lim->reasm_memcap = 6000;
	lim->session.h1 = (struct h1_limits){.max_head_bytes = 512, .max_line_bytes = 64,
					     .max_resync_bytes = 1024};
	lim->session.max_pending = 2;
	lim->session.memcap = 1u << 16;
	lim->session.h2.max_block_bytes = 256;
	lim->session.h2.max_header_list = 512;
	lim->session.h2.max_continuations = 2;
	lim->session.h2.max_table_size = 256;
	lim->session.h2.max_memory = 16384;
	lim->session.h2.max_resync_bytes = 1024;
	lim->session.h2.max_streams = 2;
}

/*
 * Once every flow has ended, the HTTP layers hold nothing: each "memory"
 * gauge of the stats (HTTP/1 sessions, HTTP/2 decoders) reads 0.
 */
static void check_all_released(const struct sensor *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FZ_CHECK(f != NULL);
	struct sensor_stats st;
	sensor_get_stats(s, &st);
	sensor_stats_json(&st, f);
	FZ_CHECK(fclose(f) == 0);
	int gauges = 0;
	for (const char *p = buf; (p = strstr(p, "\"memory\":")); p += 9, gauges++)
		FZ_CHECK(p[9] == '0' && (p[10] == ',' || p[10] == '}'));
	FZ_CHECK(gauges == 2);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t opt = fz_u8(&in);
	struct sensor_limits lim;
	limits(&lim, opt & 1);
	struct sensor *s = sensor_new(&lim, fz_check_event, NULL, 42);
	if (!s)
		return 0;
	bool v6 = opt & 4;
	struct conn_state conns[CONNS];
	for (int c = 0; c < CONNS; c++)
		for (int d = 0; d < 2; d++)
			conns[c].next[d] = (opt & 2) ? 0xffffff00u - 0x10u * (uint32_t)(2 * c + d)
						     : 1000u * (uint32_t)(2 * c + d + 1);
	uint64_t now = 1700000000ull * 1000000;
	while (fz_left(&in)) {
		uint8_t ctl = fz_u8(&in), flags = fz_u8(&in);
		int16_t off = (int16_t)fz_u16(&in);
		now += (uint64_t)fz_u8(&in) * 10000;
		size_t len;
		const uint8_t *payload = fz_bytes(&in, fz_u16(&in), &len);
		if (len > MAX_PAYLOAD)
			len = MAX_PAYLOAD;
		int dir = ctl & 1, c = (ctl >> 1) & 3;
		uint32_t *next = &conns[c].next[dir];
		uint32_t seq = *next + (uint32_t)((int32_t)off * ((ctl & 8) ? 4096 : 1));
		uint32_t ack = conns[c].next[!dir];
		if (ctl & 32)
			flags &= (uint8_t)~0x10;
		uint8_t *frame = malloc(14 + 40 + 20 + len);
		if (!frame)
			break;
		size_t flen = build_frame(frame, v6, c, dir, flags, seq, ack, payload, len);
		if (ctl & 16) {
			/* cut short: into an exact-size copy so ASan sees overreads */
			flen -= len / 2;
			uint8_t *cut = malloc(flen);
			if (cut)
				memcpy(cut, frame, flen);
			free(frame);
			if (!(frame = cut))
				break;
		}
		sensor_packet(s, PKT_LINK_ETHERNET, now, frame, flen);
		free(frame);
		uint32_t end = seq + (uint32_t)len + !!(flags & 0x02) + !!(flags & 0x01);
		if ((int32_t)(end - *next) > 0)
			*next = end;
	}
	sensor_finish(s);
	check_all_released(s);
	sensor_free(s);
	return 0;
}
