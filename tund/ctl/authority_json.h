/*
 * The authority's answers in the control protocol: JSON made of the plain
 * snapshots the authority exports (tund/authority/authority.h). Keys and
 * value types are what `q2qctl status/accounts/invite/revoke --json` print
 * and scripts read; change them only with the protocol. Each function
 * returns a new object the caller owns (ctl_reply_ok consumes it).
 */
#ifndef Q2Q_AUTHORITY_JSON_H
#define Q2Q_AUTHORITY_JSON_H

#include <stdint.h>
#include <json-c/json.h>

struct authority_account_info;
struct authority_status_info;

/* domain, ca_fingerprint, listen, pool: status's "authority_service". */
json_object *authority_json_status(const struct authority_status_info *st);
/* q2qctl accounts: the status keys and "accounts", n entries of as. */
json_object *authority_json_accounts(const struct authority_status_info *st,
    const struct authority_account_info *as, int n);
/* q2qctl invite: the token is copied into the object. */
json_object *authority_json_invite(const char *identity, const char *token, int64_t expires);
/* q2qctl revoke. */
json_object *authority_json_revoked(const char *identity);

#endif
