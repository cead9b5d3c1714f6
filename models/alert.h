/*
 * alert.h - struct alert: what the anomaly engine says about an identity
 * (../shared/INTERFACE.md "Alert"). Plain data with fixed-size fields; the
 * engine fills it, sensor/alert_json.c writes it, outputs deliver it.
 */
#ifndef TAPIR_ALERT_H
#define TAPIR_ALERT_H

#include <stdint.h>

#include "../decoders/event.h"

#define ALERT_DETECTOR_MAX 32
#define ALERT_SUMMARY_MAX 512
#define ALERT_EVIDENCE_MAX 2048
#define ALERT_ROUTE_MAX 512

enum alert_severity { ALERT_LOW, ALERT_MEDIUM, ALERT_HIGH, ALERT_CRITICAL };

struct alert {
	uint64_t ts_us;                        /* packet time of the event that raised it */
	char id[33];                           /* 32 hex digits, unique, deterministic for a replay */
	char detector[ALERT_DETECTOR_MAX];     /* "enumeration", "new_origin", ... */
	enum alert_severity severity;
	double score;                          /* 0..1, calibrated */
	enum ev_identity_kind id_kind;
	char id_value[EV_ID_MAX];              /* identity id ("" for none) */
	uint8_t client_ip[16];                 /* the client (origin_ip when behind a trusted proxy) */
	char method[EV_METHOD_MAX];
	char host[EV_HOST_MAX];
	char path[EV_PATH_MAX];
	char route[ALERT_ROUTE_MAX];
	char summary[ALERT_SUMMARY_MAX];       /* one sentence with the observed figure and the baseline */
	char evidence[ALERT_EVIDENCE_MAX];     /* a JSON object's text: the numbers behind it */
};

#endif
