/*
 * yamldoc.c - one YAML document through libyaml's document API, and the
 * messages about it (yamldoc.h).
 *
 * libyaml marks are 0-based; messages say line + 1 and column + 1. A reader
 * error (bad encoding) has only a byte offset, turned into a line and a
 * column counted in UTF-8 characters, as libyaml counts columns.
 */
#include "yamldoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the document ---- */

/* The byte at (line0, col0) of text, counting UTF-8 characters; 0 past the end. */
static char byte_at(const char *text, size_t len, size_t line0, size_t col0)
{
	size_t i = 0;

	for (; line0 > 0 && i < len; i++)
		if (text[i] == '\n')
			line0--;
	for (; i < len; i++) {
		if (((unsigned char)text[i] & 0xC0) == 0x80)
			continue;
		if (col0-- == 0)
			return text[i];
	}
	return 0;
}

static void put_err(const struct yamldoc *d, size_t line0, size_t col0, const char *path,
		    const char *msg)
{
	if (!d->err || d->errlen == 0)
		return;
	snprintf(d->err, d->errlen, "%s:%zu:%zu: %s%s%s", d->file, line0 + 1, col0 + 1, path,
		 *path ? ": " : "", msg);
}

static void out_of_memory(const struct yamldoc *d)
{
	if (d->err && d->errlen)
		snprintf(d->err, d->errlen, "%s: out of memory", d->file);
}

static void syntax_error(const struct yamldoc *d)
{
	const yaml_parser_t *p = &d->parser;
	char msg[512];
	size_t line0 = 0, col0 = 0, i;
	int n;

	if (p->error == YAML_MEMORY_ERROR) {
		out_of_memory(d);
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* Bad encoding: only a byte offset is known. */
		for (i = 0; i < p->problem_offset && i < d->len; i++) {
			if (d->text[i] == '\n') {
				line0++;
				col0 = 0;
			} else if (((unsigned char)d->text[i] & 0xC0) != 0x80) {
				col0++;
			}
		}
		snprintf(msg, sizeof msg, "YAML syntax error: %s", p->problem ? p->problem : "unreadable");
		put_err(d, line0, col0, "", msg);
		return;
	}
	line0 = p->problem_mark.line;
	col0 = p->problem_mark.column;
	n = snprintf(msg, sizeof msg, "YAML syntax error: %s", p->problem ? p->problem : "malformed");
	if (p->context && n > 0 && (size_t)n < sizeof msg)
		n += snprintf(msg + n, sizeof msg - (size_t)n, ", %s at line %zu", p->context,
			      p->context_mark.line + 1);
	if ((d->flags & YAMLDOC_TAB_HINT) && n > 0 && (size_t)n < sizeof msg &&
	    byte_at(d->text, d->len, line0, col0) == '\t')
		snprintf(msg + n, sizeof msg - (size_t)n, " (a tab: indent with spaces)");
	put_err(d, line0, col0, "", msg);
}

int yamldoc_parse(struct yamldoc *d, const char *text, size_t len)
{
	d->text = text;
	d->len = len;
	if (!yaml_parser_initialize(&d->parser)) {
		out_of_memory(d);
		return -1;
	}
	d->have_parser = true;
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)text, len);
	return yamldoc_next(d);
}

int yamldoc_next(struct yamldoc *d)
{
	if (d->have_doc) {
		yaml_document_delete(&d->doc);
		d->have_doc = false;
	}
	/* On failure libyaml has already freed what it composed. */
	if (!yaml_parser_load(&d->parser, &d->doc)) {
		syntax_error(d);
		return -1;
	}
	d->have_doc = true;
	return 0;
}

void yamldoc_cleanup(struct yamldoc *d)
{
	if (d->have_doc)
		yaml_document_delete(&d->doc);
	if (d->have_parser)
		yaml_parser_delete(&d->parser);
	d->have_doc = d->have_parser = false;
}

const yaml_node_t *yamldoc_node(const struct yamldoc *d, int id)
{
	/* libyaml takes a non-const document but only reads it here. */
	return yaml_document_get_node((yaml_document_t *)&d->doc, id);
}

/* ---- the key path ---- */

static void path_append(struct yamldoc *d, int w)
{
	if (w > 0)
		d->pathlen += (size_t)w;
	if (d->pathlen >= sizeof d->path)
		d->pathlen = sizeof d->path - 1;
}

void yamldoc_path_key(struct yamldoc *d, const char *name)
{
	path_append(d, snprintf(d->path + d->pathlen, sizeof d->path - d->pathlen, "%s%s",
				d->pathlen ? "." : "", name));
}

void yamldoc_path_index(struct yamldoc *d, size_t i)
{
	path_append(d, snprintf(d->path + d->pathlen, sizeof d->path - d->pathlen, "[%zu]", i));
}

void yamldoc_path_pop(struct yamldoc *d, size_t len)
{
	d->pathlen = len;
	d->path[len] = '\0';
}

/* ---- messages ---- */

int yamldoc_fail(struct yamldoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	put_err(d, n->start_mark.line, n->start_mark.column, d->path, msg);
	return -1;
}

void yamldoc_error(const struct yamldoc *d, yaml_mark_t at, const char *path, const char *msg)
{
	put_err(d, at.line, at.column, path, msg);
}

const char *yamldoc_quote(const struct yamldoc *d, char *dst, size_t cap, const char *s,
			  size_t len)
{
	const bool c_escapes = d->flags & YAMLDOC_C_ESCAPES;
	size_t n = 0, i, take = len;
	bool cut = false;

	if (take > YAMLDOC_QUOTE_MAX) {
		take = YAMLDOC_QUOTE_MAX;
		while (take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
			take--;
		cut = true;
	}
	dst[n++] = '"';
	for (i = 0; i < take && n + 8 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(dst + n, cap - n, "\\%c", ch);
		else if (c_escapes && ch == '\n')
			n += (size_t)snprintf(dst + n, cap - n, "\\n");
		else if (c_escapes && ch == '\t')
			n += (size_t)snprintf(dst + n, cap - n, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", ch);
		else
			dst[n++] = (char)ch;
	}
	snprintf(dst + n, cap - n, "%s\"", cut ? "..." : "");
	return dst;
}

const char *yamldoc_describe(const struct yamldoc *d, const yaml_node_t *n, char *buf,
			     size_t cap)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		if (yamldoc_is_null(n))
			return "nothing";
		return yamldoc_quote(d, buf, cap, yamldoc_text(n), n->data.scalar.length);
	default:
		return "nothing";
	}
}

/* ---- scalars ---- */

const char *yamldoc_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

bool yamldoc_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp(yamldoc_text(n), nulls[i]) == 0)
			return true;
	return false;
}
