/*
 * audit_cli.c - `tapir audit SUBCOMMAND ...` (../shared/INTERFACE.md): the
 * command line over audit.h. Exit status 0 success, 1 a runtime failure or
 * tampering found, 2 bad usage or configuration; every error is one line on
 * stderr naming what was wrong.
 */
#include "audit_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: tapir audit keygen FILE                 write an Ed25519 key pair: FILE (0600) and FILE.pub\n"
	"       tapir audit verify DIR [--pubkey FILE] [--sth FILE]\n"
	"                                               exit 0 only if nothing was altered, removed,\n"
	"                                               inserted or reordered\n"
	"       tapir audit search DIR [--identity ID] [--ip IP[/BITS]] [--path GLOB] [--detector NAME]\n"
	"                              [--since TIME] [--until TIME] [--type event|alert|audit|all]\n"
	"                              [--table] [--no-index] [--stats]\n"
	"       tapir audit repair DIR [--key FILE]     cut a torn tail, recording (and signing) that it did\n"
	"       tapir audit prove DIR --record N [--size S]   inclusion proof (JSON)\n"
	"       tapir audit prove DIR --from M [--size S]     consistency proof (JSON)\n"
	"       tapir audit check-proof FILE|- [--pubkey FILE] [--sth FILE]\n"
	"       tapir audit retain DIR (--before TIME | --keep N) [--key FILE]\n"
	"       tapir audit head DIR                     the latest signed tree head (JSON)\n"
	"TIME is RFC 3339 (2026-11-28T09:00:00Z), packet time; --since is inclusive, --until\n"
	"exclusive. GLOB: * within a path segment, ** any segments. Exit status: 0 success, 1\n"
	"tampering, damage or a runtime failure, 2 bad usage.\n";

struct args {
	const char *cmd;
	const char *pos[2];
	int npos, maxpos;
	const char *pubkey, *sth, *key, *identity, *ip, *path, *detector, *since, *until, *type;
	const char *record, *from, *size, *before, *keep;
	bool table, no_index, stats;
};

__attribute__((format(printf, 3, 4))) static int err1(const char *cmd, int status,
							const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tapir audit %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

struct opt {
	const char *name;
	size_t off; /* offsetof the const char * or bool in struct args */
	bool flag;
	const char *cmds; /* subcommands that take it, space-separated */
};

#define OPT(n, f, cmds) {n, offsetof(struct args, f), false, cmds}
#define FLAG(n, f, cmds) {n, offsetof(struct args, f), true, cmds}

static const struct opt opts[] = {
	OPT("--pubkey", pubkey, " verify check-proof "),
	OPT("--sth", sth, " verify check-proof "),
	OPT("--key", key, " repair retain "),
	OPT("--audit-key", key, " repair retain "),
	OPT("--identity", identity, " search "),
	OPT("--ip", ip, " search "),
	OPT("--path", path, " search "),
	OPT("--detector", detector, " search "),
	OPT("--since", since, " search "),
	OPT("--until", until, " search "),
	OPT("--type", type, " search "),
	FLAG("--table", table, " search "),
	FLAG("--no-index", no_index, " search "),
	FLAG("--stats", stats, " search "),
	OPT("--record", record, " prove "),
	OPT("--from", from, " prove "),
	OPT("--size", size, " prove "),
	OPT("--before", before, " retain "),
	OPT("--keep", keep, " retain "),
};

static int parse(struct args *a, int argc, char **argv)
{
	char pat[64];
	snprintf(pat, sizeof pat, " %s ", a->cmd);
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-' || s[1] == '\0') {
			if (a->npos == a->maxpos)
				return err1(a->cmd, 2, "unexpected argument \"%s\"", s);
			a->pos[a->npos++] = s;
			continue;
		}
		const char *eq = strchr(s, '=');
		size_t nl = eq ? (size_t)(eq - s) : strlen(s);
		const struct opt *o = NULL;
		for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
			if (strlen(opts[k].name) == nl && memcmp(opts[k].name, s, nl) == 0 &&
			    strstr(opts[k].cmds, pat))
				o = &opts[k];
		if (!o)
			return err1(a->cmd, 2, "%.*s: unknown option", (int)nl, s);
		char *field = (char *)a + o->off;
		if (o->flag) {
			if (eq)
				return err1(a->cmd, 2, "%s: takes no value", o->name);
			*(bool *)field = true;
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v)
			return err1(a->cmd, 2, "%s: needs a value", o->name);
		*(const char **)field = v;
	}
	return 0;
}

static int parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *end || errno)
		return err1(cmd, 2, "%s: \"%s\" is not a whole number", opt, s);
	*out = v;
	return 0;
}

static int parse_time(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
	if (audit_parse_time(s, out) != 0)
		return err1(cmd, 2, "%s: bad time \"%s\" (RFC 3339, e.g. 2026-11-28T09:00:00Z)", opt,
			    s);
	return 0;
}

static int need_dir(struct args *a)
{
	if (a->npos < 1)
		return err1(a->cmd, 2, "no directory given");
	return 0;
}

static int cmd_keygen(struct args *a)
{
	if (a->npos < 1)
		return err1(a->cmd, 2, "no key file given");
	char e[512];
	int rc = audit_keygen(a->pos[0], e, sizeof e);
	if (rc)
		return err1(a->cmd, rc, "%s", e);
	printf("wrote %s (private, mode 0600) and %s.pub\n", a->pos[0], a->pos[0]);
	return 0;
}

static int cmd_verify(struct args *a)
{
	if (need_dir(a))
		return 2;
	struct audit_verify_options o = {.dir = a->pos[0], .pubkey_path = a->pubkey,
					 .sth_path = a->sth};
	char msg[2048], note[1024];
	int rc = audit_verify(&o, msg, sizeof msg, note, sizeof note);
	if (rc)
		return err1(a->cmd, rc, "%s", msg);
	printf("%s\n", msg);
	if (note[0])
		fprintf(stderr, "tapir audit verify: note: %s\n", note);
	return 0;
}

static int parse_types(const char *cmd, const char *s, unsigned *out)
{
	*out = 0;
	char b[64];
	snprintf(b, sizeof b, "%s", s);
	for (char *save, *t = strtok_r(b, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "event") == 0 || strcmp(t, "api") == 0)
			*out |= 1u << AUDIT_EVENT;
		else if (strcmp(t, "alert") == 0)
			*out |= 1u << AUDIT_ALERT;
		else if (strcmp(t, "audit") == 0)
			*out |= 1u << AUDIT_INTERNAL;
		else if (strcmp(t, "all") == 0)
			*out |= 1u << AUDIT_EVENT | 1u << AUDIT_ALERT | 1u << AUDIT_INTERNAL;
		else
			return err1(cmd, 2, "--type: \"%s\" is not event, alert, audit or all", t);
	}
	if (!*out)
		return err1(cmd, 2, "--type: empty");
	return 0;
}

static int cmd_search(struct args *a)
{
	if (need_dir(a))
		return 2;
	struct audit_query q = {.identity = a->identity, .path_glob = a->path,
				.detector = a->detector, .table = a->table, .no_index = a->no_index};
	if (a->identity && !*a->identity)
		return err1(a->cmd, 2, "--identity: empty");
	if (a->detector && !*a->detector)
		return err1(a->cmd, 2, "--detector: empty");
	if (a->ip) {
		if (audit_parse_ip(a->ip, q.ip, &q.ip_prefix) != 0)
			return err1(a->cmd, 2, "--ip: bad address \"%s\"", a->ip);
		q.has_ip = true;
	}
	if (a->since) {
		if (parse_time(a->cmd, "--since", a->since, &q.since_us))
			return 2;
		q.has_since = true;
	}
	if (a->until) {
		if (parse_time(a->cmd, "--until", a->until, &q.until_us))
			return 2;
		q.has_until = true;
	}
	if (a->type && parse_types(a->cmd, a->type, &q.types))
		return 2;
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	struct audit_search_stats st;
	char e[512] = "";
	int rc = audit_search(a->pos[0], &q, stdout, &st, e, sizeof e);
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (a->stats && rc != 2)
		fprintf(stderr,
			"{\"segments\":%llu,\"segments_indexed\":%llu,\"segments_skipped\":%llu,"
			"\"records_scanned\":%llu,\"matches\":%llu,\"damaged\":%llu}\n",
			(unsigned long long)st.segments, (unsigned long long)st.segments_indexed,
			(unsigned long long)st.segments_skipped,
			(unsigned long long)st.records_scanned, (unsigned long long)st.matches,
			(unsigned long long)st.damaged);
	if (rc)
		return err1(a->cmd, rc, "%s", e);
	return 0;
}

static int cmd_repair(struct args *a)
{
	if (need_dir(a))
		return 2;
	struct audit_options o;
	audit_options_default(&o);
	o.dir = a->pos[0];
	o.key_path = a->key;
	o.repair = true;
	char e[1024];
	int status;
	struct stat st;
	if (stat(a->pos[0], &st) != 0 || !S_ISDIR(st.st_mode))
		return err1(a->cmd, 2, "%s: no such directory", a->pos[0]);
	struct audit *w = audit_open(&o, &status, e, sizeof e);
	if (!w)
		return err1(a->cmd, status, "%s", e);
	struct audit_stats s;
	audit_get_stats(w, &s);
	if (audit_close(w, e, sizeof e) != 0)
		return err1(a->cmd, 1, "%s", e);
	if (s.appended == 0)
		printf("%s: nothing to repair (%llu records)\n", a->pos[0],
		       (unsigned long long)s.records);
	else if (s.repaired_bytes)
		printf("%s: cut a torn tail of %llu bytes; the repair is record %llu, signed\n",
		       a->pos[0], (unsigned long long)s.repaired_bytes,
		       (unsigned long long)(s.records - 1));
	else
		printf("%s: signed the records a crash left unsigned; the repair is record %llu\n",
		       a->pos[0], (unsigned long long)(s.records - 1));
	return 0;
}

static int cmd_retain(struct args *a)
{
	if (need_dir(a))
		return 2;
	uint64_t before = 0, keep = 0;
	if (!!a->before == !!a->keep)
		return err1(a->cmd, 2, "give one of --before TIME or --keep N");
	if (a->before && parse_time(a->cmd, "--before", a->before, &before))
		return 2;
	if (a->keep && parse_u64(a->cmd, "--keep", a->keep, &keep))
		return 2;
	if (a->keep && keep == 0)
		return err1(a->cmd, 2, "--keep: at least 1 (the segment being written stays)");
	struct stat st;
	if (stat(a->pos[0], &st) != 0 || !S_ISDIR(st.st_mode))
		return err1(a->cmd, 2, "%s: no such directory", a->pos[0]);
	struct audit_options o;
	audit_options_default(&o);
	o.dir = a->pos[0];
	o.key_path = a->key;
	char e[1024];
	int status;
	struct audit *w = audit_open(&o, &status, e, sizeof e);
	if (!w)
		return err1(a->cmd, status, "%s", e);
	uint64_t removed = 0;
	if (audit_retain(w, before, keep, &removed) != 0) {
		snprintf(e, sizeof e, "%s", audit_error(w));
		audit_close(w, NULL, 0);
		return err1(a->cmd, 1, "%s", e);
	}
	struct audit_stats s;
	audit_get_stats(w, &s);
	if (audit_close(w, e, sizeof e) != 0)
		return err1(a->cmd, 1, "%s", e);
	if (removed)
		printf("%s: removed %llu segments; the retention record is record %llu, signed\n",
		       a->pos[0], (unsigned long long)removed, (unsigned long long)(s.records - 1));
	else
		printf("%s: no segment to remove\n", a->pos[0]);
	return 0;
}

static int cmd_prove(struct args *a)
{
	if (need_dir(a))
		return 2;
	if (!!a->record == !!a->from)
		return err1(a->cmd, 2, "give one of --record N or --from SIZE");
	uint64_t n, size = 0;
	if (parse_u64(a->cmd, a->record ? "--record" : "--from", a->record ? a->record : a->from,
		      &n))
		return 2;
	if (a->size && parse_u64(a->cmd, "--size", a->size, &size))
		return 2;
	if (a->size && size == 0)
		return err1(a->cmd, 2, "--size: must be at least 1");
	char e[1024];
	int rc = audit_prove(a->pos[0], a->record != NULL, n, size, stdout, e, sizeof e);
	if (rc)
		return err1(a->cmd, rc, "%s", e);
	return 0;
}

static int cmd_check_proof(struct args *a)
{
	if (a->npos < 1)
		return err1(a->cmd, 2, "no proof file given (- for standard input)");
	FILE *f = strcmp(a->pos[0], "-") == 0 ? stdin : fopen(a->pos[0], "re");
	if (!f)
		return err1(a->cmd, 2, "%s: cannot open: %s", a->pos[0], strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len == cap) {
			if (cap >= (64u << 20)) {
				free(buf);
				buf = NULL;
				break;
			}
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return err1(a->cmd, 2, "%s: too large or out of memory", a->pos[0]);
	char msg[1024];
	int rc = audit_check_proof(buf, len, a->pubkey, a->sth, msg, sizeof msg);
	free(buf);
	if (rc)
		return err1(a->cmd, rc, "%s", msg);
	printf("%s\n", msg);
	return 0;
}

static int cmd_head(struct args *a)
{
	if (need_dir(a))
		return 2;
	char path[4096];
	snprintf(path, sizeof path, "%s/" AUDIT_HEADS_FILE, a->pos[0]);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return err1(a->cmd, errno == ENOENT ? 2 : 1, "%s: %s", path, strerror(errno));
	}
	off_t last = st.st_size / AUDIT_HEAD_SIZE * AUDIT_HEAD_SIZE - AUDIT_HEAD_SIZE;
	uint8_t b[AUDIT_HEAD_SIZE];
	struct audit_head h;
	char j[512];
	bool ok = last >= 0 && pread(fd, b, sizeof b, last) == AUDIT_HEAD_SIZE &&
		  audit_head_decode(b, &h) == 0 && audit_head_json(&h, j, sizeof j) > 0;
	close(fd);
	if (!ok)
		return err1(a->cmd, 1, "%s: no tree head", path);
	printf("%s\n", j);
	return 0;
}

int audit_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "audit") == 0) {
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "tapir audit: no subcommand (keygen, verify, search, repair, prove, "
				"check-proof, retain, head; `tapir audit help` for usage)\n");
		return 2;
	}
	struct args a = {.cmd = argv[1], .maxpos = 1};
	static const struct {
		const char *name;
		int (*fn)(struct args *);
	} cmds[] = {
		{"keygen", cmd_keygen}, {"verify", cmd_verify}, {"search", cmd_search},
		{"repair", cmd_repair}, {"prove", cmd_prove},   {"check-proof", cmd_check_proof},
		{"retain", cmd_retain}, {"head", cmd_head},
	};
	if (strcmp(a.cmd, "help") == 0 || strcmp(a.cmd, "--help") == 0 || strcmp(a.cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(cmds[i].name, a.cmd) != 0)
			continue;
		int rc = parse(&a, argc, argv);
		if (rc)
			return rc;
		return cmds[i].fn(&a);
	}
	fprintf(stderr, "tapir audit: \"%s\": unknown subcommand (keygen, verify, search, repair, "
			"prove, check-proof, retain, head)\n",
		a.cmd);
	return 2;
}
