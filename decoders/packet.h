/*
 * packet.h - link, VLAN, IPv4, IPv6 and TCP headers -> a view into the frame.
 *
 * Pure functions of bytes: no allocation, no I/O, no globals. The view points
 * into the caller's frame and lives as long as the frame does. Anything that is
 * not TCP over IP is reported as PKT_OTHER; anything that cannot be parsed as
 * what it claims to be is PKT_MALFORMED with a reason the caller counts.
 *
 * Addresses are kept as 16 bytes: IPv6 as is, IPv4 as the IPv4-mapped IPv6
 * address ::ffff:a.b.c.d (RFC 4291 2.5.5.2), so one flow key serves both.
 */
#ifndef TAPIR_PACKET_H
#define TAPIR_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types we decode (the libpcap DLT_/LINKTYPE_ values they come from). */
enum pkt_link {
	PKT_LINK_ETHERNET, /* DLT_EN10MB */
	PKT_LINK_SLL,      /* DLT_LINUX_SLL, Linux cooked v1 */
	PKT_LINK_SLL2,     /* DLT_LINUX_SLL2 */
	PKT_LINK_RAW,      /* DLT_RAW / LINKTYPE_RAW: IPv4 or IPv6 by version nibble */
	PKT_LINK_IPV4,     /* LINKTYPE_IPV4 */
	PKT_LINK_IPV6,     /* LINKTYPE_IPV6 */
	PKT_LINK_NULL,     /* DLT_NULL: 4-byte AF in host order of the capturing machine */
	PKT_LINK_LOOP,     /* DLT_LOOP: 4-byte AF in network order */
};

/* Maps a libpcap DLT value to our link type; returns -1 for one we refuse. */
int pkt_link_from_dlt(int dlt);

enum pkt_result {
	PKT_TCP,       /* a TCP segment: the tcp fields below are filled */
	PKT_FRAGMENT,  /* one fragment of an IP datagram: the frag fields are filled */
	PKT_OTHER,     /* well-formed but not TCP over IP (ARP, UDP, ICMP, ...) */
	PKT_MALFORMED, /* see view.bad */
};

enum pkt_bad {
	PKT_BAD_NONE,
	PKT_BAD_LINK_SHORT,   /* frame shorter than its link header */
	PKT_BAD_VLAN_SHORT,   /* truncated 802.1Q/802.1ad tag */
	PKT_BAD_VLAN_DEPTH,   /* more stacked tags than PKT_MAX_VLAN */
	PKT_BAD_IP_VERSION,   /* version nibble disagrees with the link's ethertype */
	PKT_BAD_IP4_HEADER,   /* IHL < 5 or header longer than the frame */
	PKT_BAD_IP4_LENGTH,   /* total length < header length or > captured bytes */
	PKT_BAD_IP6_HEADER,   /* shorter than 40 bytes, or payload length > captured */
	PKT_BAD_IP6_EXT,      /* extension header chain truncated or too long */
	PKT_BAD_TCP_HEADER,   /* data offset < 5 or past the end of the IP payload */
	PKT_BAD_FRAGMENT,     /* fragment with impossible offset/length */
	PKT_BAD__COUNT
};

/* Short names for counters ("ip4_header", ...), indexed by enum pkt_bad. */
extern const char *const pkt_bad_names[PKT_BAD__COUNT];

#define PKT_MAX_VLAN 4 /* stacked tags we walk; QinQ needs 2, more is exotic */

/* TCP flag bits (RFC 9293 3.1). */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

struct pkt_view {
	/* VLAN: the outermost two tag ids (0 when absent), number of tags seen. */
	uint16_t vlan[2];
	uint8_t vlan_depth;

	uint8_t ip_version; /* 4 or 6 */
	uint8_t src[16];    /* IPv4 as ::ffff:a.b.c.d */
	uint8_t dst[16];
	uint8_t ttl;        /* hop limit for IPv6 */

	/* Filled for PKT_FRAGMENT (IPv4, or IPv6 with a Fragment header). */
	uint32_t frag_id;       /* IPv4 identification or IPv6 fragment id */
	uint32_t frag_offset;   /* byte offset of this fragment's data */
	bool frag_more;         /* MF flag */
	uint8_t frag_proto;     /* upper-layer protocol of the datagram */
	const uint8_t *frag_data; /* this fragment's data (after IP + ext headers) */
	size_t frag_len;

	/* Filled for PKT_TCP. */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;      /* TCP_* bits */
	uint16_t window;
	const uint8_t *payload; /* TCP payload inside the frame (or reassembled datagram) */
	size_t payload_len;

	bool truncated;   /* the capture cut the IP datagram short (snapshot length) */
	enum pkt_bad bad; /* why, when PKT_MALFORMED */
};

/*
 * Decodes one captured frame of the given link type. Always fills `v`
 * (zeroed first). Returns what the frame is. Trailing link padding beyond the
 * IP total length is ignored.
 */
enum pkt_result pkt_decode(enum pkt_link link, const uint8_t *frame, size_t caplen,
			   struct pkt_view *v);

/*
 * Decodes a TCP header + payload (for a datagram rebuilt from fragments).
 * Only the TCP fields and `bad` of `v` are written; the IP fields set by the
 * fragment's pkt_decode stay. Returns PKT_TCP or PKT_MALFORMED.
 */
enum pkt_result pkt_decode_tcp(const uint8_t *seg, size_t len, struct pkt_view *v);

#endif
