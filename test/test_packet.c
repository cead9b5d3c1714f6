/*
 * test_packet.c - decoders/packet.c against hand-built frames and one real
 * capture.
 *
 * Frames are written byte by byte with the helpers below (never a struct cast),
 * then decoded from a heap copy of exactly the captured length, so ASan catches
 * a read one byte past the end. Every valid frame is also decoded at every
 * shorter length, and mutated frames are thrown at every link type.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../decoders/packet.h"
#include "unit.h"

#define QINQ_PCAP "/work/shared/pcaps/public/zeek/http-qinq-0.pcap"

struct buf {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct buf *b, uint8_t x)
{
	b->b[b->n++] = x;
}

static void put16(struct buf *b, uint16_t x)
{
	put8(b, (uint8_t)(x >> 8));
	put8(b, (uint8_t)x);
}

static void put32(struct buf *b, uint32_t x)
{
	put16(b, (uint16_t)(x >> 16));
	put16(b, (uint16_t)x);
}

static void put_le32(struct buf *b, uint32_t x)
{
	put8(b, (uint8_t)x);
	put8(b, (uint8_t)(x >> 8));
	put8(b, (uint8_t)(x >> 16));
	put8(b, (uint8_t)(x >> 24));
}

static void put_fill(struct buf *b, size_t n, uint8_t x)
{
	memset(b->b + b->n, x, n);
	b->n += n;
}

static void put_payload(struct buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(b, (uint8_t)('a' + i % 26));
}

static void put_eth(struct buf *b, uint16_t type)
{
	static const uint8_t macs[12] = {0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef,
					 0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0};
	memcpy(b->b + b->n, macs, sizeof(macs));
	b->n += sizeof(macs);
	put16(b, type);
}

/* The tag body after a TPID: TCI (PCP bits set to check the 12-bit mask), next type. */
static void put_vlan(struct buf *b, uint16_t id, uint16_t next)
{
	put16(b, (uint16_t)(0xa000 | id));
	put16(b, next);
}

/* IPv4 10.0.0.1 -> 192.168.1.2, ttl 64; `optlen` bytes of NOP options. */
static void put_ip4(struct buf *b, size_t optlen, size_t l4len, uint16_t id, uint16_t fragw,
		    uint8_t proto)
{
	size_t hlen = 20 + optlen;
	put8(b, (uint8_t)(0x40 | hlen / 4));
	put8(b, 0);
	put16(b, (uint16_t)(hlen + l4len));
	put16(b, id);
	put16(b, fragw);
	put8(b, 64);
	put8(b, proto);
	put16(b, 0xbeef);
	put32(b, 0x0a000001);
	put32(b, 0xc0a80102);
	put_fill(b, optlen, 0x01);
}

static const uint8_t ip6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t ip6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void put_ip6(struct buf *b, size_t plen, uint8_t nh)
{
	put32(b, 0x60012345);
	put16(b, (uint16_t)plen);
	put8(b, nh);
	put8(b, 63);
	memcpy(b->b + b->n, ip6_src, 16);
	b->n += 16;
	memcpy(b->b + b->n, ip6_dst, 16);
	b->n += 16;
}

/* hop-by-hop / routing / destination options: `units` extra 8-byte units. */
static void put_ip6_ext(struct buf *b, uint8_t next, uint8_t units)
{
	put8(b, next);
	put8(b, units);
	put_fill(b, 6 + 8 * (size_t)units, 0);
}

static void put_ip6_frag(struct buf *b, uint8_t next, uint16_t offset, int more, uint32_t id)
{
	put8(b, next);
	put8(b, 0);
	put16(b, (uint16_t)(offset | (more ? 1 : 0)));
	put32(b, id);
}

static void put_tcp(struct buf *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		    uint8_t flags, size_t optlen)
{
	put16(b, sport);
	put16(b, dport);
	put32(b, seq);
	put32(b, ack);
	put8(b, (uint8_t)(((20 + optlen) / 4) << 4));
	put8(b, flags);
	put16(b, 29200);
	put16(b, 0);
	put16(b, 0);
	put_fill(b, optlen, 0x01);
}

/* IPv4 + TCP (20-byte header) + payload. */
static void put_ip4_tcp(struct buf *b, size_t optlen, size_t paylen)
{
	put_ip4(b, optlen, 20 + paylen, 0x1234, 0x4000, 6);
	put_tcp(b, 40000, 80, 1000, 2000, TCP_PSH | TCP_ACK, 0);
	put_payload(b, paylen);
}

static void put_ip6_tcp(struct buf *b, size_t paylen)
{
	put_ip6(b, 20 + paylen, 6);
	put_tcp(b, 40000, 443, 7, 9, TCP_ACK, 0);
	put_payload(b, paylen);
}

/* Decodes from a heap copy of exactly `len` bytes, so overreads trip ASan. */
static enum pkt_result decode(enum pkt_link link, const uint8_t *frame, size_t len,
			      struct pkt_view *v)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, frame, len);
	enum pkt_result r = pkt_decode(link, copy, len, v);
	/* Views into the copy must not outlive it. */
	if (v->payload)
		v->payload = frame + (v->payload - copy);
	if (v->frag_data)
		v->frag_data = frame + (v->frag_data - copy);
	free(copy);
	return r;
}

static enum pkt_result decode_buf(enum pkt_link link, const struct buf *b, struct pkt_view *v)
{
	return decode(link, b->b, b->n, v);
}

/* Every proper prefix of a complete frame is malformed; short of the link header, LINK_SHORT. */
static void check_prefixes(enum pkt_link link, const struct buf *b, size_t linkhdr)
{
	for (size_t cut = 0; cut < b->n; cut++) {
		struct pkt_view v;
		enum pkt_result r = decode(link, b->b, cut, &v);
		if (r == PKT_TCP) {
			/* Cut inside the TCP payload: decoded as far as captured. */
			CHECK(v.truncated);
			CHECK(v.payload + v.payload_len <= b->b + cut);
			continue;
		}
		CHECK_EQ(r, PKT_MALFORMED);
		CHECK(v.bad != PKT_BAD_NONE && v.bad < PKT_BAD__COUNT);
		if (cut < linkhdr)
			CHECK_EQ(v.bad, PKT_BAD_LINK_SHORT);
		if (r != PKT_MALFORMED || v.bad == PKT_BAD_NONE)
			fprintf(stderr, "  (link %d, prefix %zu of %zu)\n", link, cut, b->n);
	}
}

static void check_ip4_tcp(const struct pkt_view *v, size_t paylen)
{
	static const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
	static const uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2};
	CHECK_EQ(v->ip_version, 4);
	CHECK(memcmp(v->src, src, 16) == 0);
	CHECK(memcmp(v->dst, dst, 16) == 0);
	CHECK_EQ(v->ttl, 64);
	CHECK_EQ(v->sport, 40000);
	CHECK_EQ(v->dport, 80);
	CHECK_EQ(v->seq, 1000);
	CHECK_EQ(v->ack, 2000);
	CHECK_EQ(v->flags, TCP_PSH | TCP_ACK);
	CHECK_EQ(v->window, 29200);
	CHECK_EQ(v->payload_len, paylen);
	if (paylen)
		CHECK(v->payload && v->payload[0] == 'a' && v->payload[paylen - 1] ==
							       (uint8_t)('a' + (paylen - 1) % 26));
	CHECK_EQ(v->bad, PKT_BAD_NONE);
}

static void check_ip6_tcp(const struct pkt_view *v, size_t paylen)
{
	CHECK_EQ(v->ip_version, 6);
	CHECK(memcmp(v->src, ip6_src, 16) == 0);
	CHECK(memcmp(v->dst, ip6_dst, 16) == 0);
	CHECK_EQ(v->ttl, 63);
	CHECK_EQ(v->sport, 40000);
	CHECK_EQ(v->dport, 443);
	CHECK_EQ(v->seq, 7);
	CHECK_EQ(v->ack, 9);
	CHECK_EQ(v->flags, TCP_ACK);
	CHECK_EQ(v->payload_len, paylen);
	if (paylen)
		CHECK(v->payload && v->payload[0] == 'a');
}

static void test_link_from_dlt(void)
{
	CHECK_EQ(pkt_link_from_dlt(1), PKT_LINK_ETHERNET);
	CHECK_EQ(pkt_link_from_dlt(113), PKT_LINK_SLL);
	CHECK_EQ(pkt_link_from_dlt(276), PKT_LINK_SLL2);
	CHECK_EQ(pkt_link_from_dlt(12), PKT_LINK_RAW);
	CHECK_EQ(pkt_link_from_dlt(14), PKT_LINK_RAW);
	CHECK_EQ(pkt_link_from_dlt(101), PKT_LINK_RAW);
	CHECK_EQ(pkt_link_from_dlt(228), PKT_LINK_IPV4);
	CHECK_EQ(pkt_link_from_dlt(229), PKT_LINK_IPV6);
	CHECK_EQ(pkt_link_from_dlt(0), PKT_LINK_NULL);
	CHECK_EQ(pkt_link_from_dlt(108), PKT_LINK_LOOP);
	CHECK_EQ(pkt_link_from_dlt(105), -1); /* 802.11 */
	CHECK_EQ(pkt_link_from_dlt(127), -1); /* radiotap */
	CHECK_EQ(pkt_link_from_dlt(-1), -1);
	CHECK_EQ(pkt_link_from_dlt(100000), -1);
}

static void test_bad_names(void)
{
	for (int i = 0; i < PKT_BAD__COUNT; i++) {
		CHECK(pkt_bad_names[i] != NULL);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(pkt_bad_names[i], pkt_bad_names[j]) != 0);
	}
	CHECK_STR(pkt_bad_names[PKT_BAD_IP4_HEADER], "ip4_header");
	CHECK_STR(pkt_bad_names[PKT_BAD_NONE], "none");
}

static void test_ethernet_ip4_tcp(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put_eth(&b, 0x0800);
	put_ip4_tcp(&b, 0, 100);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 100);
	CHECK_EQ(v.vlan_depth, 0);
	CHECK_EQ(v.vlan[0], 0);
	CHECK(v.payload == b.b + 14 + 40);
	check_prefixes(PKT_LINK_ETHERNET, &b, 14);
}

static void test_ip4_options(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put_eth(&b, 0x0800);
	put_ip4_tcp(&b, 40, 5); /* IHL 15, the largest */
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 5);
	CHECK(v.payload == b.b + 14 + 60 + 20);
	check_prefixes(PKT_LINK_ETHERNET, &b, 14);

	b.n = 0;
	put_eth(&b, 0x0800);
	put_ip4_tcp(&b, 12, 0);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 0);
}

static void test_tcp_options_and_flags(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put_ip4(&b, 0, 32 + 3, 1, 0, 6);
	put_tcp(&b, 1, 2, 0xfffffffful, 0x80000000ul, 0xd2, 12); /* CWR|ECE|ACK|SYN */
	put_payload(&b, 3);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_TCP);
	CHECK_EQ(v.flags, TCP_SYN | TCP_ACK);
	CHECK_EQ(v.seq, 0xfffffffful);
	CHECK_EQ(v.ack, 0x80000000ul);
	CHECK_EQ(v.payload_len, 3);
	CHECK(v.payload == b.b + 20 + 32);
	check_prefixes(PKT_LINK_IPV4, &b, 0);
}

static void test_ethernet_padding(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	/* 54 bytes of headers, padded to the 60-byte Ethernet minimum. */
	put_eth(&b, 0x0800);
	put_ip4_tcp(&b, 0, 0);
	put_fill(&b, 6, 0xee);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 0);

	b.n = 0;
	put_eth(&b, 0x0800);
	put_ip4_tcp(&b, 0, 2);
	put_fill(&b, 4, 0xee);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 2);
	/* Cutting only padding leaves a good packet. */
	for (size_t cut = b.n - 4; cut <= b.n; cut++) {
		CHECK_EQ(decode(PKT_LINK_ETHERNET, b.b, cut, &v), PKT_TCP);
		CHECK_EQ(v.payload_len, 2);
	}

	b.n = 0;
	put_eth(&b, 0x86dd);
	put_ip6_tcp(&b, 1);
	put_fill(&b, 16, 0xee);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip6_tcp(&v, 1);
}

static void test_vlan_single(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put_eth(&b, 0x8100);
	put_vlan(&b, 100, 0x0800);
	put_ip4_tcp(&b, 0, 10);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 10);
	CHECK_EQ(v.vlan_depth, 1);
	CHECK_EQ(v.vlan[0], 100);
	CHECK_EQ(v.vlan[1], 0);
	check_prefixes(PKT_LINK_ETHERNET, &b, 14);
	/* A frame cut inside the tag is VLAN_SHORT. */
	CHECK_EQ(decode(PKT_LINK_ETHERNET, b.b, 16, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_VLAN_SHORT);
	CHECK_EQ(decode(PKT_LINK_ETHERNET, b.b, 14, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_VLAN_SHORT);
}

static void test_vlan_double(void)
{
	static const uint16_t outer[] = {0x88a8, 0x9100, 0x8100};
	for (size_t i = 0; i < sizeof(outer) / sizeof(outer[0]); i++) {
		struct buf b = {.n = 0};
		struct pkt_view v;
		put_eth(&b, outer[i]);
		put_vlan(&b, 4095, 0x8100);
		put_vlan(&b, 7, 0x86dd);
		put_ip6_tcp(&b, 33);
		CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
		check_ip6_tcp(&v, 33);
		CHECK_EQ(v.vlan_depth, 2);
		CHECK_EQ(v.vlan[0], 4095);
		CHECK_EQ(v.vlan[1], 7);
		check_prefixes(PKT_LINK_ETHERNET, &b, 14);
	}
}

static void test_vlan_deep(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	/* PKT_MAX_VLAN tags: walked, the outer two recorded. */
	put_eth(&b, 0x88a8);
	for (uint16_t i = 1; i < PKT_MAX_VLAN; i++)
		put_vlan(&b, i, 0x8100);
	put_vlan(&b, PKT_MAX_VLAN, 0x0800);
	put_ip4_tcp(&b, 0, 1);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	CHECK_EQ(v.vlan_depth, PKT_MAX_VLAN);
	CHECK_EQ(v.vlan[0], 1);
	CHECK_EQ(v.vlan[1], 2);
	check_ip4_tcp(&v, 1);

	/* One more is too deep. */
	b.n = 0;
	put_eth(&b, 0x8100);
	for (uint16_t i = 0; i < PKT_MAX_VLAN + 1; i++)
		put_vlan(&b, i, 0x8100);
	put_ip4_tcp(&b, 0, 1);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_VLAN_DEPTH);
}

static void test_sll(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put16(&b, 0);      /* packet type: to us */
	put16(&b, 1);      /* ARPHRD_ETHER */
	put16(&b, 6);      /* address length */
	put_fill(&b, 8, 0x11);
	put16(&b, 0x0800);
	put_ip4_tcp(&b, 0, 7);
	CHECK_EQ(decode_buf(PKT_LINK_SLL, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 7);
	check_prefixes(PKT_LINK_SLL, &b, 16);

	/* Tags left in by the kernel are walked as on Ethernet. */
	b.n = 0;
	put16(&b, 4);
	put16(&b, 1);
	put16(&b, 6);
	put_fill(&b, 8, 0x11);
	put16(&b, 0x8100);
	put_vlan(&b, 42, 0x86dd);
	put_ip6_tcp(&b, 0);
	CHECK_EQ(decode_buf(PKT_LINK_SLL, &b, &v), PKT_TCP);
	check_ip6_tcp(&v, 0);
	CHECK_EQ(v.vlan_depth, 1);
	CHECK_EQ(v.vlan[0], 42);

	b.n = 0;
	put16(&b, 0);
	put16(&b, 772); /* loopback */
	put16(&b, 0);
	put_fill(&b, 8, 0);
	put16(&b, 0x0806); /* ARP */
	put_fill(&b, 28, 0);
	CHECK_EQ(decode_buf(PKT_LINK_SLL, &b, &v), PKT_OTHER);
	CHECK_EQ(v.bad, PKT_BAD_NONE);
}

static void test_sll2(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put16(&b, 0x86dd); /* protocol */
	put16(&b, 0);      /* reserved */
	put32(&b, 3);      /* ifindex */
	put16(&b, 1);      /* ARPHRD_ETHER */
	put8(&b, 0);       /* packet type */
	put8(&b, 6);       /* address length */
	put_fill(&b, 8, 0x22);
	put_ip6_tcp(&b, 12);
	CHECK_EQ(decode_buf(PKT_LINK_SLL2, &b, &v), PKT_TCP);
	check_ip6_tcp(&v, 12);
	check_prefixes(PKT_LINK_SLL2, &b, 20);

	b.n = 0;
	put16(&b, 0x0800);
	put_fill(&b, 18, 0);
	put_ip4_tcp(&b, 0, 1);
	CHECK_EQ(decode_buf(PKT_LINK_SLL2, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 1);
}

static void test_null_and_loop(void)
{
	static const uint32_t af6[] = {10, 24, 28, 30};
	struct buf b = {.n = 0};
	struct pkt_view v;

	/* DLT_NULL: either byte order. */
	put_le32(&b, 2);
	put_ip4_tcp(&b, 0, 3);
	CHECK_EQ(decode_buf(PKT_LINK_NULL, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 3);
	check_prefixes(PKT_LINK_NULL, &b, 4);
	b.n = 0;
	put32(&b, 2);
	put_ip4_tcp(&b, 0, 3);
	CHECK_EQ(decode_buf(PKT_LINK_NULL, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 3);
	for (size_t i = 0; i < sizeof(af6) / sizeof(af6[0]); i++) {
		b.n = 0;
		put_le32(&b, af6[i]);
		put_ip6_tcp(&b, 4);
		CHECK_EQ(decode_buf(PKT_LINK_NULL, &b, &v), PKT_TCP);
		check_ip6_tcp(&v, 4);
		b.n = 0;
		put32(&b, af6[i]);
		put_ip6_tcp(&b, 4);
		CHECK_EQ(decode_buf(PKT_LINK_NULL, &b, &v), PKT_TCP);
		check_ip6_tcp(&v, 4);
		/* DLT_LOOP is network order only. */
		CHECK_EQ(decode_buf(PKT_LINK_LOOP, &b, &v), PKT_TCP);
		check_ip6_tcp(&v, 4);
	}
	/* An AF we do not decode (AF_APPLETALK, 16) is OTHER. */
	b.n = 0;
	put_le32(&b, 16);
	put_ip4_tcp(&b, 0, 3);
	CHECK_EQ(decode_buf(PKT_LINK_NULL, &b, &v), PKT_OTHER);

	b.n = 0;
	put32(&b, 2);
	put_ip4_tcp(&b, 0, 3);
	CHECK_EQ(decode_buf(PKT_LINK_LOOP, &b, &v), PKT_TCP);
	check_ip4_tcp(&v, 3);
	check_prefixes(PKT_LINK_LOOP, &b, 4);
	b.n = 0;
	put_le32(&b, 2); /* host order is wrong for DLT_LOOP */
	put_ip4_tcp(&b, 0, 3);
	CHECK_EQ(decode_buf(PKT_LINK_LOOP, &b, &v), PKT_OTHER);
	/* AF says IPv4, the packet is IPv6. */
	b.n = 0;
	put32(&b, 2);
	put_ip6_tcp(&b, 3);
	CHECK_EQ(decode_buf(PKT_LINK_LOOP, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP_VERSION);
}

static void test_raw_and_ip_links(void)
{
	struct buf b4 = {.n = 0}, b6 = {.n = 0};
	struct pkt_view v;
	put_ip4_tcp(&b4, 0, 9);
	put_ip6_tcp(&b6, 9);

	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b4, &v), PKT_TCP);
	check_ip4_tcp(&v, 9);
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b6, &v), PKT_TCP);
	check_ip6_tcp(&v, 9);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b4, &v), PKT_TCP);
	check_ip4_tcp(&v, 9);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b6, &v), PKT_TCP);
	check_ip6_tcp(&v, 9);
	check_prefixes(PKT_LINK_RAW, &b4, 1);
	check_prefixes(PKT_LINK_RAW, &b6, 1);
	check_prefixes(PKT_LINK_IPV4, &b4, 0);
	check_prefixes(PKT_LINK_IPV6, &b6, 0);

	/* The link says one version, the packet another. */
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b6, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP_VERSION);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b4, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP_VERSION);
	struct buf e = {.n = 0};
	put_eth(&e, 0x0800);
	put_ip6_tcp(&e, 0);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &e, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP_VERSION);

	/* Raw with a version that is neither. */
	b4.b[0] = 0x55;
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b4, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP_VERSION);
	CHECK_EQ(pkt_decode(PKT_LINK_RAW, b4.b, 0, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_LINK_SHORT);
}

static void test_other(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;

	put_eth(&b, 0x0806); /* ARP */
	put_fill(&b, 28, 0);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_OTHER);
	CHECK_EQ(v.bad, PKT_BAD_NONE);

	b.n = 0;
	put_eth(&b, 0x0026); /* 802.3 length field, LLC follows */
	put_fill(&b, 38, 0x42);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_OTHER);

	b.n = 0;
	put_ip4(&b, 0, 8, 1, 0, 17); /* UDP */
	put_fill(&b, 8, 0);
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b, &v), PKT_OTHER);
	CHECK_EQ(v.ip_version, 4);

	b.n = 0;
	put_ip6(&b, 8, 58); /* ICMPv6 */
	put_fill(&b, 8, 0);
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b, &v), PKT_OTHER);
	CHECK_EQ(v.ip_version, 6);

	b.n = 0;
	put_ip6(&b, 8, 0); /* hop-by-hop, then no next header */
	put_ip6_ext(&b, 59, 0);
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b, &v), PKT_OTHER);

	b.n = 0;
	put_ip6(&b, 0, 59);
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b, &v), PKT_OTHER);

	b.n = 0;
	put_ip6(&b, 16, 50); /* ESP: opaque */
	put_fill(&b, 16, 0);
	CHECK_EQ(decode_buf(PKT_LINK_RAW, &b, &v), PKT_OTHER);
}

static void test_ip4_malformed(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put_ip4_tcp(&b, 0, 4);

	struct buf m = b;
	m.b[0] = 0x44; /* IHL 4 */
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP4_HEADER);

	m = b;
	m.b[0] = 0x4f; /* IHL 15: 60 bytes, frame has 44 */
	m.n = 44;
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP4_HEADER);

	m = b;
	m.b[2] = 0;
	m.b[3] = 19; /* total length < header */
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP4_LENGTH);

	m = b;
	m.b[3] = (uint8_t)(m.b[3] + 1); /* one byte more than captured: snaplen cut */
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_TCP);
	CHECK(v.truncated);

	m = b;
	m.b[20 + 12] = 0x40; /* TCP data offset 4 */
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_TCP_HEADER);

	m = b;
	m.b[20 + 12] = 0x70; /* 28-byte TCP header in a 24-byte IP payload */
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_TCP_HEADER);

	/* IP payload shorter than a TCP header, frame padded past it. */
	m.n = 0;
	put_ip4(&m, 0, 10, 1, 0, 6);
	put_fill(&m, 30, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &m, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_TCP_HEADER);
}

static void test_ip4_fragments(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;

	/* First fragment: MF, offset 0; the TCP header is in it but it is a fragment. */
	put_eth(&b, 0x0800);
	put_ip4(&b, 0, 24, 0xabcd, 0x2000, 6);
	put_tcp(&b, 1, 2, 3, 4, TCP_ACK, 0);
	put_payload(&b, 4);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_FRAGMENT);
	CHECK_EQ(v.frag_id, 0xabcd);
	CHECK_EQ(v.frag_offset, 0);
	CHECK(v.frag_more);
	CHECK_EQ(v.frag_proto, 6);
	CHECK_EQ(v.frag_len, 24);
	CHECK(v.frag_data == b.b + 14 + 20);
	CHECK_EQ(v.ip_version, 4);
	CHECK_EQ(v.sport, 0); /* TCP fields stay empty */
	check_prefixes(PKT_LINK_ETHERNET, &b, 14);

	/* Last fragment: offset 3 * 8, MF clear, any length. */
	b.n = 0;
	put_ip4(&b, 0, 5, 0xabcd, 3, 6);
	put_payload(&b, 5);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_FRAGMENT);
	CHECK_EQ(v.frag_offset, 24);
	CHECK(!v.frag_more);
	CHECK_EQ(v.frag_len, 5);

	/* DF alone is not a fragment. */
	b.n = 0;
	put_ip4(&b, 0, 20, 1, 0x4000, 6);
	put_tcp(&b, 1, 2, 3, 4, TCP_ACK, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_TCP);

	/* UDP fragments are fragments too; the caller decides. */
	b.n = 0;
	put_ip4(&b, 0, 16, 2, 0x2000, 17);
	put_fill(&b, 16, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_FRAGMENT);
	CHECK_EQ(v.frag_proto, 17);

	/* MF with a length that is not a multiple of 8. */
	b.n = 0;
	put_ip4(&b, 0, 12, 3, 0x2000, 6);
	put_fill(&b, 12, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_FRAGMENT);

	/* MF with no data at all. */
	b.n = 0;
	put_ip4(&b, 0, 0, 3, 0x2001, 6);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_FRAGMENT);

	/* Past 65535: offset 8189 * 8 = 65512, plus 32 bytes. */
	b.n = 0;
	put_ip4(&b, 0, 32, 4, 8189, 6);
	put_fill(&b, 32, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_FRAGMENT);
	/* ...while exactly 65535 is fine. */
	b.n = 0;
	put_ip4(&b, 0, 23, 4, 8189, 6);
	put_fill(&b, 23, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV4, &b, &v), PKT_FRAGMENT);
}

static void test_ip6_ext_headers(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	/* hop-by-hop (8) + dest options (16) + routing (8) + AH (24) + TCP + 5. */
	put_eth(&b, 0x86dd);
	put_ip6(&b, 8 + 16 + 8 + 24 + 20 + 5, 0);
	put_ip6_ext(&b, 60, 0);
	put_ip6_ext(&b, 43, 1);
	put_ip6_ext(&b, 51, 0);
	put8(&b, 6); /* AH: next, payload len 4 -> (4 + 2) * 4 = 24 bytes */
	put8(&b, 4);
	put_fill(&b, 22, 0x5a);
	put_tcp(&b, 40000, 443, 7, 9, TCP_ACK, 0);
	put_payload(&b, 5);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_TCP);
	check_ip6_tcp(&v, 5);
	CHECK(v.payload == b.b + b.n - 5);
	check_prefixes(PKT_LINK_ETHERNET, &b, 14);

	/* The same payload length, one byte short in the frame: snaplen cut. */
	CHECK_EQ(decode(PKT_LINK_ETHERNET, b.b, b.n - 1, &v), PKT_TCP);
	CHECK(v.truncated);
	CHECK_EQ(v.payload_len, 4);

	/* An extension header that claims more than the payload holds. */
	b.n = 0;
	put_ip6(&b, 8 + 20, 60);
	put8(&b, 6);
	put8(&b, 3); /* 32 bytes claimed */
	put_fill(&b, 6, 0);
	put_tcp(&b, 1, 2, 3, 4, TCP_ACK, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP6_EXT);
}

static void test_ip6_ext_chain_cap(void)
{
	struct pkt_view v;
	/* Eight extension headers are walked; a ninth is refused. */
	for (int n = 8; n <= 9; n++) {
		struct buf b = {.n = 0};
		put_ip6(&b, (size_t)n * 8 + 20, 60);
		for (int i = 0; i < n; i++)
			put_ip6_ext(&b, i == n - 1 ? 6 : 60, 0);
		put_tcp(&b, 40000, 443, 7, 9, TCP_ACK, 0);
		enum pkt_result r = decode_buf(PKT_LINK_IPV6, &b, &v);
		if (n == 8) {
			CHECK_EQ(r, PKT_TCP);
			check_ip6_tcp(&v, 0);
		} else {
			CHECK_EQ(r, PKT_MALFORMED);
			CHECK_EQ(v.bad, PKT_BAD_IP6_EXT);
		}
	}
}

static void test_ip6_fragment(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;

	/* First fragment after a hop-by-hop header. */
	put_eth(&b, 0x86dd);
	put_ip6(&b, 8 + 8 + 24, 0);
	put_ip6_ext(&b, 44, 0);
	put_ip6_frag(&b, 6, 0, 1, 0xdeadbeef);
	put_tcp(&b, 1, 2, 3, 4, TCP_ACK, 0);
	put_payload(&b, 4);
	CHECK_EQ(decode_buf(PKT_LINK_ETHERNET, &b, &v), PKT_FRAGMENT);
	CHECK_EQ(v.ip_version, 6);
	CHECK_EQ(v.frag_id, 0xdeadbeef);
	CHECK_EQ(v.frag_offset, 0);
	CHECK(v.frag_more);
	CHECK_EQ(v.frag_proto, 6);
	CHECK_EQ(v.frag_len, 24);
	CHECK(v.frag_data == b.b + 14 + 40 + 16);
	check_prefixes(PKT_LINK_ETHERNET, &b, 14);

	/* A later, last fragment. */
	b.n = 0;
	put_ip6(&b, 8 + 3, 44);
	put_ip6_frag(&b, 6, 1448, 0, 77);
	put_payload(&b, 3);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_FRAGMENT);
	CHECK_EQ(v.frag_offset, 1448);
	CHECK(!v.frag_more);
	CHECK_EQ(v.frag_len, 3);
	CHECK_EQ(v.frag_id, 77);

	/* Atomic fragment (RFC 6946): decoded as the whole packet. */
	b.n = 0;
	put_ip6(&b, 8 + 20 + 2, 44);
	put_ip6_frag(&b, 6, 0, 0, 78);
	put_tcp(&b, 40000, 443, 7, 9, TCP_ACK, 0);
	put_payload(&b, 2);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_TCP);
	check_ip6_tcp(&v, 2);

	/* M=1 and a length that is not a multiple of 8 (RFC 8200 4.5). */
	b.n = 0;
	put_ip6(&b, 8 + 10, 44);
	put_ip6_frag(&b, 6, 0, 1, 79);
	put_fill(&b, 10, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_FRAGMENT);

	/* Offset + length past 65535. */
	b.n = 0;
	put_ip6(&b, 8 + 16, 44);
	put_ip6_frag(&b, 6, 65528, 0, 80);
	put_fill(&b, 16, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_FRAGMENT);

	/* Fragment header cut short inside the payload length. */
	b.n = 0;
	put_ip6(&b, 6, 44);
	put_fill(&b, 6, 0);
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_IP6_EXT);
}

static void test_ip6_malformed(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	put_ip6_tcp(&b, 0);
	b.b[5] = 21; /* payload length one more than present: snaplen cut */
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_TCP);
	CHECK(v.truncated);
	b.b[5] = 19; /* payload shorter than the TCP header */
	CHECK_EQ(decode_buf(PKT_LINK_IPV6, &b, &v), PKT_MALFORMED);
	CHECK_EQ(v.bad, PKT_BAD_TCP_HEADER);
}

static void test_decode_tcp_direct(void)
{
	struct buf b = {.n = 0};
	struct pkt_view v;
	memset(&v, 0, sizeof(v));
	v.ip_version = 4;
	v.ttl = 9;
	v.frag_id = 5;
	put_tcp(&b, 40000, 80, 1000, 2000, TCP_PSH | TCP_ACK, 4);
	put_payload(&b, 30);
	CHECK_EQ(pkt_decode_tcp(b.b, b.n, &v), PKT_TCP);
	CHECK_EQ(v.sport, 40000);
	CHECK_EQ(v.payload_len, 30);
	CHECK(v.payload == b.b + 24);
	CHECK_EQ(v.ip_version, 4);
	CHECK_EQ(v.ttl, 9);
	CHECK_EQ(v.frag_id, 5);
	CHECK_EQ(v.bad, PKT_BAD_NONE);
	for (size_t cut = 0; cut < 24; cut++) {
		CHECK_EQ(pkt_decode_tcp(b.b, cut, &v), PKT_MALFORMED);
		CHECK_EQ(v.bad, PKT_BAD_TCP_HEADER);
		CHECK_EQ(v.ip_version, 4);
	}
}

/* Deterministic xorshift; no clock, no rand(). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mutated valid frames at every link type: no crash, and the result is self-consistent. */
static void test_mutations(void)
{
	struct buf seeds[6];
	enum pkt_link links[6] = {PKT_LINK_ETHERNET, PKT_LINK_ETHERNET, PKT_LINK_SLL,
				  PKT_LINK_RAW,      PKT_LINK_NULL,     PKT_LINK_SLL2};
	for (int i = 0; i < 6; i++)
		seeds[i].n = 0;
	put_eth(&seeds[0], 0x8100);
	put_vlan(&seeds[0], 5, 0x0800);
	put_ip4_tcp(&seeds[0], 8, 20);
	put_eth(&seeds[1], 0x86dd);
	put_ip6(&seeds[1], 8 + 8 + 20 + 4, 0);
	put_ip6_ext(&seeds[1], 44, 0);
	put_ip6_frag(&seeds[1], 6, 0, 0, 1);
	put_tcp(&seeds[1], 1, 2, 3, 4, 5, 0);
	put_payload(&seeds[1], 4);
	put_fill(&seeds[2], 14, 0);
	put16(&seeds[2], 0x0800);
	put_ip4(&seeds[2], 0, 16, 9, 0x2000, 6);
	put_payload(&seeds[2], 16);
	put_ip6_tcp(&seeds[3], 10);
	put_le32(&seeds[4], 2);
	put_ip4_tcp(&seeds[4], 0, 0);
	put16(&seeds[5], 0x86dd);
	put_fill(&seeds[5], 18, 0);
	put_ip6_tcp(&seeds[5], 3);

	uint64_t s = 0x9e3779b97f4a7c15ull;
	long counts[4] = {0};
	for (int iter = 0; iter < 60000; iter++) {
		int k = (int)(rng_next(&s) % 6);
		struct buf m = seeds[k];
		int flips = 1 + (int)(rng_next(&s) % 4);
		for (int j = 0; j < flips; j++)
			m.b[rng_next(&s) % m.n] = (uint8_t)rng_next(&s);
		if (rng_next(&s) % 4 == 0)
			m.n = rng_next(&s) % (m.n + 1);
		enum pkt_link link = (rng_next(&s) % 8 == 0) ? (enum pkt_link)(rng_next(&s) % 8)
							     : links[k];
		uint8_t *copy = malloc(m.n ? m.n : 1);
		memcpy(copy, m.b, m.n);
		struct pkt_view v;
		enum pkt_result r = pkt_decode(link, copy, m.n, &v);
		CHECK(r >= PKT_TCP && r <= PKT_MALFORMED);
		counts[r]++;
		CHECK((r == PKT_MALFORMED) == (v.bad != PKT_BAD_NONE));
		CHECK(v.bad < PKT_BAD__COUNT);
		CHECK(v.vlan_depth <= PKT_MAX_VLAN);
		if (r == PKT_TCP) {
			CHECK(v.payload >= copy && v.payload + v.payload_len <= copy + m.n);
			CHECK(v.ip_version == 4 || v.ip_version == 6);
		}
		if (r == PKT_FRAGMENT) {
			CHECK(v.frag_data >= copy && v.frag_data + v.frag_len <= copy + m.n);
			CHECK(v.frag_offset + v.frag_len <= 65535);
		}
		free(copy);
	}
	/* The mutations reach every outcome. */
	for (int r = 0; r < 4; r++)
		CHECK(counts[r] > 0);
}

/* A real QinQ capture (Zeek's test suite): both tags, all 14 segments. */
static void test_pcap_qinq(void)
{
	if (access(QINQ_PCAP, R_OK) != 0) {
		printf("skip test_pcap_qinq: %s not present\n", QINQ_PCAP);
		return;
	}
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(QINQ_PCAP, err);
	CHECK(p != NULL);
	if (!p)
		return;
	int link = pkt_link_from_dlt(pcap_datalink(p));
	CHECK_EQ(link, PKT_LINK_ETHERNET);

	static const uint8_t client[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 141, 142, 228, 5};
	static const uint8_t server[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 150, 187, 43};
	static const char get[] = "GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n";
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0;
	size_t up = 0, down = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct pkt_view v;
		n++;
		CHECK_EQ(pkt_decode((enum pkt_link)link, data, h->caplen, &v), PKT_TCP);
		CHECK_EQ(v.vlan_depth, 2);
		CHECK_EQ(v.vlan[0], 0);
		CHECK_EQ(v.vlan[1], 0);
		CHECK_EQ(v.ip_version, 4);
		bool from_client = v.sport == 59856;
		if (from_client) {
			CHECK(memcmp(v.src, client, 16) == 0 && memcmp(v.dst, server, 16) == 0);
			CHECK_EQ(v.dport, 80);
			CHECK_EQ(v.ttl, 64);
			up += v.payload_len;
		} else {
			CHECK(memcmp(v.src, server, 16) == 0 && memcmp(v.dst, client, 16) == 0);
			CHECK_EQ(v.sport, 80);
			CHECK_EQ(v.ttl, 47);
			down += v.payload_len;
		}
		if (n == 1) {
			CHECK_EQ(v.flags, TCP_SYN);
			CHECK_EQ(v.seq, 4263588410u);
			CHECK_EQ(v.window, 65535);
			CHECK_EQ(v.payload_len, 0);
		}
		if (n == 2) {
			CHECK_EQ(v.flags, TCP_SYN | TCP_ACK);
			CHECK_EQ(v.ack, 4263588411u);
		}
		if (n == 4) {
			CHECK_EQ(v.payload_len, 136);
			CHECK(v.payload_len >= sizeof(get) - 1 &&
			      memcmp(v.payload, get, sizeof(get) - 1) == 0);
		}
		if (n == 12)
			CHECK_EQ(v.flags, TCP_FIN | TCP_ACK);
	}
	pcap_close(p);
	CHECK_EQ(n, 14);
	CHECK_EQ(up, 136);
	CHECK_EQ(down, 3 * 1448 + 663);
}

int main(void)
{
	RUN(test_link_from_dlt);
	RUN(test_bad_names);
	RUN(test_ethernet_ip4_tcp);
	RUN(test_ip4_options);
	RUN(test_tcp_options_and_flags);
	RUN(test_ethernet_padding);
	RUN(test_vlan_single);
	RUN(test_vlan_double);
	RUN(test_vlan_deep);
	RUN(test_sll);
	RUN(test_sll2);
	RUN(test_null_and_loop);
	RUN(test_raw_and_ip_links);
	RUN(test_other);
	RUN(test_ip4_malformed);
	RUN(test_ip4_fragments);
	RUN(test_ip6_ext_headers);
	RUN(test_ip6_ext_chain_cap);
	RUN(test_ip6_fragment);
	RUN(test_ip6_malformed);
	RUN(test_decode_tcp_direct);
	RUN(test_mutations);
	RUN(test_pcap_qinq);
	return unit_done("test_packet");
}
