/*
 * The CA trust store, kept in memory as a small array and mirrored to a
 * directory of "<domain>.der" / "<domain>.pin" files. Every change is
 * written atomically before it is reported as done, so a crash can lose a
 * learned CA but never leave half a file or an unpinned replacement. The
 * rule that matters: once a domain has a pin or a certificate, a different
 * CA for it is refused, never silently swapped in.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/cert.h"
#include "identity/file.h"
#include "identity/trust.h"
#include "identity/x509.h"

#define PIN_FILE_MAX 256

struct trust_entry {
	char domain[ID_DOMAIN_MAX + 1];
	uint8_t *der;           /* CA certificate, or NULL if only pinned */
	size_t der_len;
	int has_pin;
	uint8_t pin[32];
	enum trust_source source;
	int64_t since;
};

struct trust_store {
	char *dir;
	struct trust_entry *v;
	size_t n, cap;
};

static struct trust_entry *trust_find(const struct trust_store *ts,
				      const char *domain)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->v[i].domain, domain) == 0)
			return &ts->v[i];
	return NULL;
}

static struct trust_entry *trust_add(struct trust_store *ts, const char *domain)
{
	struct trust_entry *e;

	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 8;

		e = realloc(ts->v, cap * sizeof(*e));
		if (!e)
			return NULL;
		ts->v = e;
		ts->cap = cap;
	}
	e = &ts->v[ts->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	return e;
}

/* Drops the most recently added entry (undo of trust_add). */
static void trust_drop_last(struct trust_store *ts)
{
	struct trust_entry *e = &ts->v[--ts->n];

	free(e->der);
	memset(e, 0, sizeof(*e));
}

static int trust_path(const struct trust_store *ts, const char *domain,
		      const char *ext, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.%s", ts->dir, domain, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int write_pin(const struct trust_store *ts, const char *domain,
		     const uint8_t fp[32])
{
	char path[PATH_MAX], line[66];
	int rc;

	rc = trust_path(ts, domain, "pin", path, sizeof(path));
	if (rc)
		return rc;
	cert_fingerprint_hex(fp, line);
	line[64] = '\n';
	return file_write_atomic(path, line, 65, 0644);
}

static int write_der(const struct trust_store *ts, const char *domain,
		     const uint8_t *der, size_t len)
{
	char path[PATH_MAX];
	int rc;

	rc = trust_path(ts, domain, "der", path, sizeof(path));
	if (rc)
		return rc;
	return file_write_atomic(path, der, len, 0644);
}

static const char *const trust_src_names[] = {
	[TRUST_SRC_UNKNOWN] = "unknown",
	[TRUST_SRC_CONFIG] = "config",
	[TRUST_SRC_DNSSEC] = "dnssec",
	[TRUST_SRC_FIRST_USE] = "first-use",
	[TRUST_SRC_MANUAL] = "manual",
	[TRUST_SRC_ENROLL] = "enrollment",
};

const char *trust_source_name(enum trust_source s)
{
	return (unsigned)s < sizeof(trust_src_names) / sizeof(trust_src_names[0]) ?
	    trust_src_names[s] : "unknown";
}

/* The record of how: losing it loses only the label, never the pin, so a
 * failed write is not an error for the caller. */
static void write_how(const struct trust_store *ts, struct trust_entry *e,
		      enum trust_source src, int64_t now)
{
	char path[PATH_MAX], line[64];
	int n;

	e->source = src;
	e->since = now;
	if (trust_path(ts, e->domain, "how", path, sizeof(path)))
		return;
	n = snprintf(line, sizeof(line), "%s %lld\n", trust_source_name(src), (long long)now);
	if (n > 0 && (size_t)n < sizeof(line))
		file_write_atomic(path, line, (size_t)n, 0644);
}

/* "<source> <seconds>\n"; anything else leaves the label unknown. */
static void parse_how(struct trust_entry *e, const char *buf, size_t len)
{
	char name[16];
	long long t;

	if (len > 40 || sscanf(buf, "%15s %lld", name, &t) != 2 || t < 0)
		return;
	for (size_t i = 1; i < sizeof(trust_src_names) / sizeof(trust_src_names[0]); i++)
		if (strcmp(name, trust_src_names[i]) == 0) {
			e->source = (enum trust_source)i;
			e->since = t;
		}
}

static int load_file(struct trust_store *ts, const char *name)
{
	char stem[ID_DOMAIN_MAX + 1], path[PATH_MAX];
	const char *dot = strrchr(name, '.');
	struct trust_entry *e;
	struct x509_cert c;
	uint8_t *buf = NULL;
	size_t len = 0, sl;
	int is_der, is_how = 0, rc;

	if (!dot)
		return 0;
	if (strcmp(dot, ".der") == 0)
		is_der = 1;
	else if (strcmp(dot, ".pin") == 0)
		is_der = 0;
	else if (strcmp(dot, ".how") == 0)
		is_der = 0, is_how = 1;
	else
		return 0;
	sl = (size_t)(dot - name);
	if (sl == 0 || sl >= sizeof(stem))
		return 0;
	memcpy(stem, name, sl);
	stem[sl] = '\0';
	if (id_parse_domain(stem, NULL, 0))
		return 0;               /* not ours */
	rc = trust_path(ts, stem, is_der ? "der" : is_how ? "how" : "pin", path, sizeof(path));
	if (rc)
		return rc;
	rc = file_read_all(path, is_der ? CERT_DER_MAX : PIN_FILE_MAX, &buf,
			   &len);
	if (rc && is_how)
		return 0;	/* a label only */
	if (rc)
		return rc == -EFBIG ? -EBADMSG : rc;

	e = trust_find(ts, stem);
	if (!e && !(e = trust_add(ts, stem))) {
		rc = -ENOMEM;
		goto out;
	}
	if (is_how) {
		parse_how(e, (const char *)buf, len);
	} else if (is_der) {
		if (x509_ca_check(buf, len, stem, 0, &c, NULL, 0)) {
			rc = -EBADMSG;
			goto out;
		}
		e->der = buf;
		e->der_len = len;
		buf = NULL;
	} else {
		/* file_read_all leaves a NUL after the data. */
		if (len != 65 || buf[64] != '\n') {
			rc = -EBADMSG;
			goto out;
		}
		buf[64] = '\0';
		if (cert_fingerprint_parse((const char *)buf, e->pin)) {
			rc = -EBADMSG;
			goto out;
		}
		e->has_pin = 1;
	}
out:
	free(buf);
	return rc;
}

int trust_open(const char *dir, struct trust_store **out)
{
	struct trust_store *ts;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int rc = 0;

	*out = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->dir = strdup(dir);
	if (!ts->dir) {
		rc = -ENOMEM;
		goto fail;
	}
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		goto fail;
	}
	while ((errno = 0, de = readdir(d))) {
		rc = load_file(ts, de->d_name);
		if (rc)
			goto fail;
	}
	if (errno) {
		rc = -errno;
		goto fail;
	}
	for (size_t i = 0; i < ts->n; i++) {
		struct trust_entry *e = &ts->v[i];
		uint8_t fp[32];

		if (!e->der && !e->has_pin) {
			/* a stray .how: nothing is trusted by it */
			*e = ts->v[--ts->n];
			i--;
			continue;
		}
		if (!e->der || !e->has_pin)
			continue;
		cert_fingerprint(e->der, e->der_len, fp);
		if (memcmp(fp, e->pin, 32) != 0) {
			rc = -EBADMSG;  /* someone edited one but not the other */
			goto fail;
		}
	}
	closedir(d);
	*out = ts;
	return 0;
fail:
	if (d)
		closedir(d);
	trust_free(ts);
	return rc;
}

void trust_free(struct trust_store *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		free(ts->v[i].der);
	free(ts->v);
	free(ts->dir);
	free(ts);
}

int trust_pin(struct trust_store *ts, const char *domain, const uint8_t fp[32])
{
	return trust_pin_from(ts, domain, fp, TRUST_SRC_CONFIG, (int64_t)time(NULL));
}

int trust_pin_from(struct trust_store *ts, const char *domain, const uint8_t fp[32],
		   enum trust_source src, int64_t now)
{
	struct trust_entry *e;
	uint8_t have[32];
	int rc, added = 0;

	if (id_parse_domain(domain, NULL, 0))
		return -EINVAL;
	e = trust_find(ts, domain);
	if (e && e->has_pin)
		return memcmp(e->pin, fp, 32) == 0 ? 0 : -EEXIST;
	if (e && e->der) {
		cert_fingerprint(e->der, e->der_len, have);
		if (memcmp(have, fp, 32) != 0)
			return -EEXIST;
	}
	if (!e) {
		e = trust_add(ts, domain);
		if (!e)
			return -ENOMEM;
		added = 1;
	}
	rc = write_pin(ts, domain, fp);
	if (rc) {
		if (added)
			trust_drop_last(ts);
		return rc;
	}
	memcpy(e->pin, fp, 32);
	e->has_pin = 1;
	write_how(ts, e, src, now);
	return 0;
}

static enum trust_verdict trust_decide(struct trust_store *ts, const char *domain,
				       const uint8_t *ca_der, size_t len, int allow_tofu,
				       enum trust_source learn_src, char *err, size_t errlen)
{
	char e_[160], have_hex[65], got_hex[65];
	struct trust_entry *e;
	struct x509_cert c;
	uint8_t fp[32], *copy;
	int rc;

	if (id_parse_domain(domain, e_, sizeof(e_))) {
		x509_err(0, err, errlen, "%s", e_);
		return TRUST_MISMATCH;
	}
	if (len > CERT_DER_MAX ||
	    x509_ca_check(ca_der, len, domain, 0, &c, e_, sizeof(e_))) {
		x509_err(0, err, errlen, "CA certificate offered for %s is invalid: %s",
			 domain, len > CERT_DER_MAX ? "too large" : e_);
		return TRUST_MISMATCH;
	}
	cert_fingerprint(ca_der, len, fp);
	cert_fingerprint_hex(fp, got_hex);
	e = trust_find(ts, domain);
	if (e && e->der) {
		if (e->der_len == len && memcmp(e->der, ca_der, len) == 0)
			return TRUST_MATCH;
		cert_fingerprint(e->der, e->der_len, fp);
		cert_fingerprint_hex(fp, have_hex);
		x509_err(0, err, errlen,
			 "the CA for %s changed: trusted %s, offered %s",
			 domain, have_hex, got_hex);
		return TRUST_MISMATCH;
	}
	if (e && e->has_pin) {
		if (memcmp(e->pin, fp, 32) != 0) {
			cert_fingerprint_hex(e->pin, have_hex);
			x509_err(0, err, errlen,
				 "the CA for %s does not match its pin: pinned %s, offered %s",
				 domain, have_hex, got_hex);
			return TRUST_MISMATCH;
		}
		copy = malloc(len);
		if (!copy)
			return TRUST_MATCH;     /* the pin decided; caching failed */
		memcpy(copy, ca_der, len);
		e->der = copy;
		e->der_len = len;
		/* The pin is on disk already; the file is a cache of the cert. */
		write_der(ts, domain, ca_der, len);
		return TRUST_MATCH;
	}
	if (!allow_tofu) {
		x509_err(0, err, errlen,
			 "no CA known for %s (pin its fingerprint %s or allow trust on first use)",
			 domain, got_hex);
		return TRUST_UNKNOWN;
	}
	copy = malloc(len);
	e = copy ? trust_add(ts, domain) : NULL;
	if (!e) {
		free(copy);
		x509_err(0, err, errlen, "out of memory");
		return TRUST_UNKNOWN;
	}
	memcpy(copy, ca_der, len);
	e->der = copy;
	e->der_len = len;
	rc = write_der(ts, domain, ca_der, len);
	if (!rc)
		rc = write_pin(ts, domain, fp);
	if (rc) {
		char path[PATH_MAX];

		/* A .der without its pin would be trusted on the next open. */
		if (!trust_path(ts, domain, "der", path, sizeof(path)))
			unlink(path);
		trust_drop_last(ts);
		x509_err(0, err, errlen, "cannot store the CA for %s in %s: %s",
			 domain, ts->dir, strerror(-rc));
		return TRUST_UNKNOWN;
	}
	memcpy(e->pin, fp, 32);
	e->has_pin = 1;
	write_how(ts, e, learn_src, (int64_t)time(NULL));
	return TRUST_LEARNED;
}

enum trust_verdict trust_check(struct trust_store *ts, const char *domain,
			       const uint8_t *ca_der, size_t len,
			       int allow_tofu, char *err, size_t errlen)
{
	return trust_decide(ts, domain, ca_der, len, allow_tofu, TRUST_SRC_FIRST_USE, err, errlen);
}

enum trust_verdict trust_learn(struct trust_store *ts, const char *domain,
			       const uint8_t *ca_der, size_t len,
			       enum trust_source src, int64_t now,
			       char *err, size_t errlen)
{
	enum trust_verdict v = trust_decide(ts, domain, ca_der, len, 1, src, err, errlen);
	struct trust_entry *e = trust_find(ts, domain);

	if (v == TRUST_LEARNED && e && e->since != now)
		write_how(ts, e, src, now);
	return v;
}

int trust_forget(struct trust_store *ts, const char *domain)
{
	static const char *const exts[] = { "pin", "der", "how" };
	struct trust_entry *e = trust_find(ts, domain);
	char path[PATH_MAX];
	int rc = 0;

	if (!e)
		return -ENOENT;
	/* Every file is gone before this reports done: a .der left behind
	 * would be trusted again at the next open. */
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!trust_path(ts, domain, exts[i], path, sizeof(path)) &&
		    unlink(path) < 0 && errno != ENOENT && !rc)
			rc = -errno;
	if (rc)
		return rc;
	free(e->der);
	*e = ts->v[--ts->n];
	return 0;
}

int trust_known(const struct trust_store *ts, const char *domain)
{
	const struct trust_entry *e = trust_find(ts, domain);

	return e && (e->der || e->has_pin);
}

void trust_list(const struct trust_store *ts,
		void (*fn)(const struct trust_info *ti, void *arg), void *arg)
{
	for (size_t i = 0; i < ts->n; i++) {
		const struct trust_entry *e = &ts->v[i];
		struct trust_info ti = {
			.domain = e->domain, .have_cert = e->der != NULL,
			.source = e->source, .since = e->since,
		};

		if (e->has_pin)
			memcpy(ti.fingerprint, e->pin, 32);
		else if (e->der)
			cert_fingerprint(e->der, e->der_len, ti.fingerprint);
		fn(&ti, arg);
	}
}

int trust_get(const struct trust_store *ts, const char *domain,
	      const uint8_t **der, size_t *len)
{
	const struct trust_entry *e = trust_find(ts, domain);

	if (!e || !e->der)
		return -ENOENT;
	*der = e->der;
	*len = e->der_len;
	return 0;
}

int trust_foreach(const struct trust_store *ts,
		  int (*fn)(const char *domain, const uint8_t *der, size_t len,
			    void *arg),
		  void *arg)
{
	for (size_t i = 0; i < ts->n; i++) {
		int rc;

		if (!ts->v[i].der)
			continue;
		rc = fn(ts->v[i].domain, ts->v[i].der, ts->v[i].der_len, arg);
		if (rc)
			return rc;
	}
	return 0;
}
