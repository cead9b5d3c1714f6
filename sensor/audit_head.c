/*
 * audit_head.c - signed tree heads (RFC 9162 4.10 in spirit): the 128-byte
 * entries of heads.sth (layout in audit_int.h), their signatures, and the JSON
 * form that `tapir audit head` prints, `verify --sth` reads and the sensor
 * publishes so that a witness outside the machine holds them.
 */
#include "audit_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static const char *const reasons[] = {
	[AUDIT_HEAD_INTERVAL] = "interval", [AUDIT_HEAD_COUNT] = "count",
	[AUDIT_HEAD_ROTATION] = "rotation", [AUDIT_HEAD_CLOSE] = "close",
	[AUDIT_HEAD_REPAIR] = "repair",     [AUDIT_HEAD_RETENTION] = "retention",
	[AUDIT_HEAD_REQUEST] = "request",
};

const char *audit_head_reason_name(unsigned reason)
{
	if (reason < sizeof reasons / sizeof reasons[0] && reasons[reason])
		return reasons[reason];
	return "unknown";
}

void audit_head_encode(const struct audit_head *h, uint8_t out[AUDIT_HEAD_SIZE])
{
	memcpy(out, AUDIT_HEAD_MAGIC, 4);
	out[4] = h->version;
	out[5] = h->flags;
	audit_put16(out + 6, h->reason);
	audit_put64(out + 8, h->size);
	audit_put64(out + 16, h->time_us);
	memcpy(out + 24, h->root, MERKLE_HASH);
	memcpy(out + 56, h->key_id, 8);
	memcpy(out + 64, h->sig, 64);
}

int audit_head_decode(const uint8_t in[AUDIT_HEAD_SIZE], struct audit_head *h)
{
	if (memcmp(in, AUDIT_HEAD_MAGIC, 4) != 0 || in[4] != AUDIT_VERSION)
		return -1;
	h->version = in[4];
	h->flags = in[5];
	h->reason = audit_get16(in + 6);
	h->size = audit_get64(in + 8);
	h->time_us = audit_get64(in + 16);
	memcpy(h->root, in + 24, MERKLE_HASH);
	memcpy(h->key_id, in + 56, 8);
	memcpy(h->sig, in + 64, 64);
	return 0;
}

size_t audit_head_message(const struct audit_head *h, uint8_t msg[96])
{
	uint8_t b[AUDIT_HEAD_SIZE];
	audit_head_encode(h, b);
	size_t c = strlen(AUDIT_HEAD_CONTEXT);
	memcpy(msg, AUDIT_HEAD_CONTEXT, c);
	memcpy(msg + c, b, 64);
	return c + 64;
}

int audit_head_sign(struct audit_head *h, const struct audit_key *k)
{
	uint8_t msg[96];
	memset(h->sig, 0, sizeof h->sig);
	if (!k) {
		h->flags &= (uint8_t)~AUDIT_HEAD_SIGNED;
		memset(h->key_id, 0, sizeof h->key_id);
		uint8_t b[AUDIT_HEAD_SIZE];
		audit_head_encode(h, b);
		audit_put32(h->sig, audit_crc32c(0, b, 64));
		return 0;
	}
	h->flags |= AUDIT_HEAD_SIGNED;
	audit_key_id(k, h->key_id);
	size_t n = audit_head_message(h, msg);
	return audit_key_sign(k, msg, n, h->sig);
}

bool audit_head_check(const struct audit_head *h, const struct audit_key *k)
{
	if (!k) {
		if (h->flags & AUDIT_HEAD_SIGNED)
			return false;
		uint8_t b[AUDIT_HEAD_SIZE];
		audit_head_encode(h, b);
		return audit_get32(h->sig) == audit_crc32c(0, b, 64);
	}
	uint8_t id[8], msg[96];
	audit_key_id(k, id);
	if (!(h->flags & AUDIT_HEAD_SIGNED) || memcmp(id, h->key_id, 8) != 0)
		return false;
	size_t n = audit_head_message(h, msg);
	return audit_key_verify(k, msg, n, h->sig);
}

size_t audit_head_json(const struct audit_head *h, char *buf, size_t n)
{
	char root[65], id[17], sig[129], t[40];
	audit_hex(h->root, sizeof h->root, root);
	audit_hex(h->key_id, sizeof h->key_id, id);
	audit_hex(h->sig, sizeof h->sig, sig);
	audit_format_time(h->time_us, t, sizeof t);
	int w = snprintf(buf, n,
			 "{\"type\":\"audit_head\",\"version\":%u,\"tree_size\":%llu,"
			 "\"timestamp\":\"%s\",\"timestamp_us\":%llu,\"root_hash\":\"%s\","
			 "\"signed\":%s,\"key_id\":\"%s\",\"reason\":\"%s\",\"signature\":\"%s\"}",
			 h->version, (unsigned long long)h->size, t, (unsigned long long)h->time_us,
			 root, h->flags & AUDIT_HEAD_SIGNED ? "true" : "false", id,
			 audit_head_reason_name(h->reason), sig);
	return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

static int hexfield(json_t *o, const char *key, uint8_t *out, size_t n, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) ||
	    audit_unhex(json_string_value(v), json_string_length(v), out, n) != 0) {
		audit_msg(err, errlen, "\"%s\" is missing or not %zu hex bytes", key, n);
		return -1;
	}
	return 0;
}

int audit_head_parse(const uint8_t *text, size_t len, struct audit_head *h, char *err,
		     size_t errlen)
{
	memset(h, 0, sizeof *h);
	if (len == AUDIT_HEAD_SIZE && memcmp(text, AUDIT_HEAD_MAGIC, 4) == 0) {
		if (audit_head_decode(text, h) != 0) {
			audit_msg(err, errlen, "not a tree head");
			return -1;
		}
		return 0;
	}
	json_error_t je;
	json_t *o = json_loadb((const char *)text, len, JSON_DISABLE_EOF_CHECK, &je);
	if (!json_is_object(o)) {
		audit_msg(err, errlen, "not a tree head (JSON, line %d: %s)", je.line, je.text);
		json_decref(o);
		return -1;
	}
	json_t *size = json_object_get(o, "tree_size"), *ts = json_object_get(o, "timestamp_us");
	json_t *ver = json_object_get(o, "version"), *sg = json_object_get(o, "signed");
	json_t *reason = json_object_get(o, "reason");
	int rc = -1;
	if (!json_is_integer(size) || json_integer_value(size) < 0 || !json_is_integer(ts) ||
	    json_integer_value(ts) < 0) {
		audit_msg(err, errlen, "\"tree_size\" and \"timestamp_us\" must be whole numbers");
		goto out;
	}
	if (hexfield(o, "root_hash", h->root, sizeof h->root, err, errlen) != 0 ||
	    hexfield(o, "key_id", h->key_id, sizeof h->key_id, err, errlen) != 0 ||
	    hexfield(o, "signature", h->sig, sizeof h->sig, err, errlen) != 0)
		goto out;
	h->version = json_is_integer(ver) ? (uint8_t)json_integer_value(ver) : AUDIT_VERSION;
	h->flags = json_is_true(sg) ? AUDIT_HEAD_SIGNED : 0;
	h->size = (uint64_t)json_integer_value(size);
	h->time_us = (uint64_t)json_integer_value(ts);
	h->reason = 0;
	if (json_is_string(reason))
		for (unsigned i = 1; i < sizeof reasons / sizeof reasons[0]; i++)
			if (reasons[i] && strcmp(reasons[i], json_string_value(reason)) == 0)
				h->reason = (uint16_t)i;
	rc = 0;
out:
	json_decref(o);
	return rc;
}
