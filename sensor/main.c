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
#include "audit.h"
#include "capture.h"
#include "inventory.h"
#include "localtime.h"
#include "openapi.h"
#include "output.h"
#include "pipeline.h"
#include "sensor.h"
#include "setup.h"

#define TAPIR_VERSION "0.1.0"

static struct capture *g_capture; /* for the signal handler */
static volatile sig_atomic_t g_inventory_wanted;
static volatile sig_atomic_t g_reload_wanted;

static void on_signal(int sig)
{
	/* Inventory and reload happen between packets, never in the handler. */
	if (sig == SIGUSR1) {
		g_inventory_wanted = 1;
		return;
	}
	if (sig == SIGHUP) {
		g_reload_wanted = 1;
		return;
	}
	if (g_capture)
		capture_stop(g_capture);
}

/* A configuration replaced by a reload while workers may still point into it. */
struct retired {
	struct setup *setup;
	struct retired *next;
};

struct run {
	struct sensor *sensor;   /* one worker: the sensor; several: NULL, and */
	struct pipeline *pipe;   /* the pipeline (sensor/pipeline.h) */
	struct retired *retired;
	bool finished;           /* the pipeline is joined: its sensors can be read */
	enum pkt_link link;
	const char *inventory_path;
	const char *config_path;
	struct setup *setup;   /* in force; replaced by a good reload */
	uint64_t frames;
	struct output *out;    /* routes, audit log, engine */
	struct capture *cap;
	uint64_t last_ts;      /* packet time of the latest frame */
	uint64_t next_health;  /* packet time of the next engine_health */
};

#define HEALTH_EVERY_US (10ull * 1000000) /* blind_spot looks at the sensor this often */

/* Every sensor counter: the one sensor's, or the pipeline's sum once it is joined. */
static void run_stats(const struct run *r, struct sensor_stats *st)
{
	if (r->pipe)
		pipeline_sensor_stats(r->pipe, st);
	else
		sensor_get_stats(r->sensor, st);
}

/* Tells the engine what the sensor may have missed since the last time. */
static void health_tick(struct run *r, uint64_t now)
{
	struct sensor_blindness b;
	struct capture_stats cs;
	capture_get_stats(r->cap, &cs);
	if (r->pipe && !r->finished) {
		/* Ordered with the events: the merge thread tells the engine. */
		pipeline_snapshot(r->pipe, PIPELINE_HEALTH, 0, &cs);
		return;
	}
	struct sensor_stats st;
	run_stats(r, &st);
	sensor_stats_blindness(&st, &b);
	struct engine_health total = {
		.kernel_drops = cs.dropped + cs.if_dropped,
		.gap_bytes = b.gap_bytes,
		.gaps = b.gaps,
		.cap_hits = b.cap_hits,
	};
	output_health(r->out, now, &total);
}

/*
 * SIGHUP: load the configuration file again. All or nothing: a file that
 * does not load, or names keys that cannot be used, changes nothing and the
 * error is reported. What a reload changes: identity names, JWT keys,
 * trusted proxies, policy.key_max_age. Capture, table sizes and the API spec
 * are fixed at start-up.
 */
static void reload(struct run *r)
{
	char err[1024];
	struct tapir_config cfg;
	struct setup *next = calloc(1, sizeof *next);
	/* With workers the old setup is kept to the end: they may still point into it. */
	struct retired *old = r->pipe ? malloc(sizeof *old) : NULL;
	config_defaults(&cfg);
	if (!r->config_path) {
		fprintf(stderr, "tapir: SIGHUP: no configuration file (-c) to reload\n");
	} else if (!next || (r->pipe && !old)) {
		fprintf(stderr, "tapir: SIGHUP: out of memory, keeping the running configuration\n");
	} else if (config_load(&cfg, r->config_path, err, sizeof err) != 0 ||
		   setup_build(next, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: reload failed, keeping the running configuration: %s\n", err);
		setup_free(next);
	} else {
		if (r->pipe) {
			pipeline_set_exchange(r->pipe, &next->limits.session.exchange);
			*old = (struct retired){r->setup, r->retired};
			r->retired = old;
			old = NULL;
		} else {
			sensor_set_exchange(r->sensor, &next->limits.session.exchange);
			setup_free(r->setup);
			free(r->setup);
		}
		r->setup = next;
		next = NULL;
		fprintf(stderr, "tapir: reloaded %s\n", r->config_path);
	}
	free(old);
	free(next);
	config_free(&cfg);
}

static void write_inventory(struct routes *routes, const char *path)
{
	char err[1024];
	if (inventory_write(routes, path, err, sizeof err) != 0)
		fprintf(stderr, "tapir: %s\n", err);
}

enum { SNAP_INVENTORY }; /* what on_snapshot is asked for */

/*
 * SIGUSR1: the inventory now. With workers this runs in the merge thread,
 * which owns the output, at this point of the stream (pipeline_snapshot).
 */
static void on_snapshot(void *ctx, int tag, struct output *out, uint64_t now,
			const struct sensor_stats *st, const struct capture_stats *cs)
{
	(void)now, (void)st, (void)cs;
	const struct run *r = ctx;
	if (tag == SNAP_INVENTORY && r->inventory_path)
		write_inventory(out->routes, r->inventory_path);
}

static void on_frame(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t caplen)
{
	struct run *r = ctx;
	if (r->pipe)
		pipeline_frame(r->pipe, ts_us, frame, caplen);
	else
		sensor_packet(r->sensor, r->link, ts_us, frame, caplen);
	if (ts_us > r->last_ts)
		r->last_ts = ts_us;
	if (r->last_ts >= r->next_health) {
		if (r->next_health)
			health_tick(r, r->last_ts);
		r->next_health = r->last_ts + HEALTH_EVERY_US;
	}
	if (g_inventory_wanted) {
		g_inventory_wanted = 0;
		struct capture_stats cs;
		capture_get_stats(r->cap, &cs);
		if (r->pipe) /* the routes are the merge thread's: on_snapshot there */
			pipeline_snapshot(r->pipe, PIPELINE_USER, SNAP_INVENTORY, &cs);
		else
			on_snapshot(r, SNAP_INVENTORY, r->out, r->last_ts, NULL, &cs);
	}
	if (g_reload_wanted) {
		g_reload_wanted = 0;
		reload(r);
	}
	if (!r->pipe && r->out->audit && (++r->frames & 1023) == 0 && audit_tick(r->out->audit) != 0)
		r->out->audit_errors++;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapir -r CAPTURE [-c CONFIG] [options]   replay a pcap or pcapng file\n"
		"       tapir -i IFACE   [-c CONFIG] [options]   capture live until SIGINT/SIGTERM\n"
		"       tapir check-config CONFIG                 validate a configuration file\n"
		"       tapir audit keygen|verify|search|prove|check-proof|repair|retain|head ...\n"
		"options:\n"
		"  -f FILTER          BPF capture filter\n"
		"  --events PATH|-    every API event, one JSON object per line\n"
		"  --alerts PATH|-    every alert, one JSON object per line\n"
		"  --inventory PATH   the API inventory (every route, JSON lines) at exit and on SIGUSR1\n"
		"  --audit DIR        append every event and alert to the tamper-evident audit log\n"
		"  --audit-key FILE   Ed25519 key that signs its tree heads (tapir audit keygen FILE)\n"
		"  --state PATH       load learned baselines from PATH at start, save them at exit\n"
		"  --stats            counters as one JSON object on stderr at exit\n"
		"  --snaplen N        live capture snapshot length (default 262144)\n"
		"  --buffer SIZE      live capture kernel buffer (default 64MiB)\n"
		"  --no-promisc       do not put the interface in promiscuous mode\n"
		"  --max-flows N      flow table cap\n"
		"  --workers N        sensor threads, 1-64 (default 1: no threads)\n"
		"  --name NAME        sensor name\n"
		"  --version, -h/--help\n");
}

enum {
	OPT_EVENTS = 256,
	OPT_ALERTS,
	OPT_INVENTORY,
	OPT_AUDIT,
	OPT_AUDIT_KEY,
	OPT_STATE,
	OPT_STATS,
	OPT_SNAPLEN,
	OPT_BUFFER,
	OPT_NO_PROMISC,
	OPT_MAX_FLOWS,
	OPT_WORKERS,
	OPT_VERSION,
	OPT_LATER,
};

static const struct option long_opts[] = {
	{"events", required_argument, NULL, OPT_EVENTS},
	{"alerts", required_argument, NULL, OPT_ALERTS},
	{"inventory", required_argument, NULL, OPT_INVENTORY},
	{"stats", no_argument, NULL, OPT_STATS},
	{"snaplen", required_argument, NULL, OPT_SNAPLEN},
	{"buffer", required_argument, NULL, OPT_BUFFER},
	{"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
	{"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, 'h'},
	/* In the interface, arriving with their issues (Redis, audit log, state). */
	{"redis", required_argument, NULL, OPT_LATER},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"audit-key", required_argument, NULL, OPT_AUDIT_KEY},
	{"spool", required_argument, NULL, OPT_LATER},
	{"state", required_argument, NULL, OPT_STATE},
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

static void print_stats(struct capture *cap, const struct run *r, const struct output *o)
{
	struct capture_stats cs;
	capture_get_stats(cap, &cs);
	fprintf(stderr, "{\"type\":\"stats\",\"capture\":{\"live\":%s,\"received\":%llu,"
		"\"kernel_dropped\":%llu,\"if_dropped\":%llu},",
		cs.live ? "true" : "false", (unsigned long long)cs.received,
		(unsigned long long)cs.dropped, (unsigned long long)cs.if_dropped);
	struct sensor_stats st;
	run_stats(r, &st);
	sensor_stats_json(&st, stderr);
	fputc(',', stderr);
	inventory_stats_json(o->routes, stderr);
	if (o->engine) {
		struct engine_stats es;
		engine_get_stats(o->engine, &es);
		fprintf(stderr, ",\"engine\":{\"events\":%llu,\"alerts\":%llu,\"suppressed\":%llu,"
			"\"identities\":%llu,\"identities_evicted\":%llu,\"memory\":%llu,\"by_detector\":{",
			(unsigned long long)es.events, (unsigned long long)es.alerts,
			(unsigned long long)es.suppressed, (unsigned long long)es.identities,
			(unsigned long long)es.identities_evicted, (unsigned long long)es.memory);
		for (int i = 0; engine_detector_names[i] && i < 24; i++)
			fprintf(stderr, "%s\"%s\":%llu", i ? "," : "", engine_detector_names[i],
				(unsigned long long)es.by_detector[i]);
		fprintf(stderr, "}}");
	}
	output_stats_json(o, stderr);
	if (r->pipe)
		pipeline_stats_json(r->pipe, stderr);
	fprintf(stderr, "}\n");
}

/* The route table, with the documented API when the configuration names a spec. */
static struct routes *routes_setup(const struct tapir_config *cfg, char *err, size_t errlen)
{
	struct routes_limits rl;
	routes_limits_default(&rl);
	struct routes *routes = routes_new(&rl);
	if (!routes) {
		snprintf(err, errlen, "out of memory creating the route table");
		return NULL;
	}
	if (cfg->api.openapi[0] && openapi_load(routes, cfg->api.openapi, NULL, err, errlen) != 0) {
		routes_free(routes);
		return NULL;
	}
	return routes;
}

/* --state: what the engine learned in earlier runs. A missing file is a first run. */
static int load_state(struct engine *e, const char *path)
{
	char err[512];
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "tapir: --state %s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = engine_load(e, f, err, sizeof err);
	fclose(f);
	if (rc != 0)
		fprintf(stderr, "tapir: --state %s: %s\n", path, err);
	return rc;
}

/* Written beside, flushed to disk, then renamed over: never a half-written state. */
static int save_state(const struct engine *e, const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f || engine_save(e, f) != 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fprintf(stderr, "tapir: --state %s: cannot write: %s\n", tmp, strerror(errno));
		if (f)
			fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "tapir: --state %s: cannot replace: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
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
		/* The key files and the API spec named in it must be usable too. */
		rc = setup_build(&su, &cfg, err, sizeof err);
		setup_free(&su);
	}
	if (rc == 0) {
		struct routes *routes = routes_setup(&cfg, err, sizeof err);
		rc = routes ? 0 : -1;
		routes_free(routes);
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
	if (argc >= 2 && strcmp(argv[1], "audit") == 0)
		return audit_main(argc - 1, argv + 1);

	struct tapir_config cfg;
	config_defaults(&cfg);
	struct capture_opts copts = {0};
	const char *config_path = NULL, *events_path = NULL, *alerts_path = NULL;
	const char *inventory_path = NULL, *audit_dir = NULL, *audit_key = NULL;
	const char *state_path = NULL;
	bool want_stats = false, no_promisc = false;
	uint64_t snaplen = 0, buffer = 0, max_flows = 0, workers = 0;
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
		case OPT_INVENTORY: inventory_path = optarg; break;
		case OPT_AUDIT: audit_dir = optarg; break;
		case OPT_AUDIT_KEY: audit_key = optarg; break;
		case OPT_STATE: state_path = optarg; break;
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
		case OPT_WORKERS:
			if (parse_uint("--workers", optarg, 1, PIPELINE_MAX_WORKERS, &workers))
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
	if (workers)
		cfg.sensor.workers = (uint32_t)workers;
	if (!!copts.file == !!copts.iface) {
		fprintf(stderr, "tapir: give exactly one of -r CAPTURE or -i IFACE (see tapir --help)\n");
		config_free(&cfg);
		return 2;
	}
	copts.snaplen = snaplen ? (int)snaplen : (int)cfg.capture.snaplen;
	copts.buffer_bytes = buffer ? buffer : cfg.capture.buffer;
	copts.promiscuous = no_promisc ? false : cfg.capture.promiscuous;

	struct output *out = calloc(1, sizeof *out);
	struct setup *su = calloc(1, sizeof *su);
	struct capture *cap = NULL;
	struct sensor *sensor = NULL;
	struct pipeline *pipe = NULL;
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
	if (audit_key && !audit_dir) {
		fprintf(stderr, "tapir: --audit-key needs --audit DIR\n");
		status = 2;
		goto done;
	}
	if (audit_dir) {
		struct audit_options ao;
		int ast = 1;
		audit_options_default(&ao);
		ao.dir = audit_dir;
		ao.key_path = audit_key;
		ao.repair = true; /* after a crash: cut the torn tail, recorded in the log */
		out->audit = audit_open(&ao, &ast, err, sizeof err);
		if (!out->audit) {
			fprintf(stderr, "tapir: %s\n", err);
			status = ast;
			goto done;
		}
	}
	out->routes = routes_setup(&cfg, err, sizeof err);
	if (!out->routes) {
		fprintf(stderr, "tapir: %s\n", err);
		status = 2;
		goto done;
	}
	localtime_set_zone(cfg.policy.business_hours.timezone);
	out->engine = engine_new(&su->engine);
	if (!out->engine) {
		fprintf(stderr, "tapir: out of memory creating the anomaly engine\n");
		status = 1;
		goto done;
	}
	if (state_path && load_state(out->engine, state_path) != 0) {
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
	/* Alerts go to --alerts, or to standard output when there is no Redis to take them. */
	if (alerts_path || !cfg.output.redis.url[0]) {
		alerts = open_output("--alerts", alerts_path ? alerts_path : "-", &alerts_stdout);
		if (!alerts)
			goto done;
	}
	if (cfg.output.redis.url[0])
		fprintf(stderr, "tapir: output.redis: delivery to Redis is not in this version yet\n");
	out->alerts = alerts;
	out->alerts_is_stdout = alerts_stdout;
	out->sensor_name = cfg.sensor.name;

	struct run r = {.link = capture_link(cap), .inventory_path = inventory_path,
			.config_path = config_path, .setup = su, .out = out, .cap = cap};
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	if (cfg.sensor.workers > 1) {
		struct pipeline_config pc = {.workers = cfg.sensor.workers, .lim = &su->limits,
					     .link = capture_link(cap), .seed = seed, .out = out,
					     .on_snapshot = on_snapshot, .ctx = &r};
		if (pipeline_start(&pipe, &pc, err, sizeof err) != 0) {
			fprintf(stderr, "tapir: %s\n", err);
			status = 1;
			goto done;
		}
	} else {
		sensor = sensor_new(&su->limits, output_event, out, seed);
		if (!sensor) {
			fprintf(stderr, "tapir: out of memory creating the sensor\n");
			status = 1;
			goto done;
		}
	}

	g_capture = cap;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (copts.iface)
		fprintf(stderr, "tapir: capturing on %s\n", copts.iface);
	r.sensor = sensor;
	r.pipe = pipe;
	status = capture_run(cap, on_frame, &r, err, sizeof err);
	if (status)
		fprintf(stderr, "tapir: %s\n", err);
	if (pipe)
		pipeline_finish(pipe); /* every event out, every thread joined */
	else
		sensor_finish(sensor);
	r.finished = true;
	su = r.setup; /* a reload may have replaced it */
	health_tick(&r, r.last_ts);
	engine_finish(out->engine, r.last_ts, output_alert, out);
	if (alerts && fflush(alerts) != 0) {
		fprintf(stderr, "tapir: --alerts: write failed: %s\n", strerror(errno));
		status = 1;
	}
	if (state_path && save_state(out->engine, state_path) != 0)
		status = 1;
	g_capture = NULL;
	if (out->events && fflush(out->events) != 0) {
		fprintf(stderr, "tapir: --events %s: write failed: %s\n", events_path,
			strerror(errno));
		status = 1;
	}
	if (out->audit) {
		if (out->audit_errors)
			fprintf(stderr, "tapir: --audit %s: %llu records could not be written: %s\n",
				audit_dir, (unsigned long long)out->audit_errors,
				audit_error(out->audit));
		int rc_close = audit_close(out->audit, err, sizeof err);
		out->audit = NULL;
		if (rc_close != 0 || out->audit_errors) {
			if (rc_close != 0)
				fprintf(stderr, "tapir: --audit %s: %s\n", audit_dir, err);
			status = 1;
		}
	}
	if (inventory_path && inventory_write(out->routes, inventory_path, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: %s\n", err);
		status = 1;
	}
	if (want_stats)
		print_stats(cap, &r, out);
	while (r.retired) {
		struct retired *next = r.retired->next;
		setup_free(r.retired->setup);
		free(r.retired->setup);
		free(r.retired);
		r.retired = next;
	}
done:
	if (out && out->events && !out->events_is_stdout)
		fclose(out->events);
	if (alerts && !alerts_stdout)
		fclose(alerts);
	sensor_free(sensor);
	pipeline_free(pipe);
	capture_close(cap);
	if (su)
		setup_free(su);
	if (out) {
		routes_free(out->routes);
		engine_free(out->engine);
		if (out->audit)
			(void)audit_close(out->audit, NULL, 0);
	}
	free(su);
	free(out);
	config_free(&cfg);
	return status;
}
