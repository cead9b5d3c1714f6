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
#include "delivery.h"
#include "redis_url.h"
#include "inventory.h"
#include "localtime.h"
#include "logsink.h"
#include "openapi.h"
#include "output.h"
#include "pipeline.h"
#include "privdrop.h"
#include "progress.h"
#include "sensor.h"
#include "setup.h"

#define TAPIR_VERSION "0.1.0"

static struct capture *g_capture; /* for the signal handler */
static volatile sig_atomic_t g_inventory_wanted;
static volatile sig_atomic_t g_reload_wanted;

static void on_signal(int sig)
{
	/* Inventory and reload happen between packets, never in the handler. */
	if (sig == SIGUSR1 || sig == SIGHUP) {
		if (sig == SIGUSR1)
			g_inventory_wanted = 1;
		else
			g_reload_wanted = 1;
		if (g_capture)
			capture_wake(g_capture); /* a silent link: do it now, not at the next packet */
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
	uint64_t next_live_ms; /* wall time (monotonic) of the next Redis liveness update */
	struct progress *progress; /* -r on a terminal: the status line */
};

static void print_stats(const struct capture_stats *cs, const struct sensor_stats *st,
			const struct output *o, const struct delivery_stats *redis_final,
			const struct pipeline *pipe);

#define HEALTH_EVERY_US (10ull * 1000000) /* blind_spot looks at the sensor this often */

/* Every sensor counter: the one sensor's, or the pipeline's sum once it is joined. */
static void run_stats(const struct run *r, struct sensor_stats *st)
{
	if (r->pipe)
		pipeline_sensor_stats(r->pipe, st);
	else
		sensor_get_stats(r->sensor, st);
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

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What on_snapshot is asked for. */
enum {
	SNAP_HEALTH,  /* what the sensor may have missed since the last time, to the engine */
	SNAP_SIGUSR1, /* the inventory and the counters so far */
	SNAP_REDIS,   /* the Redis heartbeat's figures; the spool-near-full alert */
};

/*
 * Work that needs the output and the sensors' counters mid-run. With workers
 * it runs in the merge thread, which owns the output, at this point of the
 * stream (pipeline_snapshot); with one sensor, right here.
 */
static void on_snapshot(void *ctx, int tag, struct output *out, uint64_t now,
			const struct sensor_stats *st, const struct capture_stats *cs)
{
	const struct run *r = ctx;
	if (tag == SNAP_HEALTH) {
		struct sensor_blindness b;
		sensor_stats_blindness(st, &b);
		struct engine_health total = {
			.kernel_drops = cs->dropped + cs->if_dropped,
			.gap_bytes = b.gap_bytes,
			.gaps = b.gaps,
			.cap_hits = b.cap_hits,
		};
		output_health(out, now, &total);
		return;
	}
	if (tag == SNAP_SIGUSR1) {
		if (r->inventory_path)
			write_inventory(out->routes, r->inventory_path);
		print_stats(cs, st, out, NULL, NULL); /* the counters so far */
		return;
	}
	if (tag == SNAP_REDIS && out->redis) {
		struct sensor_blindness b;
		sensor_stats_blindness(st, &b);
		struct delivery_liveness l = {
			.last_packet_us = now,
			.packets = st->c.packets,
			.kernel_drops = cs->dropped + cs->if_dropped,
			.gaps = b.gaps,
			.events = out->events_seen,
			.alerts = out->alerts_written,
		};
		delivery_liveness(out->redis, &l);
		char msg[ALERT_SUMMARY_MAX];
		if (delivery_spool_warning(out->redis, msg, sizeof msg))
			output_delivery_alert(out, now, msg);
	}
}

/* Asks for a snapshot: in the merge thread with workers, here without. */
static void snapshot(struct run *r, int tag)
{
	struct capture_stats cs;
	capture_get_stats(r->cap, &cs);
	if (r->pipe && !r->finished) {
		pipeline_snapshot(r->pipe, tag, &cs);
		return;
	}
	struct sensor_stats st;
	run_stats(r, &st);
	on_snapshot(r, tag, r->out, r->last_ts, &st, &cs);
}

/* What SIGUSR1 and SIGHUP asked for, between two packets. */
static void on_signals(struct run *r)
{
	if (g_inventory_wanted) {
		g_inventory_wanted = 0;
		snapshot(r, SNAP_SIGUSR1);
	}
	if (g_reload_wanted) {
		g_reload_wanted = 0;
		reload(r);
	}
}

/* Live capture with no packet for a while (or woken by a signal). */
static void on_idle(void *ctx)
{
	on_signals(ctx);
}

static void on_frame(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t caplen)
{
	struct run *r = ctx;
	r->frames++;
	if (r->pipe)
		pipeline_frame(r->pipe, ts_us, frame, caplen);
	else
		sensor_packet(r->sensor, r->link, ts_us, frame, caplen);
	if (ts_us > r->last_ts)
		r->last_ts = ts_us;
	if (r->last_ts >= r->next_health) {
		if (r->next_health)
			snapshot(r, SNAP_HEALTH);
		r->next_health = r->last_ts + HEALTH_EVERY_US;
	}
	on_signals(r);
	if (r->progress && progress_due(r->progress)) {
		struct capture_stats cs;
		capture_get_stats(r->cap, &cs);
		progress_draw(r->progress, cs.file_bytes);
	}
	/* With workers the merge thread ticks the audit log (pipeline.c's merge_chores). */
	if (!r->pipe && r->out->audit && (r->frames & 1023) == 0 && audit_tick(r->out->audit) != 0)
		r->out->audit_errors++;
	/* About once a second of wall time: the Redis heartbeat's figures. */
	if (r->out->redis && (r->frames & 63) == 0) {
		uint64_t now = mono_ms();
		if (now >= r->next_live_ms) {
			r->next_live_ms = now + 1000;
			snapshot(r, SNAP_REDIS);
		}
	}
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
		"  --redis URL        publish alerts to Redis: redis://[[user]:password@]host[:port][/db]\n"
		"  --spool DIR        alerts wait here while Redis is unreachable (delivered in order later)\n"
		"  --state PATH       load learned baselines from PATH at start, save them at exit\n"
		"  --stats            counters as one JSON object on stderr at exit (and on SIGUSR1)\n"
		"  --user NAME        once the capture and outputs are open, run as this user\n"
		"  --syslog           messages to syslog (daemon facility) instead of stderr\n"
		"  --no-progress      no status line during -r on a terminal\n"
		"  --snaplen N        live capture snapshot length (default 262144)\n"
		"  --buffer SIZE      live capture kernel buffer (default 64MiB)\n"
		"  --no-promisc       do not put the interface in promiscuous mode\n"
		"  --max-flows N      flow table cap\n"
		"  --workers N        sensor worker threads, 1-64, with a capture and a merge thread\n"
		"                     (default 0: one thread does everything)\n"
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
	OPT_REDIS,
	OPT_SPOOL,
	OPT_USER,
	OPT_SYSLOG,
	OPT_NO_PROGRESS,
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
	{"user", required_argument, NULL, OPT_USER},
	{"syslog", no_argument, NULL, OPT_SYSLOG},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"redis", required_argument, NULL, OPT_REDIS},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"audit-key", required_argument, NULL, OPT_AUDIT_KEY},
	{"spool", required_argument, NULL, OPT_SPOOL},
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

/*
 * The --stats object (also on SIGUSR1, mid-run): capture, sensors (summed over
 * workers), routes, engine, outputs, Redis delivery (running, or its final
 * figures once stopped), and the pipeline's own counters once it is joined
 * (`pipe` NULL otherwise).
 */
static void print_stats(const struct capture_stats *cs, const struct sensor_stats *st,
			const struct output *o, const struct delivery_stats *redis_final,
			const struct pipeline *pipe)
{
	fprintf(stderr, "{\"type\":\"stats\",\"capture\":{\"live\":%s,\"received\":%llu,"
		"\"kernel_dropped\":%llu,\"if_dropped\":%llu},",
		cs->live ? "true" : "false", (unsigned long long)cs->received,
		(unsigned long long)cs->dropped, (unsigned long long)cs->if_dropped);
	sensor_stats_json(st, stderr);
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
	struct delivery_stats ds;
	const struct delivery_stats *rs = redis_final;
	if (o->redis) {
		delivery_get_stats(o->redis, &ds);
		rs = &ds;
	}
	if (rs)
		fprintf(stderr, ",\"redis\":{\"alerts_delivered\":%llu,\"heads_delivered\":%llu,"
			"\"events_delivered\":%llu,\"events_dropped\":%llu,\"queue_dropped\":%llu,"
			"\"spooled\":%llu,\"spool_records\":%llu,\"spool_bytes\":%llu,"
			"\"spool_refused\":%llu,\"spool_damaged\":%llu,\"spool_errors\":%llu,"
			"\"connects\":%llu,\"failures\":%llu,\"heartbeats\":%llu}",
			(unsigned long long)rs->alerts_delivered, (unsigned long long)rs->heads_delivered,
			(unsigned long long)rs->events_delivered, (unsigned long long)rs->events_dropped,
			(unsigned long long)rs->queue_dropped, (unsigned long long)rs->spooled,
			(unsigned long long)rs->spool_records, (unsigned long long)rs->spool_bytes,
			(unsigned long long)rs->spool_refused, (unsigned long long)rs->spool_damaged,
			(unsigned long long)rs->spool_errors, (unsigned long long)rs->connects,
			(unsigned long long)rs->failures, (unsigned long long)rs->heartbeats);
	if (pipe)
		pipeline_stats_json(pipe, stderr);
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

static void head_to_redis(void *ctx, const char *json, size_t len)
{
	delivery_head(ctx, json, len);
}

/* Redis delivery (output.redis, --redis, --spool). 0, or -1 with *status and the error printed. */
static int redis_start(struct output *out, const struct tapir_config *cfg, const char *key,
		       const char *url, const char *spool_dir, int *status)
{
	char err[1024];
	const struct config_redis *rc = &cfg->output.redis;
	struct delivery_config dc = {
		.sensor_name = cfg->sensor.name,
		.channel = rc->channel,
		.stream = rc->stream,
		.stream_maxlen = rc->stream_maxlen,
		.events_stream = rc->events_stream,
		.events_maxlen = rc->events_maxlen,
		.heads_stream = rc->audit_heads,
		.spool_dir = spool_dir,
		.spool_max = cfg->output.spool.max_size,
		.connect_ms = (unsigned)(rc->connect_timeout_us / 1000),
		.command_ms = (unsigned)(rc->command_timeout_us / 1000),
		.heartbeat_ms = (unsigned)(rc->heartbeat_us / 1000),
		.backoff_max_ms = (unsigned)(rc->reconnect_max_us / 1000),
		.drain_ms = (unsigned)(rc->drain_timeout_us / 1000),
	};
	*status = 2;
	if (redis_url_parse(url, &dc.target, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: %s: %s\n", key, err);
		return -1;
	}
	out->redis = delivery_start(&dc, status, err, sizeof err);
	memset(&dc.target, 0, sizeof dc.target); /* the password: no copy left on the stack */
	if (!out->redis) {
		fprintf(stderr, "tapir: %s: %s\n", key, err);
		return -1;
	}
	if (!spool_dir)
		fprintf(stderr, "tapir: no spool directory (--spool or output.spool.dir): alerts "
			"waiting for Redis are kept in memory only\n");
	out->redis_events = rc->events_stream[0] != '\0';
	return 0;
}

/* Stops delivery and says what is left undelivered. */
static void redis_stop(struct output *out, struct delivery_stats *st)
{
	char msg[1024];
	delivery_stop(out->redis, st, msg, sizeof msg);
	out->redis = NULL;
	if (msg[0])
		fprintf(stderr, "tapir: %s\n", msg);
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
	if (rc == 0 && cfg.output.redis.url[0]) {
		struct redis_target t;
		char why[512];
		rc = redis_url_parse(cfg.output.redis.url, &t, why, sizeof why);
		memset(&t, 0, sizeof t);
		if (rc != 0)
			snprintf(err, sizeof err, "%s: output.redis.url: %s", argv[2], why);
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
	const char *state_path = NULL, *redis_url = NULL, *spool_dir = NULL;
	const char *user = NULL, *user_key = "--user";
	bool want_stats = false, no_promisc = false, want_syslog = false, no_progress = false;
	struct logsink *logsink = NULL;
	struct privdrop drop = {0};
	uint64_t snaplen = 0, buffer = 0, max_flows = 0, workers = 0;
	bool workers_set = false;
	char err[1024];
	struct delivery_stats rs = {0};
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
		case OPT_REDIS: redis_url = optarg; break;
		case OPT_SPOOL: spool_dir = optarg; break;
		case OPT_STATS: want_stats = true; break;
		case OPT_NO_PROMISC: no_promisc = true; break;
		case OPT_USER: user = optarg; break;
		case OPT_SYSLOG: want_syslog = true; break;
		case OPT_NO_PROGRESS: no_progress = true; break;
		case OPT_SNAPLEN:
			if (parse_uint("--snaplen", optarg, 64, 262144, &snaplen))
				return 2;
			break;
		case OPT_MAX_FLOWS:
			if (parse_uint("--max-flows", optarg, 1, 16777216, &max_flows))
				return 2;
			break;
		case OPT_WORKERS:
			if (parse_uint("--workers", optarg, 0, PIPELINE_MAX_WORKERS, &workers))
				return 2;
			workers_set = true;
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
	if (workers_set)
		cfg.sensor.workers = (uint32_t)workers;
	const char *redis_key = redis_url ? "--redis" : "output.redis.url";
	if (!redis_url && cfg.output.redis.url[0])
		redis_url = cfg.output.redis.url;
	if (spool_dir && !redis_url) {
		fprintf(stderr, "tapir: --spool needs Redis (--redis URL or output.redis.url)\n");
		config_free(&cfg);
		return 2;
	}
	if (!spool_dir && cfg.output.spool.dir[0])
		spool_dir = cfg.output.spool.dir;
	if (!!copts.file == !!copts.iface) {
		fprintf(stderr, "tapir: give exactly one of -r CAPTURE or -i IFACE (see tapir --help)\n");
		config_free(&cfg);
		return 2;
	}
	copts.snaplen = snaplen ? (int)snaplen : (int)cfg.capture.snaplen;
	copts.buffer_bytes = buffer ? buffer : cfg.capture.buffer;
	copts.promiscuous = no_promisc ? false : cfg.capture.promiscuous;
	/* TAPIR_READER=libpcap: a file is read by libpcap even when the mapped reader
	 * could (the tests compare the two; a way back should a file need it). */
	const char *reader = getenv("TAPIR_READER");
	copts.libpcap_reader = reader && strcmp(reader, "libpcap") == 0;
	if (!user && cfg.sensor.user[0]) {
		user = cfg.sensor.user;
		user_key = "sensor.user";
	}
	if (want_syslog || cfg.sensor.log == CONFIG_LOG_SYSLOG) {
		logsink = logsink_start(err, sizeof err);
		if (!logsink) {
			fprintf(stderr, "tapir: %s\n", err);
			config_free(&cfg);
			return 1;
		}
	}

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
	if (user && privdrop_prepare(&drop, user, user_key, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: %s\n", err);
		status = 2;
		goto done;
	}
	if (user && !drop.needed)
		fprintf(stderr, "tapir: warning: %s %s: not running as root, staying uid %u "
			"(capabilities are given up once the capture is open)\n", user_key, user,
			(unsigned)getuid());
	if (redis_url) {
		int ds;
		if (redis_start(out, &cfg, redis_key, redis_url, spool_dir, &ds) != 0) {
			status = ds;
			goto done;
		}
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
		if (out->redis) { /* signed heads to Redis: a witness outside this machine */
			ao.on_head = head_to_redis;
			ao.on_head_ctx = out->redis;
		}
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
		/* A file: lines gathered in tapir's own 1 MiB blocks (stdio's, if that fails). */
		if (!out->events_is_stdout && output_events_buffer(out, 1 << 20) != 0)
			setvbuf(out->events, NULL, _IOFBF, 1 << 20);
	}
	/* Alerts go to --alerts, or to standard output when there is no Redis to take them. */
	if (alerts_path || !redis_url) {
		alerts = open_output("--alerts", alerts_path ? alerts_path : "-", &alerts_stdout);
		if (!alerts)
			goto done;
	}
	out->alerts = alerts;
	out->sensor_name = cfg.sensor.name;

	/* Everything that needs root is open: the interface, the outputs, the audit log. */
	if (user) {
		status = privdrop_finish(&drop, audit_dir, state_path, inventory_path, err, sizeof err);
		/* The spool compacts through a new file in its directory. */
		if (status == 0 && drop.needed && out->redis && spool_dir)
			status = privdrop_check_dir(&drop, "--spool", spool_dir, true, err, sizeof err);
		if (status) {
			fprintf(stderr, "tapir: %s\n", err);
			goto done;
		}
		if (drop.needed)
			fprintf(stderr, "tapir: running as user %s (uid %u, gid %u)\n", drop.name,
				(unsigned)drop.uid, (unsigned)drop.gid);
	}

	/* Threads start after the drop: a thread made before it would keep its capabilities. */
	if (out->redis && delivery_launch(out->redis, err, sizeof err) != 0) {
		fprintf(stderr, "tapir: %s\n", err);
		status = 1;
		goto done;
	}
	struct run r = {.link = capture_link(cap), .inventory_path = inventory_path,
			.config_path = config_path, .setup = su, .out = out, .cap = cap};
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	if (cfg.sensor.workers > 0) {
		struct pipeline_config pc = {.workers = cfg.sensor.workers, .lim = &su->limits,
					     .link = capture_link(cap), .seed = seed,
					     .stable_frames = capture_stable_frames(cap), .out = out,
					     .on_snapshot = on_snapshot, .ctx = &r};
		if (pipeline_start(&pipe, &pc, err, sizeof err) != 0) {
			fprintf(stderr, "tapir: %s\n", err);
			status = 1;
			goto done;
		}
		/* Frames by reference: the reader keeps what the workers have yet to read. */
		capture_set_hold(cap, pipeline_hold, pipe);
	} else {
		sensor = sensor_new(&su->limits, output_event, out, seed);
		if (!sensor) {
			fprintf(stderr, "tapir: out of memory creating the sensor\n");
			status = 1;
			goto done;
		}
	}
	r.sensor = sensor;
	r.pipe = pipe;

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
	if (copts.file && !no_progress && isatty(2)) {
		struct capture_stats cs;
		capture_get_stats(cap, &cs);
		r.progress = progress_new(stderr, cs.file_size);
	}
	status = capture_run(cap, on_frame, on_idle, &r, err, sizeof err);
	progress_end(r.progress);
	if (status)
		fprintf(stderr, "tapir: %s\n", err);
	if (pipe)
		pipeline_finish(pipe); /* every event out, every thread joined */
	else
		sensor_finish(sensor);
	r.finished = true;
	su = r.setup; /* a reload may have replaced it */
	snapshot(&r, SNAP_HEALTH);
	engine_finish(out->engine, r.last_ts, output_alert, out);
	if (out->redis)
		snapshot(&r, SNAP_REDIS); /* the final figures for the last heartbeat */
	if (alerts && fflush(alerts) != 0) {
		fprintf(stderr, "tapir: --alerts: write failed: %s\n", strerror(errno));
		status = 1;
	}
	if (state_path && save_state(out->engine, state_path) != 0)
		status = 1;
	g_capture = NULL;
	if (out->events && (output_flush_events(out) != 0 || fflush(out->events) != 0)) {
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
	/* After the audit log's last signed head; alerts left undelivered stay spooled (said, not fatal). */
	if (out->redis)
		redis_stop(out, &rs);
	if (want_stats) {
		struct capture_stats cs;
		struct sensor_stats st;
		capture_get_stats(cap, &cs);
		run_stats(&r, &st);
		print_stats(&cs, &st, out, redis_url ? &rs : NULL, pipe);
	}
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
	if (out)
		output_events_buffer_free(out);
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
		if (out->redis)
			redis_stop(out, &rs);
	}
	free(su);
	free(out);
	config_free(&cfg);
	logsink_stop(logsink);
	return status;
}
