/*
 * The trust store in the control protocol: what `q2qctl trust --json`
 * prints. {"domains": [{"domain", "ca_fingerprint", "learned" (config,
 * dnssec, first-use, manual, unknown), "since" (seconds since 1970, 0 if
 * not recorded), "have_cert"}]}.
 */
#ifndef Q2Q_TRUST_JSON_H
#define Q2Q_TRUST_JSON_H

#include <json-c/json.h>

struct trust_store;

/* A new object the caller owns. */
json_object *trust_json_list(const struct trust_store *ts);

#endif
