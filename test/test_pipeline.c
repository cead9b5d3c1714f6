/*
 * test_pipeline.c - the pipeline against one sensor: the events of a whole
 * capture, written as JSON lines, are the same bytes with 1 and 3 workers
 * as inline, with frames copied into the rings and with frames sent by
 * reference (stable_frames: what a capture whose frames stay valid asks
 * for; forced here, the frames living in one buffer until the end), also
 * for captures named on the command line (IP fragments: test/workers.sh).
 */
#include <stdlib.h>

#include "../sensor/pipeline.h"
#include "unit.h"

struct frame {
	uint64_t ts;
	const uint8_t *data;
	size_t len;
};

struct capture_mem {
	uint8_t *buf;
	struct frame *f;
	size_t n;
	enum pkt_link link;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A little-endian microsecond pcap, whole, in memory. Returns 0 or -1. */
static int load(const char *path, struct capture_mem *c)
{
	memset(c, 0, sizeof *c);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	c->buf = malloc((size_t)size);
	size_t got = c->buf ? fread(c->buf, 1, (size_t)size, fp) : 0;
	fclose(fp);
	if (got != (size_t)size || size < 24 || le32(c->buf) != 0xa1b2c3d4)
		return -1;
	int link = pkt_link_from_dlt((int)le32(c->buf + 20));
	if (link < 0)
		return -1;
	c->link = (enum pkt_link)link;
	c->f = calloc((size_t)size / 16, sizeof *c->f);
	for (size_t pos = 24; c->f && pos + 16 <= (size_t)size;) {
		const uint8_t *h = c->buf + pos;
		size_t incl = le32(h + 8);
		if (pos + 16 + incl > (size_t)size)
			break;
		c->f[c->n++] = (struct frame){(uint64_t)le32(h) * 1000000 + le32(h + 4), h + 16, incl};
		pos += 16 + incl;
	}
	return c->f && c->n ? 0 : -1;
}

/* The events as JSON lines (malloc'd), inline when workers is 0. */
static char *run(const struct capture_mem *c, unsigned workers, bool stable, uint64_t *by_ref)
{
	char *text = NULL, *stats = NULL;
	size_t len = 0, slen = 0;
	struct output o = {.sensor_name = "test", .events = open_memstream(&text, &len)};
	struct sensor_limits lim;
	sensor_limits_default(&lim);
	*by_ref = 0;
	if (workers == 0) {
		struct sensor *s = sensor_new(&lim, output_event, &o, 7);
		for (size_t i = 0; i < c->n; i++)
			sensor_packet(s, c->link, c->f[i].ts, c->f[i].data, c->f[i].len);
		sensor_finish(s);
		sensor_free(s);
	} else {
		struct pipeline *p;
		struct pipeline_config pc = {.workers = workers, .lim = &lim, .link = c->link,
					     .seed = 7, .stable_frames = stable, .out = &o};
		char err[256];
		if (pipeline_start(&p, &pc, err, sizeof err) != 0) {
			fprintf(stderr, "pipeline_start: %s\n", err);
			fclose(o.events);
			free(text);
			return NULL;
		}
		for (size_t i = 0; i < c->n; i++)
			pipeline_frame(p, c->f[i].ts, c->f[i].data, c->f[i].len);
		pipeline_finish(p);
		FILE *sf = open_memstream(&stats, &slen);
		pipeline_stats_json(p, sf);
		fclose(sf);
		/* Sum of "by_reference" over the workers. */
		for (const char *at = stats; (at = strstr(at, "\"by_reference\":")); at++)
			*by_ref += strtoull(at + 15, NULL, 10);
		free(stats);
		pipeline_free(p);
	}
	fclose(o.events);
	return text;
}

/* all_tcp: every frame a whole TCP segment (none a fragment), so all go by reference. */
static void same_as_inline(const char *path, bool all_tcp)
{
	struct capture_mem c;
	CHECK(load(path, &c) == 0);
	if (!c.n) {
		free(c.buf);
		free(c.f);
		return;
	}
	uint64_t by_ref;
	char *want = run(&c, 0, false, &by_ref);
	CHECK(want && strlen(want) > 0);
	for (unsigned workers = 1; workers <= 3; workers += 2)
		for (int stable = 0; stable < 2; stable++) {
			char *got = run(&c, workers, stable, &by_ref);
			CHECK(got && want && strcmp(got, want) == 0);
			if (!got || !want || strcmp(got, want) != 0)
				fprintf(stderr, "%s: %u workers, stable %d: events differ\n", path,
					workers, stable);
			/* By reference: the TCP frames, never a rebuilt datagram; else none. */
			if (stable && all_tcp)
				CHECK(by_ref > c.n / 2);
			else if (stable)
				CHECK(by_ref < c.n);
			else
				CHECK_EQ(by_ref, 0);
			free(got);
		}
	free(want);
	free(c.buf);
	free(c.f);
}

static void test_h1(void)
{
	same_as_inline("pcaps/http1-keepalive.pcap", true);
}

static void test_h2(void)
{
	same_as_inline("pcaps/h2-concurrent.pcap", true);
}

static void test_demo(void)
{
	same_as_inline("pcaps/demo.pcap", true);
}

static const char *extra; /* a capture named on the command line */

static void test_extra(void)
{
	same_as_inline(extra, false);
}

/*
 * Arguments: more captures to check, e.g. IP fragments (test/workers.sh gives
 * test/frag-pcap.py's): their rebuilt datagrams must be copied even when the
 * frames go by reference.
 */
int main(int argc, char **argv)
{
	RUN(test_h1);
	RUN(test_h2);
	RUN(test_demo);
	for (int i = 1; i < argc; i++) {
		extra = argv[i];
		RUN(test_extra);
	}
	return unit_done("test_pipeline");
}
