/*
 * redis_url.c - output.redis.url into a struct redis_target.
 */
#include "redis_url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into out (NUL-terminated); -1 when bad or too long. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h << 4 | l;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_int(const char *s, size_t n, int lo, int hi, int *out)
{
	char buf[16];
	char *end;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)buf[i]))
			return -1;
	long v = strtol(buf, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* "[[user]:password@]" at the front of s[0..n): fills t, returns bytes taken or -1. */
static size_t userinfo(const char *s, size_t n, struct redis_target *t, const char **why)
{
	const char *at = memchr(s, '@', n);
	if (!at)
		return 0;
	size_t len = (size_t)(at - s);
	const char *colon = memchr(s, ':', len);
	if (!colon) {
		*why = "credentials must be written user:password@ or :password@";
		return (size_t)-1;
	}
	if (decode(s, (size_t)(colon - s), t->user, sizeof t->user) != 0 ||
	    decode(colon + 1, (size_t)(at - colon - 1), t->password, sizeof t->password) != 0) {
		*why = "bad percent-encoding or too long a user or password";
		return (size_t)-1;
	}
	return len + 1;
}

int redis_url_parse(const char *url, struct redis_target *t, char *err, size_t errlen)
{
	const char *why = NULL;
	memset(t, 0, sizeof *t);
	t->port = 6379;
	if (strncmp(url, "rediss://", 9) == 0) {
		snprintf(err, errlen, "rediss:// (TLS) needs hiredis built with TLS, which Debian's "
			 "hiredis 0.14 is not; reach Redis over a unix socket or a local TLS tunnel");
		return -1;
	}
	if (strncmp(url, "unix:", 5) == 0) {
		const char *p = url + 5;
		if (strncmp(p, "//", 2) == 0) {
			p += 2;
			size_t took = userinfo(p, strcspn(p, "/"), t, &why);
			if (took == (size_t)-1)
				goto bad;
			p += took;
		}
		size_t plen = strcspn(p, "?");
		if (plen == 0 || p[0] != '/' || plen >= sizeof t->unix_path) {
			why = "the socket path must be absolute and shorter than 108 bytes";
			goto bad;
		}
		memcpy(t->unix_path, p, plen);
		p += plen;
		if (*p) {
			if (strncmp(p, "?db=", 4) != 0 ||
			    parse_int(p + 4, strlen(p + 4), 0, 1000000, &t->db) != 0) {
				why = "after the socket path only ?db=N is understood";
				goto bad;
			}
		}
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		why = "the URL must start with redis:// or unix:";
		goto bad;
	}
	const char *p = url + 8;
	size_t auth_len = strcspn(p, "/");
	size_t took = userinfo(p, auth_len, t, &why);
	if (took == (size_t)-1)
		goto bad;
	p += took;
	size_t hp = strcspn(p, "/");
	const char *host = p, *hend = p + hp, *port = NULL;
	if (*host == '[') { /* [IPv6]:port */
		const char *rb = memchr(host, ']', hp);
		if (!rb) {
			why = "unclosed [ in the host";
			goto bad;
		}
		if (rb + 1 < hend) {
			if (rb[1] != ':') {
				why = "after ] only :port may follow";
				goto bad;
			}
			port = rb + 2;
		}
		host++;
		hp = (size_t)(rb - host);
	} else {
		const char *colon = memchr(host, ':', hp);
		if (colon) {
			port = colon + 1;
			hp = (size_t)(colon - host);
		}
	}
	if (hp == 0 || hp >= sizeof t->host) {
		why = "no host, or too long a host";
		goto bad;
	}
	memcpy(t->host, host, hp);
	t->host[hp] = '\0';
	if (port && parse_int(port, (size_t)(hend - port), 1, 65535, &t->port) != 0) {
		why = "the port must be a number from 1 to 65535";
		goto bad;
	}
	p = hend;
	if (*p == '/' && p[1]) {
		if (parse_int(p + 1, strlen(p + 1), 0, 1000000, &t->db) != 0) {
			why = "the database after / must be a number";
			goto bad;
		}
	}
	return 0;
bad:
	memset(t->password, 0, sizeof t->password);
	snprintf(err, errlen, "bad Redis URL: %s", why);
	return -1;
}

const char *redis_target_where(const struct redis_target *t, char *buf, size_t len)
{
	if (t->unix_path[0])
		snprintf(buf, len, "%s", t->unix_path);
	else if (strchr(t->host, ':'))
		snprintf(buf, len, "[%s]:%d", t->host, t->port);
	else
		snprintf(buf, len, "%s:%d", t->host, t->port);
	return buf;
}
