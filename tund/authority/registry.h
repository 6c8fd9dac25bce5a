/*
 * The domain authority's registry: accounts (identity -> overlay IPv4),
 * one-time enrollment tokens and issued certificates, kept in one SQLite
 * database (WAL, synchronous=FULL, mode 0600) so that an address once given
 * to an identity, a used token and a revocation all survive a crash. Every
 * multi-step change runs in one transaction. Library code: it never logs;
 * failures return -errno and leave a human-readable reason in
 * registry_error(). A struct registry is not thread-safe; the daemon's event
 * loop owns it.
 */
#ifndef Q2Q_REGISTRY_H
#define Q2Q_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

/* Token text: 32 random bytes as unpadded base64url (RFC 4648 section 5). */
#define REGISTRY_TOKEN_LEN 43
/* Longest identity accepted (same cap as identity/name.h). */
#define REGISTRY_IDENTITY_MAX 318
/* Serials are even-length hex of the serial's bytes, at most this long. */
#define REGISTRY_SERIAL_HEX_MAX 64
/* Largest certificate DER accepted by registry_cert_add. */
#define REGISTRY_DER_MAX 65536

struct registry;

/*
 * Open (creating and migrating as needed) the registry at path. pool_cidr is
 * the IPv4 pool new addresses come from, "a.b.c.d/len" with len 8..30 and
 * host bits zero. Changing the pool between runs is allowed; existing
 * allocations keep their addresses. The database file is created mode 0600
 * (and tightened to 0600 if it was wider). On success *out is owned by the
 * caller and released with registry_close(). On failure err says why.
 * Returns 0, -EINVAL (bad pool), -ENOTSUP (schema newer than this code),
 * or another -errno.
 */
int registry_open(const char *path, const char *pool_cidr,
		  struct registry **out, char *err, size_t errlen);
void registry_close(struct registry *r);

/*
 * Reason for the last failed call on r, e.g. "pool 100.64.0.0/30 is
 * exhausted". Owned by r; valid until the next call on r.
 */
const char *registry_error(const struct registry *r);

/*
 * Create a one-time enrollment token for identity, valid while
 * now < now + ttl_s. Only SHA-256 of the token text is stored. Makes sure
 * the account exists and has its IPv4 (so -ENOSPC for a full pool shows up
 * at invite time). Inviting a revoked identity lets it back in: the
 * account's revoked flag is cleared, its old certificates stay revoked.
 * Returns 0, -EINVAL, -ENOSPC, or another -errno.
 */
int registry_token_create(struct registry *r, const char *identity,
			  int64_t now, int64_t ttl_s,
			  char token[REGISTRY_TOKEN_LEN + 1]);

/*
 * Consume a token: on 0 it is marked used, atomically, and can never be used
 * again. -ENOENT no such token for this identity (also: a token issued for
 * another identity, or one cancelled by registry_revoke), -ETIMEDOUT
 * expired, -EALREADY already used, -EINVAL malformed token text.
 */
int registry_token_use(struct registry *r, const char *identity,
		       const char *token, int64_t now);

/*
 * The identity's overlay IPv4 (network byte order), creating its account and
 * allocating the address on first use. The address is stable forever,
 * unique in the domain, and never the pool's network or broadcast address.
 * A new account's created time is the wall clock (time(NULL)).
 * Returns 0, -EINVAL, -ENOSPC (pool exhausted), or another -errno.
 */
int registry_v4(struct registry *r, const char *identity, uint8_t out[4]);

/*
 * Record an issued certificate. serial_hex is stored lower-cased. Returns 0,
 * -ENOENT unknown identity, -EPERM the account is revoked, -EEXIST serial
 * already recorded, -EINVAL bad arguments, or another -errno.
 */
int registry_cert_add(struct registry *r, const char *identity,
		      const char *serial_hex, int64_t not_before,
		      int64_t not_after, const uint8_t *der, size_t len);

/*
 * Revoke an account: marks it revoked, revokes every certificate it holds,
 * and cancels its unused tokens. Revoking twice keeps the first times.
 * Returns 0, -ENOENT unknown identity, or another -errno.
 */
int registry_revoke(struct registry *r, const char *identity, int64_t now);

/* 1 revoked, 0 not, -ENOENT unknown identity, or another -errno. */
int registry_is_revoked(struct registry *r, const char *identity);

/* 1 revoked, 0 live, -ENOENT unknown serial, -EINVAL malformed. */
int registry_serial_revoked(struct registry *r, const char *serial_hex);

/*
 * Revocations numbered after since, oldest first, whose certificate is
 * still valid at now: fn gets at most max of them (its non-zero return
 * stops the walk and is returned). *cursor is what to ask from next time:
 * the last number given when *more says there are more, else the newest
 * number ever given. A since beyond that (another registry's) counts as
 * 0. fn must not call back into r.
 */
int registry_revocations(struct registry *r, int64_t since, int64_t now, int max,
			 int (*fn)(int64_t seq, const char *serial_hex, int64_t not_after, void *arg),
			 void *arg, int64_t *cursor, int *more);
/* The newest revocation number ever given (0: none yet), or -errno. */
int64_t registry_revocation_head(struct registry *r);

/*
 * Call fn for every account, in identity order: its IPv4 (network byte
 * order), revoked flag, and the latest not_after among its live
 * certificates (0 if none). Non-zero from fn stops the walk and is returned.
 * fn must not call back into r; pointers are only valid during the call.
 */
int registry_account_foreach(struct registry *r,
			     int (*fn)(const char *identity, const uint8_t v4[4],
				       int revoked, int64_t cert_not_after,
				       void *arg),
			     void *arg);

#endif
