/*
 * The authority's registry in SQLite. The database is the single source of
 * truth for which identity owns which overlay IPv4, which enrollment tokens
 * are still good and which certificates were revoked, so it is opened in WAL
 * mode with synchronous=FULL (a committed change survives power loss),
 * foreign keys on, and every change that touches more than one row runs in
 * one BEGIN IMMEDIATE transaction. All SQL is fixed text prepared once at
 * open; values are only ever bound, never spliced in. Tokens are stored as
 * SHA-256 of their text and looked up by that hash, so neither the database
 * file nor comparison timing gives the token away.
 *
 * IPv4 allocation: addresses are never freed (an identity keeps its address
 * forever), so a per-pool "next free offset" cursor almost always points at
 * a free address. To stay correct when the pool changes and overlaps older
 * allocations, the allocator reads the allocated addresses at and after the
 * cursor in index order and takes the first gap: cost O(log n + k), where k
 * is the run of already-taken addresses it skips, and the cursor is saved
 * past them so no run is skipped twice. The UNIQUE constraint on the
 * address is the backstop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "tund/authority/registry.h"

#define REGISTRY_APP_ID		1899131250	/* 0x71327172, "q2qr" */
#define REGISTRY_BUSY_MS	5000
#define TOKEN_RAW_LEN		32
#define HASH_LEN		32
#define ERR_LEN			256

/*
 * Schema migrations, indexed by the version they start from. Each ends by
 * setting user_version itself, so the version moves in the same transaction
 * as the change (PRAGMA values cannot be bound). Append, never edit.
 */
static const char *const registry_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE accounts ("
	"  identity TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(identity) BETWEEN 1 AND 318),"
	"  v4 INTEGER NOT NULL UNIQUE CHECK (v4 BETWEEN 0 AND 4294967295),"
	"  created INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),"
	"  revoked_at INTEGER"
	");"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  identity TEXT NOT NULL REFERENCES accounts(identity),"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used_at INTEGER"
	");"
	"CREATE INDEX tokens_identity ON tokens(identity);"
	"CREATE TABLE certs ("
	"  serial TEXT PRIMARY KEY NOT NULL,"
	"  identity TEXT NOT NULL REFERENCES accounts(identity),"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  der BLOB NOT NULL,"
	"  revoked_at INTEGER"
	");"
	"CREATE INDEX certs_identity ON certs(identity);"
	"CREATE INDEX certs_revoked ON certs(serial) WHERE revoked_at IS NOT NULL;"
	"CREATE TABLE pool_cursor ("
	"  network INTEGER NOT NULL,"
	"  plen INTEGER NOT NULL,"
	"  next INTEGER NOT NULL,"
	"  PRIMARY KEY (network, plen)"
	");"
	"PRAGMA application_id = 1899131250;"
	"PRAGMA user_version = 1;",
	/* 1 -> 2: revocations numbered in the order they happen, so a node
	 * can ask for those after the last it has (registry_revocations). */
	"CREATE TABLE revocations ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  serial TEXT NOT NULL UNIQUE,"
	"  not_after INTEGER NOT NULL"
	");"
	"INSERT INTO revocations (serial, not_after)"
	"  SELECT serial, not_after FROM certs WHERE revoked_at IS NOT NULL"
	"  ORDER BY revoked_at, serial;"
	"PRAGMA user_version = 2;",
};
#define REGISTRY_SCHEMA_VERSION \
	((int)(sizeof(registry_migrations) / sizeof(registry_migrations[0])))

enum st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_ACCOUNT_GET,
	ST_ACCOUNT_INSERT,
	ST_ACCOUNT_UNREVOKE,
	ST_ACCOUNT_REVOKE,
	ST_ACCOUNT_LIST,
	ST_V4_FROM,
	ST_CURSOR_GET,
	ST_CURSOR_SET,
	ST_TOKEN_INSERT,
	ST_TOKEN_GET,
	ST_TOKEN_MARK,
	ST_TOKEN_CANCEL,
	ST_CERT_INSERT,
	ST_CERT_REVOKE_ALL,
	ST_SERIAL_GET,
	ST_REV_RECORD,
	ST_REV_PRUNE,
	ST_REV_SINCE,
	ST_REV_HEAD,
	ST_COUNT
};

static const char *const registry_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_ACCOUNT_GET] =
		"SELECT v4, revoked FROM accounts WHERE identity = ?1",
	[ST_ACCOUNT_INSERT] =
		"INSERT INTO accounts (identity, v4, created) VALUES (?1, ?2, ?3)",
	[ST_ACCOUNT_UNREVOKE] =
		"UPDATE accounts SET revoked = 0, revoked_at = NULL"
		" WHERE identity = ?1",
	[ST_ACCOUNT_REVOKE] =
		"UPDATE accounts SET revoked = 1,"
		" revoked_at = coalesce(revoked_at, ?2) WHERE identity = ?1",
	[ST_ACCOUNT_LIST] =
		"SELECT a.identity, a.v4, a.revoked,"
		" (SELECT max(c.not_after) FROM certs c"
		"  WHERE c.identity = a.identity AND c.revoked_at IS NULL)"
		" FROM accounts a ORDER BY a.identity",
	[ST_V4_FROM] =
		"SELECT v4 FROM accounts WHERE v4 BETWEEN ?1 AND ?2 ORDER BY v4",
	[ST_CURSOR_GET] =
		"SELECT next FROM pool_cursor WHERE network = ?1 AND plen = ?2",
	[ST_CURSOR_SET] =
		"INSERT INTO pool_cursor (network, plen, next) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (network, plen) DO UPDATE SET next = excluded.next",
	[ST_TOKEN_INSERT] =
		"INSERT INTO tokens (identity, hash, created, expires)"
		" VALUES (?1, ?2, ?3, ?4)",
	[ST_TOKEN_GET] =
		"SELECT id, identity, expires, used_at FROM tokens WHERE hash = ?1",
	[ST_TOKEN_MARK] =
		"UPDATE tokens SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
	[ST_TOKEN_CANCEL] =
		"DELETE FROM tokens WHERE identity = ?1 AND used_at IS NULL",
	[ST_CERT_INSERT] =
		"INSERT INTO certs (serial, identity, not_before, not_after, der)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_CERT_REVOKE_ALL] =
		"UPDATE certs SET revoked_at = ?2"
		" WHERE identity = ?1 AND revoked_at IS NULL",
	[ST_SERIAL_GET] =
		"SELECT revoked_at IS NOT NULL FROM certs WHERE serial = ?1",
	[ST_REV_RECORD] =
		"INSERT OR IGNORE INTO revocations (serial, not_after)"
		" SELECT serial, not_after FROM certs"
		" WHERE identity = ?1 AND revoked_at IS NOT NULL AND not_after > ?2"
		" ORDER BY serial",
	/* An expired certificate is refused anyway: nobody needs its news. */
	[ST_REV_PRUNE] =
		"DELETE FROM revocations WHERE ?1 IS NOT NULL AND not_after <= ?2",
	[ST_REV_SINCE] =
		"SELECT seq, serial, not_after FROM revocations"
		" WHERE seq > ?1 AND not_after > ?2 ORDER BY seq LIMIT ?3",
	/* The last number given, even if its row was pruned since. */
	[ST_REV_HEAD] =
		"SELECT coalesce((SELECT seq FROM sqlite_sequence"
		" WHERE name = 'revocations'), 0)",
};

struct registry {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	uint32_t pool_net;		/* host byte order */
	int pool_plen;
	char pool_text[sizeof("255.255.255.255/32")];
	int cursor_saved;		/* allocator persisted progress; keep it */
	char err[ERR_LEN];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Map an SQLite result to -errno, recording what failed and why. */
static int sql_fail(struct registry *r, int rc, const char *what)
{
	set_err(r->err, sizeof(r->err), "registry: %s: %s", what,
		sqlite3_errmsg(r->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* A prepared statement, reset and unbound, ready for new parameters. */
static sqlite3_stmt *st_get(struct registry *r, enum st which)
{
	sqlite3_stmt *s = r->st[which];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/*
 * Release a statement after use: a SELECT left mid-way would hold a read
 * snapshot and keep WAL checkpoints from finishing.
 */
static void st_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Step a statement that returns no rows. */
static int st_exec(struct registry *r, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int ret = 0;

	if (rc != SQLITE_DONE)
		ret = sql_fail(r, rc, what);
	st_done(s);
	return ret;
}

static int tx_begin(struct registry *r)
{
	r->cursor_saved = 0;
	return st_exec(r, st_get(r, ST_BEGIN), "begin");
}

/*
 * Finish a transaction: commit on success, roll back on failure, except
 * that an exhausted pool still commits the allocator's saved cursor (the
 * only thing changed before the allocator ran) so the next caller does not
 * rescan the same taken addresses.
 */
static int tx_end(struct registry *r, int ret)
{
	int rc;

	if (ret == 0 || (ret == -ENOSPC && r->cursor_saved)) {
		rc = st_exec(r, st_get(r, ST_COMMIT), "commit");
		if (rc == 0)
			return ret;
		ret = rc;
	}
	/* Keep the first error's message; rollback only cleans up. */
	sqlite3_step(st_get(r, ST_ROLLBACK));
	st_done(r->st[ST_ROLLBACK]);
	return ret;
}

static int identity_check(struct registry *r, const char *identity)
{
	size_t n;

	if (!identity) {
		set_err(r->err, sizeof(r->err), "registry: no identity");
		return -EINVAL;
	}
	n = strnlen(identity, REGISTRY_IDENTITY_MAX + 1);
	if (n == 0 || n > REGISTRY_IDENTITY_MAX) {
		set_err(r->err, sizeof(r->err),
			"registry: identity length must be 1..%d",
			REGISTRY_IDENTITY_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)identity[i];

		if (c <= 0x20 || c == 0x7f) {
			set_err(r->err, sizeof(r->err),
				"registry: identity has a space or control byte");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Copy serial_hex lower-cased into out. Serials are the certificate's serial
 * bytes in hex, so an even number of hex digits.
 */
static int serial_norm(struct registry *r, const char *serial_hex,
		       char out[REGISTRY_SERIAL_HEX_MAX + 1])
{
	size_t n;

	if (!serial_hex)
		goto bad;
	n = strnlen(serial_hex, REGISTRY_SERIAL_HEX_MAX + 1);
	if (n == 0 || n > REGISTRY_SERIAL_HEX_MAX || n % 2)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = serial_hex[i];

		if (c >= '0' && c <= '9')
			out[i] = c;
		else if (c >= 'a' && c <= 'f')
			out[i] = c;
		else if (c >= 'A' && c <= 'F')
			out[i] = (char)(c - 'A' + 'a');
		else
			goto bad;
	}
	out[n] = '\0';
	return 0;
bad:
	set_err(r->err, sizeof(r->err),
		"registry: serial must be 2..%d hex digits, even count",
		REGISTRY_SERIAL_HEX_MAX);
	return -EINVAL;
}

static int pool_parse(const char *cidr, uint32_t *net, int *plen,
		      char *err, size_t errlen)
{
	char buf[sizeof("255.255.255.255/32")];
	struct in_addr a;
	char *slash;
	size_t n;
	int len = 0;
	uint32_t host;

	if (!cidr) {
		set_err(err, errlen, "registry: no IPv4 pool given");
		return -EINVAL;
	}
	n = strnlen(cidr, sizeof(buf));
	if (n == sizeof(buf))
		goto bad;
	memcpy(buf, cidr, n + 1);
	slash = strchr(buf, '/');
	if (!slash)
		goto bad;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	/* One or two digits, nothing else: no sign, space or junk. */
	if (slash[1] < '0' || slash[1] > '9')
		goto bad;
	len = slash[1] - '0';
	if (slash[2]) {
		if (slash[2] < '0' || slash[2] > '9' || slash[3])
			goto bad;
		len = len * 10 + (slash[2] - '0');
	}
	if (len < 8 || len > 30) {
		set_err(err, errlen,
			"registry: pool '%s' prefix length must be 8..30", cidr);
		return -EINVAL;
	}
	host = ntohl(a.s_addr);
	if (host & (0xffffffffu >> len)) {
		set_err(err, errlen,
			"registry: pool '%s' has host bits set, expected a network address",
			cidr);
		return -EINVAL;
	}
	*net = host;
	*plen = len;
	return 0;
bad:
	set_err(err, errlen,
		"registry: pool '%s' is not an IPv4 prefix like 100.64.0.0/10",
		cidr);
	return -EINVAL;
}

static void v4_bytes(uint32_t a, uint8_t out[4])
{
	out[0] = (uint8_t)(a >> 24);
	out[1] = (uint8_t)(a >> 16);
	out[2] = (uint8_t)(a >> 8);
	out[3] = (uint8_t)a;
}

static int cursor_save(struct registry *r, int64_t next)
{
	sqlite3_stmt *s = st_get(r, ST_CURSOR_SET);

	if (sqlite3_bind_int64(s, 1, r->pool_net) ||
	    sqlite3_bind_int(s, 2, r->pool_plen) ||
	    sqlite3_bind_int64(s, 3, next))
		return sql_fail(r, sqlite3_errcode(r->db), "save pool cursor");
	return st_exec(r, s, "save pool cursor");
}

/* Pick a free address from the pool. Runs inside the caller's transaction. */
static int v4_alloc(struct registry *r, uint32_t *out)
{
	int64_t last = ((int64_t)1 << (32 - r->pool_plen)) - 2;
	int64_t next = 1, start;
	sqlite3_stmt *s;
	int rc, ret = 0;

	s = st_get(r, ST_CURSOR_GET);
	if (sqlite3_bind_int64(s, 1, r->pool_net) ||
	    sqlite3_bind_int(s, 2, r->pool_plen))
		return sql_fail(r, sqlite3_errcode(r->db), "read pool cursor");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		next = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		ret = sql_fail(r, rc, "read pool cursor");
	st_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ret;
	if (next < 1)
		next = 1;
	start = next;

	/* Walk taken addresses at and after the cursor; stop at the first gap. */
	if (next <= last) {
		s = st_get(r, ST_V4_FROM);
		if (sqlite3_bind_int64(s, 1, (int64_t)r->pool_net + next) ||
		    sqlite3_bind_int64(s, 2, (int64_t)r->pool_net + last)) {
			ret = sql_fail(r, sqlite3_errcode(r->db), "scan pool");
			st_done(s);
			return ret;
		}
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (sqlite3_column_int64(s, 0) != (int64_t)r->pool_net + next)
				break;
			next++;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			ret = sql_fail(r, rc, "scan pool");
			st_done(s);
			return ret;
		}
		st_done(s);
	}

	if (next > last) {
		if (next != start) {
			ret = cursor_save(r, next);
			if (ret)
				return ret;
			r->cursor_saved = 1;
		}
		set_err(r->err, sizeof(r->err), "pool %s is exhausted",
			r->pool_text);
		return -ENOSPC;
	}
	ret = cursor_save(r, next + 1);
	if (ret)
		return ret;
	*out = r->pool_net + (uint32_t)next;
	return 0;
}

/*
 * Look up identity's account; with create set, make it (allocating its
 * address) when missing. Runs inside the caller's transaction when creating.
 * Returns 0 with *v4 and *revoked filled, -ENOENT, or another -errno.
 */
static int account_get(struct registry *r, const char *identity, int create,
		       int64_t now, uint32_t *v4, int *revoked)
{
	sqlite3_stmt *s = st_get(r, ST_ACCOUNT_GET);
	int rc, ret = 0;

	if (sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC))
		return sql_fail(r, sqlite3_errcode(r->db), "read account");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v4 = (uint32_t)sqlite3_column_int64(s, 0);
		*revoked = sqlite3_column_int(s, 1) != 0;
	} else if (rc == SQLITE_DONE) {
		set_err(r->err, sizeof(r->err), "registry: no account '%s'",
			identity);
		ret = -ENOENT;
	} else {
		ret = sql_fail(r, rc, "read account");
	}
	st_done(s);
	if (ret != -ENOENT || !create)
		return ret;

	ret = v4_alloc(r, v4);
	if (ret)
		return ret;
	s = st_get(r, ST_ACCOUNT_INSERT);
	if (sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(s, 2, *v4) ||
	    sqlite3_bind_int64(s, 3, now))
		return sql_fail(r, sqlite3_errcode(r->db), "create account");
	ret = st_exec(r, s, "create account");
	if (ret)
		return ret;
	*revoked = 0;
	return 0;
}

/* Owner-only and a regular file, before SQLite ever opens it. */
static int file_prepare(const char *path, char *err, size_t errlen)
{
	static const char *const side[] = { "-wal", "-shm", "-journal" };
	char side_path[PATH_MAX];
	struct stat st;
	int created = 1, fd, ret = 0;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 && errno == EEXIST) {
		created = 0;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "registry: open %s: %s", path,
			strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "registry: stat %s: %s", path,
			strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "registry: %s is not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
		ret = -errno;
		set_err(err, errlen, "registry: chmod %s: %s", path,
			strerror(errno));
		goto out;
	}
	/* SQLite gives its side files the database's mode; fix stale ones. */
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		int sfd;

		if ((size_t)snprintf(side_path, sizeof(side_path), "%s%s", path,
				     side[i]) >= sizeof(side_path)) {
			set_err(err, errlen, "registry: path too long: %s", path);
			ret = -ENAMETOOLONG;
			goto out;
		}
		sfd = open(side_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (sfd < 0)
			continue;
		if (fchmod(sfd, 0600) < 0)
			ret = -errno;
		close(sfd);
		if (ret) {
			set_err(err, errlen, "registry: chmod %s: %s", side_path,
				strerror(-ret));
			goto out;
		}
	}
	if (created) {
		/* The new directory entry must survive a crash too. */
		char dir[PATH_MAX];
		int dfd;

		if (strlen(path) >= sizeof(dir)) {
			set_err(err, errlen, "registry: path too long: %s", path);
			ret = -ENAMETOOLONG;
			goto out;
		}
		strcpy(dir, path);
		dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	close(fd);
	return ret;
}

static int pragma_int(struct registry *r, const char *sql, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(r, rc, sql);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	else
		ret = sql_fail(r, rc, sql);
	sqlite3_finalize(s);
	return ret;
}

static int db_configure(struct registry *r)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc, ret = 0;

	sqlite3_extended_result_codes(r->db, 1);
	rc = sqlite3_busy_timeout(r->db, REGISTRY_BUSY_MS);
	if (rc != SQLITE_OK)
		return sql_fail(r, rc, "busy timeout");
	rc = sqlite3_exec(r->db,
			  "PRAGMA foreign_keys = ON;"
			  "PRAGMA synchronous = FULL;"
			  "PRAGMA trusted_schema = OFF;"
			  "PRAGMA secure_delete = ON;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(r, rc, "pragmas");

	rc = sqlite3_prepare_v2(r->db, "PRAGMA journal_mode = WAL", -1, &s,
				NULL);
	if (rc != SQLITE_OK)
		return sql_fail(r, rc, "journal mode");
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		ret = sql_fail(r, rc, "journal mode");
		goto out;
	}
	mode = sqlite3_column_text(s, 0);
	if (!mode || strcmp((const char *)mode, "wal") != 0) {
		set_err(r->err, sizeof(r->err),
			"registry: database refused WAL journal mode (got %s)",
			mode ? (const char *)mode : "nothing");
		ret = -EIO;
	}
out:
	sqlite3_finalize(s);
	return ret;
}

static int db_migrate(struct registry *r)
{
	int version, app_id, rc, ret;

	ret = pragma_int(r, "PRAGMA application_id", &app_id);
	if (ret)
		return ret;
	if (app_id != 0 && app_id != REGISTRY_APP_ID) {
		set_err(r->err, sizeof(r->err),
			"registry: file belongs to another application (id %d)",
			app_id);
		return -EINVAL;
	}
	rc = sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(r, rc, "begin migration");
	/* Read under the write lock: another process may have migrated. */
	ret = pragma_int(r, "PRAGMA user_version", &version);
	if (ret)
		goto out;
	if (version < 0 || version > REGISTRY_SCHEMA_VERSION) {
		set_err(r->err, sizeof(r->err),
			"registry: schema version %d is newer than this q2qd supports (%d)",
			version, REGISTRY_SCHEMA_VERSION);
		ret = -ENOTSUP;
		goto out;
	}
	for (; version < REGISTRY_SCHEMA_VERSION; version++) {
		rc = sqlite3_exec(r->db, registry_migrations[version], NULL,
				  NULL, NULL);
		if (rc != SQLITE_OK) {
			ret = sql_fail(r, rc, "migrate schema");
			goto out;
		}
	}
out:
	rc = sqlite3_exec(r->db, ret ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !ret)
		ret = sql_fail(r, rc, "commit migration");
	return ret;
}

int registry_open(const char *path, const char *pool_cidr,
		  struct registry **out, char *err, size_t errlen)
{
	struct registry *r = NULL;
	uint32_t net;
	int plen, rc, ret, flags;

	*out = NULL;
	if (!path || !*path) {
		set_err(err, errlen, "registry: no database path");
		return -EINVAL;
	}
	ret = pool_parse(pool_cidr, &net, &plen, err, errlen);
	if (ret)
		return ret;
	ret = file_prepare(path, err, errlen);
	if (ret)
		return ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(err, errlen, "registry: out of memory");
		return -ENOMEM;
	}
	r->pool_net = net;
	r->pool_plen = plen;
	snprintf(r->pool_text, sizeof(r->pool_text), "%u.%u.%u.%u/%d",
		 net >> 24, (net >> 16) & 0xff, (net >> 8) & 0xff, net & 0xff,
		 plen);

	/* No SQLITE_OPEN_CREATE: file_prepare made the file with mode 0600. */
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_NOFOLLOW
	flags |= SQLITE_OPEN_NOFOLLOW;
#endif
	rc = sqlite3_open_v2(path, &r->db, flags, NULL);
	if (rc != SQLITE_OK) {
		ret = r->db ? sql_fail(r, rc, "open") : -ENOMEM;
		if (!r->db)
			set_err(r->err, sizeof(r->err), "registry: out of memory");
		goto fail;
	}
	ret = db_configure(r);
	if (ret)
		goto fail;
	ret = db_migrate(r);
	if (ret)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(r->db, registry_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &r->st[i],
					NULL);
		if (rc != SQLITE_OK) {
			ret = sql_fail(r, rc, "prepare");
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	set_err(err, errlen, "%s", r->err);
	registry_close(r);
	return ret;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(r->st[i]);
	sqlite3_close(r->db);
	free(r);
}

const char *registry_error(const struct registry *r)
{
	return r->err;
}

/* Unpadded base64url (RFC 4648 section 5). */
static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void token_encode(const uint8_t raw[TOKEN_RAW_LEN],
			 char out[REGISTRY_TOKEN_LEN + 1])
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= TOKEN_RAW_LEN; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
			     raw[i + 2];

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	/* 32 = 3 * 10 + 2: two bytes left, three characters. */
	{
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8;

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	out[o] = '\0';
}

/*
 * Exactly REGISTRY_TOKEN_LEN base64url characters, and canonical: the last
 * character carries 4 data bits, so its low two bits must be zero. Anything
 * else is a typo or an attack, not a token we issued.
 */
static int token_wellformed(const char *token)
{
	const char *p;

	if (!token || strnlen(token, REGISTRY_TOKEN_LEN + 1) != REGISTRY_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < REGISTRY_TOKEN_LEN; i++) {
		p = token[i] ? strchr(b64url, token[i]) : NULL;
		if (!p)
			return 0;
		if (i == REGISTRY_TOKEN_LEN - 1 && ((p - b64url) & 3))
			return 0;
	}
	return 1;
}

static int token_hash(struct registry *r, const char *token,
		      uint8_t hash[HASH_LEN])
{
	if (wc_Sha256Hash((const unsigned char *)token, REGISTRY_TOKEN_LEN,
			  hash) != 0) {
		set_err(r->err, sizeof(r->err), "registry: SHA-256 failed");
		return -EIO;
	}
	return 0;
}

static int random_fill(uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

int registry_token_create(struct registry *r, const char *identity,
			  int64_t now, int64_t ttl_s,
			  char token[REGISTRY_TOKEN_LEN + 1])
{
	uint8_t raw[TOKEN_RAW_LEN], hash[HASH_LEN];
	char text[REGISTRY_TOKEN_LEN + 1];
	sqlite3_stmt *s;
	uint32_t v4;
	int revoked, ret;

	ret = identity_check(r, identity);
	if (ret)
		return ret;
	if (ttl_s <= 0 || now < 0 || now > INT64_MAX - ttl_s) {
		set_err(r->err, sizeof(r->err),
			"registry: token lifetime must be positive and not overflow");
		return -EINVAL;
	}
	ret = random_fill(raw, sizeof(raw));
	if (ret) {
		set_err(r->err, sizeof(r->err), "registry: getrandom: %s",
			strerror(-ret));
		goto wipe;
	}
	token_encode(raw, text);
	ret = token_hash(r, text, hash);
	if (ret)
		goto wipe;

	ret = tx_begin(r);
	if (ret)
		goto wipe;
	ret = account_get(r, identity, 1, now, &v4, &revoked);
	if (ret)
		goto end;
	if (revoked) {
		s = st_get(r, ST_ACCOUNT_UNREVOKE);
		if (sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC)) {
			ret = sql_fail(r, sqlite3_errcode(r->db), "unrevoke");
			goto end;
		}
		ret = st_exec(r, s, "unrevoke");
		if (ret)
			goto end;
	}
	s = st_get(r, ST_TOKEN_INSERT);
	if (sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC) ||
	    sqlite3_bind_blob(s, 2, hash, sizeof(hash), SQLITE_STATIC) ||
	    sqlite3_bind_int64(s, 3, now) ||
	    sqlite3_bind_int64(s, 4, now + ttl_s)) {
		ret = sql_fail(r, sqlite3_errcode(r->db), "store token");
		goto end;
	}
	ret = st_exec(r, s, "store token");
end:
	ret = tx_end(r, ret);
	if (ret == 0)
		memcpy(token, text, sizeof(text));
wipe:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(text, sizeof(text));
	return ret;
}

int registry_token_use(struct registry *r, const char *identity,
		       const char *token, int64_t now)
{
	uint8_t hash[HASH_LEN];
	sqlite3_stmt *s;
	int64_t id = 0, expires = 0;
	int used = 0, rc, ret;

	ret = identity_check(r, identity);
	if (ret)
		return ret;
	if (!token_wellformed(token)) {
		set_err(r->err, sizeof(r->err),
			"registry: token is not %d base64url characters",
			REGISTRY_TOKEN_LEN);
		return -EINVAL;
	}
	ret = token_hash(r, token, hash);
	if (ret)
		return ret;

	/* The write lock from the start: two racing uses cannot both win. */
	ret = tx_begin(r);
	if (ret)
		return ret;
	s = st_get(r, ST_TOKEN_GET);
	if (sqlite3_bind_blob(s, 1, hash, sizeof(hash), SQLITE_STATIC)) {
		ret = sql_fail(r, sqlite3_errcode(r->db), "read token");
		goto end;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *owner = sqlite3_column_text(s, 1);

		/* Not secret: the hash already matched. */
		if (!owner || strcmp((const char *)owner, identity) != 0)
			ret = -ENOENT;
		id = sqlite3_column_int64(s, 0);
		expires = sqlite3_column_int64(s, 2);
		used = sqlite3_column_type(s, 3) != SQLITE_NULL;
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = sql_fail(r, rc, "read token");
	}
	st_done(s);
	if (ret == -ENOENT)
		set_err(r->err, sizeof(r->err), "registry: no such token for '%s'",
			identity);
	if (ret)
		goto end;
	if (used) {
		set_err(r->err, sizeof(r->err), "registry: token already used");
		ret = -EALREADY;
		goto end;
	}
	if (now >= expires) {
		set_err(r->err, sizeof(r->err), "registry: token expired");
		ret = -ETIMEDOUT;
		goto end;
	}
	s = st_get(r, ST_TOKEN_MARK);
	if (sqlite3_bind_int64(s, 1, id) || sqlite3_bind_int64(s, 2, now)) {
		ret = sql_fail(r, sqlite3_errcode(r->db), "mark token");
		goto end;
	}
	ret = st_exec(r, s, "mark token");
	if (ret == 0 && sqlite3_changes(r->db) != 1) {
		set_err(r->err, sizeof(r->err), "registry: token already used");
		ret = -EALREADY;
	}
end:
	return tx_end(r, ret);
}

int registry_v4(struct registry *r, const char *identity, uint8_t out[4])
{
	uint32_t v4 = 0;
	int revoked, ret;

	ret = identity_check(r, identity);
	if (ret)
		return ret;
	/* Common case: already allocated, no write lock needed. */
	ret = account_get(r, identity, 0, 0, &v4, &revoked);
	if (ret == 0)
		goto done;
	if (ret != -ENOENT)
		return ret;

	ret = tx_begin(r);
	if (ret)
		return ret;
	ret = account_get(r, identity, 1, (int64_t)time(NULL), &v4, &revoked);
	ret = tx_end(r, ret);
	if (ret)
		return ret;
done:
	v4_bytes(v4, out);
	return 0;
}

int registry_cert_add(struct registry *r, const char *identity,
		      const char *serial_hex, int64_t not_before,
		      int64_t not_after, const uint8_t *der, size_t len)
{
	char serial[REGISTRY_SERIAL_HEX_MAX + 1];
	sqlite3_stmt *s;
	uint32_t v4;
	int revoked, ret;

	ret = identity_check(r, identity);
	if (ret)
		return ret;
	ret = serial_norm(r, serial_hex, serial);
	if (ret)
		return ret;
	if (!der || len == 0 || len > REGISTRY_DER_MAX ||
	    not_before > not_after) {
		set_err(r->err, sizeof(r->err),
			"registry: certificate needs DER of 1..%d bytes and not_before <= not_after",
			REGISTRY_DER_MAX);
		return -EINVAL;
	}

	ret = tx_begin(r);
	if (ret)
		return ret;
	ret = account_get(r, identity, 0, 0, &v4, &revoked);
	if (ret)
		goto end;
	if (revoked) {
		set_err(r->err, sizeof(r->err),
			"registry: account '%s' is revoked", identity);
		ret = -EPERM;
		goto end;
	}
	s = st_get(r, ST_CERT_INSERT);
	if (sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(s, 2, identity, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(s, 3, not_before) ||
	    sqlite3_bind_int64(s, 4, not_after) ||
	    sqlite3_bind_blob(s, 5, der, (int)len, SQLITE_STATIC)) {
		ret = sql_fail(r, sqlite3_errcode(r->db), "store certificate");
		goto end;
	}
	ret = st_exec(r, s, "store certificate");
	if (ret == -EEXIST)
		set_err(r->err, sizeof(r->err),
			"registry: serial %s already recorded", serial);
end:
	return tx_end(r, ret);
}

int registry_revoke(struct registry *r, const char *identity, int64_t now)
{
	static const enum st steps[] = {
		ST_ACCOUNT_REVOKE, ST_CERT_REVOKE_ALL, ST_REV_RECORD,
		ST_REV_PRUNE, ST_TOKEN_CANCEL,
	};
	sqlite3_stmt *s;
	int ret;

	ret = identity_check(r, identity);
	if (ret)
		return ret;
	ret = tx_begin(r);
	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		s = st_get(r, steps[i]);
		/* ?2 is "now" where the statement has it. */
		if (sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC) ||
		    (sqlite3_bind_parameter_count(s) >= 2 &&
		     sqlite3_bind_int64(s, 2, now))) {
			ret = sql_fail(r, sqlite3_errcode(r->db), "revoke");
			goto end;
		}
		ret = st_exec(r, s, "revoke");
		if (ret)
			goto end;
		if (steps[i] == ST_ACCOUNT_REVOKE && sqlite3_changes(r->db) != 1) {
			set_err(r->err, sizeof(r->err),
				"registry: no account '%s'", identity);
			ret = -ENOENT;
			goto end;
		}
	}
end:
	return tx_end(r, ret);
}

int registry_is_revoked(struct registry *r, const char *identity)
{
	uint32_t v4;
	int revoked, ret;

	ret = identity_check(r, identity);
	if (ret)
		return ret;
	ret = account_get(r, identity, 0, 0, &v4, &revoked);
	return ret ? ret : revoked;
}

int registry_serial_revoked(struct registry *r, const char *serial_hex)
{
	char serial[REGISTRY_SERIAL_HEX_MAX + 1];
	sqlite3_stmt *s;
	int rc, ret;

	ret = serial_norm(r, serial_hex, serial);
	if (ret)
		return ret;
	s = st_get(r, ST_SERIAL_GET);
	if (sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC))
		return sql_fail(r, sqlite3_errcode(r->db), "read certificate");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret = sqlite3_column_int(s, 0) != 0;
	} else if (rc == SQLITE_DONE) {
		set_err(r->err, sizeof(r->err), "registry: unknown serial %s",
			serial);
		ret = -ENOENT;
	} else {
		ret = sql_fail(r, rc, "read certificate");
	}
	st_done(s);
	return ret;
}

int64_t registry_revocation_head(struct registry *r)
{
	sqlite3_stmt *s = st_get(r, ST_REV_HEAD);
	int64_t head;
	int rc = sqlite3_step(s);

	head = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : sql_fail(r, rc, "read revocations");
	st_done(s);
	return head;
}

int registry_revocations(struct registry *r, int64_t since, int64_t now, int max,
			 int (*fn)(int64_t seq, const char *serial_hex, int64_t not_after, void *arg),
			 void *arg, int64_t *cursor, int *more)
{
	int64_t head = registry_revocation_head(r), last;
	sqlite3_stmt *s;
	int rc, n = 0, ret = 0;

	*more = 0;
	if (head < 0)
		return (int)head;
	/* A cursor from beyond our numbers is from a registry that was
	 * replaced: the caller gets everything again. */
	if (since < 0 || since > head)
		since = 0;
	last = since;
	s = st_get(r, ST_REV_SINCE);
	if (sqlite3_bind_int64(s, 1, since) || sqlite3_bind_int64(s, 2, now) ||
	    sqlite3_bind_int(s, 3, max + 1)) {
		st_done(s);
		return sql_fail(r, sqlite3_errcode(r->db), "list revocations");
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *serial = sqlite3_column_text(s, 1);

		if (n == max) {
			*more = 1;
			break;
		}
		last = sqlite3_column_int64(s, 0);
		n++;
		if (serial && (ret = fn(last, (const char *)serial, sqlite3_column_int64(s, 2), arg)))
			break;
	}
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = sql_fail(r, rc, "list revocations");
	st_done(s);
	/* Complete: the cursor is the head, past pruned and expired rows. */
	*cursor = *more ? last : head;
	return ret;
}

int registry_account_foreach(struct registry *r,
			     int (*fn)(const char *identity, const uint8_t v4[4],
				       int revoked, int64_t cert_not_after,
				       void *arg),
			     void *arg)
{
	sqlite3_stmt *s = st_get(r, ST_ACCOUNT_LIST);
	int rc, ret = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *identity = sqlite3_column_text(s, 0);
		uint8_t v4[4];

		if (!identity)
			continue;
		v4_bytes((uint32_t)sqlite3_column_int64(s, 1), v4);
		/* max() of no rows is NULL, which reads as 0: no live cert. */
		ret = fn((const char *)identity, v4, sqlite3_column_int(s, 2),
			 sqlite3_column_int64(s, 3), arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sql_fail(r, rc, "list accounts");
	st_done(s);
	return ret;
}
