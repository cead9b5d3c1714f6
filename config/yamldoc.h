/*
 * yamldoc.h - reading one YAML document with libyaml's document API, as
 * config.c (tapir.yaml) and sensor/openapi.c (an OpenAPI document) do: the
 * text is composed into a node tree, which the caller walks, pushing each
 * key it enters onto a key path, and stopping at the first problem with one
 * line that names the file, the 1-based line and column where the
 * offending node starts, and the key path:
 *
 *   tapir.yaml:7:17: flows.idle_timeout: bad duration "5 minutes" (use ...)
 *   api.yaml:12:5: paths./users/{id}.get: expected an operation (a mapping), got "x"
 *
 * A YAML syntax error names no key: "FILE:LINE:COL: YAML syntax error: ...".
 * User text goes into messages quoted and escaped (yamldoc_quote), so a
 * message stays one printable line.
 *
 * struct yamldoc is plain data the caller embeds in its own walking context:
 * it sets file, err, errlen and flags, calls yamldoc_parse, walks doc, and
 * calls yamldoc_cleanup whatever happened.
 */
#ifndef TAPIR_YAMLDOC_H
#define TAPIR_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#define YAMLDOC_MUST_CHECK __attribute__((warn_unused_result))

/* Bytes of user text yamldoc_quote keeps (cut on a UTF-8 boundary). */
#define YAMLDOC_QUOTE_MAX 40
/* Longest key path kept; a deeper one is cut. */
#define YAMLDOC_PATH_MAX 256

/* Bits of yamldoc.flags. */
#define YAMLDOC_C_ESCAPES 1u /* yamldoc_quote writes \n and \t, not \x0a and \x09 */
#define YAMLDOC_TAB_HINT 2u  /* a syntax error at a tab adds "(a tab: indent with spaces)" */

struct yamldoc {
	/* Set by the caller. */
	const char *file;             /* named in messages */
	char *err;                    /* the message; NULL or errlen 0: none */
	size_t errlen;
	unsigned flags;               /* YAMLDOC_* */
	/* Set by yamldoc_parse and yamldoc_next; doc is what the caller walks. */
	yaml_parser_t parser;
	yaml_document_t doc;
	bool have_parser, have_doc;
	const char *text;             /* the text being parsed, not owned */
	size_t len;
	/* The key path of the node being read: "" at the top, then "a.b[2].c". */
	char path[YAMLDOC_PATH_MAX];
	size_t pathlen;
};

/*
 * Starts parsing text[0..len) (not copied: it must outlive d) and composes
 * its first document into d->doc (whose root node is NULL when the text holds
 * no document). Returns 0, or -1 with the message set: a syntax error, or
 * "FILE: out of memory". Either way yamldoc_cleanup releases d.
 */
int yamldoc_parse(struct yamldoc *d, const char *text, size_t len) YAMLDOC_MUST_CHECK;

/* Replaces d->doc with the next document of the text; as yamldoc_parse. */
int yamldoc_next(struct yamldoc *d) YAMLDOC_MUST_CHECK;

/* Frees the document and the parser. Safe on a zeroed or cleaned-up d. */
void yamldoc_cleanup(struct yamldoc *d);

/* Node `id` of d->doc (a key or value of a mapping, an item of a sequence). */
const yaml_node_t *yamldoc_node(const struct yamldoc *d, int id);

/* ---- the key path ---- */

/* Appends ".name" (or "name" at the top) to the key path. */
void yamldoc_path_key(struct yamldoc *d, const char *name);

/* Appends "[i]" to the key path. */
void yamldoc_path_index(struct yamldoc *d, size_t i);

/* Cuts the key path back to `len` bytes (a pathlen saved before pushing). */
void yamldoc_path_pop(struct yamldoc *d, size_t len);

/* ---- messages ---- */

/*
 * Writes "FILE:LINE:COL: KEY.PATH: fmt..." into d->err, the position being
 * n's start and the path d->path. Returns -1, for `return yamldoc_fail(...)`.
 */
__attribute__((format(printf, 3, 4)))
int yamldoc_fail(struct yamldoc *d, const yaml_node_t *n, const char *fmt, ...);

/* Writes "FILE:LINE:COL: PATH: msg" (or "FILE:LINE:COL: msg" when path is "")
 * into d->err, the position being `at`. */
void yamldoc_error(const struct yamldoc *d, yaml_mark_t at, const char *path, const char *msg);

/*
 * s[0..len) as a double-quoted string for a message: '"' and '\' escaped,
 * control characters as \xNN (or \n and \t, YAMLDOC_C_ESCAPES), cut to
 * YAMLDOC_QUOTE_MAX bytes with "..." after. Writes into dst[cap] (at most cap
 * bytes: a short buffer gives a shorter quote) and returns dst.
 */
const char *yamldoc_quote(const struct yamldoc *d, char *dst, size_t cap, const char *s,
			  size_t len);

/* What n is, for "expected X, got Y": "a mapping", "a sequence", "nothing"
 * (null or empty), or a scalar's text quoted into buf[cap]. */
const char *yamldoc_describe(const struct yamldoc *d, const yaml_node_t *n, char *buf,
			     size_t cap);

/* ---- scalars ---- */

/* A scalar node's text (NUL-terminated; it may hold a NUL before its length). */
const char *yamldoc_text(const yaml_node_t *n);

/* True when n is a plain scalar that YAML reads as null: "", ~, null, Null, NULL. */
bool yamldoc_is_null(const yaml_node_t *n);

#endif
