/*
 * churn-gen.c - a synthetic flow-churn capture for `make bench`: many short
 * TCP connections, each one tiny HTTP/1.1 exchange, interleaved with a SYN
 * flood from spoofed sources. It exists to show that tapir's memory stays at
 * its caps (flows.max and the reassembly/session memcaps) however many flows
 * go by: the flows outnumber any sensible flows.max, and every flood SYN
 * would be a flow of its own.
 *
 *   churn-gen OUT.pcap [FLOWS [SYNS]]     defaults 1000000 and 1000000
 *
 * Per connection (client 10.a.b.c:port -> 198.18.0.10:80), 6 frames:
 *   SYN, SYN-ACK, ACK + "GET /v1/items/N", response + FIN, ACK + FIN, ACK
 * and after each connection one flood SYN from a random 100.64.0.0/10
 * address to :80 (never answered). Packet time advances 2 µs per frame, so
 * the whole file spans a few seconds of packet time: closed flows stay within
 * flows' closed timeout and must be evicted, not expired. Checksums (IPv4 and
 * TCP) are valid. Written with libpcap's pcap_dump (Ethernet, µs).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, FIN = 0x01 };

static pcap_dumper_t *out;
static uint64_t now_us = 1764374400ull * 1000000; /* 2025-11-29T00:00:00Z */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

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

/* One Ethernet/IPv4/TCP frame with payload, written at the current packet time. */
static void frame(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq,
		  uint32_t ack, uint8_t flags, const char *data, size_t len)
{
	uint8_t f[1514] = {0};
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	uint8_t *ip = f + 14, *tcp = ip + 20;
	memcpy(f, macs, 12);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + len));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + 20, data, len);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, (uint16_t)(20 + len));
	put16(tcp + 16, fold(sum16(tcp, 20 + len, sum16(pseudo, 12, 0))));

	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)(54 + len), .len = (bpf_u_int32)(54 + len)};
	h.ts.tv_sec = (time_t)(now_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(now_us % 1000000);
	pcap_dump((u_char *)out, &h, f);
	now_us += 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: churn-gen OUT.pcap [FLOWS [SYNS]]\n");
		return 2;
	}
	unsigned long flows = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	unsigned long syns = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	out = dead ? pcap_dump_open(dead, argv[1]) : NULL;
	if (!out) {
		fprintf(stderr, "churn-gen: %s: %s\n", argv[1], dead ? pcap_geterr(dead) : "no memory");
		return 2;
	}
	const uint32_t server = 198u << 24 | 18u << 16 | 10; /* 198.18.0.10 */
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	unsigned long n = flows > syns ? flows : syns;
	for (unsigned long i = 0; i < n; i++) {
		if (i < flows) {
			uint32_t cli = 10u << 24 | (uint32_t)(i / 50000) << 8 | (uint32_t)(i % 250 + 1);
			uint16_t port = (uint16_t)(1024 + i % 60000);
			uint32_t cs = (uint32_t)i * 7919u, ss = (uint32_t)i * 104729u;
			char req[128], resp[128];
			int qn = snprintf(req, sizeof req,
					  "GET /v1/items/%lu HTTP/1.1\r\nHost: api.example.com\r\n\r\n", i);
			int rn = snprintf(resp, sizeof resp,
					  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
					  "Content-Length: 2\r\n\r\n{}");
			frame(cli, port, server, 80, cs, 0, SYN, "", 0);
			frame(server, 80, cli, port, ss, cs + 1, SYN | ACK, "", 0);
			frame(cli, port, server, 80, cs + 1, ss + 1, ACK | PSH, req, (size_t)qn);
			frame(server, 80, cli, port, ss + 1, cs + 1 + (uint32_t)qn, ACK | PSH | FIN,
			      resp, (size_t)rn);
			frame(cli, port, server, 80, cs + 1 + (uint32_t)qn, ss + 2 + (uint32_t)rn,
			      ACK | FIN, "", 0);
			frame(server, 80, cli, port, ss + 2 + (uint32_t)rn, cs + 2 + (uint32_t)qn, ACK,
			      "", 0);
		}
		if (i < syns) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			uint32_t spoofed = 100u << 24 | 64u << 16 | (uint32_t)(rng & 0x3fffff);
			frame(spoofed, (uint16_t)(1024 + (rng >> 32) % 64000), server, 80,
			      (uint32_t)(rng >> 20), 0, SYN, "", 0);
		}
	}
	pcap_dump_close(out);
	pcap_close(dead);
	return 0;
}
