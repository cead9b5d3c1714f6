/*
 * http1.c - incremental HTTP/1.0 and 1.1 message parser, one per direction.
 *
 * Implements the syntax and framing of RFC 9112: message parsing and leading
 * empty lines (2.2), request line (3), status line (4), field lines and obs-fold
 * (5, 5.2), Transfer-Encoding and Content-Length (6.1, 6.2), message body length
 * (6.3), chunked coding with extensions and trailer section (7.1, 7.1.1, 7.1.2).
 * From RFC 9110: tokens and lists (5.6.1, 5.6.2), Content-Length (8.6),
 * Connection (7.6.1), Upgrade (7.8), Expect (10.1.1), 1xx, 204 and 304 without
 * content (15.2, 15.3.5, 15.4.5). RFC 9113 3.4 for the HTTP/2 client preface.
 *
 * A head lying whole inside the piece being fed is parsed in place, with no
 * copy and no allocation (picohttpparser's way: pointers into the input, one
 * memchr per line). Only what straddles two pieces is copied into the parser's
 * buffer: a head up to max_head_bytes, a chunk-size, trailer or resync line up
 * to max_line_bytes. The buffer is allocated on first need, grown by doubling,
 * and dropped again once it has grown past H1_BUF_MIN and is empty.
 *
 * Every outcome is independent of how the stream is cut into pieces: errors are
 * detected at the same stream offset whether the bytes arrive whole or one at a
 * time, and resynchronisation restarts at the same offset. Only the number of
 * on_body calls differs (one per piece at most, never one per byte).
 *
 *   WAIT_START --start line--> WAIT_FIELDS --empty line--> on_head
 *   (a head whole in one piece goes straight to on_head), then by the framing:
 *     no body (1xx, 204, 304, HEAD, request without length) ----------> on_end
 *     WAIT_BODY (Content-Length) -------------------------------------> on_end
 *     WAIT_CHUNK_SIZE -> WAIT_CHUNK_DATA -> WAIT_CHUNK_CRLF -> WAIT_CHUNK_SIZE
 *       ... last chunk -> WAIT_TRAILER --empty line-------------------> on_end
 *     WAIT_CLOSE --h1_finish-------------------------------------------> on_end
 *     tunnel or 101 ---------------------------------------> on_end, STOPPED
 *   on_end -> WAIT_START.
 *   An error, a gap that framing cannot bridge, a midstream start -> WAIT_SYNC
 *   --line that starts a message--> WAIT_START. The HTTP/2 preface, or
 *   max_resync_bytes without a start on a stream that never parsed -> STOPPED.
 */
#include "http1.h"

#include <stdlib.h>
#include <string.h>

#define H1_DEF_MAX_HEAD   65536u /* servers refuse far less (nginx: 8 KiB a line) */
#define H1_DEF_MAX_LINE   4096u  /* chunk-size lines are a few bytes; trailers are rare */
#define H1_DEF_MAX_RESYNC 65536u /* a few segments' worth before calling it not HTTP */

/* Longest method token: registered methods are at most 17 chars; binary junk
 * (TLS, SSH) is refused after this many bytes instead of after a whole head. */
#define H1_MAX_METHOD 32
/* Resync accepts unlisted methods that look like one: 3-20 of [A-Z_-]. Every
 * method in the IANA registry (GET ... UPDATEREDIRECTREF, M-SEARCH, CCM_POST
 * style extensions) matches, so no separate list is needed. */
#define H1_SYNC_METHOD_MIN 3
#define H1_SYNC_METHOD_MAX 20
/* 18 decimal digits < 2^63: a Content-Length can never overflow int64_t. */
#define H1_MAX_CL_DIGITS 18
/* 15 hex digits = 2^60: a chunk size can never overflow, and no real chunk
 * comes near (leading zeros are not counted). */
#define H1_MAX_CHUNK_DIGITS 15
/* First allocation; a buffer no bigger than this is kept while idle, so a
 * connection that splits every chunk-size line does not malloc per packet. */
#define H1_BUF_MIN 256u

const char *const h1_error_names[H1_ERR__COUNT] = {
	[H1_ERR_BAD_START] = "bad_start",
	[H1_ERR_BAD_HEADER] = "bad_header",
	[H1_ERR_HEAD_TOO_BIG] = "head_too_big",
	[H1_ERR_BAD_CHUNK] = "bad_chunk",
	[H1_ERR_BAD_LENGTH] = "bad_length",
	[H1_ERR_GAP] = "gap",
	[H1_ERR_H2_PREFACE] = "h2_preface",
};

/* Named for what the parser waits for. */
enum h1_state {
	H1_WAIT_START,      /* the start line (idle between messages); buf: its first bytes */
	H1_WAIT_FIELDS,     /* the rest of a head through the empty line; buf: the head so far */
	H1_WAIT_BODY,       /* `remaining` bytes of a Content-Length body */
	H1_WAIT_CLOSE,      /* the end of the stream, which ends the body (RFC 9112 6.3 rule 8) */
	H1_WAIT_CHUNK_SIZE, /* a chunk-size line; buf: its first bytes */
	H1_WAIT_CHUNK_DATA, /* `remaining` bytes of chunk data */
	H1_WAIT_CHUNK_CRLF, /* the line end after chunk data */
	H1_WAIT_TRAILER,    /* trailer lines through the empty line; buf: a partial line */
	H1_WAIT_SYNC,       /* a line that starts a message, after lost sync; buf: a partial line */
	H1_STOPPED,         /* sticky: tunnel, HTTP/2 preface or given up; bytes are ignored */
};

struct h1_parser {
	enum h1_state state;
	enum h1_kind kind;
	uint32_t max_head;
	uint32_t max_line;
	uint32_t max_resync;
	struct h1_stats *stats;

	uint8_t *buf;        /* partial head or line; NULL until first needed */
	uint32_t buf_len;
	uint32_t buf_cap;
	uint32_t line_start; /* WAIT_FIELDS: offset in buf of the unfinished line */

	uint64_t remaining;  /* WAIT_BODY, WAIT_CHUNK_DATA */
	uint64_t pending;    /* body bytes not yet reported: one on_body per piece */
	uint64_t sync_run;   /* bytes skipped since sync was lost */
	bool cr_seen;        /* WAIT_CHUNK_CRLF: the CR came */
	bool skip_line;      /* WAIT_SYNC: not at a line start; discard through '\n' */
	bool count_resync;   /* finding a start counts as a resync (false only at the
				start of a midstream parser while nothing was skipped) */
	bool parsed_any;     /* a head was delivered: never give up on this stream */
};

/* RFC 9110 5.6.2 tchar: the bytes a method or a field name may hold. */
static const uint8_t tchar[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 controls */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 controls */
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /*  !"#$%&'()*+,-./ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0-9 :;<=>? */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* @A-O */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* P-Z [\]^_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* `a-o */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* p-z {|}~ DEL */
	/* 0x80-0xff: 0 */
};

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* A control character other than HTAB: never part of a target or a start line. */
static bool is_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive comparison with a lower-case literal. */
static bool ieq(const uint8_t *s, size_t n, const char *lit)
{
	size_t i;
	for (i = 0; i < n && lit[i]; i++)
		if (lower(s[i]) != (uint8_t)lit[i])
			return false;
	return i == n && lit[i] == '\0';
}

static struct h1_str mkstr(const uint8_t *p, size_t n)
{
	return (struct h1_str){ (const char *)p, (uint32_t)n };
}

/* Length of a line without its '\n' and an optional '\r' before it. */
static size_t content_len(const uint8_t *line, size_t len_with_lf)
{
	size_t n = len_with_lf - 1;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	return n;
}

/* ---- buffer ---- */

static bool buf_append(struct h1_parser *p, const uint8_t *d, size_t n)
{
	size_t need = (size_t)p->buf_len + n;
	if (need > p->buf_cap) {
		size_t cap = p->buf_cap ? p->buf_cap : H1_BUF_MIN;
		while (cap < need)
			cap *= 2;
		if (cap > p->max_head) /* max_line <= max_head: nothing held is longer */
			cap = p->max_head;
		if (cap < need)
			return false;
		uint8_t *nb = realloc(p->buf, cap);
		if (!nb)
			return false;
		p->buf = nb;
		p->buf_cap = (uint32_t)cap;
	}
	if (n)
		memcpy(p->buf + p->buf_len, d, n);
	p->buf_len = (uint32_t)need;
	return true;
}

/* The buffered bytes are used up; an idle parser keeps at most H1_BUF_MIN. */
static void buf_release(struct h1_parser *p)
{
	p->buf_len = 0;
	if (p->buf_cap > H1_BUF_MIN) {
		free(p->buf);
		p->buf = NULL;
		p->buf_cap = 0;
	}
}

/* ---- callbacks ---- */

static void flush_body(struct h1_parser *p, const struct h1_callbacks *cb, void *ctx)
{
	if (p->pending) {
		uint64_t n = p->pending;
		p->pending = 0;
		if (cb->on_body)
			cb->on_body(ctx, n);
	}
}

static void stop(struct h1_parser *p)
{
	p->state = H1_STOPPED;
	free(p->buf);
	p->buf = NULL;
	p->buf_len = p->buf_cap = 0;
}

static void end_message(struct h1_parser *p, const struct h1_callbacks *cb, void *ctx)
{
	flush_body(p, cb, ctx);
	p->state = H1_WAIT_START;
	if (cb->on_end)
		cb->on_end(ctx);
}

static bool in_message(const struct h1_parser *p)
{
	switch (p->state) {
	case H1_WAIT_BODY:
	case H1_WAIT_CLOSE:
	case H1_WAIT_CHUNK_SIZE:
	case H1_WAIT_CHUNK_DATA:
	case H1_WAIT_CHUNK_CRLF:
	case H1_WAIT_TRAILER:
		return true;
	default:
		return false;
	}
}

/*
 * Sync lost: report, count, and scan for the next message start. The scan
 * starts by discarding the rest of the current line; callers that stand at a
 * line start clear skip_line. The buffer is the caller's to release.
 */
static void fail(struct h1_parser *p, enum h1_error err, const struct h1_callbacks *cb, void *ctx)
{
	bool in_msg = in_message(p);
	flush_body(p, cb, ctx);
	p->stats->errors[err]++;
	p->state = H1_WAIT_SYNC;
	p->skip_line = true;
	p->count_resync = true;
	if (cb->on_error)
		cb->on_error(ctx, err, in_msg);
}

/*
 * Bytes thrown away while out of sync. A stream that never carried a message
 * is given up after max_resync_bytes (TLS, SSH or anything else on the port);
 * one that did keeps scanning: it is HTTP that lost its place.
 */
static void skipped(struct h1_parser *p, uint64_t n)
{
	if (!p->parsed_any && p->state != H1_STOPPED) {
		/* Count only up to the byte that crosses the limit, so that the
		 * counters do not depend on how the stream was cut. */
		uint64_t room = (uint64_t)p->max_resync + 1 - p->sync_run;
		if (n >= room) {
			p->stats->resync_skipped += room;
			p->sync_run += room;
			p->stats->gave_up++;
			stop(p);
			return;
		}
	}
	p->stats->resync_skipped += n;
	p->sync_run += n;
}

/* ---- start lines ---- */

enum start_res { START_OK, START_BAD, START_PREFACE };

struct start_line {
	bool is_request;
	struct h1_str method, target;
	int version_minor;
	bool version_missing;
	int status;
};

/* "HTTP/1." DIGIT SP 3DIGIT [SP reason] (RFC 9112 4); `n` excludes the line end. */
static enum start_res parse_status(const uint8_t *s, size_t n, struct start_line *sl)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) || s[8] != ' ' ||
	    !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' '))
		return START_BAD;
	sl->is_request = false;
	sl->version_minor = s[7] - '0';
	sl->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return START_OK;
}

/*
 * method SP target [SP HTTP-version] (RFC 9112 3), tolerant the way tshark
 * is: "GET /HTTP/1.1" is target "/HTTP/1.1" with no version, "OPTIONS" alone
 * has an empty target, "OPTIONS  HTTP/1.1" too, and a truncated "HTTP/1."
 * counts as no version. The version is the last word when it starts "HTTP/".
 */
static enum start_res parse_request(const uint8_t *s, size_t n, struct start_line *sl)
{
	size_t i = 0;
	while (i < n && tchar[s[i]])
		i++;
	if (i == 0 || i > H1_MAX_METHOD || (i < n && s[i] != ' '))
		return START_BAD;
	sl->is_request = true;
	sl->method = mkstr(s, i);
	sl->target = mkstr(s + i, 0);
	sl->version_minor = 0;
	sl->version_missing = true;
	if (i == n)
		return START_OK;

	const uint8_t *r = s + i + 1, *end = s + n;
	while (end > r && is_ows(end[-1]))
		end--;
	for (const uint8_t *c = r; c < end; c++)
		if (is_ctl(*c))
			return START_BAD;
	const uint8_t *t_end = end;
	const uint8_t *sp = memrchr(r, ' ', (size_t)(end - r));
	if (sp && end - sp > 5 && memcmp(sp + 1, "HTTP/", 5) == 0) {
		const uint8_t *v = sp + 1;
		size_t vn = (size_t)(end - v);
		t_end = sp;
		if (vn == 8 && memcmp(v, "HTTP/1.", 7) == 0 && is_digit(v[7])) {
			sl->version_minor = v[7] - '0';
			sl->version_missing = false;
		} else if (vn == 7 && memcmp(v, "HTTP/1.", 7) == 0) {
			/* truncated version: tolerated as none */
		} else if (vn == 8 && memcmp(v, "HTTP/2.0", 8) == 0 && i == 3 &&
			   memcmp(s, "PRI", 3) == 0 && t_end - r == 1 && *r == '*') {
			return START_PREFACE;
		} else {
			return START_BAD;
		}
	}
	while (r < t_end && r[0] == ' ')
		r++;
	while (t_end > r && t_end[-1] == ' ')
		t_end--;
	sl->target = mkstr(r, (size_t)(t_end - r));
	return START_OK;
}

/* A complete start line (`n` excludes the line end); decides an H1_ANY parser. */
static enum start_res parse_start(struct h1_parser *p, const uint8_t *s, size_t n,
				  struct start_line *sl)
{
	enum start_res r;
	if (p->kind != H1_REQUESTS && n >= 5 && memcmp(s, "HTTP/", 5) == 0)
		r = parse_status(s, n, sl);
	else if (p->kind != H1_RESPONSES)
		r = parse_request(s, n, sl);
	else
		r = START_BAD;
	if (r == START_OK && p->kind == H1_ANY)
		p->kind = sl->is_request ? H1_REQUESTS : H1_RESPONSES;
	if (r == START_PREFACE && p->kind == H1_ANY)
		p->kind = H1_REQUESTS;
	return r;
}

/*
 * Can these first bytes of a line (no '\n' yet) still become a start line?
 * Looks at no more than H1_MAX_METHOD + 1 bytes, so calling it on a growing
 * buffer costs nothing. False only when parse_start must refuse the line.
 */
static bool start_prefix_ok(enum h1_kind kind, const uint8_t *s, size_t n)
{
	if (kind != H1_REQUESTS) {
		static const char tpl[] = "HTTP/1.d ddd"; /* d: a digit */
		bool ok = true;
		for (size_t i = 0; ok && i < n && i < 12; i++)
			ok = tpl[i] == 'd' ? is_digit(s[i]) : s[i] == (uint8_t)tpl[i];
		if (ok && n > 12 && s[12] != ' ' && s[12] != '\r')
			ok = false;
		if (ok)
			return true;
	}
	if (kind != H1_RESPONSES) {
		size_t lim = n < H1_MAX_METHOD + 1 ? n : H1_MAX_METHOD + 1;
		for (size_t i = 0; i < lim; i++)
			if (!tchar[s[i]])
				return i > 0 && (s[i] == ' ' || s[i] == '\r');
		return lim <= H1_MAX_METHOD;
	}
	return false;
}

/*
 * The pattern resync looks for (`n` excludes the line end). Narrower than
 * parse_start on purpose, so that body text is not taken for a message:
 * request  METHOD SP target SP "HTTP/1." DIGIT, METHOD as H1_SYNC_METHOD_*;
 * response "HTTP/1." DIGIT SP 3DIGIT [SP ...].
 * Everything it accepts, parse_start accepts.
 */
static bool is_message_start(enum h1_kind kind, const uint8_t *s, size_t n)
{
	if (kind != H1_REQUESTS && n >= 12 && s[0] == 'H') {
		struct start_line sl;
		if (parse_status(s, n, &sl) == START_OK)
			return true;
	}
	if (kind == H1_RESPONSES)
		return false;
	size_t i = 0;
	while (i < n && i <= H1_SYNC_METHOD_MAX &&
	       ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || s[i] == '-'))
		i++;
	if (i < H1_SYNC_METHOD_MIN || i > H1_SYNC_METHOD_MAX || s[0] < 'A' || s[0] > 'Z')
		return false;
	if (n < i + 2 + 9 || s[i] != ' ') /* SP, a target byte, " HTTP/1.x" */
		return false;
	const uint8_t *v = s + n - 9;
	if (memcmp(v, " HTTP/1.", 8) != 0 || !is_digit(v[8]))
		return false;
	for (const uint8_t *c = s + i + 1; c < v; c++)
		if (is_ctl(*c))
			return false;
	return s[i + 1] != ' ';
}

/* ---- heads ---- */

enum field_kind { F_OTHER, F_CONTENT_LENGTH, F_TRANSFER_ENCODING, F_CONNECTION };

struct head_parse {
	struct h1_head h;
	size_t len;          /* HEAD_DONE: bytes of the head, empty line included */
	size_t line_at;      /* HEAD_MORE: offset of the unfinished line (0: start line) */
	int err;             /* HEAD_DONE: -1, or the h1_error that spoils the head */
	uint32_t dropped;    /* fields beyond H1_MAX_HEADERS */
	bool has_te;         /* a Transfer-Encoding field, whatever its value */
	bool cl_bad;         /* unparseable or conflicting Content-Length */
	bool cl_seen;
	enum field_kind last;/* what an obs-fold line continues */
};

enum head_res { HEAD_MORE, HEAD_DONE, HEAD_BAD_START, HEAD_PREFACE };

/* Next non-empty element of a comma list, OWS trimmed (RFC 9110 5.6.1). */
static bool list_next(const uint8_t **cur, const uint8_t *end, const uint8_t **el, size_t *el_len)
{
	while (*cur < end) {
		const uint8_t *a = *cur;
		const uint8_t *c = memchr(a, ',', (size_t)(end - a));
		const uint8_t *e = c ? c : end;
		*cur = c ? c + 1 : end;
		while (a < e && is_ows(*a))
			a++;
		while (e > a && is_ows(e[-1]))
			e--;
		if (a < e) {
			*el = a;
			*el_len = (size_t)(e - a);
			return true;
		}
	}
	return false;
}

/* Content-Length = 1*DIGIT, or a list of identical values (RFC 9110 8.6). */
static void content_length(struct head_parse *hp, const uint8_t *v, size_t n)
{
	const uint8_t *cur = v, *el;
	size_t el_len;
	bool any = false;
	while (list_next(&cur, v + n, &el, &el_len)) {
		any = true;
		if (el_len > H1_MAX_CL_DIGITS) {
			hp->cl_bad = true;
			continue;
		}
		int64_t x = 0;
		for (size_t i = 0; i < el_len; i++) {
			if (!is_digit(el[i])) {
				hp->cl_bad = true;
				x = -1;
				break;
			}
			x = x * 10 + (el[i] - '0');
		}
		if (x < 0)
			continue;
		if (hp->cl_seen && hp->h.content_length != x)
			hp->cl_bad = true;
		hp->cl_seen = true;
		hp->h.content_length = x;
	}
	if (!any)
		hp->cl_bad = true;
}

/* The last transfer coding decides (RFC 9112 6.1); empty elements are skipped. */
static void transfer_encoding(struct head_parse *hp, const uint8_t *v, size_t n)
{
	const uint8_t *cur = v, *el, *last = NULL;
	size_t el_len, last_len = 0;
	hp->has_te = true;
	while (list_next(&cur, v + n, &el, &el_len)) {
		last = el;
		last_len = el_len;
	}
	if (!last)
		return;
	const uint8_t *semi = memchr(last, ';', last_len); /* transfer-parameters */
	if (semi) {
		last_len = (size_t)(semi - last);
		while (last_len && is_ows(last[last_len - 1]))
			last_len--;
	}
	hp->h.chunked = ieq(last, last_len, "chunked");
}

static void connection(struct head_parse *hp, const uint8_t *v, size_t n)
{
	const uint8_t *cur = v, *el;
	size_t el_len;
	while (list_next(&cur, v + n, &el, &el_len)) {
		if (ieq(el, el_len, "close"))
			hp->h.conn_close = true;
		else if (ieq(el, el_len, "keep-alive"))
			hp->h.conn_keep_alive = true;
		else if (ieq(el, el_len, "upgrade"))
			hp->h.conn_upgrade = true;
	}
}

static void field_value(struct head_parse *hp, enum field_kind k, const uint8_t *v, size_t n)
{
	switch (k) {
	case F_CONTENT_LENGTH:
		content_length(hp, v, n);
		break;
	case F_TRANSFER_ENCODING:
		transfer_encoding(hp, v, n);
		break;
	case F_CONNECTION:
		connection(hp, v, n);
		break;
	case F_OTHER:
		break;
	}
}

/* One field line without its line end (RFC 9112 5): name ":" OWS value OWS. */
static bool parse_field(struct head_parse *hp, const uint8_t *s, size_t n)
{
	struct h1_head *h = &hp->h;
	if (is_ows(s[0])) {
		/* obs-fold (RFC 9112 5.2): tolerated. The stored value keeps its first
		 * line; a folded framing field still counts its continuation. */
		const uint8_t *a = s, *e = s + n;
		while (a < e && is_ows(*a))
			a++;
		if (a < e)
			field_value(hp, hp->last, a, (size_t)(e - a));
		return true;
	}
	/* The name up to ':', every byte a tchar (':' is not one): one pass,
	 * where a memchr call and a second loop cost more on names this short. */
	size_t nl = 0;
	while (nl < n && tchar[s[nl]])
		nl++;
	if (nl == 0 || nl == n || s[nl] != ':')
		return false;
	const uint8_t *colon = s + nl;
	const uint8_t *v = colon + 1, *e = s + n;
	while (v < e && is_ows(*v))
		v++;
	while (e > v && is_ows(e[-1]))
		e--;
	size_t vn = (size_t)(e - v);

	if (h->n_headers < H1_MAX_HEADERS) {
		h->headers[h->n_headers].name = mkstr(s, nl);
		h->headers[h->n_headers].value = mkstr(v, vn);
		h->n_headers++;
	} else {
		h->headers_truncated = true;
		hp->dropped++;
	}

	/* Framing fields are read even when not kept: framing must not depend
	 * on how many other fields came first. */
	enum field_kind k = F_OTHER;
	switch (nl) {
	case 14:
		if (ieq(s, nl, "content-length"))
			k = F_CONTENT_LENGTH;
		break;
	case 17:
		if (ieq(s, nl, "transfer-encoding"))
			k = F_TRANSFER_ENCODING;
		break;
	case 10:
		if (ieq(s, nl, "connection"))
			k = F_CONNECTION;
		break;
	case 7:
		if (ieq(s, nl, "upgrade") && h->upgrade.p == NULL)
			h->upgrade = mkstr(v, vn);
		break;
	case 6:
		if (ieq(s, nl, "expect") && ieq(v, vn, "100-continue"))
			h->expect_continue = true;
		break;
	}
	hp->last = k;
	field_value(hp, k, v, vn);
	return true;
}

/*
 * Parses s[0..n) as a head in place. HEAD_BAD_START and HEAD_PREFACE are
 * decided as soon as the start line is complete (or its first bytes cannot
 * start one); every other fault waits for the whole head, so that it is found
 * at the same offset however the stream is cut.
 */
static enum head_res parse_head(struct h1_parser *p, const uint8_t *s, size_t n,
				struct head_parse *hp)
{
	const uint8_t *nl = memchr(s, '\n', n);
	if (!nl) {
		hp->line_at = 0;
		return start_prefix_ok(p->kind, s, n) ? HEAD_MORE : HEAD_BAD_START;
	}
	size_t q = (size_t)(nl - s) + 1;
	struct start_line sl;
	enum start_res r = parse_start(p, s, content_len(s, q), &sl);
	if (r != START_OK)
		return r == START_PREFACE ? HEAD_PREFACE : HEAD_BAD_START;

	struct h1_head *h = &hp->h;
	h->is_request = sl.is_request;
	h->method = sl.is_request ? sl.method : mkstr(s, 0);
	h->target = sl.is_request ? sl.target : mkstr(s, 0);
	h->version_minor = sl.version_minor;
	h->version_missing = sl.is_request && sl.version_missing;
	h->status = sl.is_request ? 0 : sl.status;
	h->n_headers = 0;
	h->headers_truncated = false;
	h->content_length = -1;
	h->chunked = false;
	h->conn_close = h->conn_keep_alive = h->conn_upgrade = false;
	h->upgrade = (struct h1_str){ NULL, 0 };
	h->expect_continue = false;
	hp->err = -1;
	hp->dropped = 0;
	hp->has_te = hp->cl_bad = hp->cl_seen = false;
	hp->last = F_OTHER;

	for (;;) {
		nl = memchr(s + q, '\n', n - q);
		if (!nl) {
			hp->line_at = q;
			return HEAD_MORE;
		}
		size_t e = (size_t)(nl - s);
		size_t le = e;
		if (le > q && s[le - 1] == '\r')
			le--;
		if (le == q)
			break;
		if (hp->err < 0 && !parse_field(hp, s + q, le - q))
			hp->err = H1_ERR_BAD_HEADER;
		q = e + 1;
	}
	hp->len = (size_t)(nl - s) + 1;
	if (hp->cl_bad)
		h->content_length = -1;
	/* Transfer-Encoding overrides Content-Length (RFC 9112 6.3 rule 3). */
	if (hp->err < 0 && hp->cl_bad && !hp->has_te)
		hp->err = H1_ERR_BAD_LENGTH;
	if (h->upgrade.p == NULL)
		h->upgrade = mkstr(s, 0);
	return HEAD_DONE;
}

/*
 * Where the head ends: just past the '\n' of an empty line. `pre` bytes of the
 * current line came before d (pre_cr: they were a lone '\r'). Returns 0 when
 * not in d[0..n); *line_at then gets where d's last unfinished line starts.
 */
static size_t head_end(const uint8_t *d, size_t n, size_t pre, bool pre_cr, size_t *line_at)
{
	size_t q = 0;
	const uint8_t *nl;
	while (q < n && (nl = memchr(d + q, '\n', n - q)) != NULL) {
		size_t e = (size_t)(nl - d);
		size_t len = pre + (e - q);
		if (len == 0 || (len == 1 && (pre ? pre_cr : d[q] == '\r')))
			return e + 1;
		pre = 0;
		q = e + 1;
	}
	*line_at = q;
	return 0;
}

/* After on_head: how the body is delimited (RFC 9112 6.3). */
static void frame_body(struct h1_parser *p, const struct h1_head *h, bool has_te,
		       enum h1_body_mode mode, const struct h1_callbacks *cb, void *ctx)
{
	if (mode == H1_BODY_TUNNEL) {
		end_message(p, cb, ctx);
		stop(p);
		return;
	}
	if (mode != H1_BODY_NONE) {
		if (!h->is_request && h->status == 101) { /* RFC 9110 15.2.2 */
			end_message(p, cb, ctx);
			stop(p);
			return;
		}
		bool bodiless = !h->is_request && ((h->status >= 100 && h->status < 200) ||
						   h->status == 204 || h->status == 304);
		if (!bodiless) {
			if (has_te) {
				if (h->chunked) {
					p->state = H1_WAIT_CHUNK_SIZE;
					return;
				}
				if (!h->is_request) { /* rule 4: read until close */
					p->state = H1_WAIT_CLOSE;
					return;
				}
				/* a request whose last coding is not chunked is
				 * refused by the server (rule 4): no body here */
			} else if (h->content_length > 0) {
				p->state = H1_WAIT_BODY;
				p->remaining = (uint64_t)h->content_length;
				return;
			} else if (h->content_length < 0 && !h->is_request) {
				p->state = H1_WAIT_CLOSE; /* rule 8 */
				return;
			}
		}
	}
	end_message(p, cb, ctx);
}

/* A message start found again: count it, unless it opens a midstream stream. */
static void resynced(struct h1_parser *p, bool is_resync)
{
	if (is_resync && p->count_resync)
		p->stats->resyncs++;
	p->count_resync = true;
	p->sync_run = 0;
}

/*
 * A head that failed may hold the next message: its start line may have been
 * body text that a tolerant request line accepts ("hello world" is method
 * "hello", target "world"). Returns the offset of the first later line that
 * starts a message, or len.
 */
static size_t rescan_head(const struct h1_parser *p, const uint8_t *s, size_t len)
{
	const uint8_t *nl = memchr(s, '\n', len);
	size_t q = (size_t)(nl - s) + 1;
	while (q < len) {
		nl = memchr(s + q, '\n', len - q);
		size_t e = (size_t)(nl - s) + 1;
		if (is_message_start(p->kind, s + q, content_len(s + q, e - q)))
			return q;
		q = e;
	}
	return len;
}

/*
 * A complete head at s: hand it over. When it is bad, fail and resync: from a
 * message start inside it (state WAIT_START) or after it. Returns the bytes
 * of s used up.
 */
static size_t deliver(struct h1_parser *p, const uint8_t *s, struct head_parse *hp,
		      const struct h1_callbacks *cb, void *ctx)
{
	if (hp->err >= 0) {
		size_t k = rescan_head(p, s, hp->len);
		fail(p, (enum h1_error)hp->err, cb, ctx);
		p->skip_line = false;
		skipped(p, k);
		if (k < hp->len && p->state != H1_STOPPED) {
			resynced(p, true);
			p->state = H1_WAIT_START;
		}
		return k;
	}
	p->stats->messages++;
	p->stats->headers_dropped += hp->dropped;
	p->parsed_any = true;
	enum h1_body_mode mode = cb->on_head ? cb->on_head(ctx, &hp->h) : H1_BODY_AUTO;
	frame_body(p, &hp->h, hp->has_te, mode, cb, ctx);
	return hp->len;
}

/*
 * max_head_bytes of head and no end: the head is dropped at exactly that
 * offset, `extra` of them from the piece (the rest were buffered), and the
 * scan for a message start goes on from there.
 */
static size_t head_too_big(struct h1_parser *p, size_t extra, uint8_t last,
			   const struct h1_callbacks *cb, void *ctx)
{
	uint64_t n = (uint64_t)p->buf_len + extra;
	fail(p, H1_ERR_HEAD_TOO_BIG, cb, ctx);
	p->skip_line = last != '\n';
	buf_release(p);
	skipped(p, n);
	return extra;
}

static size_t bad_start(struct h1_parser *p, const struct h1_callbacks *cb, void *ctx,
			bool at_line_start)
{
	uint64_t n = p->buf_len;
	fail(p, H1_ERR_BAD_START, cb, ctx);
	p->skip_line = !at_line_start;
	buf_release(p);
	skipped(p, n);
	return 0;
}

/*
 * The HTTP/2 preface: stop. In place, nothing of it is consumed, so the owner
 * can hand the stream from this byte on to an HTTP/2 decoder.
 */
static size_t preface(struct h1_parser *p, size_t n, const struct h1_callbacks *cb, void *ctx)
{
	fail(p, H1_ERR_H2_PREFACE, cb, ctx);
	stop(p);
	return n;
}

/* WAIT_START: skip empty lines, then parse the head in place if it is whole. */
static size_t wait_start(struct h1_parser *p, const uint8_t *d, size_t n,
			 const struct h1_callbacks *cb, void *ctx)
{
	if (p->buf_len == 0) {
		size_t pos = 0;
		while (pos < n && (d[pos] == '\r' || d[pos] == '\n')) /* RFC 9112 2.2 */
			pos++;
		if (pos)
			return pos;
		size_t w = n < p->max_head ? n : p->max_head;
		struct head_parse hp;
		switch (parse_head(p, d, w, &hp)) {
		case HEAD_DONE:
			return deliver(p, d, &hp, cb, ctx);
		case HEAD_BAD_START:
			return bad_start(p, cb, ctx, false); /* resync skips this line */
		case HEAD_PREFACE:
			return preface(p, 0, cb, ctx);
		case HEAD_MORE:
			break;
		}
		if (w == p->max_head || !buf_append(p, d, w))
			return head_too_big(p, w, d[w - 1], cb, ctx);
		if (hp.line_at) {
			p->state = H1_WAIT_FIELDS;
			p->line_start = (uint32_t)hp.line_at;
		}
		return w;
	}

	/* The start line began in an earlier piece. */
	size_t room = p->max_head - p->buf_len;
	size_t w = n < room ? n : room;
	const uint8_t *nl = memchr(d, '\n', w);
	size_t k = nl ? (size_t)(nl - d) + 1 : w;
	if (!buf_append(p, d, k))
		return head_too_big(p, k, d[k - 1], cb, ctx);
	if (!nl) {
		if (!start_prefix_ok(p->kind, p->buf, p->buf_len)) {
			bad_start(p, cb, ctx, false);
			return k;
		}
		if (k == room) {
			p->buf_len -= (uint32_t)k; /* counted as `extra` */
			return head_too_big(p, k, d[k - 1], cb, ctx);
		}
		return k;
	}
	struct start_line sl;
	switch (parse_start(p, p->buf, content_len(p->buf, p->buf_len), &sl)) {
	case START_OK:
		p->state = H1_WAIT_FIELDS;
		p->line_start = p->buf_len;
		return k;
	case START_PREFACE:
		return preface(p, n, cb, ctx);
	case START_BAD:
		break;
	}
	bad_start(p, cb, ctx, true);
	return k;
}

/* WAIT_FIELDS: the head is buffered; append until its empty line. */
static size_t wait_fields(struct h1_parser *p, const uint8_t *d, size_t n,
			  const struct h1_callbacks *cb, void *ctx)
{
	size_t room = p->max_head - p->buf_len;
	size_t w = n < room ? n : room;
	size_t pre = p->buf_len - p->line_start, at = 0;
	bool pre_cr = pre == 1 && p->buf[p->line_start] == '\r';
	size_t e = head_end(d, w, pre, pre_cr, &at);
	if (!e) {
		uint32_t old = p->buf_len;
		if (w == room || !buf_append(p, d, w))
			return head_too_big(p, w, w ? d[w - 1] : p->buf[p->buf_len - 1], cb, ctx);
		if (at)
			p->line_start = old + (uint32_t)at;
		return w;
	}
	if (!buf_append(p, d, e))
		return head_too_big(p, e, d[e - 1], cb, ctx);
	/* The buffer now holds a whole head; a bad one may hold another whole
	 * head after a message start inside it (see rescan_head). */
	for (;;) {
		struct head_parse hp;
		if (parse_head(p, p->buf, p->buf_len, &hp) != HEAD_DONE) {
			bad_start(p, cb, ctx, true); /* cannot happen: the start line was checked */
			break;
		}
		size_t k = deliver(p, p->buf, &hp, cb, ctx);
		if (k == hp.len || p->state == H1_STOPPED)
			break;
		memmove(p->buf, p->buf + k, p->buf_len - k);
		p->buf_len -= (uint32_t)k;
	}
	buf_release(p);
	return e;
}

/* ---- lines: chunk sizes, trailers, resync ---- */

enum line_res { LINE_MORE, LINE_DONE, LINE_LONG };

/*
 * One line through '\n', at most max_line_bytes long. In place when nothing
 * is buffered, else assembled in buf. *used: bytes of d consumed. LINE_LONG:
 * max_line_bytes without '\n' (buf + *used); the caller discards them.
 */
static enum line_res take_line(struct h1_parser *p, const uint8_t *d, size_t n, size_t *used,
			       const uint8_t **line, size_t *len)
{
	size_t lim = p->max_line - p->buf_len;
	size_t w = n < lim ? n : lim;
	const uint8_t *nl = memchr(d, '\n', w);
	if (!nl) {
		*used = w;
		if (w == lim || !buf_append(p, d, w))
			return LINE_LONG;
		return LINE_MORE;
	}
	size_t k = (size_t)(nl - d) + 1;
	*used = k;
	if (p->buf_len == 0) {
		*line = d;
		*len = k;
		return LINE_DONE;
	}
	if (!buf_append(p, d, k))
		return LINE_LONG;
	*line = p->buf;
	*len = p->buf_len;
	return LINE_DONE;
}

static bool is_empty_line(const uint8_t *line, size_t len)
{
	return len == 1 || (len == 2 && line[0] == '\r');
}

/*
 * A message start found in a line: parse from there. A line in place is left
 * unconsumed for WAIT_START (returns 0); a buffered one becomes the start of a
 * buffered head (returns `used`).
 */
static size_t found_start(struct h1_parser *p, const uint8_t *line, size_t len, size_t used,
			  bool is_resync)
{
	resynced(p, is_resync);
	if (line != p->buf) {
		p->state = H1_WAIT_START;
		return 0;
	}
	struct start_line sl;
	(void)parse_start(p, line, content_len(line, len), &sl); /* is_message_start: OK */
	p->state = H1_WAIT_FIELDS;
	p->line_start = p->buf_len;
	return used;
}

/* An over-long line where framing needed one: the chunked body is lost. */
static size_t long_line(struct h1_parser *p, size_t used, const struct h1_callbacks *cb, void *ctx)
{
	uint64_t n = (uint64_t)p->buf_len + used;
	fail(p, H1_ERR_BAD_CHUNK, cb, ctx);
	buf_release(p);
	skipped(p, n);
	return used;
}

/* chunk-size [ chunk-ext ] CRLF (RFC 9112 7.1); `n` excludes the line end. */
static bool parse_chunk_size(const uint8_t *s, size_t n, uint64_t *size)
{
	size_t i = 0, digits = 0;
	uint64_t v = 0;
	bool any = false;
	while (i < n && is_ows(s[i])) /* leading whitespace: tolerated */
		i++;
	for (; i < n; i++) {
		uint8_t c = s[i], x;
		if (is_digit(c))
			x = (uint8_t)(c - '0');
		else if (lower(c) >= 'a' && lower(c) <= 'f')
			x = (uint8_t)(lower(c) - 'a' + 10);
		else
			break;
		any = true;
		if (v == 0 && x == 0)
			continue;
		if (++digits > H1_MAX_CHUNK_DIGITS)
			return false;
		v = v << 4 | x;
	}
	while (i < n && is_ows(s[i]))
		i++;
	if (!any || (i < n && s[i] != ';')) /* extensions are ignored */
		return false;
	*size = v;
	return true;
}

static size_t wait_chunk_size(struct h1_parser *p, const uint8_t *d, size_t n,
			      const struct h1_callbacks *cb, void *ctx)
{
	const uint8_t *line = NULL;
	size_t len = 0, used;
	switch (take_line(p, d, n, &used, &line, &len)) {
	case LINE_MORE:
		return used;
	case LINE_LONG:
		return long_line(p, used, cb, ctx);
	case LINE_DONE:
		break;
	}
	uint64_t size;
	if (parse_chunk_size(line, content_len(line, len), &size)) {
		buf_release(p);
		if (size == 0) {
			p->state = H1_WAIT_TRAILER;
		} else {
			p->state = H1_WAIT_CHUNK_DATA;
			p->remaining = size;
		}
		return used;
	}
	fail(p, H1_ERR_BAD_CHUNK, cb, ctx);
	p->skip_line = false;
	/* The bad line may be the next message (a miscounted body). */
	if (is_message_start(p->kind, line, content_len(line, len)))
		return found_start(p, line, len, used, true);
	buf_release(p);
	skipped(p, len);
	return used;
}

static size_t wait_trailer(struct h1_parser *p, const uint8_t *d, size_t n,
			   const struct h1_callbacks *cb, void *ctx)
{
	const uint8_t *line = NULL;
	size_t len = 0, used;
	switch (take_line(p, d, n, &used, &line, &len)) {
	case LINE_MORE:
		return used;
	case LINE_LONG:
		return long_line(p, used, cb, ctx);
	case LINE_DONE:
		break;
	}
	if (is_empty_line(line, len)) {
		buf_release(p);
		end_message(p, cb, ctx);
		return used;
	}
	/* A sender that ends with "0\r\n" and no empty line: a trailer field
	 * cannot look like a start line (':' is not a tchar, '/' neither). */
	if (is_message_start(p->kind, line, content_len(line, len))) {
		end_message(p, cb, ctx);
		return found_start(p, line, len, used, false);
	}
	buf_release(p); /* trailer fields are not reported */
	return used;
}

static size_t wait_sync(struct h1_parser *p, const uint8_t *d, size_t n)
{
	if (p->skip_line) {
		const uint8_t *nl = memchr(d, '\n', n);
		size_t k = nl ? (size_t)(nl - d) + 1 : n;
		p->skip_line = nl == NULL;
		p->count_resync = true;
		skipped(p, k);
		return k;
	}
	const uint8_t *line = NULL;
	size_t len = 0, used;
	switch (take_line(p, d, n, &used, &line, &len)) {
	case LINE_MORE:
		return used;
	case LINE_LONG: {
		uint64_t k = (uint64_t)p->buf_len + used;
		p->skip_line = true;
		p->count_resync = true;
		buf_release(p);
		skipped(p, k);
		return used;
	}
	case LINE_DONE:
		break;
	}
	if (is_message_start(p->kind, line, content_len(line, len)))
		return found_start(p, line, len, used, true);
	if (!is_empty_line(line, len))
		p->count_resync = true;
	buf_release(p);
	skipped(p, len);
	return used;
}

/* ---- API ---- */

struct h1_parser *h1_new(enum h1_kind kind, bool midstream, const struct h1_limits *lim,
			 struct h1_stats *stats)
{
	if (!stats)
		return NULL;
	struct h1_parser *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->kind = kind == H1_REQUESTS || kind == H1_RESPONSES ? kind : H1_ANY;
	p->max_head = lim && lim->max_head_bytes ? lim->max_head_bytes : H1_DEF_MAX_HEAD;
	p->max_line = lim && lim->max_line_bytes ? lim->max_line_bytes : H1_DEF_MAX_LINE;
	p->max_resync = lim && lim->max_resync_bytes ? lim->max_resync_bytes : H1_DEF_MAX_RESYNC;
	if (p->max_line > p->max_head) /* one buffer bound serves both */
		p->max_line = p->max_head;
	p->stats = stats;
	p->state = midstream ? H1_WAIT_SYNC : H1_WAIT_START;
	p->count_resync = !midstream;
	return p;
}

void h1_free(struct h1_parser *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

size_t h1_feed(struct h1_parser *p, const uint8_t *data, size_t len,
	       const struct h1_callbacks *cb, void *ctx)
{
	size_t pos = 0;
	while (pos < len && p->state != H1_STOPPED) {
		const uint8_t *d = data + pos;
		size_t n = len - pos, k = 0;
		switch (p->state) {
		case H1_WAIT_START:
			k = wait_start(p, d, n, cb, ctx);
			break;
		case H1_WAIT_FIELDS:
			k = wait_fields(p, d, n, cb, ctx);
			break;
		case H1_WAIT_BODY:
			k = n < p->remaining ? n : (size_t)p->remaining;
			p->pending += k;
			p->remaining -= k;
			if (p->remaining == 0)
				end_message(p, cb, ctx);
			break;
		case H1_WAIT_CLOSE:
			k = n;
			p->pending += k;
			break;
		case H1_WAIT_CHUNK_SIZE:
			k = wait_chunk_size(p, d, n, cb, ctx);
			break;
		case H1_WAIT_CHUNK_DATA:
			k = n < p->remaining ? n : (size_t)p->remaining;
			p->pending += k;
			p->remaining -= k;
			if (p->remaining == 0) {
				p->state = H1_WAIT_CHUNK_CRLF;
				p->cr_seen = false;
			}
			break;
		case H1_WAIT_CHUNK_CRLF:
			if (d[0] == '\n') {
				p->state = H1_WAIT_CHUNK_SIZE;
				k = 1;
			} else if (d[0] == '\r' && !p->cr_seen) {
				p->cr_seen = true;
				k = 1;
			} else {
				fail(p, H1_ERR_BAD_CHUNK, cb, ctx); /* resync skips this line */
			}
			break;
		case H1_WAIT_TRAILER:
			k = wait_trailer(p, d, n, cb, ctx);
			break;
		case H1_WAIT_SYNC:
			k = wait_sync(p, d, n);
			break;
		case H1_STOPPED:
			break;
		}
		pos += k;
	}
	flush_body(p, cb, ctx);
	return pos;
}

void h1_gap(struct h1_parser *p, uint64_t len, const struct h1_callbacks *cb, void *ctx)
{
	if (len == 0)
		return;
	switch (p->state) {
	case H1_STOPPED:
		return;
	case H1_WAIT_CLOSE:
		p->pending += len;
		break;
	case H1_WAIT_BODY:
	case H1_WAIT_CHUNK_DATA:
		if (len <= p->remaining) {
			p->pending += len;
			p->remaining -= len;
			if (p->remaining == 0) {
				if (p->state == H1_WAIT_BODY) {
					end_message(p, cb, ctx);
				} else {
					p->state = H1_WAIT_CHUNK_CRLF;
					p->cr_seen = false;
				}
			}
			break;
		}
		/* the gap runs past the framing */
		/* fall through */
	default: {
		/* In a head, between messages, in a chunk-size, CRLF or trailer
		 * line, or past the end of a body: sync is lost. Already out of
		 * sync, the gap just breaks the line being collected. */
		uint64_t n = p->buf_len;
		if (p->state != H1_WAIT_SYNC)
			fail(p, H1_ERR_GAP, cb, ctx);
		p->skip_line = false; /* the first byte after a gap starts a line */
		p->count_resync = true;
		buf_release(p);
		skipped(p, n);
		break;
	}
	}
	flush_body(p, cb, ctx);
}

void h1_finish(struct h1_parser *p, const struct h1_callbacks *cb, void *ctx)
{
	switch (p->state) {
	case H1_WAIT_CLOSE:
		end_message(p, cb, ctx);
		break;
	case H1_WAIT_BODY:
	case H1_WAIT_CHUNK_SIZE:
	case H1_WAIT_CHUNK_DATA:
	case H1_WAIT_CHUNK_CRLF:
	case H1_WAIT_TRAILER:
		fail(p, H1_ERR_GAP, cb, ctx);
		break;
	case H1_WAIT_START:
	case H1_WAIT_FIELDS:
		if (p->buf_len)
			fail(p, H1_ERR_GAP, cb, ctx);
		break;
	case H1_WAIT_SYNC:
	case H1_STOPPED:
		break;
	}
	if (p->buf) {
		p->buf_len = 0;
		free(p->buf);
		p->buf = NULL;
		p->buf_cap = 0;
	}
}

enum h1_kind h1_kind_of(const struct h1_parser *p)
{
	return p->kind;
}

bool h1_stopped(const struct h1_parser *p)
{
	return p->state == H1_STOPPED;
}

bool h1_between_messages(const struct h1_parser *p)
{
	/* While resynchronising, a held partial line is not known to start a message. */
	return p->state == H1_WAIT_SYNC || (p->state == H1_WAIT_START && p->buf_len == 0);
}

size_t h1_memory(const struct h1_parser *p)
{
	return sizeof *p + p->buf_cap;
}
