/*
 * http1.h - incremental HTTP/1.0 and 1.1 message parser, one per direction.
 *
 * RFC 9112 (message syntax and framing), RFC 9110 (semantics of 1xx, 204, 304,
 * HEAD, CONNECT, Upgrade). The parser is fed the reassembled byte stream of one
 * direction in pieces of any size; a head split across pieces is copied into a
 * bounded buffer, a head inside one piece is parsed in place. Bodies are
 * counted, never stored.
 *
 * Gaps: h1_gap() tells the parser bytes are missing. Inside a body of known
 * length (Content-Length, or the current chunk) the parser just skips them and
 * stays in sync. Anywhere else it loses sync and resynchronises at the next
 * line that starts a message (request line or status line), counting it.
 *
 * Tolerance (what real clients send and tshark accepts): bare LF line ends,
 * leading empty lines before a message, a request line without a version
 * ("GET /path" followed by headers), obs-fold continuation lines.
 */
#ifndef TAPIR_HTTP1_H
#define TAPIR_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum h1_kind {
	H1_REQUESTS,  /* this direction carries requests */
	H1_RESPONSES, /* this direction carries responses */
	H1_ANY,       /* not known yet (no handshake seen): the first message decides */
};

/* A string inside the input or the parser's buffer; not NUL-terminated. */
struct h1_str {
	const char *p;
	uint32_t len;
};

struct h1_header {
	struct h1_str name;
	struct h1_str value; /* leading and trailing whitespace removed */
};

#define H1_MAX_HEADERS 100 /* headers kept per message; more are skipped and counted */

struct h1_head {
	bool is_request;
	struct h1_str method;   /* request */
	struct h1_str target;   /* request target as sent */
	int version_minor;      /* HTTP/1.x; 0 where the request line had no version */
	bool version_missing;   /* request line without "HTTP/1.x" */
	int status;             /* response */
	uint32_t n_headers;
	bool headers_truncated; /* more than H1_MAX_HEADERS */
	struct h1_header headers[H1_MAX_HEADERS];

	/* Framing headers as parsed (RFC 9112 6). */
	int64_t content_length; /* -1 when absent or invalid */
	bool chunked;           /* Transfer-Encoding's last coding is chunked */
	bool conn_close;        /* Connection: close */
	bool conn_keep_alive;   /* Connection: keep-alive */
	bool conn_upgrade;      /* Connection: upgrade */
	struct h1_str upgrade;  /* Upgrade header value, len 0 when absent */
	bool expect_continue;   /* Expect: 100-continue */
};

/* What the owner tells the parser about the body that follows a head. */
enum h1_body_mode {
	H1_BODY_AUTO,   /* frame by the head alone (RFC 9112 6.3; 1xx/204/304 have none) */
	H1_BODY_NONE,   /* no body whatever the headers say (the response to HEAD) */
	H1_BODY_TUNNEL, /* the bytes after this head are not HTTP/1 (101, 2xx to CONNECT) */
};

enum h1_error {
	H1_ERR_BAD_START,    /* first line is neither a request line nor a status line */
	H1_ERR_BAD_HEADER,   /* header line without a colon, or with a bad name */
	H1_ERR_HEAD_TOO_BIG, /* head longer than max_head_bytes */
	H1_ERR_BAD_CHUNK,    /* chunk-size line not hex, too long, or chunk not followed by CRLF */
	H1_ERR_BAD_LENGTH,   /* conflicting or unparseable Content-Length */
	H1_ERR_GAP,          /* bytes missing where framing could not bridge them */
	H1_ERR_H2_PREFACE,   /* the HTTP/2 client connection preface (RFC 9113 3.4) */
	H1_ERR__COUNT
};

extern const char *const h1_error_names[H1_ERR__COUNT];

struct h1_callbacks {
	/*
	 * A complete head (also for interim 1xx responses). Everything `h` points
	 * to lives only during the call. The return value frames the body.
	 */
	enum h1_body_mode (*on_head)(void *ctx, const struct h1_head *h);
	/* n decoded body bytes (chunk framing removed, skipped gap bytes included) */
	void (*on_body)(void *ctx, uint64_t n);
	/* the message whose head was last delivered is complete */
	void (*on_end)(void *ctx);
	/*
	 * Sync lost. `in_message` is true when a head had been delivered and its
	 * body was not finished: that message is abandoned (no on_end follows).
	 * The parser then scans for the next message start by itself.
	 */
	void (*on_error)(void *ctx, enum h1_error err, bool in_message);
};

struct h1_limits {
	uint32_t max_head_bytes;   /* start line + headers; default 64 KiB */
	uint32_t max_line_bytes;   /* chunk-size and trailer lines; default 4 KiB */
	uint32_t max_resync_bytes; /* bytes scanned for a message start before giving up for good */
};

struct h1_stats {
	uint64_t messages;       /* heads delivered */
	uint64_t errors[H1_ERR__COUNT];
	uint64_t resyncs;        /* message starts found again after lost sync */
	uint64_t resync_skipped; /* bytes skipped while resynchronising */
	uint64_t gave_up;        /* streams abandoned: no message start within max_resync_bytes */
	uint64_t headers_dropped;/* headers beyond H1_MAX_HEADERS */
};

struct h1_parser; /* opaque; one per direction */

/*
 * Creates a parser. `midstream` means the stream may start inside a message
 * (no handshake seen): it starts by scanning for a message start. `stats` is
 * shared and must outlive the parser. Returns NULL when out of memory.
 */
struct h1_parser *h1_new(enum h1_kind kind, bool midstream, const struct h1_limits *lim,
			 struct h1_stats *stats);
void h1_free(struct h1_parser *p);

/*
 * Feeds stream bytes; invokes callbacks as messages are recognised. Returns
 * the bytes consumed: all of them, unless the parser stopped inside this
 * piece. After a tunnel head (101, CONNECT 2xx) the return value is the
 * offset just past that head; at the HTTP/2 preface it is the offset of the
 * preface. What follows belongs to another protocol.
 */
size_t h1_feed(struct h1_parser *p, const uint8_t *data, size_t len,
	       const struct h1_callbacks *cb, void *ctx);

/* `len` bytes of the stream are missing at this point. */
void h1_gap(struct h1_parser *p, uint64_t len, const struct h1_callbacks *cb, void *ctx);

/*
 * The stream ended (FIN, RST, timeout, end of capture). A close-delimited body
 * (RFC 9112 6.3 rule 8) ends here and gets on_end; any other unfinished
 * message is abandoned with on_error(H1_ERR_GAP, in_message).
 */
void h1_finish(struct h1_parser *p, const struct h1_callbacks *cb, void *ctx);

/* What the parser found this direction carries (H1_ANY until the first message). */
enum h1_kind h1_kind_of(const struct h1_parser *p);

/* True once the parser has stopped: after a tunnel head, or after giving up. */
bool h1_stopped(const struct h1_parser *p);

/*
 * True while the parser holds no byte known to belong to a message: between
 * messages (empty lines before a message do not count), or resynchronising.
 * The owner stamps a message with the time of the piece in which this turned
 * false (or in which the previous message ended), which does not depend on
 * how the stream was cut into pieces.
 */
bool h1_between_messages(const struct h1_parser *p);

/* Bytes of memory the parser holds (for the owner's accounting). */
size_t h1_memory(const struct h1_parser *p);

#endif
