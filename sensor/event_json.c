/*
 * event_json.c - api_event -> JSON line. Field order follows INTERFACE.md.
 */
#include "event_json.h"

#include <string.h>

#include "../decoders/ascii.h"
#include "identity_json.h"
#include "jsonw.h"

/* The protocol names as JSON strings, quotes included (nothing in them to escape). */
static const struct {
	const char *json;
	size_t len;
} proto_json[] = {{"\"HTTP/1.0\"", 10}, {"\"HTTP/1.1\"", 10}, {"\"HTTP/2\"", 8}};

size_t event_json(const struct api_event *ev, const char *route, char *buf, size_t cap)
{
	return event_json_memo(ev, route, buf, cap, NULL);
}

size_t event_json_memo(const struct api_event *ev, const char *route, char *buf, size_t cap,
		       struct event_json_memo *m)
{
	struct jsonw w;
	jw_init(&w, buf, cap);
	/* What jw_obj_open, jw_key "type", jw_cstr "api" and jw_key "ts" write: every event's start. */
	jw_raw(&w, "{\"type\":\"api\",\"ts\":", 19);
	jw_time_memo(&w, ev->ts_us, m ? &m->ts : NULL);
	jw_key(&w, "proto");
	jw_value_raw(&w, proto_json[ev->proto].json, proto_json[ev->proto].len);
	if (ev->proto == EV_HTTP2) {
		jw_key(&w, "stream_id");
		jw_u64(&w, ev->stream_id);
	}
	jw_key(&w, "client_ip");
	jw_ip_memo(&w, ev->client_ip, m ? &m->client_ip : NULL);
	jw_key(&w, "client_port");
	jw_u64(&w, ev->client_port);
	jw_key(&w, "server_ip");
	jw_ip_memo(&w, ev->server_ip, m ? &m->server_ip : NULL);
	jw_key(&w, "server_port");
	jw_u64(&w, ev->server_port);
	if (ev->vlan) {
		jw_key(&w, "vlan");
		jw_u64(&w, ev->vlan);
	}
	jw_key(&w, "method");
	jw_cstr(&w, ev->method);
	jw_key(&w, "host");
	jw_cstr(&w, ev->has_host ? ev->host : NULL);
	jw_key(&w, "path");
	jw_cstr(&w, ev->path);
	jw_key(&w, "query_keys");
	jw_arr_open(&w);
	const char *k = ev->query_keys;
	for (unsigned i = 0; i < ev->n_query_keys; i++) {
		jw_cstr(&w, k);
		k += strlen(k) + 1;
	}
	jw_arr_close(&w);
	jw_key(&w, "route");
	jw_cstr(&w, route);
	jw_key(&w, "status");
	if (ev->status)
		jw_u64(&w, (uint64_t)ev->status);
	else
		jw_null(&w);
	jw_key(&w, "req_bytes");
	jw_u64(&w, ev->req_bytes);
	jw_key(&w, "resp_bytes");
	jw_u64(&w, ev->resp_bytes);
	jw_key(&w, "duration_ms");
	if (ev->end_us && ev->end_us >= ev->ts_us)
		jw_fixed(&w, ev->end_us - ev->ts_us, 3);
	else
		jw_null(&w);
	jw_key(&w, "user_agent");
	jw_cstr(&w, ev->has_user_agent ? ev->user_agent : NULL);
	jw_key(&w, "content_type");
	jw_cstr(&w, ev->has_content_type ? ev->content_type : NULL);
	jw_key(&w, "identity");
	identity_json_memo(&w, &ev->identity, m ? &m->identity : NULL);
	if (ev->has_origin) {
		jw_key(&w, "origin_ip");
		jw_ip(&w, ev->origin_ip);
	}
	if (ev->proto == EV_HTTP2 && ev->has_content_type &&
	    ascii_ieq_lit(ev->content_type, "application/grpc", 16)) {
		jw_key(&w, "grpc_status");
		if (ev->grpc_status >= 0)
			jw_i64(&w, ev->grpc_status);
		else
			jw_null(&w);
		jw_key(&w, "grpc_message");
		jw_cstr(&w, ev->grpc_message[0] ? ev->grpc_message : NULL);
	}
	if (ev->pushed) {
		jw_key(&w, "pushed");
		jw_bool(&w, true);
	}
	if (ev->partial) {
		jw_key(&w, "partial");
		jw_bool(&w, true);
	}
	if (ev->gap) {
		jw_key(&w, "gap");
		jw_bool(&w, true);
	}
	if (ev->truncated) {
		jw_key(&w, "truncated");
		jw_bool(&w, true);
	}
	jw_obj_close(&w);
	jw_raw(&w, "\n", 1);
	return w.overflow ? 0 : w.len;
}
