/*
 * alert_json.h - an alert as one line of JSON, the shape of
 * ../shared/INTERFACE.md "Alert".
 */
#ifndef TAPIR_ALERT_JSON_H
#define TAPIR_ALERT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../models/alert.h"

#define ALERT_JSON_MAX (6 * (ALERT_DETECTOR_MAX + EV_ID_MAX + EV_METHOD_MAX + EV_HOST_MAX + \
			     EV_PATH_MAX + ALERT_ROUTE_MAX + ALERT_SUMMARY_MAX) +            \
			ALERT_EVIDENCE_MAX + 1024)

/*
 * Writes the alert and a newline into buf; returns the length, 0 if it did not
 * fit. `sensor` is the sensor's name; `audit_record` the alert's record number
 * in the audit log, or -1 when there is no audit log.
 */
size_t alert_json(const struct alert *a, const char *sensor, int64_t audit_record, char *buf,
		  size_t cap);

#endif
