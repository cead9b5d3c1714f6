/*
 * openapi.c - OpenAPI 3 (3.0 and 3.1) "paths" and "servers" -> spec routes.
 *
 * The document is read whole (at most OPENAPI_FILE_MAX bytes) and composed
 * into a node tree by libyaml's document API. JSON is read by the same
 * parser (YAML 1.2 is a superset of JSON; libyaml's 1.1 reads JSON too,
 * with one gap: \uD83D\uDE00-style surrogate pairs, which JSON needs for
 * characters beyond U+FFFF and YAML forbids. A document that starts with
 * '{' has them rewritten first into YAML's \U0001F600, the string shifted
 * left and the bytes saved put back as spaces after its closing quote, so
 * every line and column stays where it was.)
 *
 * Two passes: the first walks the tree, checks it and collects every
 * (method, base + path, deprecated) with the node it came from; only when
 * the whole document is good does the second hand them to routes_add_spec.
 * Messages follow config.c: "FILE:LINE:COL: KEY.PATH: what is wrong".
 */
#include "openapi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "../models/routes.h"

/* Server base paths one `servers` list may give (after removing duplicates). */
#define BASES_MAX 32
/* Longest server URL after its variables are put in. */
#define URL_MAX 2048
/* Longest user text quoted into a message. */
#define QUOTE_MAX 40

struct op {
	const char *method;  /* NULL: every method */
	char *tmpl;
	bool deprecated;
	const yaml_node_t *at;
	char keypath[256];   /* of `at`, for a routes_add_spec() failure */
};

struct bases {
	char *v[BASES_MAX];
	size_t n;
};

struct ctx {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	char path[256];      /* key path of the node being read */
	size_t pathlen;
	struct op *ops;
	size_t n_ops, cap_ops;
};

static const char *const methods[] = {"get",     "put",  "post",  "delete",
				      "options", "head", "patch", "trace"};
static const char *const methods_uc[] = {"GET",     "PUT",  "POST",  "DELETE",
					 "OPTIONS", "HEAD", "PATCH", "TRACE"};
#define N_METHODS (sizeof methods / sizeof methods[0])

/* ---- messages ---- */

/* User text as a double-quoted, escaped string cut to QUOTE_MAX bytes. */
static const char *quote(char *dst, size_t cap, const char *s, size_t len)
{
	size_t n = 0, i, take = len;
	bool cut = false;

	if (take > QUOTE_MAX) {
		take = QUOTE_MAX;
		while (take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
			take--;
		cut = true;
	}
	dst[n++] = '"';
	for (i = 0; i < take && n + 8 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(dst + n, cap - n, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", ch);
		else
			dst[n++] = (char)ch;
	}
	snprintf(dst + n, cap - n, "%s\"", cut ? "..." : "");
	return dst;
}

static void put_err(char *err, size_t errlen, const char *file, size_t line0, size_t col0,
		    const char *path, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", file, line0 + 1, col0 + 1, path,
			 *path ? ": " : "", msg);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	put_err(c->err, c->errlen, c->file, n->start_mark.line, n->start_mark.column, c->path, msg);
	return -1;
}

static void path_push(struct ctx *c, const char *fmt, const char *s)
{
	int w = snprintf(c->path + c->pathlen, sizeof c->path - c->pathlen, fmt,
			 c->pathlen ? "." : "", s);
	if (w > 0)
		c->pathlen += (size_t)w;
	if (c->pathlen >= sizeof c->path)
		c->pathlen = sizeof c->path - 1;
}

static void path_key(struct ctx *c, const char *name)
{
	path_push(c, "%s%s", name);
}

static void path_index(struct ctx *c, size_t i)
{
	int w = snprintf(c->path + c->pathlen, sizeof c->path - c->pathlen, "[%zu]", i);
	if (w > 0)
		c->pathlen += (size_t)w;
	if (c->pathlen >= sizeof c->path)
		c->pathlen = sizeof c->path - 1;
}

static void path_pop(struct ctx *c, size_t len)
{
	c->pathlen = len;
	c->path[len] = '\0';
}

/* ---- nodes ---- */

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp(text(n), nulls[i]) == 0)
			return true;
	return false;
}

static const char *describe(const yaml_node_t *n, char *buf, size_t cap)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "nothing";
		return quote(buf, cap, text(n), n->data.scalar.length);
	default:
		return "nothing";
	}
}

static const yaml_node_t *node(const struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* A scalar's text when n is a string without NUL (what a key or URL must be). */
static const char *string_of(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n) || strlen(text(n)) != n->data.scalar.length)
		return NULL;
	return text(n);
}

/* The value of `key` in mapping m (the first one), or NULL; *key_node its key. */
static const yaml_node_t *get(const struct ctx *c, const yaml_node_t *m, const char *key,
			      const yaml_node_t **key_node)
{
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = node(c, p->key);
		const char *s = k ? string_of(k) : NULL;
		if (s && strcmp(s, key) == 0) {
			if (key_node)
				*key_node = k;
			return node(c, p->value);
		}
	}
	return NULL;
}

/* ---- servers ---- */

static void bases_free(struct bases *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i]);
	b->n = 0;
}

/* Puts the server variables' defaults into url (OpenAPI 3 "Server Variable Object"). */
static int expand_url(struct ctx *c, const yaml_node_t *url_node, const yaml_node_t *vars,
		      char *out, size_t cap)
{
	const char *u = text(url_node);
	char q[QUOTE_MAX * 2 + 16];
	size_t o = 0;

	for (size_t i = 0; u[i]; i++) {
		if (u[i] != '{') {
			if (o + 1 >= cap)
				return fail(c, url_node, "URL longer than %d bytes", URL_MAX);
			out[o++] = u[i];
			continue;
		}
		const char *close = strchr(u + i, '}');
		if (!close)
			return fail(c, url_node, "'{' without '}'");
		char name[256];
		size_t nlen = (size_t)(close - (u + i)) - 1;
		if (nlen == 0 || nlen >= sizeof name)
			return fail(c, url_node, "bad variable name in %s",
				    quote(q, sizeof q, u, strlen(u)));
		memcpy(name, u + i + 1, nlen);
		name[nlen] = '\0';
		const yaml_node_t *v = vars && vars->type == YAML_MAPPING_NODE ? get(c, vars, name, NULL)
									   : NULL;
		const yaml_node_t *def = v && v->type == YAML_MAPPING_NODE ? get(c, v, "default", NULL)
									 : NULL;
		const char *ds = def ? string_of(def) : NULL;
		if (!ds)
			return fail(c, url_node, "server variable %s has no default",
				    quote(q, sizeof q, name, nlen));
		size_t dl = strlen(ds);
		if (o + dl + 1 >= cap)
			return fail(c, url_node, "URL longer than %d bytes", URL_MAX);
		memcpy(out + o, ds, dl);
		o += dl;
		i += nlen + 1;
	}
	out[o] = '\0';
	return 0;
}

/*
 * The path part of a server URL, without trailing '/': "https://h/v1/" ->
 * "/v1", "//h" -> "", "/v1" -> "/v1", "v1" (relative) -> "/v1".
 */
static void url_base(const char *url, char *out, size_t cap)
{
	const char *p = url, *scheme = strstr(url, "://");
	size_t n;

	if (scheme && (size_t)(scheme - url) < strcspn(url, "/?#"))
		p = scheme + 3;
	else if (url[0] == '/' && url[1] == '/')
		p = url + 2;
	else
		p = NULL;
	if (p) {
		p += strcspn(p, "/?#");
		if (*p != '/')
			p = "";
	} else {
		p = url;
	}
	n = strcspn(p, "?#");
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0) {
		out[0] = '\0';
		return;
	}
	snprintf(out, cap, "%s%.*s", p[0] == '/' ? "" : "/", (int)n, p);
}

/* Reads a `servers` list into b (replacing what it held). */
static int read_servers(struct ctx *c, const yaml_node_t *list, struct bases *b)
{
	char q[QUOTE_MAX * 2 + 16], url[URL_MAX], base[URL_MAX + 1];
	size_t mark = c->pathlen, i = 0;
	struct bases nb = {0};

	if (is_null(list))
		return 0; /* "servers:" with nothing: as if absent */
	if (list->type != YAML_SEQUENCE_NODE)
		return fail(c, list, "expected a sequence of servers, got %s", describe(list, q, sizeof q));
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++, i++) {
		const yaml_node_t *s = node(c, *it), *un, *kn = NULL;
		path_index(c, i);
		if (s->type != YAML_MAPPING_NODE) {
			fail(c, s, "expected a server (a mapping with url), got %s",
			     describe(s, q, sizeof q));
			goto fail;
		}
		un = get(c, s, "url", &kn);
		if (!un) {
			fail(c, s, "a server needs a url");
			goto fail;
		}
		path_key(c, "url");
		if (!string_of(un)) {
			fail(c, un, "expected a URL string, got %s", describe(un, q, sizeof q));
			goto fail;
		}
		if (expand_url(c, un, get(c, s, "variables", NULL), url, sizeof url) != 0)
			goto fail;
		url_base(url, base, sizeof base);
		size_t k;
		for (k = 0; k < nb.n && strcmp(nb.v[k], base) != 0; k++)
			;
		if (k == nb.n) {
			if (nb.n == BASES_MAX) {
				fail(c, un, "more than %d distinct server base paths", BASES_MAX);
				goto fail;
			}
			if (!(nb.v[nb.n] = strdup(base))) {
				fail(c, un, "out of memory");
				goto fail;
			}
			nb.n++;
		}
		path_pop(c, mark);
	}
	if (nb.n) {
		bases_free(b);
		*b = nb;
	}
	return 0;
fail:
	path_pop(c, mark);
	bases_free(&nb);
	return -1;
}

/* ---- paths ---- */

static int add_op(struct ctx *c, const yaml_node_t *at, const char *method, const char *base,
		  const char *path, bool deprecated)
{
	char why[256];
	struct op *o;
	size_t bl = strlen(base), pl = strlen(path);

	if (c->n_ops == c->cap_ops) {
		size_t ncap = c->cap_ops ? c->cap_ops * 2 : 64;
		struct op *n = realloc(c->ops, ncap * sizeof *n);
		if (!n)
			return fail(c, at, "out of memory");
		c->ops = n;
		c->cap_ops = ncap;
	}
	o = &c->ops[c->n_ops];
	memset(o, 0, sizeof *o);
	if (!(o->tmpl = malloc(bl + pl + 1)))
		return fail(c, at, "out of memory");
	memcpy(o->tmpl, base, bl);
	memcpy(o->tmpl + bl, path, pl + 1);
	if (routes_check_template(o->tmpl, why, sizeof why) != 0) {
		free(o->tmpl);
		return fail(c, at, "%s", why);
	}
	o->method = method;
	o->deprecated = deprecated;
	o->at = at;
	snprintf(o->keypath, sizeof o->keypath, "%s", c->path);
	c->n_ops++;
	return 0;
}

static int read_bool(struct ctx *c, const yaml_node_t *n, bool *out)
{
	char q[QUOTE_MAX * 2 + 16];
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		const char *s = text(n);
		if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
			*out = false;
			return 0;
		}
	}
	return fail(c, n, "expected true or false, got %s", describe(n, q, sizeof q));
}

static int read_operation(struct ctx *c, const yaml_node_t *op, const char *method,
			  const char *path, const struct bases *inherited)
{
	char q[QUOTE_MAX * 2 + 16];
	const yaml_node_t *v;
	bool deprecated = false;
	struct bases own = {0};
	const struct bases *b = inherited;
	size_t mark = c->pathlen;
	int rc = -1;

	if (op->type != YAML_MAPPING_NODE)
		return fail(c, op, "expected an operation (a mapping), got %s", describe(op, q, sizeof q));
	if ((v = get(c, op, "deprecated", NULL)) != NULL) {
		path_key(c, "deprecated");
		if (read_bool(c, v, &deprecated) != 0)
			goto out;
		path_pop(c, mark);
	}
	if ((v = get(c, op, "servers", NULL)) != NULL) {
		path_key(c, "servers");
		if (read_servers(c, v, &own) != 0)
			goto out;
		path_pop(c, mark);
		if (own.n)
			b = &own;
	}
	for (size_t i = 0; i < b->n; i++)
		if (add_op(c, op, method, b->v[i], path, deprecated) != 0)
			goto out;
	rc = 0;
out:
	path_pop(c, mark);
	bases_free(&own);
	return rc;
}

static int read_path_item(struct ctx *c, const yaml_node_t *item, const char *path,
			  const struct bases *inherited)
{
	char q[QUOTE_MAX * 2 + 16];
	struct bases own = {0};
	const struct bases *b = inherited;
	const yaml_node_t *v;
	size_t mark = c->pathlen, n_op = 0;
	int rc = -1;

	if (is_null(item))
		goto every_method;
	if (item->type != YAML_MAPPING_NODE)
		return fail(c, item, "expected a path item (a mapping), got %s",
			    describe(item, q, sizeof q));
	if ((v = get(c, item, "servers", NULL)) != NULL) {
		path_key(c, "servers");
		if (read_servers(c, v, &own) != 0)
			goto out;
		path_pop(c, mark);
		if (own.n)
			b = &own;
	}
	for (size_t m = 0; m < N_METHODS; m++) {
		if ((v = get(c, item, methods[m], NULL)) == NULL)
			continue;
		path_key(c, methods[m]);
		if (read_operation(c, v, methods_uc[m], path, b) != 0)
			goto out;
		path_pop(c, mark);
		n_op++;
	}
	if (n_op) {
		rc = 0;
		goto out;
	}
every_method:
	/* No operation listed (empty, or a $ref to elsewhere): the path is documented. */
	for (size_t i = 0; i < b->n; i++)
		if (add_op(c, item, NULL, b->v[i], path, false) != 0)
			goto out;
	rc = 0;
out:
	path_pop(c, mark);
	bases_free(&own);
	return rc;
}

static int read_paths(struct ctx *c, const yaml_node_t *paths, const struct bases *b)
{
	char q[QUOTE_MAX * 2 + 16];
	size_t mark = c->pathlen;

	if (is_null(paths))
		return 0;
	if (paths->type != YAML_MAPPING_NODE)
		return fail(c, paths, "expected a mapping of paths, got %s", describe(paths, q, sizeof q));
	for (const yaml_node_pair_t *p = paths->data.mapping.pairs.start;
	     p < paths->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = string_of(k);
		if (!key)
			return fail(c, k, "expected a path, got %s", describe(k, q, sizeof q));
		if (strncmp(key, "x-", 2) == 0)
			continue; /* specification extension */
		if (key[0] != '/')
			return fail(c, k, "%s: a path must start with '/'",
				    quote(q, sizeof q, key, strlen(key)));
		char why[256];
		if (routes_check_template(key, why, sizeof why) != 0)
			return fail(c, k, "%s: %s", quote(q, sizeof q, key, strlen(key)), why);
		path_key(c, key);
		if (read_path_item(c, v, key, b) != 0)
			return -1;
		path_pop(c, mark);
	}
	return 0;
}

static int read_document(struct ctx *c, const yaml_node_t *root)
{
	char q[QUOTE_MAX * 2 + 16];
	const yaml_node_t *v, *k = NULL;
	struct bases b = {0};
	int rc = -1;

	if (!root)
		return fail(c, &(yaml_node_t){0}, "empty document: expected an OpenAPI 3 document");
	if (root->type != YAML_MAPPING_NODE)
		return fail(c, root, "expected an OpenAPI 3 document (a mapping), got %s",
			    describe(root, q, sizeof q));
	if ((v = get(c, root, "openapi", &k)) == NULL) {
		if ((v = get(c, root, "swagger", &k)) != NULL) {
			path_key(c, "swagger");
			return fail(c, v, "not OpenAPI 3 but Swagger/OpenAPI 2 (found %s): convert it",
				    describe(v, q, sizeof q));
		}
		return fail(c, root, "not OpenAPI 3: no \"openapi\" key");
	}
	path_key(c, "openapi");
	const char *ver = v->type == YAML_SCALAR_NODE ? text(v) : NULL;
	if (!ver || strncmp(ver, "3.", 2) != 0 || !(ver[2] >= '0' && ver[2] <= '9'))
		return fail(c, v, "not OpenAPI 3 (found %s)", describe(v, q, sizeof q));
	path_pop(c, 0);
	bool v30 = strncmp(ver, "3.0", 3) == 0 && !(ver[3] >= '0' && ver[3] <= '9');

	if ((v = get(c, root, "servers", NULL)) != NULL) {
		path_key(c, "servers");
		if (read_servers(c, v, &b) != 0)
			goto out;
		path_pop(c, 0);
	}
	if (b.n == 0) {
		if (!(b.v[0] = strdup("")))
			goto out;
		b.n = 1;
	}
	if ((v = get(c, root, "paths", NULL)) == NULL) {
		if (v30) {
			fail(c, root, "no \"paths\" key (OpenAPI 3.0 requires one)");
			goto out;
		}
	} else {
		path_key(c, "paths");
		if (read_paths(c, v, &b) != 0)
			goto out;
		path_pop(c, 0);
	}
	rc = 0;
out:
	bases_free(&b);
	return rc;
}

/* ---- input ---- */

static int read_whole(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	size_t len = 0, cap = 65536;
	char *buf = NULL;
	int fd, e = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	for (;;) {
		if (!buf || len == cap) {
			char *grown;
			if (buf)
				cap *= 2;
			if (!(grown = realloc(buf, cap))) {
				e = ENOMEM;
				goto fail;
			}
			buf = grown;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > OPENAPI_FILE_MAX) {
			if (err && errlen)
				snprintf(err, errlen, "%s: cannot read: larger than %u MiB",
					 path, OPENAPI_FILE_MAX >> 20);
			close(fd);
			free(buf);
			return -1;
		}
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = s[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v |= ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v |= ch - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * JSON's surrogate escapes -> YAML escapes, in place, keeping every line and
 * column (see the top of the file). A pair becomes \UXXXXXXXX (two bytes
 * shorter: made up after the string's closing quote), a lone half \uFFFD.
 */
static void json_surrogates(char *s, size_t len)
{
	size_t i = 0, o = 0, owed = 0;
	bool in_str = false;

	while (i < len) {
		char ch = s[i];
		if (!in_str) {
			s[o++] = s[i++];
			in_str = ch == '"';
			continue;
		}
		if (ch == '"') {
			s[o++] = s[i++];
			while (owed) {
				s[o++] = ' ';
				owed--;
			}
			in_str = false;
			continue;
		}
		if (ch != '\\' || i + 1 >= len) {
			s[o++] = s[i++];
			continue;
		}
		if (s[i + 1] != 'u' || i + 6 > len) {
			s[o++] = s[i++];
			s[o++] = s[i++];
			continue;
		}
		int hi = hex4(s + i + 2), lo = -1;
		if (hi < 0xD800 || hi > 0xDFFF) {
			memmove(s + o, s + i, 6);
			o += 6;
			i += 6;
			continue;
		}
		if (hi <= 0xDBFF && i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u')
			lo = hex4(s + i + 8);
		if (lo >= 0xDC00 && lo <= 0xDFFF) {
			unsigned cp = 0x10000u + (((unsigned)hi - 0xD800u) << 10) + ((unsigned)lo - 0xDC00u);
			char tmp[11];
			snprintf(tmp, sizeof tmp, "\\U%08X", cp);
			memcpy(s + o, tmp, 10);
			o += 10;
			i += 12;
			owed += 2;
		} else {
			memcpy(s + o, "\\uFFFD", 6);
			o += 6;
			i += 6;
		}
	}
	while (owed && o < len) { /* unterminated string: the parser will say so */
		s[o++] = ' ';
		owed--;
	}
}

static void syntax_error(const yaml_parser_t *p, const char *file, const char *txt, size_t len,
			 char *err, size_t errlen)
{
	char msg[512];
	size_t line0 = 0, col0 = 0;
	int n;

	if (p->error == YAML_MEMORY_ERROR) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", file);
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (txt[i] == '\n') {
				line0++;
				col0 = 0;
			} else if (((unsigned char)txt[i] & 0xC0) != 0x80) {
				col0++;
			}
		}
		snprintf(msg, sizeof msg, "YAML syntax error: %s", p->problem ? p->problem : "unreadable");
		put_err(err, errlen, file, line0, col0, "", msg);
		return;
	}
	n = snprintf(msg, sizeof msg, "YAML syntax error: %s", p->problem ? p->problem : "malformed");
	if (p->context && n > 0 && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - (size_t)n, ", %s at line %zu", p->context,
			 p->context_mark.line + 1);
	put_err(err, errlen, file, p->problem_mark.line, p->problem_mark.column, "", msg);
}

int openapi_load_text(struct routes *t, const char *name, const char *txt, size_t len,
		      size_t *n_ops, char *err, size_t errlen)
{
	struct ctx c = {.file = name, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	yaml_document_t doc;
	bool have_parser = false, have_doc = false;
	char *copy = NULL;
	size_t i = 0;
	int rc = -1;

	if (n_ops)
		*n_ops = 0;
	if (!(copy = malloc(len ? len : 1))) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	memcpy(copy, txt, len);
	if (len >= 3 && memcmp(copy, "\xEF\xBB\xBF", 3) == 0)
		i = 3; /* a UTF-8 byte order mark */
	while (i < len && (copy[i] == ' ' || copy[i] == '\t' || copy[i] == '\r' || copy[i] == '\n'))
		i++;
	if (i < len && copy[i] == '{')
		json_surrogates(copy, len);
	if (!yaml_parser_initialize(&parser)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)copy, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(&parser, name, copy, len, err, errlen);
		goto out;
	}
	have_doc = true;
	c.doc = &doc;
	if (read_document(&c, yaml_document_get_root_node(&doc)) != 0)
		goto out;
	for (i = 0; i < c.n_ops; i++) {
		char why[256];
		struct op *o = &c.ops[i];
		if (routes_add_spec(t, o->method, o->tmpl, o->deprecated, why, sizeof why) != 0) {
			put_err(err, errlen, name, o->at->start_mark.line, o->at->start_mark.column,
				o->keypath, why);
			goto out;
		}
	}
	routes_set_spec(t);
	if (n_ops)
		*n_ops = c.n_ops;
	rc = 0;
out:
	for (i = 0; i < c.n_ops; i++)
		free(c.ops[i].tmpl);
	free(c.ops);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	free(copy);
	return rc;
}

int openapi_load(struct routes *t, const char *path, size_t *n_ops, char *err, size_t errlen)
{
	char *txt = NULL;
	size_t len = 0;
	int rc;

	if (n_ops)
		*n_ops = 0;
	if (read_whole(path, &txt, &len, err, errlen) != 0)
		return -1;
	rc = openapi_load_text(t, path, txt, len, n_ops, err, errlen);
	free(txt);
	return rc;
}
