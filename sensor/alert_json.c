/*
 * alert_json.c - struct alert -> JSON line. Field order follows INTERFACE.md.
 * `evidence` is already a JSON object's text, made by the engine; it is
 * written as is when it looks like one, else as {}.
 */
#include "alert_json.h"

#include <string.h>

#include "jsonw.h"

static const char *const severities[] = {"low", "medium", "high", "critical"};
static const char *const id_kinds[] = {"none", "jwt", "basic", "bearer", "api_key", "cookie"};

size_t alert_json(const struct alert *a, const char *sensor, int64_t audit_record, char *buf,
		  size_t cap)
{
	struct jsonw w;
	jw_init(&w, buf, cap);
	jw_obj_open(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "alert");
	jw_key(&w, "ts");
	jw_time(&w, a->ts_us);
	jw_key(&w, "id");
	jw_cstr(&w, a->id);
	jw_key(&w, "sensor");
	jw_cstr(&w, sensor);
	jw_key(&w, "detector");
	jw_cstr(&w, a->detector);
	jw_key(&w, "severity");
	jw_cstr(&w, severities[a->severity]);
	jw_key(&w, "score");
	uint64_t milli = a->score <= 0 ? 0 : a->score >= 1 ? 1000 : (uint64_t)(a->score * 1000 + 0.5);
	jw_fixed(&w, milli, 3);
	jw_key(&w, "identity");
	jw_obj_open(&w);
	jw_key(&w, "kind");
	jw_cstr(&w, id_kinds[a->id_kind]);
	jw_key(&w, "id");
	jw_cstr(&w, a->id_kind == ID_NONE ? NULL : a->id_value);
	jw_obj_close(&w);
	jw_key(&w, "client_ip");
	jw_ip(&w, a->client_ip);
	jw_key(&w, "method");
	jw_cstr(&w, a->method[0] ? a->method : NULL);
	jw_key(&w, "host");
	jw_cstr(&w, a->host[0] ? a->host : NULL);
	jw_key(&w, "path");
	jw_cstr(&w, a->path[0] ? a->path : NULL);
	jw_key(&w, "route");
	jw_cstr(&w, a->route[0] ? a->route : NULL);
	jw_key(&w, "summary");
	jw_cstr(&w, a->summary);
	jw_key(&w, "evidence");
	size_t n = strnlen(a->evidence, sizeof a->evidence);
	if (n >= 2 && a->evidence[0] == '{' && a->evidence[n - 1] == '}')
		jw_raw(&w, a->evidence, n);
	else
		jw_raw(&w, "{}", 2);
	w.need_comma = true;
	if (audit_record >= 0) {
		jw_key(&w, "audit_record");
		jw_u64(&w, (uint64_t)audit_record);
	}
	jw_obj_close(&w);
	jw_raw(&w, "\n", 1);
	return w.overflow ? 0 : w.len;
}
