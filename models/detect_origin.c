/*
 * detect_origin.c - from where and with what: new_origin, token_sharing,
 * agent_change.
 *
 * Client prefix: /24 of an IPv4 client, /48 of an IPv6 one, taken from
 * origin_ip (the client behind trusted proxies) when present, else the
 * packet's client address. Agent family: the User-Agent's first product
 * token without its version, lower-cased ("curl/8.0" -> "curl").
 *
 * new_origin: a prefix the identity never used (its last EN_PFX prefixes),
 *   not even in the same /16 (/32) as one of them (dynamic home addresses,
 *   pods rescheduled), that at most 2% of its peers and 1% of all
 *   identities used (none of its peers while learning). After learning:
 *   >= 20 events, >= 2 active days, and a settled identity (<= 4 prefixes
 *   ever). While learning (>= 20 events, a home prefix already): peers of
 *   >= 10 members that come from few networks (distinct prefixes <= a
 *   quarter of the members). p = peer share x own novelty rate.
 * token_sharing: the credential in use from more client addresses at once
 *   (within 5 min, interleaved: another address was active after this one's
 *   current run began, so a move from one address to another is not
 *   sharing) than the identity ever was (max learned from clean events),
 *   one of them from a public network new to the identity (in the last day)
 *   that at most 1% of all identities use: two usual networks at once
 *   (office and VPN, a laptop and a desktop) are the owner's, and so is a
 *   private network of the organisation (RFC 1918, CGNAT, ULA). A colleague
 *   using the token inside the office is not seen: its address is one of
 *   the organisation's.
 *   While learning: only in groups where < 5% of members ever were.
 *   p = 1e-3 / (addresses - usual).
 * agent_change: a family the identity never used, after learning, for an
 *   identity with >= 20 events and 1-2 families ever, that <= 30% of its
 *   peers use. p = peer share x own family count / events.
 */
#include "engine_int.h"

#include <arpa/inet.h>
#include <stdio.h>

#define NO_MIN_EVENTS 20
#define NO_MAX_PFX 4
#define NO_PEER_SHARE 50 /* count * 50 <= members: at most 2% */
#define NO_ALL_SHARE 100 /* ... and at most 1% of all identities */
#define TS_WINDOW_S 300u
#define TS_MIN_EVENTS 20
#define AG_MIN_EVENTS 20
#define AG_MAX_FAMILIES 2
#define AG_PEER_PCT 30

/* Addresses of the organisation's own networks: RFC 1918, CGNAT (RFC 6598),
 * loopback and link-local, IPv6 ULA (RFC 4193) and link-local. */
static bool private_addr(const uint8_t *ip)
{
	static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(ip, v4, 12) == 0) {
		const uint8_t *a = ip + 12;
		return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
		       (a[0] == 169 && a[1] == 254);
	}
	return (ip[0] & 0xfe) == 0xfc || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80);
}

static void prefix_text(const uint8_t *ip, char *out, size_t cap)
{
	static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char a[INET6_ADDRSTRLEN];
	if (memcmp(ip, v4, 12) == 0) {
		snprintf(out, cap, "%u.%u.%u.0/24", ip[12], ip[13], ip[14]);
		return;
	}
	uint8_t p[16] = {0};
	memcpy(p, ip, 6);
	inet_ntop(AF_INET6, p, a, sizeof a);
	snprintf(out, cap, "%s/48", a);
}

static void addr_text(const uint8_t *ip, char *out, size_t cap)
{
	static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char a[INET6_ADDRSTRLEN];
	if (memcmp(ip, v4, 12) == 0)
		inet_ntop(AF_INET, ip + 12, a, sizeof a);
	else
		inet_ntop(AF_INET6, ip, a, sizeof a);
	snprintf(out, cap, "%s", a);
}

void det_new_origin(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (!x->new_pfx || id->n_events < NO_MIN_EVENTS || id->n_pfx_ever == 0)
		return;
	bool own = !x->learning && id->active_days >= 2;
	if (!x->learning && !own)
		return;
	if (own && id->n_pfx_ever > NO_MAX_PFX)
		return;
	for (int i = 0; i < EN_PFX; i++)
		if (id->pfx[i] && id->pfx16[i] == x->pfx16)
			return; /* the same /16 as a usual network: a dynamic address, a pod moved */
	struct group *g = peers_pick(e, id, own ? 3 : 10);
	if (!g)
		return;
	uint32_t cnt = peers_count(e, g, IT_PREFIX, x->pfx);
	if (cnt > 0 && (uint64_t)cnt * NO_PEER_SHARE > g->members)
		return;
	const struct group *all = &e->groups[GRP_GLOBAL];
	uint32_t cnt_all = peers_count(e, all, IT_PREFIX, x->pfx);
	if (cnt_all > 0 && (uint64_t)cnt_all * NO_ALL_SHARE > all->members)
		return; /* an organisation network (an office, the VPN pool), another team's */
	if (!own && (cnt > 0 || (uint64_t)g->pfx_firsts * 4 > g->members))
		return;
	struct alert *a = alert_begin(x, DET_NEW_ORIGIN, x->pfx);
	if (!a)
		return;
	char pt[64], at[64], label[96];
	prefix_text(x->ip, pt, sizeof pt);
	addr_text(x->ip, at, sizeof at);
	snprintf(a->summary, sizeof a->summary,
		 "%s connected from %s (%s), a network it never used before (it used %u before); "
		 "%u of its %u peers (%s) use it",
		 ectx_who(x), pt, at, id->n_pfx_ever, cnt, g->members, g->label);
	json_esc(label, sizeof label, g->label);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"prefix\":\"%s\",\"address\":\"%s\",\"prefixes_before\":%u,\"active_days\":%u,"
		 "\"peers\":\"%s\",\"peer_members\":%u,\"peers_using\":%u,\"learning\":%s}",
		 pt, at, id->n_pfx_ever, id->active_days, label, g->members, cnt,
		 x->learning ? "true" : "false");
	double p = (cnt + 0.5) / (g->members + 1.0) * (id->n_pfx_ever + 1.0) /
		   (id->active_days + 2.0);
	alert_emit(x, DET_NEW_ORIGIN, p);
}

/*
 * Records the address; returns how many addresses are in use at once,
 * interleaved; *novel says whether one of them came from a network new to
 * the identity (in the last day).
 */
static int addr_observe(struct ident *id, uint32_t addr, bool new_pfx, uint32_t now_s, bool *novel)
{
	int i = prof_set_find(id->addr, EN_ADDRS, addr);
	uint16_t today = (uint16_t)(now_s / 86400);
	for (int k = 0; k < EN_ADDRS; k++)
		if (id->addr[k] && today > id->addr_day[k] + 1)
			id->addr_novel &= (uint8_t)~(1u << k); /* novel for a day or two */
	if (i >= 0) {
		if (id->addr_last[i] + TS_WINDOW_S < now_s)
			id->addr_first[i] = now_s;
		id->addr_last[i] = now_s;
	} else {
		i = 0;
		for (int k = 0; k < EN_ADDRS; k++) {
			if (!id->addr[k]) {
				i = k;
				break;
			}
			if (id->addr_last[k] < id->addr_last[i])
				i = k;
		}
		id->addr[i] = addr;
		id->addr_first[i] = id->addr_last[i] = now_s;
		id->addr_day[i] = today;
		if (new_pfx)
			id->addr_novel |= (uint8_t)(1u << i);
		else
			id->addr_novel &= (uint8_t)~(1u << i);
	}
	int n = 1;
	*novel = (id->addr_novel >> i) & 1;
	for (int k = 0; k < EN_ADDRS; k++)
		if (k != i && id->addr[k] && id->addr_last[k] + TS_WINDOW_S >= now_s &&
		    id->addr_last[k] > id->addr_first[i]) {
			n++;
			if ((id->addr_novel >> k) & 1)
				*novel = true;
		}
	return n;
}

void det_token_sharing(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	bool novel, foreign = false;
	if (!x->learning && x->new_pfx && !private_addr(x->ip) &&
	    prof_set_find(id->addr, EN_ADDRS, x->addr) < 0) {
		/* a network new to the identity that (almost) nobody uses */
		const struct group *all = &e->groups[GRP_GLOBAL];
		uint32_t cnt = peers_count(e, all, IT_PREFIX, x->pfx);
		foreign = cnt == 0 || (uint64_t)cnt * NO_ALL_SHARE <= all->members;
	}
	x->conc = addr_observe(id, x->addr, foreign, x->now_s, &novel);
	if (x->conc < 2 || x->conc <= id->max_conc || id->n_events < TS_MIN_EVENTS || !novel)
		return;
	const struct group *g = NULL;
	if (x->learning) {
		g = peers_pick(e, id, 10);
		if (!g || (uint64_t)g->conc_members * 20 > g->members)
			return;
	}
	struct alert *a = alert_begin(x, DET_TOKEN_SHARING, 0);
	if (!a)
		return;
	char at[64];
	addr_text(x->ip, at, sizeof at);
	snprintf(a->summary, sizeof a->summary,
		 "%s's credential is in use from %d client addresses at once (within 5 min, "
		 "alternating), latest %s; usual at most %u%s%s%s",
		 ectx_who(x), x->conc, at, id->max_conc, g ? " (peers: " : "", g ? g->label : "",
		 g ? " rarely share)" : "");
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"addresses_at_once\":%d,\"window_s\":%u,\"usual_max\":%u,\"address\":\"%s\","
		 "\"learning\":%s}",
		 x->conc, TS_WINDOW_S, id->max_conc, at, x->learning ? "true" : "false");
	alert_emit(x, DET_TOKEN_SHARING, 1e-3 / (x->conc - id->max_conc));
}

void det_agent_change(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (!x->new_agent || x->learning || id->n_events < AG_MIN_EVENTS || id->n_agent_ever == 0 ||
	    id->n_agent_ever > AG_MAX_FAMILIES)
		return;
	struct group *g = peers_pick(e, id, 5);
	if (!g)
		return;
	uint32_t cnt = peers_count(e, g, IT_AGENT, x->agent);
	if ((uint64_t)cnt * 100 > (uint64_t)g->members * AG_PEER_PCT)
		return;
	struct alert *a = alert_begin(x, DET_AGENT_CHANGE, x->agent);
	if (!a)
		return;
	snprintf(a->summary, sizeof a->summary,
		 "%s switched to client software \"%s\", a family it never used (it used %u "
		 "before); %u of its %u peers (%s) use it",
		 ectx_who(x), x->agent_name, id->n_agent_ever, cnt, g->members, g->label);
	char fam[96], ua[320], label[96];
	json_esc(fam, sizeof fam, x->agent_name);
	json_esc(ua, sizeof ua, x->ev->user_agent);
	json_esc(label, sizeof label, g->label);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"family\":\"%s\",\"user_agent\":\"%s\",\"families_before\":%u,\"events_before\":%u,"
		 "\"peers\":\"%s\",\"peer_members\":%u,\"peers_using\":%u}",
		 fam, ua, id->n_agent_ever, id->n_events, label, g->members, cnt);
	double p = (cnt + 0.5) / (g->members + 1.0) * (id->n_agent_ever + 1.0) /
		   (id->n_events / 10.0 + 2.0);
	alert_emit(x, DET_AGENT_CHANGE, p);
}
