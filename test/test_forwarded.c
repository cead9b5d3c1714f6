/*
 * test_forwarded.c - trusted-proxy resolution: only trusted hops are believed,
 * right to left; both header forms; IPv4 and IPv6; spoofing attempts.
 */
#include "../decoders/forwarded.h"

#include <arpa/inet.h>

#include "unit.h"

static void a16(const char *s, uint8_t out[16])
{
	struct cidr c;
	CHECK(cidr_parse(s, &c) == 0);
	memcpy(out, c.addr, 16);
}

static const char *show(const uint8_t a[16])
{
	static char buf[64];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(a, mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, buf, sizeof buf);
	else
		inet_ntop(AF_INET6, a, buf, sizeof buf);
	return buf;
}

static struct cidr trusted[3];

static void setup(void)
{
	CHECK(cidr_parse("10.0.0.0/8", &trusted[0]) == 0);
	CHECK(cidr_parse("2001:db8:1::/48", &trusted[1]) == 0);
	CHECK(cidr_parse("192.0.2.7", &trusted[2]) == 0);
}

/* Resolves with X-Forwarded-For (fwd NULL) or Forwarded; "" when unchanged. */
static const char *resolve(const char *peer, const char *xff, const char *fwd)
{
	uint8_t p[16], out[16];
	a16(peer, p);
	if (!forwarded_resolve(p, trusted, 3, xff, xff ? strlen(xff) : 0, fwd,
			       fwd ? strlen(fwd) : 0, out))
		return "";
	return show(out);
}

static void test_cidr(void)
{
	struct cidr c;
	uint8_t a[16];
	CHECK(cidr_parse("10.1.2.3/8", &c) == 0);
	CHECK_EQ(c.prefix, 104);
	a16("10.200.0.1", a);
	CHECK(cidr_contains(&c, a));
	a16("11.0.0.1", a);
	CHECK(!cidr_contains(&c, a));
	CHECK(cidr_parse("10.0.0.0/33", &c) == -1);
	CHECK(cidr_parse("10.0.0/8", &c) == -1);
	CHECK(cidr_parse("2001:db8::/129", &c) == -1);
	CHECK(cidr_parse("fe80::1/10", &c) == 0);
	a16("febf::1", a);
	CHECK(cidr_contains(&c, a));
	CHECK(cidr_parse("0.0.0.0/0", &c) == 0);
	a16("203.0.113.9", a);
	CHECK(cidr_contains(&c, a));
	a16("2001:db8::1", a);
	CHECK(!cidr_contains(&c, a)); /* an IPv4 block never holds an IPv6 address */
}

static void test_xff(void)
{
	setup();
	CHECK_STR(resolve("10.0.0.5", "203.0.113.9", NULL), "203.0.113.9");
	/* Two trusted hops, then the client. */
	CHECK_STR(resolve("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.9.9.9", NULL), "203.0.113.9");
	/* Spoofed entries left of the first untrusted hop are ignored. */
	CHECK_STR(resolve("10.0.0.5", "1.1.1.1,203.0.113.9", NULL), "203.0.113.9");
	/* An untrusted peer's header is ignored entirely. */
	CHECK_STR(resolve("203.0.113.50", "10.0.0.1", NULL), "");
	CHECK_STR(resolve("192.0.2.7", "198.51.100.4:5678", NULL), "198.51.100.4");
	CHECK_STR(resolve("10.0.0.5", "[2001:db8:9::1]:443", NULL), "2001:db8:9::1");
	CHECK_STR(resolve("10.0.0.5", "garbage", NULL), "");
	CHECK_STR(resolve("10.0.0.5", "", NULL), "");
	CHECK_STR(resolve("2001:db8:1::5", "2001:db8:2::9", NULL), "2001:db8:2::9");
}

static void test_forwarded(void)
{
	setup();
	CHECK_STR(resolve("10.0.0.5", NULL, "for=192.0.2.60;proto=http;by=203.0.113.43"),
		  "192.0.2.60");
	CHECK_STR(resolve("10.0.0.5", NULL, "for=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17");
	CHECK_STR(resolve("10.0.0.5", NULL, "for=198.51.100.3, For=10.1.1.1"), "198.51.100.3");
	CHECK_STR(resolve("10.0.0.5", NULL, "for=unknown"), "");
	/* Forwarded wins over X-Forwarded-For when both are there. */
	CHECK_STR(resolve("10.0.0.5", "198.51.100.99", "for=198.51.100.3"), "198.51.100.3");
}

static void test_long_chain_is_cut(void)
{
	setup();
	char xff[1024] = "203.0.113.1";
	for (int i = 0; i < 40; i++)
		strcat(xff, ", 10.0.0.1");
	/* More trusted hops than we walk: the last one walked stands. */
	CHECK_STR(resolve("10.0.0.5", xff, NULL), "10.0.0.1");
}

int main(void)
{
	RUN(test_cidr);
	RUN(test_xff);
	RUN(test_forwarded);
	RUN(test_long_chain_is_cut);
	return unit_done("test_forwarded");
}
