/*
 * test_capture.c - the two file readers of sensor/capture.c hand out the same
 * frames: the mapped reader (sensor/pcapfile.c) against libpcap's pcap_loop
 * (opts.libpcap_reader, as TAPIR_READER=libpcap sets it).
 *
 * For every capture in pcaps/ and ../shared/pcaps/public/ (skipped when
 * absent), and for files written here from one of them (big-endian,
 * nanosecond, records longer than the snapshot length, an FCS link type, odd
 * time stamps, older versions, cut at every byte), both readers must agree on
 * every frame (time stamp, length, bytes), on how the run ends (status and
 * message) and on the bytes read; and the mapped reader must really have been
 * the one used where it should be.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../config/readfile.h"
#include "../sensor/capture.h"
#include "../sensor/pcapfile.h"
#include "unit.h"

#define PUBLIC "../shared/pcaps/public"
#define SOURCE "pcaps/http1-keepalive.pcap" /* small: cut at every byte */

static char tmproot[64];

struct frame {
	uint64_t ts;
	uint32_t caplen;
	uint64_t hash;
};

struct result {
	int open_rc, run_rc;
	char err[256];
	bool stable;
	uint64_t file_bytes, file_size;
	size_t n, cap;
	struct frame *f;
	size_t stop_after;  /* capture_stop() after this many frames; 0: never */
	struct capture *c;
	const uint8_t *first; /* the first frame, and a copy of it, for the stable-frame check */
	uint8_t first_copy[64];
	size_t first_len;
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void on_frame(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t caplen)
{
	struct result *r = ctx;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->f = realloc(r->f, r->cap * sizeof *r->f);
		if (!r->f)
			abort();
	}
	if (r->n == 0) {
		r->first = frame;
		r->first_len = caplen < sizeof r->first_copy ? caplen : sizeof r->first_copy;
		memcpy(r->first_copy, frame, r->first_len);
	}
	r->f[r->n++] = (struct frame){ts_us, (uint32_t)caplen, fnv(frame, caplen)};
	if (r->stop_after && r->n == r->stop_after)
		capture_stop(r->c);
}

/* Reads `path` with one reader. keep_open: leave r->c open for the caller to close. */
static void read_with(struct result *r, const char *path, bool libpcap, const char *filter,
		      bool keep_open)
{
	size_t stop_after = r->stop_after;
	memset(r, 0, sizeof *r);
	r->stop_after = stop_after;
	struct capture_opts o = {.file = path, .filter = filter, .libpcap_reader = libpcap};
	r->open_rc = capture_open(&r->c, &o, r->err, sizeof r->err);
	if (r->open_rc)
		return;
	r->stable = capture_stable_frames(r->c);
	r->run_rc = capture_run(r->c, on_frame, NULL, r, r->err, sizeof r->err);
	struct capture_stats st;
	capture_get_stats(r->c, &st);
	r->file_bytes = st.file_bytes;
	r->file_size = st.file_size;
	if (!keep_open) {
		capture_close(r->c);
		r->c = NULL;
	}
}

static bool same_frames(const struct result *a, const struct result *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i].ts != b->f[i].ts || a->f[i].caplen != b->f[i].caplen ||
		    a->f[i].hash != b->f[i].hash)
			return false;
	return true;
}

/*
 * Both readers on one file; returns whether the mapped reader was used.
 * The bytes read agree at the end of a whole file (where progress ends);
 * libpcap's ftell runs ahead by its buffer when a read fails midway.
 */
static bool compare(const char *path, const char *filter, size_t stop_after)
{
	struct result m = {.stop_after = stop_after}, l = {.stop_after = stop_after};
	read_with(&m, path, false, filter, false);
	read_with(&l, path, true, filter, false);
	int before = unit_failed_checks;
	CHECK_EQ(m.open_rc, l.open_rc);
	CHECK_EQ(m.run_rc, l.run_rc);
	CHECK_STR(m.err, l.err);
	CHECK_EQ(m.n, l.n);
	CHECK(same_frames(&m, &l));
	CHECK(!l.stable);
	if (m.open_rc == 0 && m.run_rc == 0 && !stop_after) {
		CHECK_EQ(m.file_bytes, l.file_bytes);
		CHECK_EQ(m.file_bytes, m.file_size);
	}
	if (unit_failed_checks != before) {
		fprintf(stderr, "  ^ %s (filter %s, stop after %zu)\n", path,
			filter ? filter : "none", stop_after);
		for (size_t i = 0; i < m.n && i < l.n; i++)
			if (m.f[i].ts != l.f[i].ts || m.f[i].caplen != l.f[i].caplen ||
			    m.f[i].hash != l.f[i].hash) {
				fprintf(stderr, "  frame %zu: ts %" PRIu64 "/%" PRIu64
					", caplen %u/%u (mapped/libpcap)\n", i, m.f[i].ts,
					l.f[i].ts, m.f[i].caplen, l.f[i].caplen);
				break;
			}
	}
	free(m.f);
	free(l.f);
	return m.stable;
}

/* The whole file (config/readfile.c), or NULL. */
static uint8_t *slurp(const char *path, size_t *len)
{
	char *b = NULL;
	if (readfile_whole(path, (size_t)1 << 30, &b, len, NULL, 0) != 0)
		return NULL;
	return (uint8_t *)b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(fwrite(b, 1, n, f), n);
	fclose(f);
}

static char *tmp_path(const char *name)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", tmproot, name);
	return path;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v, bool big)
{
	for (int i = 0; i < 4; i++)
		p[big ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put16(uint8_t *p, uint16_t v, bool big)
{
	p[big ? 0 : 1] = (uint8_t)(v >> 8);
	p[big ? 1 : 0] = (uint8_t)v;
}

/* How to rewrite SOURCE (a little-endian µs pcap 2.4) into another file. */
struct recipe {
	bool big, nano;
	uint16_t major, minor;
	uint32_t snaplen, linktype; /* linktype 0: keep the source's */
	uint32_t sec, frac;         /* when set: every record's time stamp */
	uint32_t caplen_add;        /* claim this many more captured bytes (and append them) */
	uint32_t repeat;            /* the records this many times (0: once) */
	uint32_t records;           /* at most this many records (0: all) */
};

/* Writes SOURCE rewritten by `rc` to tmp_path(name); returns the size (0 on failure). */
static size_t rewrite(const char *name, const struct recipe *rc)
{
	size_t n;
	uint8_t *src = slurp(SOURCE, &n);
	CHECK(src != NULL && n > 24 && get_le32(src) == 0xa1b2c3d4u);
	if (!src)
		return 0;
	size_t cap = (n + (n / 16 + 1) * (size_t)rc->caplen_add) * (rc->repeat + 1);
	uint8_t *out = calloc(1, cap), *o = out;
	CHECK(out != NULL);
	if (!out) {
		free(src);
		return 0;
	}
	put32(o, rc->nano ? 0xa1b23c4du : 0xa1b2c3d4u, rc->big);
	put16(o + 4, rc->major ? rc->major : 2, rc->big);
	put16(o + 6, rc->major ? rc->minor : 4, rc->big);
	put32(o + 16, rc->snaplen, rc->big);
	put32(o + 20, rc->linktype ? rc->linktype : get_le32(src + 20), rc->big);
	o += 24;
	uint32_t written = 0;
	for (uint32_t rep = 0; rep <= rc->repeat; rep++) {
		for (size_t at = 24; at + 16 <= n && (!rc->records || written < rc->records);
		     written++) {
			uint32_t caplen = get_le32(src + at + 8), len = get_le32(src + at + 12);
			uint32_t sec = rc->sec ? rc->sec : get_le32(src + at);
			uint32_t frac = rc->sec ? rc->frac : get_le32(src + at + 4);
			if (!rc->sec && rc->nano)
				frac = frac * 1000 + 999; /* truncated away by the division */
			put32(o, sec, rc->big);
			put32(o + 4, frac, rc->big);
			put32(o + 8, caplen + rc->caplen_add, rc->big);
			put32(o + 12, len + rc->caplen_add, rc->big);
			memcpy(o + 16, src + at + 16, caplen);
			o += 16 + caplen;
			for (uint32_t i = 0; i < rc->caplen_add; i++)
				*o++ = (uint8_t)(i * 7 + rep);
			at += 16 + caplen;
		}
	}
	size_t len = (size_t)(o - out);
	spit(tmp_path(name), out, len);
	free(src);
	free(out);
	return len;
}

static void corpus_dir(const char *dir, int *files, int *mapped)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[1024];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			corpus_dir(path, files, mapped);
			continue;
		}
		size_t len = strlen(path);
		if (len < 5 || (strcmp(path + len - 5, ".pcap") != 0 &&
				(len < 7 || strcmp(path + len - 7, ".pcapng") != 0)))
			continue;
		(*files)++;
		*mapped += compare(path, NULL, 0);
	}
	closedir(d);
}

static void test_repo_captures(void)
{
	int files = 0, mapped = 0;
	corpus_dir("pcaps", &files, &mapped);
	CHECK(files >= 10);
	CHECK_EQ(mapped, files); /* all of them are classic pcap */
}

static void test_public_captures(void)
{
	if (access(PUBLIC, R_OK) != 0) {
		printf("skip public captures: %s is not here\n", PUBLIC);
		return;
	}
	int files = 0, mapped = 0;
	corpus_dir(PUBLIC, &files, &mapped);
	CHECK(files > 0);
	CHECK(mapped > 0);
}

static void test_byte_orders_and_precisions(void)
{
	for (int big = 0; big < 2; big++) {
		for (int nano = 0; nano < 2; nano++) {
			struct recipe rc = {.big = big, .nano = nano, .snaplen = 65535};
			CHECK(rewrite("order.pcap", &rc) > 0);
			CHECK(compare(tmp_path("order.pcap"), NULL, 0));
		}
	}
}

/* The seconds and the fraction are signed 32-bit in libpcap; the fraction may be out of range. */
static void test_odd_timestamps(void)
{
	static const uint32_t secs[] = {1, 0x7fffffffu, 0x80000000u, 0xf0000000u, 0xffffffffu};
	static const uint32_t fracs[] = {0, 999999, 1000000, 999999999, 0x80000000u, 0xffffff00u};
	for (size_t s = 0; s < sizeof secs / sizeof *secs; s++) {
		for (size_t f = 0; f < sizeof fracs / sizeof *fracs; f++) {
			for (int nano = 0; nano < 2; nano++) {
				struct recipe rc = {.nano = nano, .big = f & 1, .sec = secs[s],
						    .frac = fracs[f]};
				CHECK(rewrite("ts.pcap", &rc) > 0);
				CHECK(compare(tmp_path("ts.pcap"), NULL, 0));
			}
		}
	}
}

/* libpcap cuts a record longer than the snapshot length to it, and refuses one past 256 KiB. */
static void test_snapshot_length(void)
{
	static const uint32_t snaplens[] = {0,      60,          100,         1514,       65535,
					     262144, 262145,      0x7fffffffu, 0x80000000u, 0xffffffffu};
	for (size_t i = 0; i < sizeof snaplens / sizeof *snaplens; i++) {
		struct recipe rc = {.snaplen = snaplens[i], .caplen_add = 3000};
		CHECK(rewrite("snap.pcap", &rc) > 0);
		CHECK(compare(tmp_path("snap.pcap"), NULL, 0));
		CHECK(compare(tmp_path("snap.pcap"), "greater 1000", 0));
	}
	struct recipe huge = {.snaplen = 65535, .caplen_add = PCAPFILE_MAX_SNAPLEN, .records = 2};
	CHECK(rewrite("huge.pcap", &huge) > 0);
	CHECK(compare(tmp_path("huge.pcap"), NULL, 0));
	struct result r = {0};
	read_with(&r, tmp_path("huge.pcap"), false, NULL, false);
	CHECK_EQ(r.run_rc, 1);
	CHECK(strstr(r.err, "bigger than snaplen of 65535") != NULL);
	free(r.f);
	huge.snaplen = 300000; /* kept by libpcap: past its maximum, within an int */
	CHECK(rewrite("huge.pcap", &huge) > 0);
	CHECK(compare(tmp_path("huge.pcap"), NULL, 0));
	read_with(&r, tmp_path("huge.pcap"), false, NULL, false);
	CHECK_EQ(r.run_rc, 1);
	CHECK(strstr(r.err, "bigger than maximum of 262144") != NULL);
	free(r.f);
	/* A record cut to the snapshot length, ending inside what is kept, then inside what is skipped. */
	struct recipe cut = {.snaplen = 100, .caplen_add = 3000};
	size_t n = rewrite("cut.pcap", &cut);
	size_t len;
	uint8_t *b = slurp(tmp_path("cut.pcap"), &len);
	CHECK(b != NULL && len == n);
	uint32_t first = get_le32(b + 24 + 8);
	CHECK(first > 100);
	for (size_t end = 24 + 16 + 50; b && end <= 24 + 16 + first; end += 50) {
		spit(tmp_path("cut-end.pcap"), b, end);
		CHECK(compare(tmp_path("cut-end.pcap"), NULL, 0));
	}
	free(b);
}

/* The upper six bits of the link type (FCS length) are not part of it. */
static void test_link_type_bits(void)
{
	static const uint32_t ext[] = {0x04000000u, 0x14000000u, 0x44000000u, 0xfc000000u};
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		struct recipe rc = {.snaplen = 65535, .linktype = ext[i] | 1, .big = i & 1};
		CHECK(rewrite("fcs.pcap", &rc) > 0);
		CHECK(compare(tmp_path("fcs.pcap"), NULL, 0));
	}
	/* Other link types: one tapir does not decode is refused by both, the same way. */
	static const uint32_t other[] = {101, 113, 276, 0, 108, 228, 229, 147};
	for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
		for (int big = 0; big < 2; big++) {
			struct recipe rc = {.snaplen = 65535, .linktype = other[i], .big = big};
			CHECK(rewrite("link.pcap", &rc) > 0);
			compare(tmp_path("link.pcap"), NULL, 0);
		}
	}
	/* libpcap rewrites CAN IDs behind a cooked header of the other byte order: it reads those. */
	struct recipe sll = {.snaplen = 65535, .linktype = 113, .big = true};
	CHECK(rewrite("sll.pcap", &sll) > 0);
	CHECK(!compare(tmp_path("sll.pcap"), NULL, 0));
}

/* Versions before 2.4 may have caplen and len swapped: libpcap guesses; the mapped reader declines. */
static void test_versions(void)
{
	static const uint16_t v[][2] = {{2, 0}, {2, 2}, {2, 3}, {2, 5}, {543, 0}, {1, 0}, {3, 0}};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct recipe rc = {.snaplen = 65535, .major = v[i][0], .minor = v[i][1]};
		CHECK(rewrite("version.pcap", &rc) > 0);
		CHECK(!compare(tmp_path("version.pcap"), NULL, 0));
	}
}

/* Cut at every byte: an empty file, a partial file header, a header only, partial records. */
static void test_truncated(void)
{
	size_t n;
	uint8_t *b = slurp(SOURCE, &n);
	CHECK(b != NULL && n > 100);
	for (size_t end = 0; b && end <= n; end++) {
		spit(tmp_path("trunc.pcap"), b, end);
		bool mapped = compare(tmp_path("trunc.pcap"), NULL, 0);
		CHECK(mapped == (end >= 24));
	}
	free(b);
	struct result r = {0};
	read_with(&r, tmp_path("trunc.pcap"), false, NULL, false);
	CHECK_EQ(r.run_rc, 0);
	CHECK(r.n > 0);
	free(r.f);
}

static void test_filter(void)
{
	struct result all = {0}, some = {0};
	read_with(&all, SOURCE, false, NULL, false);
	read_with(&some, SOURCE, false, "tcp[13] & 2 != 0", false);
	CHECK(some.n > 0 && some.n < all.n);
	free(all.f);
	free(some.f);
	CHECK(compare(SOURCE, "tcp[13] & 2 != 0", 0));
	CHECK(compare(SOURCE, "greater 200", 0));
	CHECK(compare(SOURCE, "udp", 0));
}

static void test_stop(void)
{
	for (size_t k = 1; k < 5; k++)
		CHECK(compare(SOURCE, NULL, k));
	struct result r = {.stop_after = 3};
	read_with(&r, SOURCE, false, NULL, false);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(r.run_rc, 0);
	free(r.f);
}

/*
 * capture_stable_frames: a file bigger than several chunks, so that pages
 * behind were given back; the first frame must still read the same once the
 * whole file went by, until capture_close().
 */
static void test_stable_frames(void)
{
	struct recipe rc = {.snaplen = 65535, .repeat = 3u * (PCAPFILE_CHUNK + PCAPFILE_KEEP) / 4000};
	size_t n = rewrite("big.pcap", &rc);
	CHECK(n > 3u * (PCAPFILE_CHUNK + PCAPFILE_KEEP));
	CHECK(compare(tmp_path("big.pcap"), NULL, 0));
	struct result r = {0};
	read_with(&r, tmp_path("big.pcap"), false, NULL, true);
	CHECK(r.stable);
	CHECK_EQ(r.file_bytes, n);
	CHECK(r.first != NULL && r.first_len > 0);
	if (r.first)
		CHECK(memcmp(r.first, r.first_copy, r.first_len) == 0);
	capture_close(r.c);
	free(r.f);
}

/* Is the page of p in this process's page tables (/proc/self/pagemap bit 63)? -1: unknown. */
static int page_present(const void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	uint64_t e = 0;
	long page = sysconf(_SC_PAGESIZE);
	ssize_t got = pread(fd, &e, sizeof e, (off_t)((uintptr_t)p / (uintptr_t)page * sizeof e));
	close(fd);
	return got == (ssize_t)sizeof e ? (int)(e >> 63) : -1;
}

/* A consumer that still reads the first record, whatever the reader says is next. */
struct held {
	const uint8_t *first;
	int asked;
};

static const uint8_t *hold_first(void *ctx, const uint8_t *next)
{
	struct held *h = ctx;
	h->asked += next > h->first;
	return h->first;
}

/*
 * pcapfile_set_hold: the held record's pages stay mapped however far the
 * reader goes on (a worker reads them later); without it they are released
 * once PCAPFILE_KEEP behind (and a late read would fault them back for good).
 */
static void test_hold(void)
{
	struct recipe rc = {.snaplen = 65535, .repeat = 3u * (PCAPFILE_CHUNK + PCAPFILE_KEEP) / 4000};
	rewrite("big.pcap", &rc);
	for (int hold = 0; hold < 2; hold++) {
		int fd = open(tmp_path("big.pcap"), O_RDONLY);
		struct stat st;
		struct pcapfile *f = NULL;
		CHECK(fd >= 0 && fstat(fd, &st) == 0);
		CHECK_EQ(pcapfile_open(&f, fd, (uint64_t)st.st_size, "big.pcap"), 1);
		close(fd);
		if (!f)
			return;
		struct pcapfile_rec rec;
		char err[256];
		CHECK_EQ(pcapfile_next(f, &rec, err, sizeof err), PCAPFILE_RECORD);
		const uint8_t *first = rec.data;
		struct held h = {.first = first};
		if (hold)
			pcapfile_set_hold(f, hold_first, &h);
		size_t n = 1;
		while (pcapfile_next(f, &rec, err, sizeof err) == PCAPFILE_RECORD)
			n++;
		CHECK(n > 1000);
		CHECK(!hold || h.asked > 4); /* once a chunk */
		int present = page_present(first);
		if (present >= 0)
			CHECK_EQ(present, hold);
		pcapfile_close(f);
	}
}

/*
 * A file shortened by another program while it is mapped: the next read past
 * its new end is SIGBUS. tapir says so in one line naming the file and exits
 * 1, instead of dying of the signal. Run in a child, its stderr in a pipe.
 */
static void test_shortened_while_read(void)
{
	struct recipe rc = {.snaplen = 65535, .repeat = 40};
	size_t size = rewrite("shrink.pcap", &rc);
	CHECK(size > 2 * 65536);
	int err_pipe[2];
	CHECK_EQ(pipe(err_pipe), 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(err_pipe[1], 2);
		close(err_pipe[0]);
		int fd = open(tmp_path("shrink.pcap"), O_RDWR);
		struct pcapfile *f = NULL;
		if (fd < 0 || pcapfile_open(&f, fd, (uint64_t)size, "shrink.pcap") != 1)
			_exit(10);
		struct pcapfile_rec rec;
		char err[256];
		if (pcapfile_next(f, &rec, err, sizeof err) != PCAPFILE_RECORD)
			_exit(11);
		if (ftruncate(fd, 4096) != 0) /* the first page stays */
			_exit(12);
		while (pcapfile_next(f, &rec, err, sizeof err) == PCAPFILE_RECORD)
			;
		_exit(13); /* read to the old end without a fault: not what is tested */
	}
	close(err_pipe[1]);
	char msg[512] = "";
	ssize_t n = read(err_pipe[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(err_pipe[0]);
	int status = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 1);
	CHECK(strcmp(msg, "tapir: shrink.pcap: the file became shorter while it was read "
		     "(truncated by another program?)\n") == 0);
	unlink(tmp_path("shrink.pcap"));
}

/* Standard input goes through libpcap even when it is a regular file. */
static void test_stdin(void)
{
	FILE *in = freopen(SOURCE, "rb", stdin);
	CHECK(in != NULL);
	struct result s = {0}, m = {0};
	read_with(&s, "-", false, NULL, false);
	read_with(&m, SOURCE, false, NULL, false);
	CHECK_EQ(s.open_rc, 0);
	CHECK(!s.stable);
	CHECK(m.stable);
	CHECK(same_frames(&s, &m));
	free(s.f);
	free(m.f);
}

static void cleanup(void)
{
	static const char *names[] = {"order.pcap", "ts.pcap",      "snap.pcap",    "huge.pcap",
				      "cut.pcap",   "cut-end.pcap", "fcs.pcap",     "link.pcap",
				      "sll.pcap",   "version.pcap", "trunc.pcap",   "big.pcap"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		unlink(tmp_path(names[i]));
	rmdir(tmproot);
}

int main(void)
{
	snprintf(tmproot, sizeof tmproot, "/tmp/test_capture.XXXXXX");
	if (!mkdtemp(tmproot)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_repo_captures);
	RUN(test_public_captures);
	RUN(test_byte_orders_and_precisions);
	RUN(test_odd_timestamps);
	RUN(test_snapshot_length);
	RUN(test_link_type_bits);
	RUN(test_versions);
	RUN(test_truncated);
	RUN(test_shortened_while_read);
	RUN(test_filter);
	RUN(test_stop);
	RUN(test_stable_frames);
	RUN(test_hold);
	RUN(test_stdin);
	cleanup();
	return unit_done("test_capture");
}
