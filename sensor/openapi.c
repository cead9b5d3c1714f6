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
 * Messages are those of config/yamldoc.h, as for tapir.yaml:
 * "FILE:LINE:COL: KEY.PATH: what is wrong".
 */
#include "openapi.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/readfile.h"
#include "../config/yamldoc.h"
#include "../models/routes.h"

/* Server base paths one `servers` list may give (after removing duplicates). */
#define BASES_MAX 32
/* Longest server URL after its variables are put in. */
#define URL_MAX 2048
/* Buffer for one user value quoted into a message (yamldoc_quote). */
#define QUOTE_SIZE (YAMLDOC_QUOTE_MAX * 2 + 16)

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
	struct yamldoc d; /* the document, the key path, the message */
	struct op *ops;
	size_t n_ops, cap_ops;
};

static const char *const methods[] = {"get",     "put",  "post",  "delete",
				      "options", "head", "patch", "trace"};
static const char *const methods_uc[] = {"GET",     "PUT",  "POST",  "DELETE",
					 "OPTIONS", "HEAD", "PATCH", "TRACE"};
#define N_METHODS (sizeof methods / sizeof methods[0])

/* ---- nodes ---- */

/* A scalar's text when n is a string without NUL (what a key or URL must be). */
static const char *string_of(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || yamldoc_is_null(n) ||
	    strlen(yamldoc_text(n)) != n->data.scalar.length)
		return NULL;
	return yamldoc_text(n);
}

/* The value of `key` in mapping m (the first one), or NULL; *key_node its key. */
static const yaml_node_t *get(const struct ctx *c, const yaml_node_t *m, const char *key,
			      const yaml_node_t **key_node)
{
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yamldoc_node(&c->d, p->key);
		const char *s = k ? string_of(k) : NULL;
		if (s && strcmp(s, key) == 0) {
			if (key_node)
				*key_node = k;
			return yamldoc_node(&c->d, p->value);
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
	const char *u = yamldoc_text(url_node);
	char q[QUOTE_SIZE];
	size_t o = 0;

	for (size_t i = 0; u[i]; i++) {
		if (u[i] != '{') {
			if (o + 1 >= cap)
				return yamldoc_fail(&c->d, url_node, "URL longer than %d bytes",
						    URL_MAX);
			out[o++] = u[i];
			continue;
		}
		const char *close = strchr(u + i, '}');
		if (!close)
			return yamldoc_fail(&c->d, url_node, "'{' without '}'");
		char name[256];
		size_t nlen = (size_t)(close - (u + i)) - 1;
		if (nlen == 0 || nlen >= sizeof name)
			return yamldoc_fail(&c->d, url_node, "bad variable name in %s",
					    yamldoc_quote(&c->d, q, sizeof q, u, strlen(u)));
		memcpy(name, u + i + 1, nlen);
		name[nlen] = '\0';
		const yaml_node_t *v = vars && vars->type == YAML_MAPPING_NODE ? get(c, vars, name, NULL)
									   : NULL;
		const yaml_node_t *def = v && v->type == YAML_MAPPING_NODE ? get(c, v, "default", NULL)
									 : NULL;
		const char *ds = def ? string_of(def) : NULL;
		if (!ds)
			return yamldoc_fail(&c->d, url_node, "server variable %s has no default",
					    yamldoc_quote(&c->d, q, sizeof q, name, nlen));
		size_t dl = strlen(ds);
		if (o + dl + 1 >= cap)
			return yamldoc_fail(&c->d, url_node, "URL longer than %d bytes", URL_MAX);
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
	char q[QUOTE_SIZE], url[URL_MAX], base[URL_MAX + 1];
	size_t mark = c->d.pathlen, i = 0;
	struct bases nb = {0};

	if (yamldoc_is_null(list))
		return 0; /* "servers:" with nothing: as if absent */
	if (list->type != YAML_SEQUENCE_NODE)
		return yamldoc_fail(&c->d, list, "expected a sequence of servers, got %s",
				    yamldoc_describe(&c->d, list, q, sizeof q));
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++, i++) {
		const yaml_node_t *s = yamldoc_node(&c->d, *it), *un, *kn = NULL;
		yamldoc_path_index(&c->d, i);
		if (s->type != YAML_MAPPING_NODE) {
			yamldoc_fail(&c->d, s, "expected a server (a mapping with url), got %s",
				     yamldoc_describe(&c->d, s, q, sizeof q));
			goto fail;
		}
		un = get(c, s, "url", &kn);
		if (!un) {
			yamldoc_fail(&c->d, s, "a server needs a url");
			goto fail;
		}
		yamldoc_path_key(&c->d, "url");
		if (!string_of(un)) {
			yamldoc_fail(&c->d, un, "expected a URL string, got %s",
				     yamldoc_describe(&c->d, un, q, sizeof q));
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
				yamldoc_fail(&c->d, un, "more than %d distinct server base paths",
					     BASES_MAX);
				goto fail;
			}
			if (!(nb.v[nb.n] = strdup(base))) {
				yamldoc_fail(&c->d, un, "out of memory");
				goto fail;
			}
			nb.n++;
		}
		yamldoc_path_pop(&c->d, mark);
	}
	if (nb.n) {
		bases_free(b);
		*b = nb;
	}
	return 0;
fail:
	yamldoc_path_pop(&c->d, mark);
	bases_free(&nb);
	return -1;
}

/*
 * The `servers` of a path item or an operation m, when it has them, into *own;
 * *b then points at them if they give any base path (else it keeps what m
 * inherits). On failure the key path is left at the servers, for the caller's
 * cleanup to cut.
 */
static int read_own_servers(struct ctx *c, const yaml_node_t *m, struct bases *own,
			    const struct bases **b)
{
	const yaml_node_t *v = get(c, m, "servers", NULL);
	size_t mark = c->d.pathlen;

	if (!v)
		return 0;
	yamldoc_path_key(&c->d, "servers");
	if (read_servers(c, v, own) != 0)
		return -1;
	yamldoc_path_pop(&c->d, mark);
	if (own->n)
		*b = own;
	return 0;
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
			return yamldoc_fail(&c->d, at, "out of memory");
		c->ops = n;
		c->cap_ops = ncap;
	}
	o = &c->ops[c->n_ops];
	memset(o, 0, sizeof *o);
	if (!(o->tmpl = malloc(bl + pl + 1)))
		return yamldoc_fail(&c->d, at, "out of memory");
	memcpy(o->tmpl, base, bl);
	memcpy(o->tmpl + bl, path, pl + 1);
	if (routes_check_template(o->tmpl, why, sizeof why) != 0) {
		free(o->tmpl);
		return yamldoc_fail(&c->d, at, "%s", why);
	}
	o->method = method;
	o->deprecated = deprecated;
	o->at = at;
	snprintf(o->keypath, sizeof o->keypath, "%s", c->d.path);
	c->n_ops++;
	return 0;
}

/* add_op for each base path in b. */
static int add_ops(struct ctx *c, const yaml_node_t *at, const char *method,
		   const struct bases *b, const char *path, bool deprecated)
{
	for (size_t i = 0; i < b->n; i++)
		if (add_op(c, at, method, b->v[i], path, deprecated) != 0)
			return -1;
	return 0;
}

static int read_bool(struct ctx *c, const yaml_node_t *n, bool *out)
{
	char q[QUOTE_SIZE];
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		const char *s = yamldoc_text(n);
		if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
			*out = false;
			return 0;
		}
	}
	return yamldoc_fail(&c->d, n, "expected true or false, got %s",
			    yamldoc_describe(&c->d, n, q, sizeof q));
}

static int read_operation(struct ctx *c, const yaml_node_t *op, const char *method,
			  const char *path, const struct bases *inherited)
{
	char q[QUOTE_SIZE];
	const yaml_node_t *v;
	bool deprecated = false;
	struct bases own = {0};
	const struct bases *b = inherited;
	size_t mark = c->d.pathlen;
	int rc = -1;

	if (op->type != YAML_MAPPING_NODE)
		return yamldoc_fail(&c->d, op, "expected an operation (a mapping), got %s",
				    yamldoc_describe(&c->d, op, q, sizeof q));
	if ((v = get(c, op, "deprecated", NULL)) != NULL) {
		yamldoc_path_key(&c->d, "deprecated");
		if (read_bool(c, v, &deprecated) != 0)
			goto out;
		yamldoc_path_pop(&c->d, mark);
	}
	if (read_own_servers(c, op, &own, &b) != 0)
		goto out;
	rc = add_ops(c, op, method, b, path, deprecated);
out:
	yamldoc_path_pop(&c->d, mark);
	bases_free(&own);
	return rc;
}

static int read_path_item(struct ctx *c, const yaml_node_t *item, const char *path,
			  const struct bases *inherited)
{
	char q[QUOTE_SIZE];
	struct bases own = {0};
	const struct bases *b = inherited;
	const yaml_node_t *v;
	size_t mark = c->d.pathlen, n_op = 0;
	int rc = -1;

	if (yamldoc_is_null(item))
		goto every_method;
	if (item->type != YAML_MAPPING_NODE)
		return yamldoc_fail(&c->d, item, "expected a path item (a mapping), got %s",
				    yamldoc_describe(&c->d, item, q, sizeof q));
	if (read_own_servers(c, item, &own, &b) != 0)
		goto out;
	for (size_t m = 0; m < N_METHODS; m++) {
		if ((v = get(c, item, methods[m], NULL)) == NULL)
			continue;
		yamldoc_path_key(&c->d, methods[m]);
		if (read_operation(c, v, methods_uc[m], path, b) != 0)
			goto out;
		yamldoc_path_pop(&c->d, mark);
		n_op++;
	}
	if (n_op) {
		rc = 0;
		goto out;
	}
every_method:
	/* No operation listed (empty, or a $ref to elsewhere): the path is documented. */
	rc = add_ops(c, item, NULL, b, path, false);
out:
	yamldoc_path_pop(&c->d, mark);
	bases_free(&own);
	return rc;
}

static int read_paths(struct ctx *c, const yaml_node_t *paths, const struct bases *b)
{
	char q[QUOTE_SIZE];
	size_t mark = c->d.pathlen;

	if (yamldoc_is_null(paths))
		return 0;
	if (paths->type != YAML_MAPPING_NODE)
		return yamldoc_fail(&c->d, paths, "expected a mapping of paths, got %s",
				    yamldoc_describe(&c->d, paths, q, sizeof q));
	for (const yaml_node_pair_t *p = paths->data.mapping.pairs.start;
	     p < paths->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yamldoc_node(&c->d, p->key),
				  *v = yamldoc_node(&c->d, p->value);
		const char *key = string_of(k);
		if (!key)
			return yamldoc_fail(&c->d, k, "expected a path, got %s",
					    yamldoc_describe(&c->d, k, q, sizeof q));
		if (strncmp(key, "x-", 2) == 0)
			continue; /* specification extension */
		if (key[0] != '/')
			return yamldoc_fail(&c->d, k, "%s: a path must start with '/'",
					    yamldoc_quote(&c->d, q, sizeof q, key, strlen(key)));
		char why[256];
		if (routes_check_template(key, why, sizeof why) != 0)
			return yamldoc_fail(&c->d, k, "%s: %s",
					    yamldoc_quote(&c->d, q, sizeof q, key, strlen(key)),
					    why);
		yamldoc_path_key(&c->d, key);
		if (read_path_item(c, v, key, b) != 0)
			return -1;
		yamldoc_path_pop(&c->d, mark);
	}
	return 0;
}

static int read_document(struct ctx *c, const yaml_node_t *root)
{
	char q[QUOTE_SIZE];
	const yaml_node_t *v, *k = NULL;
	struct bases b = {0};
	int rc = -1;

	if (!root)
		return yamldoc_fail(&c->d, &(yaml_node_t){0},
				    "empty document: expected an OpenAPI 3 document");
	if (root->type != YAML_MAPPING_NODE)
		return yamldoc_fail(&c->d, root,
				    "expected an OpenAPI 3 document (a mapping), got %s",
				    yamldoc_describe(&c->d, root, q, sizeof q));
	if ((v = get(c, root, "openapi", &k)) == NULL) {
		if ((v = get(c, root, "swagger", &k)) != NULL) {
			yamldoc_path_key(&c->d, "swagger");
			return yamldoc_fail(&c->d, v,
					    "not OpenAPI 3 but Swagger/OpenAPI 2 (found %s): convert it",
					    yamldoc_describe(&c->d, v, q, sizeof q));
		}
		return yamldoc_fail(&c->d, root, "not OpenAPI 3: no \"openapi\" key");
	}
	yamldoc_path_key(&c->d, "openapi");
	const char *ver = v->type == YAML_SCALAR_NODE ? yamldoc_text(v) : NULL;
	if (!ver || strncmp(ver, "3.", 2) != 0 || !(ver[2] >= '0' && ver[2] <= '9'))
		return yamldoc_fail(&c->d, v, "not OpenAPI 3 (found %s)",
				    yamldoc_describe(&c->d, v, q, sizeof q));
	yamldoc_path_pop(&c->d, 0);
	bool v30 = strncmp(ver, "3.0", 3) == 0 && !(ver[3] >= '0' && ver[3] <= '9');

	if ((v = get(c, root, "servers", NULL)) != NULL) {
		yamldoc_path_key(&c->d, "servers");
		if (read_servers(c, v, &b) != 0)
			goto out;
		yamldoc_path_pop(&c->d, 0);
	}
	if (b.n == 0) {
		if (!(b.v[0] = strdup("")))
			goto out;
		b.n = 1;
	}
	if ((v = get(c, root, "paths", NULL)) == NULL) {
		if (v30) {
			yamldoc_fail(&c->d, root, "no \"paths\" key (OpenAPI 3.0 requires one)");
			goto out;
		}
	} else {
		yamldoc_path_key(&c->d, "paths");
		if (read_paths(c, v, &b) != 0)
			goto out;
		yamldoc_path_pop(&c->d, 0);
	}
	rc = 0;
out:
	bases_free(&b);
	return rc;
}

/* ---- input ---- */

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

int openapi_load_text(struct routes *t, const char *name, const char *txt, size_t len,
		      size_t *n_ops, char *err, size_t errlen)
{
	struct ctx c = {.d = {.file = name, .err = err, .errlen = errlen}};
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
	if (yamldoc_parse(&c.d, copy, len) != 0)
		goto out;
	if (read_document(&c, yaml_document_get_root_node(&c.d.doc)) != 0)
		goto out;
	for (i = 0; i < c.n_ops; i++) {
		char why[256];
		struct op *o = &c.ops[i];
		if (routes_add_spec(t, o->method, o->tmpl, o->deprecated, why, sizeof why) != 0) {
			yamldoc_error(&c.d, o->at->start_mark, o->keypath, why);
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
	yamldoc_cleanup(&c.d);
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
	rc = readfile_whole(path, OPENAPI_FILE_MAX, &txt, &len, err, errlen);
	if (rc == 1 && err && errlen)
		snprintf(err, errlen, "%s: cannot read: larger than %u MiB", path,
			 OPENAPI_FILE_MAX >> 20);
	if (rc != 0)
		return -1;
	rc = openapi_load_text(t, path, txt, len, n_ops, err, errlen);
	free(txt);
	return rc;
}
