/*
 * test_exchange.c - exchange_reset: a record reused after another exchange
 * must give the same event as a zeroed one. Compared through what leaves the
 * worker (event_wire_put: every member, padding included, text up to its NUL,
 * claims when present) and through the event's JSON line. A repeated target
 * replaces the parameter names (found by the reuse test: the names were
 * appended from the start and counted on).
 */
#include <stdlib.h>

#include "../sensor/event_json.h"
#include "../sensor/event_wire.h"
#include "../sensor/exchange.h"
#include "unit.h"

/* A JWT with every claim the event keeps ({"alg":"HS256","kid":"k1"} and a
 * payload with sub, iss, aud, scope, roles, iat, exp, nbf, jti). */
static const char jwt[] =
	"Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0."
	"eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlLmNvbSIsImF1ZCI6WyJhcGkiLCJ3ZWIi"
	"XSwic2NvcGUiOiJyZWFkOm9yZGVycyB3cml0ZTpvcmRlcnMiLCJyb2xlcyI6WyJzdXBwb3J0IiwiYWRtaW4iXSwi"
	"aWF0IjoxNzk1OTE1OTg3LCJleHAiOjE3OTU5MjMxODcsIm5iZiI6MTc5NTkxNTk4NywianRpIjoiajEifQ.c2ln";

static bool same_wire(const struct api_event *a, const struct api_event *b)
{
	static uint8_t wa[EVENT_WIRE_MAX], wb[EVENT_WIRE_MAX];
	size_t na = event_wire_put(a, wa), nb = event_wire_put(b, wb);
	return na == nb && memcmp(wa, wb, na) == 0;
}

static bool same_json(const struct api_event *a, const struct api_event *b)
{
	static char ja[16384], jb[16384];
	size_t na = event_json(a, "/r", ja, sizeof ja), nb = event_json(b, "/r", jb, sizeof jb);
	return na == nb && memcmp(ja, jb, na) == 0;
}

/* Everything an exchange can fill, each text long, many parameter names, a JWT. */
static void full_exchange(struct api_event *ev)
{
	char path[EV_PATH_MAX + 100];
	memset(path, 'p', sizeof path);
	path[0] = '/';
	memcpy(path + sizeof path - 40, "?a=1&bb=2&ccc=3&dddd&e=5&ffffff=6&g=77", 38);
	ev->ts_us = 1795915990000000ull;
	ev->end_us = ev->ts_us + 5;
	ev->proto = EV_HTTP2;
	ev->stream_id = 77;
	memset(ev->client_ip, 7, 16);
	memset(ev->server_ip, 9, 16);
	ev->client_port = 50000;
	ev->server_port = 443;
	ev->vlan = 12;
	exchange_set_method(ev, "PROPFINDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", 40);
	exchange_set_target(ev, path, sizeof path - 2);
	exchange_set_target(ev, "/x?k1&k2&k3&k4&k5&k6&k7&k8&k9&k10&k11&k12", 41);
	exchange_request_header(ev, NULL, "host", 4, "user:pw@a-very-long-host.example.com", 36);
	exchange_request_header(ev, NULL, "user-agent", 10, "agent/1.0 (a long comment here)",
				31);
	exchange_request_header(ev, NULL, "content-type", 12, "application/x-www-form-urlencoded",
				33);
	exchange_response_header(ev, "content-type", 12, "application/json; charset=utf-8", 31);
	exchange_request_header(ev, NULL, "authorization", 13, jwt, sizeof jwt - 1);
	ev->status = 503;
	ev->req_bytes = 1234567;
	ev->resp_bytes = 7654321;
	memset(ev->origin_ip, 3, 16);
	ev->has_origin = true;
	ev->gap = ev->pushed = ev->partial = true;
	ev->grpc_status = 14;
	memset(ev->grpc_message, 'm', sizeof ev->grpc_message - 1);
	ev->grpc_message[sizeof ev->grpc_message - 1] = '\0';
	exchange_finish(ev, NULL);
}

/* A small exchange: only a few members written. */
static void small_exchange(struct api_event *ev)
{
	ev->ts_us = 1795915991000000ull;
	ev->proto = EV_HTTP11;
	exchange_set_method(ev, "GET", 3);
	exchange_set_target(ev, "/", 1);
	ev->status = 200;
	exchange_finish(ev, NULL);
}

static void test_reset_of_garbage_reads_as_zeroed(void)
{
	struct api_event *a = malloc(sizeof *a), *z = calloc(1, sizeof *z);
	for (int fill = 0; fill < 256; fill += 0x55) {
		memset(a, fill, sizeof *a);
		exchange_reset(a);
		CHECK(same_wire(a, z));
		CHECK(same_json(a, z));
		CHECK_EQ(a->identity.kind, ID_NONE);
		CHECK(!a->identity.has_claims);
	}
	free(a);
	free(z);
}

static void test_reused_record_gives_a_fresh_event(void)
{
	struct api_event *a = malloc(sizeof *a), *z = calloc(1, sizeof *z);
	exchange_reset(a);
	full_exchange(a);
	CHECK(a->identity.has_claims);
	CHECK(a->truncated & EV_TRUNC_PATH);
	CHECK(a->n_query_keys > 8);

	exchange_reset(a);
	small_exchange(a);
	small_exchange(z);
	CHECK(same_wire(a, z));
	CHECK(same_json(a, z));

	/* and the full one again over the small one: same as on a zeroed record */
	exchange_reset(a);
	full_exchange(a);
	memset(z, 0, sizeof *z);
	full_exchange(z);
	CHECK(same_wire(a, z));
	CHECK(same_json(a, z));
	free(a);
	free(z);
}

/* A repeated :path: the last target wins, names included (none read from before). */
static void test_second_target_replaces_names(void)
{
	struct api_event *a = malloc(sizeof *a);
	memset(a, 'q', sizeof *a);
	exchange_reset(a);
	exchange_set_target(a, "/a?x=1&yy=2&zzz=3", 17);
	exchange_set_target(a, "/b?k", 4);
	CHECK_STR(a->path, "/b");
	CHECK_EQ(a->n_query_keys, 1);
	CHECK_STR(a->query_keys, "k");
	exchange_set_target(a, "/c", 2);
	CHECK_EQ(a->n_query_keys, 0);
	free(a);
}

int main(void)
{
	RUN(test_reset_of_garbage_reads_as_zeroed);
	RUN(test_reused_record_gives_a_fresh_event);
	RUN(test_second_target_replaces_names);
	return unit_done("test_exchange");
}
