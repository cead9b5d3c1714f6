/*
 * test_event_wire.c - api_event across threads: every field comes back, with
 * and without JWT claims, at every path length; wrong lengths are refused.
 */
#include <stdlib.h>

#include "../sensor/event_wire.h"
#include "unit.h"

static void fill(struct api_event *ev, bool claims, size_t path_len)
{
	memset(ev, 0, sizeof *ev);
	uint8_t *b = (uint8_t *)ev;
	for (size_t i = 0; i < sizeof *ev; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	memset(ev->path, 'p', path_len);
	ev->path[path_len] = '\0';
	ev->identity.has_claims = claims;
	if (!claims)
		memset(&ev->identity.claims, 0, sizeof ev->identity.claims);
}

/* What a consumer can see: every byte, except the path's after its NUL. */
static bool same(const struct api_event *a, const struct api_event *b)
{
	size_t at = offsetof(struct api_event, path);
	size_t n = strlen(a->path) + 1;
	return memcmp(a, b, at) == 0 && memcmp(a->path, b->path, n) == 0 &&
	       memcmp((const uint8_t *)a + at + EV_PATH_MAX, (const uint8_t *)b + at + EV_PATH_MAX,
		      sizeof *a - at - EV_PATH_MAX) == 0;
}

static void test_round_trip(void)
{
	static struct api_event ev, back;
	static uint8_t buf[sizeof(struct api_event)];
	size_t lens[] = {0, 1, 9, 100, EV_PATH_MAX - 1};
	for (int claims = 0; claims < 2; claims++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			fill(&ev, claims, lens[i]);
			size_t n = event_wire_size(&ev);
			CHECK(n <= sizeof buf);
			event_wire_put(&ev, buf);
			memset(&back, 0xAA, sizeof back);
			CHECK_EQ(event_wire_get(&back, buf, n), 0);
			CHECK(same(&ev, &back));
			/* One byte short or long: refused, never read past the record. */
			CHECK(event_wire_get(&back, buf, n - 1) != 0 || lens[i] == 0);
		}
	fill(&ev, false, 3);
	fill(&back, true, 3);
	CHECK(event_wire_size(&ev) + sizeof ev.identity.claims == event_wire_size(&back));
	CHECK(event_wire_size(&back) < sizeof(struct api_event));
	CHECK(event_wire_get(&back, buf, 10) != 0);
}

static void test_no_claims_are_zeroed(void)
{
	static struct api_event ev, back;
	static uint8_t buf[sizeof(struct api_event)];
	fill(&ev, false, 5);
	event_wire_put(&ev, buf);
	memset(&back, 0xAA, sizeof back);
	CHECK_EQ(event_wire_get(&back, buf, event_wire_size(&ev)), 0);
	CHECK_EQ(back.identity.claims.iss[0], 0);
	CHECK_EQ(back.identity.claims.exp, 0);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_no_claims_are_zeroed);
	return unit_done("test_event_wire");
}
