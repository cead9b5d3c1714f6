/*
 * output-bench.c - the merge thread's work alone: event_wire_get, then
 * output_event (routes, event JSON to a file, the anomaly engine), as the
 * pipeline's merge thread does it for every event (issue #8).
 *
 * The events come from a capture: decoded once by a sensor, kept in wire
 * form (event_wire.h) in memory. Each round builds a fresh route table and
 * engine from the default configuration and delivers every kept event; the
 * figure is the thread CPU time of the fastest round, which a shared machine
 * disturbs less than wall time. The events go to /dev/null as tapir writes
 * an events file (output_events_buffer, 1 MiB blocks).
 *
 *   test/bench/run-one.sh test/bench/output-bench.c CAPTURE [max-events] [rounds] [wire]
 *
 * With "wire", a round only decodes the records (event_wire_get alone).
 */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../config/config.h"
#include "../../sensor/event_wire.h"
#include "../../sensor/output.h"
#include "../../sensor/sensor.h"
#include "../../sensor/setup.h"

struct store {
	uint8_t *buf;
	size_t len, cap, n, max;
	size_t *off;
};

static void keep(void *ctx, const struct api_event *ev)
{
	struct store *s = ctx;
	if (s->n >= s->max)
		return;
	if (s->cap - s->len < EVENT_WIRE_MAX) {
		s->cap = s->cap ? s->cap * 2 : 1u << 24;
		s->buf = realloc(s->buf, s->cap);
		if (!s->buf) {
			perror("realloc");
			exit(1);
		}
	}
	s->off[s->n++] = s->len;
	s->len += event_wire_put(ev, s->buf + s->len);
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: output-bench CAPTURE [max-events] [rounds]\n");
		return 2;
	}
	struct store s = {.max = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000};
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	bool wire_only = argc > 4 && strcmp(argv[4], "wire") == 0;
	s.off = malloc((s.max + 1) * sizeof *s.off);
	static struct tapir_config cfg;
	static struct setup su;
	char err[PCAP_ERRBUF_SIZE + 256];
	config_defaults(&cfg);
	if (!s.off || setup_build(&su, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "output-bench: setup: %s\n", err);
		return 1;
	}
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "output-bench: %s\n", err);
		return 1;
	}
	struct sensor *sn = sensor_new(&su.limits, keep, &s, 7);
	struct pcap_pkthdr *h;
	const u_char *data;
	enum pkt_link link = pcap_datalink(p) == DLT_EN10MB ? PKT_LINK_ETHERNET : PKT_LINK_RAW;
	while (s.n < s.max && pcap_next_ex(p, &h, &data) == 1)
		sensor_packet(sn, link, (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec, data,
			      h->caplen);
	sensor_finish(sn);
	sensor_free(sn);
	pcap_close(p);
	s.off[s.n] = s.len;

	static struct api_event ev;
	double best = 0;
	for (int r = 0; r < rounds; r++) {
		struct routes_limits rl;
		routes_limits_default(&rl);
		struct output o = {.sensor_name = "bench", .events = fopen("/dev/null", "w")};
		o.routes = routes_new(&rl);
		o.engine = engine_new(&su.engine);
		if (!o.events || !o.routes || !o.engine) {
			fprintf(stderr, "output-bench: out of memory\n");
			return 1;
		}
		/* As tapir writes an events file: its own 1 MiB blocks, else stdio's. */
		if (output_events_buffer(&o, 1u << 20) != 0)
			setvbuf(o.events, NULL, _IOFBF, 1u << 20);
		double t0 = cpu_s();
		for (size_t i = 0; i < s.n; i++) {
			if (event_wire_get(&ev, s.buf + s.off[i], s.off[i + 1] - s.off[i]) != 0) {
				fprintf(stderr, "output-bench: bad record %zu\n", i);
				return 1;
			}
			if (!wire_only)
				output_event(&o, &ev);
		}
		if (output_flush_events(&o) != 0 || fflush(o.events) != 0)
			fprintf(stderr, "output-bench: write failed\n");
		double t = cpu_s() - t0;
		if (r == 0 || t < best)
			best = t;
		fclose(o.events);
		output_events_buffer_free(&o);
		engine_free(o.engine);
		routes_free(o.routes);
	}
	printf("output-bench%s: %zu events (%.0f bytes each in wire form), best of %d rounds: "
	       "%.3f s CPU, %.0f ns/event\n",
	       wire_only ? " (wire decode only)" : "", s.n, s.n ? (double)s.len / (double)s.n : 0.0, rounds, best,
	       s.n ? best * 1e9 / (double)s.n : 0.0);
	free(s.buf);
	free(s.off);
	setup_free(&su);
	config_free(&cfg);
	return 0;
}
