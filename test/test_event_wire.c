/*
 * test_event_wire.c - api_event across threads: every field reads back in
 * place, with and without JWT claims (zeroed when absent), at every path
 * length, over whatever an earlier record left; wrong lengths, misaligned
 * records and unterminated paths are refused.
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
	static struct api_event ev;
	static _Alignas(8) uint8_t buf[EVENT_WIRE_SIZE];
	size_t lens[] = {0, 1, 9, 100, EV_PATH_MAX - 1};
	for (int claims = 0; claims < 2; claims++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			fill(&ev, claims, lens[i]);
			memset(buf, 0xAA, sizeof buf); /* what an earlier record left */
			event_wire_put(&ev, buf);
			const struct api_event *back = event_wire_view(buf, sizeof buf);
			CHECK(back != NULL);
			CHECK(back && same(&ev, back));
			/* One byte short or long: refused. */
			CHECK(event_wire_view(buf, sizeof buf - 1) == NULL);
			CHECK(event_wire_view(buf, sizeof buf + 8) == NULL);
		}
	CHECK(event_wire_view(buf, 10) == NULL);
	CHECK(event_wire_view(buf + 4, sizeof buf - 4) == NULL); /* misaligned */
}

/* A record whose path has no NUL is refused: a reader would run off its end. */
static void test_unterminated_path(void)
{
	static struct api_event ev;
	static _Alignas(8) uint8_t buf[EVENT_WIRE_SIZE];
	fill(&ev, true, 5);
	event_wire_put(&ev, buf);
	struct api_event *rec = (struct api_event *)buf;
	memset(rec->path, 'x', EV_PATH_MAX);
	CHECK(event_wire_view(buf, sizeof buf) == NULL);
}

static void test_no_claims_are_zeroed(void)
{
	static struct api_event ev;
	static _Alignas(8) uint8_t buf[EVENT_WIRE_SIZE];
	fill(&ev, false, 5);
	memset(buf, 0xAA, sizeof buf);
	event_wire_put(&ev, buf);
	const struct api_event *back = event_wire_view(buf, sizeof buf);
	CHECK(back != NULL);
	if (!back)
		return;
	CHECK_EQ(back->identity.claims.iss[0], 0);
	CHECK_EQ(back->identity.claims.exp, 0);
	CHECK_EQ(back->identity.claims.present, 0);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_unterminated_path);
	RUN(test_no_claims_are_zeroed);
	return unit_done("test_event_wire");
}
