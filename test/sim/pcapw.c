/*
 * pcapw.c - from byte streams to the frames a mirror port in front of the
 * server captures, in timestamp order, written with libpcap's pcap_dump
 * (LINKTYPE_EN10MB, microsecond timestamps).
 *
 * The capture point is next to the server: a client's segment is seen when
 * it arrives, a server's when it leaves. So a server segment at t reaches the
 * client at t + rtt/2, and the client's ACK of it is seen at t + rtt; the
 * server acknowledges what it has seen at once.
 *
 * TCP (RFC 9293): a three-way handshake with MSS, SACK-permitted and window
 * scale options (RFC 7323); data cut at the MSS; the server's segments sent
 * in flights of its congestion window (initial 10 segments, RFC 6928,
 * doubling per round trip, back to 10 after an idle second: slow start after
 * idle), each segment a serialisation time apart at the client's link rate;
 * the client acknowledging every second segment and the last (RFC 9293
 * 3.8.6.3), the server delaying an ACK up to 40 ms unless a response carries
 * it; FIN handshakes from either side, or a RST. Every ack number is what
 * the sender had seen by then, never more, and pure ACKs are sent only when
 * they acknowledge something new. IPv4 (RFC 791, DF set, incrementing IP ID)
 * and IPv6 (RFC 8200) headers with real checksums (RFC 1071).
 *
 * Connections are rendered one at a time, each completely, in order of
 * their start; frames wait in a min-heap keyed (time, arrival order) and
 * leave once no later connection can put a frame before them.
 *
 *   frame = Ethernet (14) | IPv4 (20) or IPv6 (40) | TCP (20 + options) | payload
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#define SNAPLEN 262144

struct pkt {
	uint64_t ts;
	uint64_t order;
	uint32_t len;
	uint8_t data[];
};

struct drop {
	uint64_t from, to;
	uint32_t per_mille;
};

struct sink {
	pcap_t *pd;
	pcap_dumper_t *dump;
	struct pkt **heap;
	size_t n, cap;
	uint64_t order;
	struct drop drops[16];
	int n_drops;
	struct sink_stats st;
};

static const uint8_t mac_server[6] = {0x52, 0x54, 0x00, 0x5e, 0x00, 0x10};
static const uint8_t mac_router[6] = {0x00, 0x1c, 0x73, 0x00, 0x00, 0x01};

struct sink *sink_open(const char *path)
{
	struct sink *s = xcalloc(1, sizeof *s);
	s->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
	if (!s->pd)
		die("pcap_open_dead failed");
	s->dump = pcap_dump_open(s->pd, path);
	if (!s->dump)
		die("%s: %s", path, pcap_geterr(s->pd));
	return s;
}

void sink_add_drop(struct sink *s, uint64_t from, uint64_t to, uint32_t per_mille)
{
	if (s->n_drops < 16)
		s->drops[s->n_drops++] = (struct drop){from, to, per_mille};
}

static bool pkt_less(const struct pkt *a, const struct pkt *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->order < b->order);
}

void sink_push(struct sink *s, uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pkt *p = xmalloc(sizeof *p + len);
	p->ts = ts;
	p->order = s->order++;
	p->len = (uint32_t)len;
	memcpy(p->data, frame, len);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->heap = xrealloc(s->heap, s->cap * sizeof *s->heap);
	}
	size_t i = s->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pkt_less(p, s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = p;
}

static struct pkt *heap_pop(struct sink *s)
{
	struct pkt *top = s->heap[0];
	struct pkt *last = s->heap[--s->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct pkt *best = last;
		if (l < s->n && pkt_less(s->heap[l], best)) {
			m = l;
			best = s->heap[l];
		}
		if (r < s->n && pkt_less(s->heap[r], best))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->n)
		s->heap[i] = last;
	return top;
}

static bool dropped(const struct sink *s, const struct pkt *p)
{
	for (int i = 0; i < s->n_drops; i++) {
		const struct drop *d = &s->drops[i];
		if (p->ts >= d->from && p->ts < d->to &&
		    mix64(p->ts * 31 + p->order) % 1000 < d->per_mille)
			return true;
	}
	return false;
}

static void write_pkt(struct sink *s, struct pkt *p)
{
	if (dropped(s, p)) {
		s->st.dropped++;
		free(p);
		return;
	}
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(p->ts / US_PER_S);
	h.ts.tv_usec = (suseconds_t)(p->ts % US_PER_S);
	h.caplen = h.len = p->len;
	pcap_dump((u_char *)s->dump, &h, p->data);
	s->st.packets++;
	s->st.bytes += 16 + p->len;
	free(p);
}

void sink_flush_before(struct sink *s, uint64_t ts)
{
	while (s->n && s->heap[0]->ts < ts)
		write_pkt(s, heap_pop(s));
}

void sink_close(struct sink *s, struct sink_stats *st)
{
	while (s->n)
		write_pkt(s, heap_pop(s));
	pcap_dump_close(s->dump);
	pcap_close(s->pd);
	free(s->heap);
	if (st)
		*st = s->st;
	free(s);
}

/* ---------------------------------------------------------------- frames */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; n -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void emit(struct tcpc *c, int dir, uint64_t ts, uint8_t flags, uint32_t seq, uint32_t ack,
		 const uint8_t *pl, size_t n, const uint8_t *opt, size_t optlen, uint16_t win)
{
	uint8_t f[14 + 40 + 60 + 1500];
	bool v6 = c->ip[dir].v6;
	size_t iplen = v6 ? 40 : 20, tcplen = 20 + optlen;
	size_t total = 14 + iplen + tcplen + n;
	if (n > 1500 || optlen > 40)
		die("internal: segment too large");

	memcpy(f, dir == C2S ? mac_server : mac_router, 6);
	memcpy(f + 6, dir == C2S ? mac_router : mac_server, 6);
	put16(f + 12, v6 ? 0x86DD : 0x0800);

	uint8_t *ip = f + 14, *th = ip + iplen;
	if (!v6) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint32_t)(20 + tcplen + n));
		put16(ip + 4, c->ipid[dir]++);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = c->ttl[dir];
		ip[9] = 6;
		put16(ip + 10, 0);
		memcpy(ip + 12, c->ip[dir].b, 4);
		memcpy(ip + 16, c->ip[1 - dir].b, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	} else {
		put32(ip, 0x60000000u | ((uint32_t)(c->port[C2S] * 2654435761u) & 0xfffff));
		put16(ip + 4, (uint32_t)(tcplen + n));
		ip[6] = 6;
		ip[7] = c->ttl[dir];
		memcpy(ip + 8, c->ip[dir].b, 16);
		memcpy(ip + 24, c->ip[1 - dir].b, 16);
	}
	put16(th, c->port[dir]);
	put16(th + 2, c->port[1 - dir]);
	put32(th + 4, seq);
	put32(th + 8, (flags & TH_ACK) ? ack : 0);
	th[12] = (uint8_t)((tcplen / 4) << 4);
	th[13] = flags;
	put16(th + 14, win);
	put16(th + 16, 0);
	put16(th + 18, 0);
	if (optlen)
		memcpy(th + 20, opt, optlen);
	if (n)
		memcpy(th + tcplen, pl, n);

	/* pseudo-header (RFC 9293 3.1, RFC 8200 8.1) + segment */
	uint32_t sum = 0;
	uint8_t ph[8];
	if (!v6) {
		sum = csum_add(sum, ip + 12, 8);
		put16(ph, 6);
		put16(ph + 2, (uint32_t)(tcplen + n));
		sum = csum_add(sum, ph, 4);
	} else {
		sum = csum_add(sum, ip + 8, 32);
		put32(ph, (uint32_t)(tcplen + n));
		put32(ph + 4, 6);
		sum = csum_add(sum, ph, 8);
	}
	sum = csum_add(sum, th, tcplen + n);
	put16(th + 16, csum_fold(sum));

	sink_push(c->sink, ts, f, total);
}

/* ---------------------------------------------------------------- TCP */

void tcp_init(struct tcpc *c, struct sink *s, const struct addr *cli, uint16_t cport,
	      const struct addr *srv, uint16_t sport, uint32_t rtt_us, uint32_t bw_mbps,
	      uint16_t mss, uint8_t cli_ttl, uint32_t isn_c, uint32_t isn_s)
{
	memset(c, 0, sizeof *c);
	c->sink = s;
	c->ip[C2S] = *cli;
	c->ip[S2C] = *srv;
	c->port[C2S] = cport;
	c->port[S2C] = sport;
	c->isn[C2S] = isn_c;
	c->isn[S2C] = isn_s;
	c->rtt_us = rtt_us ? rtt_us : 200;
	c->mss = mss;
	if (!bw_mbps)
		bw_mbps = 100;
	/* one full frame on the wire at the client's rate; uploads at a quarter of it */
	c->ser_us[S2C] = (uint32_t)((mss + 78) * 8 / bw_mbps);
	c->ser_us[C2S] = (uint32_t)((mss + 78) * 8 * 4 / bw_mbps);
	if (c->ser_us[S2C] < 2)
		c->ser_us[S2C] = 2;
	if (c->ser_us[C2S] < 4)
		c->ser_us[C2S] = 4;
	c->cwnd = 10;
	c->ipid[C2S] = (uint16_t)(isn_c >> 7);
	c->ipid[S2C] = (uint16_t)(isn_s >> 9);
	c->ttl[C2S] = cli_ttl;
	c->ttl[S2C] = 64;
}

static void log_push(struct tcpc *c, int dir, uint64_t ts, uint32_t end)
{
	if (c->nlog[dir] == c->caplog[dir]) {
		c->caplog[dir] = c->caplog[dir] ? c->caplog[dir] * 2 : 64;
		c->log[dir] = xrealloc(c->log[dir], c->caplog[dir] * sizeof *c->log[dir]);
	}
	c->log[dir][c->nlog[dir]++] = (struct seglog){ts, end};
}

/* The next sequence number of dir at capture time t (its writes may reach
 * further into the future: a response leaving in several flights). */
static uint32_t seq_at(const struct tcpc *c, int dir, uint64_t t)
{
	const struct seglog *l = c->log[dir];
	size_t lo = 0, hi = c->nlog[dir];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l[mid].ts <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? l[lo - 1].end : c->isn[dir] + 1;
}

/* What `dir` has seen of the other direction by capture time t. */
static uint32_t ack_of(const struct tcpc *c, int dir, uint64_t t)
{
	uint64_t bound = dir == C2S ? (t > c->rtt_us ? t - c->rtt_us : 0) : t;
	return seq_at(c, 1 - dir, bound);
}

static uint16_t win_of(int dir)
{
	return dir == C2S ? 2052 : 501; /* scaled by 2^9 and 2^7 */
}

static void pure_ack(struct tcpc *c, int dir, uint64_t ts)
{
	uint32_t a = ack_of(c, dir, ts);
	if (a == c->last_ack[dir])
		return;
	c->last_ack[dir] = a;
	emit(c, dir, ts, TH_ACK, seq_at(c, dir, ts), a, NULL, 0, NULL, 0, win_of(dir));
}

static void flush_due(struct tcpc *c, int dir, uint64_t upto)
{
	size_t k = 0;
	while (k < c->ndue[dir] && c->due[dir][k] < upto) {
		pure_ack(c, dir, c->due[dir][k]);
		k++;
	}
	if (k) {
		memmove(c->due[dir], c->due[dir] + k, (c->ndue[dir] - k) * sizeof c->due[dir][0]);
		c->ndue[dir] -= k;
	}
}

void tcp_ack_at(struct tcpc *c, int dir, uint64_t t)
{
	if (c->ndue[dir] == sizeof c->due[dir] / sizeof c->due[dir][0]) {
		pure_ack(c, dir, c->due[dir][0]);
		memmove(c->due[dir], c->due[dir] + 1, (c->ndue[dir] - 1) * sizeof c->due[dir][0]);
		c->ndue[dir]--;
	}
	size_t i = c->ndue[dir];
	while (i > 0 && c->due[dir][i - 1] > t) {
		c->due[dir][i] = c->due[dir][i - 1];
		i--;
	}
	c->due[dir][i] = t;
	c->ndue[dir]++;
}

uint64_t tcp_open(struct tcpc *c, uint64_t t)
{
	/* MSS, NOP, NOP, SACK permitted, NOP, window scale */
	static const uint8_t syn_opt[] = {2, 4, 0, 0, 1, 1, 4, 2, 1, 3, 3, 9};
	static const uint8_t sa_opt[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	uint8_t o[12];
	memcpy(o, syn_opt, sizeof syn_opt);
	put16(o + 2, c->mss);
	emit(c, C2S, t, TH_SYN, c->isn[C2S], 0, NULL, 0, o, 12, 64240);
	uint8_t so[12];
	memcpy(so, sa_opt, sizeof sa_opt);
	if (c->ip[C2S].v6)
		put16(so + 2, 1440);
	uint64_t t1 = t + 25;
	emit(c, S2C, t1, TH_SYN | TH_ACK, c->isn[S2C], c->isn[C2S] + 1, NULL, 0, so, 12, 65160);
	c->nxt[C2S] = c->isn[C2S] + 1;
	c->nxt[S2C] = c->isn[S2C] + 1;
	uint64_t t2 = t1 + c->rtt_us;
	c->last_ack[C2S] = c->isn[S2C] + 1;
	c->last_ack[S2C] = c->isn[C2S] + 1;
	emit(c, C2S, t2, TH_ACK, c->nxt[C2S], c->isn[S2C] + 1, NULL, 0, NULL, 0, win_of(C2S));
	c->busy[C2S] = c->busy[S2C] = t2;
	c->last_tx[S2C] = t2;
	return t2 + 15;
}

uint64_t tcp_send(struct tcpc *c, int dir, uint64_t t, const uint8_t *p, size_t n)
{
	flush_due(c, C2S, t);
	flush_due(c, S2C, t);
	if (!n)
		return t;
	uint64_t ts = t > c->busy[dir] ? t : c->busy[dir];
	if (dir == S2C && ts > c->last_tx[S2C] + US_PER_S)
		c->cwnd = 10;
	uint64_t flight_start = ts;
	uint32_t in_flight = 0;
	size_t off = 0;
	uint64_t last = ts;
	while (off < n) {
		size_t len = n - off < c->mss ? n - off : c->mss;
		bool lastseg = off + len == n;
		uint32_t a = ack_of(c, dir, ts);
		c->last_ack[dir] = a;
		emit(c, dir, ts, (uint8_t)(TH_ACK | (lastseg ? TH_PSH : 0)), c->nxt[dir], a, p + off, len,
		     NULL, 0, win_of(dir));
		c->nxt[dir] += (uint32_t)len;
		log_push(c, dir, ts, c->nxt[dir]);
		last = ts;
		off += len;
		if (dir == S2C) {
			if (++c->unacked_segs >= 2 || lastseg) {
				tcp_ack_at(c, C2S, ts + c->rtt_us + (lastseg ? 30 : 10));
				c->unacked_segs = 0;
			}
			if (++in_flight >= c->cwnd && !lastseg) {
				uint64_t next = flight_start + c->rtt_us;
				ts = ts + c->ser_us[dir] > next ? ts + c->ser_us[dir] : next;
				flight_start = ts;
				in_flight = 0;
				if (c->cwnd < 4096)
					c->cwnd *= 2;
				continue;
			}
		} else if (off / c->mss % 2 == 0 || lastseg) {
			/* every second full segment at once, the last one delayed */
			tcp_ack_at(c, S2C, ts + (lastseg ? 40000 : 20));
		}
		ts += c->ser_us[dir];
	}
	c->busy[dir] = last + c->ser_us[dir];
	c->last_tx[dir] = last;
	return last;
}

void tcp_close(struct tcpc *c, int dir, uint64_t t, bool rst)
{
	/* ACKs still owed go out first (they are older than the close) */
	for (int d = 0; d < 2; d++) {
		for (size_t k = 0; k < c->ndue[d]; k++)
			if (c->due[d][k] >= t)
				c->due[d][k] = t - 1;
	}
	flush_due(c, C2S, t);
	flush_due(c, S2C, t);
	if (t < c->busy[dir])
		t = c->busy[dir];
	int o = 1 - dir;
	if (rst) {
		emit(c, dir, t, TH_RST | TH_ACK, c->nxt[dir], ack_of(c, dir, t), NULL, 0, NULL, 0, 0);
	} else {
		uint32_t a = ack_of(c, dir, t);
		emit(c, dir, t, TH_FIN | TH_ACK, c->nxt[dir], a, NULL, 0, NULL, 0, win_of(dir));
		c->nxt[dir]++;
		/* the other side sees the FIN and closes too */
		uint64_t t2 = dir == C2S ? t + 40 : t + c->rtt_us + 60;
		if (t2 < c->busy[o])
			t2 = c->busy[o];
		emit(c, o, t2, TH_FIN | TH_ACK, c->nxt[o], c->nxt[dir], NULL, 0, NULL, 0, win_of(o));
		c->nxt[o]++;
		uint64_t t3 = dir == C2S ? t2 + c->rtt_us : t2 + 30;
		emit(c, dir, t3, TH_ACK, c->nxt[dir], c->nxt[o], NULL, 0, NULL, 0, win_of(dir));
	}
	for (int d = 0; d < 2; d++) {
		free(c->log[d]);
		c->log[d] = NULL;
		c->nlog[d] = c->caplog[d] = 0;
		c->ndue[d] = 0;
	}
}
