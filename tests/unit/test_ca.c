/*
 * Tests for tund/authority/ca.c, the CA process, driven over its socket as
 * a compromised engine would: it hands out a serving certificate that
 * verifies under its CA, signs what the configuration allows, and refuses
 * the rest with a reason — another domain, a CSR for someone else, an
 * address outside the pool or certified for another identity (also after a
 * restart: the ledger), too many days, a subnet not granted. Start errors
 * (a CA directory others can read, another domain's CA, a broken ledger)
 * come back from ca_spawn as text, and an old CA in state_dir/authority
 * moves to the CA directory. No root needed: a CA directory in a
 * mkdtemp directory.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity/cert.h"
#include "identity/file.h"
#include "identity/key.h"
#include "tests/unit/harness.h"
#include "tund/authority/ca.h"
#include "tund/authority/camsg.h"
#include "tund/conf/config.h"

static char tmpdir[64];
static struct config cfg;
static char err[1024];
static uint8_t rx[CAMSG_MAX + 1], tx[CAMSG_MAX];
static struct camsg rep;
static uint8_t *ca_der;
static size_t ca_len;
static struct id_key *node_key;

static void config_for(const char *domain, const char *sub)
{
	config_defaults(&cfg);
	cfg.authority.enabled = 1;
	snprintf(cfg.authority.domain, sizeof(cfg.authority.domain), "%s", domain);
	snprintf(cfg.authority.ca_dir, sizeof(cfg.authority.ca_dir), "%s/%s", tmpdir, sub);
	cfg.authority.cert_days = 30;
	cfg.authority.n_grants = 1;
	snprintf(cfg.authority.grants[0].identity, sizeof(cfg.authority.grants[0].identity),
		 "bob@%s", domain);
	cfg.authority.grants[0].n_subnets = 2;
	addr_prefix_parse("203.0.113.0/24", &cfg.authority.grants[0].subnets[0]);
	addr_prefix_parse("fd00:1::/64", &cfg.authority.grants[0].subnets[1]);
}

static int spawn(pid_t *pid, int *fd)
{
	err[0] = '\0';
	return ca_spawn(&cfg, pid, fd, err, sizeof(err));
}

/* Closes the engine's end and expects the CA to exit by itself. */
static void stop(pid_t pid, int fd)
{
	int status = -1;

	close(fd);
	for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		H_FAIL("the CA process did not exit cleanly (status %d)", status);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

/* One request, one answer within 5 s; 0 or -1. */
static int call(int fd, const struct camsg *req)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = camsg_encode(req, tx, sizeof(tx));
	ssize_t got;

	if (n <= 0 || send(fd, tx, (size_t)n, 0) != n || poll(&p, 1, 5000) != 1)
		return -1;
	got = recv(fd, rx, sizeof(rx), 0);
	if (got <= 0 || camsg_decode(rx, (size_t)got, &rep) < 0)
		return -1;
	return 0;
}

static void sign_req(struct camsg *q, const char *identity, const char *csr_id, const char *v4,
		     uint8_t **csr)
{
	size_t len = 0;

	memset(q, 0, sizeof(*q));
	q->type = CAMSG_SIGN;
	q->id = (uint32_t)rand();
	snprintf(q->identity, sizeof(q->identity), "%s", identity);
	if (cert_csr_make(node_key, csr_id, csr, &len))
		abort();
	q->csr = *csr;
	q->csr_len = len;
	inet_pton(AF_INET, v4, q->v4);
	q->days = 30;
}

/* Sends q, expects a refusal mentioning why. */
static void check_refused(int fd, const struct camsg *q, const char *why)
{
	if (call(fd, q) < 0) {
		H_FAIL("no answer to SIGN for %s", q->identity);
		return;
	}
	if (rep.type != CAMSG_ERROR || rep.id != q->id || !strstr(rep.text, why))
		H_FAIL("SIGN %s: type %d id %u text \"%s\", expected a refusal with \"%s\"",
		       q->identity, rep.type, rep.id, rep.text, why);
}

static void check_signed(int fd, const struct camsg *q, struct cert_info *ci)
{
	if (call(fd, q) < 0) {
		H_FAIL("no answer to SIGN for %s", q->identity);
		return;
	}
	if (rep.type != CAMSG_CERT || rep.id != q->id) {
		H_FAIL("SIGN %s: type %d text \"%s\", expected a certificate", q->identity, rep.type,
		       rep.text);
		return;
	}
	CHECK_INT(cert_verify(rep.cert, rep.cert_len, ca_der, ca_len, (int64_t)time(NULL), ci,
			      err, sizeof(err)), 0);
	CHECK_STR(ci->identity, q->identity);
	CHECK_MEM(ci->v4, q->v4, 4);
}

static void test_serve(void)
{
	struct camsg q;
	struct cert_info ci;
	uint8_t *csr = NULL, junk[3] = { CAMSG_SIGN, 1, 2 };
	char path[256];
	struct stat st;
	pid_t pid;
	int fd;

	config_for("example.com", "ca");
	CHECK_INT(spawn(&pid, &fd), 0);
	if (err[0]) {
		H_FAIL("%s", err);
		return;
	}
	snprintf(path, sizeof(path), "%s/ca", tmpdir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
	snprintf(path, sizeof(path), "%s/ca/ca.key", tmpdir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	memset(&q, 0, sizeof(q));
	q.type = CAMSG_GET_SERVING;
	CHECK_INT(call(fd, &q), 0);
	CHECK_INT(rep.type, CAMSG_SERVING);
	ca_der = malloc(rep.ca_len ? rep.ca_len : 1);
	memcpy(ca_der, rep.ca, rep.ca_len);
	ca_len = rep.ca_len;
	CHECK_INT(cert_serving_verify(rep.cert, rep.cert_len, ca_der, ca_len, "example.com",
				      (int64_t)time(NULL), err, sizeof(err)), 0);
	CHECK(rep.key_len > 0);

	/* bob: his address, both granted subnets */
	sign_req(&q, "bob@example.com", "bob@example.com", "100.64.0.2", &csr);
	q.n_subnets = 2;
	q.subnets[0] = cfg.authority.grants[0].subnets[1];
	q.subnets[1] = cfg.authority.grants[0].subnets[0];
	check_signed(fd, &q, &ci);
	CHECK_INT(ci.n_routes, 2);
	/* the same pair again (a renewal) is fine */
	q.n_subnets = 0;
	check_signed(fd, &q, &ci);
	CHECK_INT(ci.n_routes, 0);
	q.days = 31;
	check_refused(fd, &q, "at most 30");
	q.days = 30;
	q.n_subnets = 1;
	addr_prefix_parse("203.0.0.0/16", &q.subnets[0]);
	check_refused(fd, &q, "not granted");
	q.n_subnets = 2;
	q.subnets[0] = q.subnets[1] = cfg.authority.grants[0].subnets[0];
	check_refused(fd, &q, "twice");
	free(csr);

	/* carol: bob's address, bob's subnet, a CSR for someone else */
	sign_req(&q, "carol@example.com", "carol@example.com", "100.64.0.2", &csr);
	check_refused(fd, &q, "100.64.0.2 was certified for bob@example.com");
	inet_pton(AF_INET, "100.64.0.3", q.v4);
	q.n_subnets = 1;
	q.subnets[0] = cfg.authority.grants[0].subnets[0];
	check_refused(fd, &q, "not granted");
	q.n_subnets = 0;
	inet_pton(AF_INET, "10.0.0.3", q.v4);
	check_refused(fd, &q, "pool 100.64.0.0/10");
	inet_pton(AF_INET, "100.64.0.0", q.v4);
	check_refused(fd, &q, "not a host address");
	inet_pton(AF_INET, "100.127.255.255", q.v4);
	check_refused(fd, &q, "not a host address");
	inet_pton(AF_INET, "100.64.0.3", q.v4);
	snprintf(q.identity, sizeof(q.identity), "dave@example.com");
	check_refused(fd, &q, "the CSR is for 'carol@example.com'");
	snprintf(q.identity, sizeof(q.identity), "Carol@example.com");
	check_refused(fd, &q, "upper");
	free(csr);
	sign_req(&q, "carol@example.org", "carol@example.org", "100.64.0.3", &csr);
	check_refused(fd, &q, "not an identity of example.com");
	free(csr);
	sign_req(&q, "carol@example.com", "carol@example.com", "100.64.0.3", &csr);
	csr[q.csr_len - 3] ^= 0x40;	/* the signature */
	check_refused(fd, &q, "bad CSR");
	csr[q.csr_len - 3] ^= 0x40;
	/* junk and a reply-type message are ignored; the CA keeps serving */
	CHECK_INT(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	CHECK_INT(send(fd, "\x01", 1, 0), 1);	/* START_OK: not a request */
	check_signed(fd, &q, &ci);
	free(csr);
	stop(pid, fd);

	/* Restarted, the ledger still gives 100.64.0.2 to bob alone. */
	snprintf(path, sizeof(path), "%s/ca/issued", tmpdir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_INT(spawn(&pid, &fd), 0);
	if (err[0]) {
		H_FAIL("%s", err);
		return;
	}
	sign_req(&q, "carol@example.com", "carol@example.com", "100.64.0.2", &csr);
	check_refused(fd, &q, "certified for bob@example.com");
	inet_pton(AF_INET, "100.64.0.3", q.v4);
	check_signed(fd, &q, &ci);
	free(csr);
	stop(pid, fd);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	CHECK_INT(file_write_atomic(path, text, strlen(text), mode), 0);
}

static void test_start_errors(void)
{
	char path[256], cmd[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	pid_t pid;
	int fd;

	/* a directory others can read is refused, not chmod'ed */
	config_for("example.com", "open");
	snprintf(path, sizeof(path), "%s/open", tmpdir);
	CHECK_INT(mkdir(path, 0755), 0);
	chmod(path, 0755);
	CHECK(spawn(&pid, &fd) < 0);
	CHECK(strstr(err, "must be 0700") != NULL);

	/* another domain's CA in the directory */
	config_for("example.org", "ca");
	CHECK(spawn(&pid, &fd) < 0);
	CHECK(strstr(err, "is the CA of 'example.com', but the config says domain 'example.org'") != NULL);

	/* an unreadable key */
	snprintf(cmd, sizeof(cmd), "cp -a '%s/ca' '%s/badkey'", tmpdir, tmpdir);
	CHECK_INT(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/badkey/ca.key", tmpdir);
	write_file(path, "not a key\n", 0600);
	config_for("example.com", "badkey");
	CHECK(spawn(&pid, &fd) < 0);
	CHECK(strstr(err, "cannot load CA key") != NULL);

	/* a ledger line that is not "identity address" */
	snprintf(cmd, sizeof(cmd), "cp -a '%s/ca' '%s/badledger'", tmpdir, tmpdir);
	CHECK_INT(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/badledger/issued", tmpdir);
	write_file(path, "bob@example.com 100.64.0.2\ncarol@example.com 100.64.0.2\n", 0600);
	config_for("example.com", "badledger");
	CHECK(spawn(&pid, &fd) < 0);
	CHECK(strstr(err, "line 2: address already recorded") != NULL);
	write_file(path, "bob@example.com 100.64.0.2\nnonsense\n", 0600);
	CHECK(spawn(&pid, &fd) < 0);
	CHECK(strstr(err, "line 2: expected") != NULL);

	/* a torn last line is cut off, the rest kept */
	write_file(path, "bob@example.com 100.64.0.2\ncarol@exam", 0600);
	CHECK_INT(spawn(&pid, &fd), 0);
	if (err[0])
		H_FAIL("%s", err);
	else
		stop(pid, fd);
	CHECK_INT(file_read_all(path, 4096, &buf, &len), 0);
	CHECK_INT(len, strlen("bob@example.com 100.64.0.2\n"));
	free(buf);
}

/* An authority from before the CA process: its CA moves to ca_dir. */
static void test_migrate(void)
{
	char dir[200], path[256], path2[256];
	struct id_key *k = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	struct camsg q;
	struct stat st;
	pid_t pid;
	int fd;

	snprintf(dir, sizeof(dir), "%s/state/authority", tmpdir);
	snprintf(path, sizeof(path), "%s/state", tmpdir);
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(mkdir(dir, 0700), 0);
	CHECK_INT(cert_ca_create("example.com", 30, &k, &der, &len), 0);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	CHECK_INT(key_save(k, path), 0);
	snprintf(path2, sizeof(path2), "%s/ca.der", dir);
	CHECK_INT(file_write_atomic(path2, der, len, 0600), 0);
	config_for("example.com", "moved");
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", tmpdir);
	CHECK_INT(spawn(&pid, &fd), 0);
	if (err[0]) {
		H_FAIL("%s", err);
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.type = CAMSG_GET_SERVING;
	CHECK_INT(call(fd, &q), 0);
	CHECK_INT(rep.ca_len, len);
	if (rep.ca_len == len)
		CHECK_MEM(rep.ca, der, len);
	stop(pid, fd);
	CHECK(access(path, F_OK) < 0 && access(path2, F_OK) < 0);
	snprintf(path, sizeof(path), "%s/moved/ca.key", tmpdir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* a symlink in the engine's directory is not followed */
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	CHECK_INT(symlink("/etc/passwd", path), 0);
	CHECK_INT(file_write_atomic(path2, der, len, 0600), 0);
	config_for("example.com", "moved2");
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", tmpdir);
	CHECK(spawn(&pid, &fd) < 0);
	CHECK(strstr(err, "cannot move the CA") != NULL);
out:
	key_free(k);
	free(der);
}

int main(void)
{
	char cmd[128];

	wolfSSL_Init();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/q2q-test-ca-XXXXXX");
	if (!mkdtemp(tmpdir) || key_generate(&node_key))
		return 2;
	RUN(test_serve);
	RUN(test_start_errors);
	RUN(test_migrate);
	key_free(node_key);
	free(ca_der);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	wolfSSL_Cleanup();
	return HARNESS_END();
}
