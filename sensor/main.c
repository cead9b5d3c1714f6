/*
 * main.c - composition root: arguments, configuration, capture -> sensor ->
 * outputs, signals, counters at exit. The only place with process-wide state.
 *
 *   tapir -r CAPTURE [options]      replay a pcap/pcapng file
 *   tapir -i IFACE   [options]      capture live until SIGINT/SIGTERM
 *   tapir check-config CONFIG       validate a configuration file
 *
 * Exit status: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "capture.h"
#include "event_json.h"
#include "sensor.h"
#include "setup.h"

#define TAPIR_VERSION "0.1.0"

static struct capture *g_capture; /* for the signal handler */

static void on_signal(int sig)
{
	(void)sig;
	if (g_capture)
		capture_stop(g_capture);
}

struct outputs {
	FILE *events;
	bool events_is_stdout;
	char line[EVENT_JSON_MAX];
	uint64_t too_long;
	uint64_t write_errors;
};

static void emit_event(void *ctx, const struct api_event *ev)
{
	struct outputs *o = ctx;
	if (!o->events)
		return;
	size_t n = event_json(ev, o->line, sizeof o->line);
	if (n == 0) {
		o->too_long++;
		return;
	}
	if (fwrite(o->line, 1, n, o->events) != n)
		o->write_errors++;
}

struct run {
	struct sensor *sensor;
	enum pkt_link link;
};

static void on_frame(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t caplen)
{
	struct run *r = ctx;
	sensor_packet(r->sensor, r->link, ts_us, frame, caplen);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapir -r CAPTURE [-c CONFIG] [options]   replay a pcap or pcapng file\n"
		"       tapir -i IFACE   [-c CONFIG] [options]   capture live until SIGINT/SIGTERM\n"
		"       tapir check-config CONFIG                 validate a configuration file\n"
		"options:\n"
		"  -f FILTER          BPF capture filter\n"
		"  --events PATH|-    every API event, one JSON object per line\n"
		"  --alerts PATH|-    every alert, one JSON object per line\n"
		"  --stats            counters as one JSON object on stderr at exit\n"
		"  --snaplen N        live capture snapshot length (default 262144)\n"
		"  --buffer SIZE      live capture kernel buffer (default 64MiB)\n"
		"  --no-promisc       do not put the interface in promiscuous mode\n"
		"  --max-flows N      flow table cap\n"
		"  --name NAME        sensor name\n"
		"  --version, -h/--help\n");
}

enum {
	OPT_EVENTS = 256,
	OPT_ALERTS,
	OPT_STATS,
	OPT_SNAPLEN,
	OPT_BUFFER,
	OPT_NO_PROMISC,
	OPT_MAX_FLOWS,
	OPT_VERSION,
	OPT_LATER,
};

static const struct option long_opts[] = {
	{"events", required_argument, NULL, OPT_EVENTS},
	{"alerts", required_argument, NULL, OPT_ALERTS},
	{"stats", no_argument, NULL, OPT_STATS},
	{"snaplen", required_argument, NULL, OPT_SNAPLEN},
	{"buffer", required_argument, NULL, OPT_BUFFER},
	{"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
	{"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, 'h'},
	/* In the interface, arriving with their issues (Redis, audit log, state). */
	{"redis", required_argument, NULL, OPT_LATER},
	{"audit", required_argument, NULL, OPT_LATER},
	{"audit-key", required_argument, NULL, OPT_LATER},
	{"spool", required_argument, NULL, OPT_LATER},
	{"state", required_argument, NULL, OPT_LATER},
	{NULL, 0, NULL, 0},
};

static int parse_uint(const char *flag, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "tapir: %s: \"%s\" is not a whole number from %llu to %llu\n", flag,
			s, (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

static FILE *open_output(const char *flag, const char *path, bool *is_stdout)
{
	*is_stdout = strcmp(path, "-") == 0;
	if (*is_stdout)
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "tapir: %s %s: cannot open: %s\n", flag, path, strerror(errno));
	return f;
}

static void print_stats(struct capture *cap, const struct sensor *s, const struct outputs *o)
{
	struct capture_stats cs;
	capture_get_stats(cap, &cs);
	fprintf(stderr, "{\"type\":\"stats\",\"capture\":{\"live\":%s,\"received\":%llu,"
		"\"kernel_dropped\":%llu,\"if_dropped\":%llu},",
		cs.live ? "true" : "false", (unsigned long long)cs.received,
		(unsigned long long)cs.dropped, (unsigned long long)cs.if_dropped);
	sensor_stats_json(s, stderr);
	fprintf(stderr, ",\"output\":{\"event_too_long\":%llu,\"write_errors\":%llu}}\n",
		(unsigned long long)o->too_long, (unsigned long long)o->write_errors);
}

static int check_config(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: tapir check-config CONFIG\n");
		return 2;
	}
	struct tapir_config cfg;
	struct setup su;
	char err[1024];
	config_defaults(&cfg);
	int rc = config_load(&cfg, argv[2], err, sizeof err);
	if (rc == 0) {
		/* The key files named in it must be usable too. */
		rc = setup_build(&su, &cfg, err, sizeof err);
		setup_free(&su);
	}
	if (rc != 0)
		fprintf(stderr, "tapir: %s\n", err);
	else
		printf("%s: ok\n", argv[2]);
	config_free(&cfg);
	return rc ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check-config") == 0)
		return check_config(argc, argv);

	struct tapir_config cfg;
	config_defaults(&cfg);
	struct capture_opts copts = {0};
	const char *config_path = NULL, *events_path = NULL, *alerts_path = NULL;
	bool want_stats = false, no_promisc = false;
	uint64_t snaplen = 0, buffer = 0, max_flows = 0;
	char err[1024];
	int opt, li = 0, status = 2;

	opterr = 0; /* our own one-line message instead of getopt's */
	while ((opt = getopt_long(argc, argv, "r:i:f:c:h", long_opts, &li)) != -1) {
		switch (opt) {
		case 'r': copts.file = optarg; break;
		case 'i': copts.iface = optarg; break;
		case 'f': copts.filter = optarg; break;
		case 'c': config_path = optarg; break;
		case OPT_EVENTS: events_path = optarg; break;
		case OPT_ALERTS: alerts_path = optarg; break;
		case OPT_STATS: want_stats = true; break;
		case OPT_NO_PROMISC: no_promisc = true; break;
		case OPT_SNAPLEN:
			if (parse_uint("--snaplen", optarg, 64, 262144, &snaplen))
				return 2;
			break;
		case OPT_MAX_FLOWS:
			if (parse_uint("--max-flows", optarg, 1, 16777216, &max_flows))
				return 2;
			break;
		case OPT_BUFFER:
			if (config_parse_size(optarg, &buffer) != 0 || buffer == 0) {
				fprintf(stderr, "tapir: --buffer: bad size \"%s\" (use e.g. 64MiB)\n",
					optarg);
				return 2;
			}
			break;
		case OPT_VERSION:
			printf("tapir %s\n", TAPIR_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_LATER:
			fprintf(stderr, "tapir: --%s: not available in this version yet\n",
				long_opts[li].name);
			return 2;
		default:
			fprintf(stderr, "tapir: %s: unknown option or missing value (see tapir --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tapir: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (config_path && config_load(&cfg, config_path, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	/* The command line overrides the configuration file. */
	if (!copts.iface && !copts.file && cfg.capture.interface[0])
		copts.iface = cfg.capture.interface;
	if (!copts.filter && cfg.capture.filter[0])
		copts.filter = cfg.capture.filter;
	if (!events_path && cfg.output.events[0])
		events_path = cfg.output.events;
	if (!alerts_path && cfg.output.alerts[0])
		alerts_path = cfg.output.alerts;
	if (max_flows)
		cfg.flows.max = (uint32_t)max_flows;
	if (!!copts.file == !!copts.iface) {
		fprintf(stderr, "tapir: give exactly one of -r CAPTURE or -i IFACE (see tapir --help)\n");
		config_free(&cfg);
		return 2;
	}
	copts.snaplen = snaplen ? (int)snaplen : (int)cfg.capture.snaplen;
	copts.buffer_bytes = buffer ? buffer : cfg.capture.buffer;
	copts.promiscuous = no_promisc ? false : cfg.capture.promiscuous;

	struct outputs *out = calloc(1, sizeof *out);
	struct setup *su = calloc(1, sizeof *su);
	struct capture *cap = NULL;
	struct sensor *sensor = NULL;
	FILE *alerts = NULL;
	bool alerts_stdout = false;
	if (!out || !su) {
		fprintf(stderr, "tapir: out of memory\n");
		status = 1;
		goto done;
	}
	if (setup_build(su, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: %s\n", err);
		status = 2;
		goto done;
	}
	int rc = capture_open(&cap, &copts, err, sizeof err);
	if (rc) {
		fprintf(stderr, "tapir: %s\n", err);
		status = rc;
		goto done;
	}
	if (events_path) {
		out->events = open_output("--events", events_path, &out->events_is_stdout);
		if (!out->events)
			goto done;
		if (!out->events_is_stdout)
			setvbuf(out->events, NULL, _IOFBF, 1 << 20);
	}
	if (alerts_path) {
		/* The anomaly engine is not in this version: the alert file is made, and stays empty. */
		alerts = open_output("--alerts", alerts_path, &alerts_stdout);
		if (!alerts)
			goto done;
	}

	sensor = sensor_new(&su->limits, emit_event, out, (uint64_t)time(NULL) ^ (uint64_t)getpid());
	if (!sensor) {
		fprintf(stderr, "tapir: out of memory creating the sensor\n");
		status = 1;
		goto done;
	}

	g_capture = cap;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (copts.iface)
		fprintf(stderr, "tapir: capturing on %s\n", copts.iface);
	struct run r = {sensor, capture_link(cap)};
	status = capture_run(cap, on_frame, &r, err, sizeof err);
	if (status)
		fprintf(stderr, "tapir: %s\n", err);
	sensor_finish(sensor);
	g_capture = NULL;
	if (out->events && fflush(out->events) != 0) {
		fprintf(stderr, "tapir: --events %s: write failed: %s\n", events_path,
			strerror(errno));
		status = 1;
	}
	if (want_stats)
		print_stats(cap, sensor, out);
done:
	if (out && out->events && !out->events_is_stdout)
		fclose(out->events);
	if (alerts && !alerts_stdout)
		fclose(alerts);
	sensor_free(sensor);
	capture_close(cap);
	if (su)
		setup_free(su);
	free(su);
	free(out);
	config_free(&cfg);
	return status;
}
