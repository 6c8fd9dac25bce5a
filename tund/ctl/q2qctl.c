/*
 * q2qctl: the q2q command line. Each subcommand builds one JSON request,
 * sends it over the control socket, and prints the reply as text (or as
 * JSON with --json). Exit status: 0 success, 1 the operation failed,
 * 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/q2q/q2qd.sock"
#define EXIT_USAGE 2
/* The version comes from the VERSION file, through the Makefile. */
#ifndef Q2Q_VERSION
#define Q2Q_VERSION "unknown"
#endif

struct ctl_opts {
	const char *socket;
	int json;
};

struct command {
	const char *name;
	int (*fn)(const struct ctl_opts *o, int argc, char **argv);
	const char *args;
	const char *summary;	/* one line for `q2qctl --help` */
	const char *help;	/* the whole story for `q2qctl COMMAND --help` */
};

static const struct command commands[];

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "q2qctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see q2qctl %s%s--help)\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

/* Sends req (consumed) and returns the reply's result, or NULL after
 * printing the error; *rc gets the exit status. */
static json_object *ctl_call(const struct ctl_opts *o, json_object *req, int *rc)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0, cap = 65536, got = 0;
	char *buf = NULL;
	json_object *reply = NULL, *ok, *v, *result = NULL;
	int fd = -1;

	*rc = 1;
	if (strlen(o->socket) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "q2qctl: socket path '%s' is too long\n", o->socket);
		goto out;
	}
	strcpy(sun.sun_path, o->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "q2qctl: cannot reach q2qd at %s: %s%s\n", o->socket, strerror(errno),
		    errno == ENOENT || errno == ECONNREFUSED ? " (is q2qd running? -s selects another socket)" :
		    errno == EACCES ? " (needs root or the control group)" : "");
		goto out;
	}
	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;	/* q2qd answered and hung up early (a refusal): read it */
		if (n <= 0) {
			perror("q2qctl: write");
			goto out;
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	buf = malloc(cap + 1);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				goto out;
			buf = nb;
			cap *= 2;
		}
	}
	buf[got] = 0;
	reply = json_tokener_parse(buf);
	if (!reply || !json_object_object_get_ex(reply, "ok", &ok)) {
		fprintf(stderr, "q2qctl: q2qd gave no valid reply\n");
		goto out;
	}
	if (!json_object_get_boolean(ok)) {
		const char *e = json_object_object_get_ex(reply, "error", &v) ? json_object_get_string(v) : "failed";
		fprintf(stderr, "q2qctl: %s\n", e);
		if (json_object_object_get_ex(reply, "code", &v))
			*rc = json_object_get_int(v) == EXIT_USAGE ? EXIT_USAGE : 1;
		goto out;
	}
	if (json_object_object_get_ex(reply, "result", &v))
		result = json_object_get(v);
	*rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	json_object_put(reply);
	json_object_put(req);
	return result;
}

static json_object *new_req(const char *cmd)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "cmd", json_object_new_string(cmd));
	return r;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static int jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static void print_time(const char *label, int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	int64_t left = t - (int64_t)time(NULL);

	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", gmtime(&tt));
	if (left >= 0)
		printf("%-16s%s (in %lld days %lld h)\n", label, buf, (long long)(left / 86400),
		    (long long)(left % 86400 / 3600));
	else
		printf("%-16s%s (EXPIRED)\n", label, buf);
}

/* Flags shared by every subcommand: only -h/--help. */
static int want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static int simple_call(const struct ctl_opts *o, json_object *req, void (*print)(json_object *r))
{
	int rc;
	json_object *r = ctl_call(o, req, &rc);

	if (!r)
		return rc;
	if (o->json)
		print_json(r);
	else if (print)
		print(r);
	json_object_put(r);
	return 0;
}

static void print_node(json_object *r)
{
	json_object *v;
	const char *s;

	if (json_object_object_get_ex(r, "enrolled", &v) && !json_object_get_boolean(v)) {
		printf("%-16s%s\n", "identity:", "(not enrolled: see q2qctl enroll --help)");
	} else if ((s = jstr(r, "identity"))) {
		printf("%-16s%s\n", "identity:", s);
		printf("%-16s%s\n", "ipv4:", jstr(r, "ipv4"));
		printf("%-16s%s\n", "ipv6:", jstr(r, "ipv6"));
		print_time("cert expires:", jint(r, "cert_not_after"));
		printf("%-16s%s\n", "authority:", jstr(r, "authority"));
		if ((s = jstr(r, "ca_fingerprint")))
			printf("%-16s%s\n", "ca fingerprint:", s);
		if (json_object_object_get_ex(r, "routes", &v)) {
			printf("%-16s", "routes:");
			for (size_t i = 0; i < json_object_array_length(v); i++)
				printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(v, i)));
			printf("\n");
		}
	}
	if ((s = jstr(r, "message")))
		printf("%s\n", s);
}

/* One line per authority link: when its revocation news was last fresh. */
static void print_revocation_news(json_object *r)
{
	json_object *arr, *v;
	time_t now = time(NULL);

	if (!json_object_object_get_ex(r, "authorities", &arr))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *a = json_object_array_get_idx(arr, i);
		int64_t t = json_object_object_get_ex(a, "revocation_news", &v) && v ?
		    json_object_get_int64(v) : 0;

		printf("%-16s%s: ", i ? "" : "revocations:", jstr(a, "domain"));
		if (t)
			printf("fresh %lld s ago", (long long)(now - t));
		else
			printf("no news yet");
		printf(" (link %s)\n", jstr(a, "link"));
	}
}

/* The authority's connection slots: one line now, one since start. */
static void print_admission(json_object *a)
{
	json_object *ad, *rf, *ev;

	if (!json_object_object_get_ex(a, "admission", &ad) ||
	    !json_object_object_get_ex(ad, "refused", &rf) || !json_object_object_get_ex(ad, "evicted", &ev))
		return;
	printf("%-16s%lld of %lld open, %lld handshakes in progress\n", "  connections:",
	    (long long)jint(ad, "open"), (long long)jint(ad, "slots"),
	    (long long)jint(ad, "handshakes_in_progress"));
	printf("%-16s%lld admitted, refused %lld (source's share) + %lld (full), evicted %lld (make room) "
	    "+ %lld (login timeout)\n", "  since start:", (long long)jint(ad, "admitted"),
	    (long long)jint(rf, "source_share"), (long long)jint(rf, "full"),
	    (long long)jint(ev, "make_room"), (long long)jint(ev, "login_timeout"));
}

static void print_exit_node(json_object *r)
{
	json_object *x;

	if (json_object_object_get_ex(r, "exit_node", &x) && x)
		printf("%-16s%s (%s%s)\n", "exit node:", jstr(x, "identity"),
		    jbool(x, "session") ? "session up" : "no session yet",
		    jbool(x, "grants_default_route") || !jbool(x, "session") ? "" :
		    ", but its certificate grants no default route");
	if (jbool(r, "serving_as_exit_node"))
		printf("%-16s%s\n", "exit node for:", "its peers (this node's certificate grants the default route)");
}

static void print_status(json_object *r)
{
	json_object *a;

	print_node(r);
	if (json_object_object_get_ex(r, "up", &a) && json_object_get_boolean(a))
		printf("%-16s%s, UDP port %lld, authority link %s\n", "overlay:", jstr(r, "interface"),
		    (long long)jint(r, "port"), jstr(r, "authority_link"));
	else if (jstr(r, "identity"))
		printf("%-16s%s\n", "overlay:", "down (q2qctl up)");
	print_exit_node(r);
	print_revocation_news(r);
	if (json_object_object_get_ex(r, "authority_service", &a)) {
		printf("%-16s%s\n", "authority for:", jstr(a, "domain"));
		printf("%-16s%s\n", "  listening:", jstr(a, "listen"));
		printf("%-16s%s\n", "  pool:", jstr(a, "pool"));
		printf("%-16s%s\n", "  ca fingerprint:", jstr(a, "ca_fingerprint"));
		print_admission(a);
	}
}

static int cmd_status(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("status", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("status"), print_status);
}

static void print_token(json_object *r)
{
	printf("%s\n", jstr(r, "token"));
	fprintf(stderr, "one-time token for %s; valid until ", jstr(r, "identity"));
	{
		char buf[64];
		time_t t = (time_t)jint(r, "expires");
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
		fprintf(stderr, "%s\n", buf);
	}
}

static int cmd_identity_only(const char *name, const struct ctl_opts *o, int argc, char **argv,
    void (*print)(json_object *r))
{
	json_object *req;

	if (argc != 2)
		return usage_error(name, argc < 2 ? "needs an identity (user@domain)" :
		    "unexpected argument '%s'", argc > 2 ? argv[2] : "");
	req = new_req(name);
	json_object_object_add(req, "identity", json_object_new_string(argv[1]));
	return simple_call(o, req, print);
}

static int cmd_invite(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_identity_only("invite", o, argc, argv, print_token);
}

static void print_revoked(json_object *r)
{
	printf("revoked %s\n", jstr(r, "identity"));
}

static int cmd_revoke(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_identity_only("revoke", o, argc, argv, print_revoked);
}

static void print_accounts(json_object *r)
{
	json_object *arr;

	if (!json_object_object_get_ex(r, "accounts", &arr))
		return;
	printf("%-32s %-16s %-8s %s\n", "IDENTITY", "IPV4", "STATE", "CERT EXPIRES");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *a = json_object_array_get_idx(arr, i), *v;
		int revoked = json_object_object_get_ex(a, "revoked", &v) && json_object_get_boolean(v);
		int64_t exp = jint(a, "cert_expires");
		char buf[32] = "-";
		time_t t = (time_t)exp;
		if (exp)
			strftime(buf, sizeof(buf), "%Y-%m-%d", gmtime(&t));
		printf("%-32s %-16s %-8s %s\n", jstr(a, "identity"), jstr(a, "ipv4"),
		    revoked ? "revoked" : "active", buf);
	}
}

static int cmd_accounts(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("accounts", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("accounts"), print_accounts);
}

/* The token from path ("-": standard input), surrounding white space
 * dropped: 0, or -errno after saying why, naming the file. A token on the
 * command line is visible to every user in /proc; a file or a pipe is not. */
static int enroll_read_token(const char *path, char *tok, size_t cap)
{
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	size_t n, start = 0;
	int rc = 0;

	if (!f) {
		rc = -errno;
		fprintf(stderr, "q2qctl enroll: cannot read the token from %s: %s\n", name, strerror(-rc));
		return rc;
	}
	n = fread(tok, 1, cap, f);
	if (ferror(f)) {
		rc = -EIO;
		fprintf(stderr, "q2qctl enroll: cannot read the token from %s\n", name);
	}
	if (!is_stdin)
		fclose(f);
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' ' || tok[n - 1] == '\t'))
		n--;
	while (start < n && (tok[start] == ' ' || tok[start] == '\t' || tok[start] == '\n'))
		start++;
	if (rc == 0 && n == cap) {
		rc = -E2BIG;
		fprintf(stderr, "q2qctl enroll: the token in %s is longer than %zu bytes\n", name, cap - 1);
	} else if (rc == 0 && n == start) {
		rc = -ENODATA;
		fprintf(stderr, "q2qctl enroll: %s is empty; expected the token from `q2qctl invite`\n", name);
	}
	if (rc == 0) {
		memmove(tok, tok + start, n - start);
		tok[n - start] = '\0';
	} else {
		explicit_bzero(tok, cap);
	}
	return rc;
}

static int cmd_enroll(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "authority", required_argument, NULL, 'a' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "ca-fingerprint", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *auth = NULL, *token = NULL, *token_file = NULL, *fp = NULL;
	char tok[128];		/* what q2qd's enroll takes, at most */
	json_object *req;
	int c;

	optind = 0;	/* 0, not 1: glibc then resets its permutation state */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "a:t:T:f:", lo, NULL)) != -1) {
		switch (c) {
		case 'a': auth = optarg; break;
		case 't': token = optarg; break;
		case 'T': token_file = optarg; break;
		case 'f': fp = optarg; break;
		default:
			return usage_error("enroll", "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("enroll", optind >= argc ? "needs the identity to enroll (user@domain)" :
		    "unexpected argument '%s'", argv[argc - 1]);
	if (!auth)
		return usage_error("enroll", "needs --authority IP[:PORT]");
	if (token && token_file)
		return usage_error("enroll", "takes --token or --token-file, not both");
	if (!token && !token_file)
		return usage_error("enroll", "needs --token TOKEN, --token - or --token-file FILE "
		    "(from `q2qctl invite` on the authority)");
	if (token && strcmp(token, "-") == 0)
		token_file = "-";
	if (token_file) {
		if (enroll_read_token(token_file, tok, sizeof(tok)) < 0)
			return 1;
		token = tok;
	}
	req = new_req("enroll");
	json_object_object_add(req, "identity", json_object_new_string(argv[optind]));
	json_object_object_add(req, "authority", json_object_new_string(auth));
	json_object_object_add(req, "token", json_object_new_string(token));
	explicit_bzero(tok, sizeof(tok));
	if (fp)
		json_object_object_add(req, "ca_fingerprint", json_object_new_string(fp));
	return simple_call(o, req, print_node);
}

static int cmd_renew(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("renew", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("renew"), print_node);
}

static int cmd_reload(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("reload", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("reload"), NULL);
}

static void print_up(json_object *r)
{
	json_object *v;

	printf("%s is up: %s, %s, %s, UDP port %lld\n", jstr(r, "interface"), jstr(r, "identity"),
	    jstr(r, "ipv4"), jstr(r, "ipv6"), (long long)jint(r, "port"));
	/* Peers cannot find this node until the authority has it. */
	if (json_object_object_get_ex(r, "registered", &v) && !json_object_get_boolean(v))
		printf("not registered with the authority yet (%s); q2qd keeps trying\n",
		    jstr(r, "registration_error"));
}

static int cmd_up(const struct ctl_opts *o, int argc, char **argv)
{
	json_object *req = new_req("up");

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--exit-node") && i + 1 < argc) {
			json_object_object_add(req, "exit_node", json_object_new_string(argv[++i]));
		} else {
			json_object_put(req);
			if (!strcmp(argv[i], "--exit-node"))
				return usage_error("up", "--exit-node needs an identity (user@domain)");
			return usage_error("up", "unexpected argument '%s'", argv[i]);
		}
	}
	return simple_call(o, req, print_up);
}

static void print_down(json_object *r)
{
	json_object *v;

	printf("%s\n", json_object_object_get_ex(r, "was_up", &v) && json_object_get_boolean(v) ?
	    "the overlay is down" : "the overlay was already down");
}

static int cmd_down(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("down", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("down"), print_down);
}

static void print_peers(json_object *r)
{
	json_object *arr;

	if (!json_object_object_get_ex(r, "peers", &arr) || json_object_array_length(arr) == 0) {
		printf("no peers yet\n");
		return;
	}
	printf("%-28s %-15s %-7s %-26s %-9s %12s %12s\n", "PEER", "IPV4", "PATH", "ENDPOINT",
	    "HANDSHAKE", "RX BYTES", "TX BYTES");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *p = json_object_array_get_idx(arr, i), *v;
		char age[32] = "-", via[300];
		const char *ep = jstr(p, "endpoint"), *path = jstr(p, "path");

		/* Which authority relays: ours, or the peer's domain's. */
		if (ep && jstr(p, "relay_authority")) {
			snprintf(via, sizeof(via), "%s (%s)", ep, jstr(p, "relay_authority"));
			ep = via;
		}

		if (json_object_object_get_ex(p, "handshake_age", &v) && !json_object_is_type(v, json_type_null))
			snprintf(age, sizeof(age), "%llds ago", (long long)json_object_get_int64(v));
		printf("%-28s %-15s %-7s %-26s %-9s %12lld %12lld\n", jstr(p, "identity"),
		    jstr(p, "ipv4") ? jstr(p, "ipv4") : "-", jint(p, "hairpin") ? "hairpin" : path, ep ? ep : "-", age,
		    (long long)jint(p, "rx_bytes"), (long long)jint(p, "tx_bytes"));
	}
}

static int cmd_peers(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("peers", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("peers"), print_peers);
}

/* Each rule in force with its hits, by layer, then drops per peer. */
static void print_policy(json_object *r)
{
	json_object *layers, *peers, *v;

	printf("policy for %s: %s; %lld packet(s) denied, %lld flow(s) tracked\n", jstr(r, "identity"),
	    json_object_object_get_ex(r, "active", &v) && json_object_get_boolean(v) ? "enforced" :
	    "none (everything allowed)", (long long)jint(r, "denied"), (long long)jint(r, "flows"));
	if (json_object_object_get_ex(r, "layers", &layers))
		for (size_t i = 0; i < json_object_array_length(layers); i++) {
			json_object *l = json_object_array_get_idx(layers, i), *rules;

			if (!json_object_object_get_ex(l, "present", &v) || !json_object_get_boolean(v)) {
				printf("%s: no policy\n", jstr(l, "source"));
				continue;
			}
			printf("%s (generation %lld, set %llds ago): %lld denied by no rule\n", jstr(l, "source"),
			    (long long)jint(l, "generation"), (long long)jint(l, "age"), (long long)jint(l, "denied"));
			if (!json_object_object_get_ex(l, "rules", &rules) || json_object_array_length(rules) == 0) {
				printf("  no rule names this node: nothing may reach it\n");
				continue;
			}
			for (size_t k = 0; k < json_object_array_length(rules); k++) {
				json_object *ru = json_object_array_get_idx(rules, k);

				printf("  [%lld] from %s to %s allow %s: %lld hit(s)\n", (long long)jint(ru, "index"),
				    json_object_to_json_string_ext(json_object_object_get(ru, "from"), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				    json_object_to_json_string_ext(json_object_object_get(ru, "to"), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				    json_object_to_json_string_ext(json_object_object_get(ru, "allow"), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				    (long long)jint(ru, "hits"));
			}
		}
	if (json_object_object_get_ex(r, "peers", &peers))
		for (size_t i = 0; i < json_object_array_length(peers); i++) {
			json_object *p = json_object_array_get_idx(peers, i);

			if (jint(p, "denied"))
				printf("denied from %s: %lld\n", jstr(p, "identity"), (long long)jint(p, "denied"));
		}
}

static int cmd_policy(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("policy", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("policy"), print_policy);
}

static int resolve_v6;

static void print_resolved(json_object *r)
{
	printf("%s\n", jstr(r, resolve_v6 ? "ipv6" : "ipv4"));
}

static int cmd_resolve(const struct ctl_opts *o, int argc, char **argv)
{
	json_object *req;
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-6"))
			resolve_v6 = 1;
		else if (!strcmp(argv[i], "-4"))
			resolve_v6 = 0;
		else if (argv[i][0] == '-')
			return usage_error("resolve", "unknown option '%s'", argv[i]);
		else if (name)
			return usage_error("resolve", "unexpected argument '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return usage_error("resolve", "needs an identity (user@domain)");
	req = new_req("resolve");
	json_object_object_add(req, "identity", json_object_new_string(name));
	return simple_call(o, req, print_resolved);
}

static void print_whois(json_object *r)
{
	json_object *v;

	printf("%s\n", jstr(r, "identity"));
	if (json_object_object_get_ex(r, "self", &v)) {
		printf("  (this node)\n");
		return;
	}
	printf("  ipv4:   %s\n  ipv6:   %s\n", jstr(r, "ipv4"), jstr(r, "ipv6"));
	if (json_object_object_get_ex(r, "remembered", &v)) {
		printf("  (no peer now: looked up again on first use)\n");
		return;
	}
	if (json_object_object_get_ex(r, "routes", &v) && json_object_array_length(v)) {
		printf("  routes:");
		for (size_t i = 0; i < json_object_array_length(v); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(v, i)));
		printf("\n");
	}
	print_time("  cert expires:", jint(r, "cert_not_after"));
}

static int cmd_whois(const struct ctl_opts *o, int argc, char **argv)
{
	json_object *req;

	if (argc != 2)
		return usage_error("whois", argc < 2 ? "needs an overlay address" : "unexpected argument '%s'",
		    argc > 2 ? argv[2] : "");
	req = new_req("whois");
	json_object_object_add(req, "address", json_object_new_string(argv[1]));
	return simple_call(o, req, print_whois);
}

static void print_trust(json_object *r)
{
	json_object *arr;

	if (!json_object_object_get_ex(r, "domains", &arr))
		return;
	printf("%-28s %-10s %-20s %s\n", "DOMAIN", "LEARNED", "SINCE", "CA FINGERPRINT");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *a = json_object_array_get_idx(arr, i);
		int64_t since = jint(a, "since");
		char buf[32] = "-";
		time_t t = (time_t)since;

		if (since)
			strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", gmtime(&t));
		printf("%-28s %-10s %-20s %s\n", jstr(a, "domain"), jstr(a, "learned"), buf,
		    jstr(a, "ca_fingerprint"));
	}
}

/* trust | trust pin DOMAIN SHA256 | trust forget DOMAIN */
static int cmd_trust(const struct ctl_opts *o, int argc, char **argv)
{
	json_object *req;

	if (argc == 1)
		return simple_call(o, new_req("trust"), print_trust);
	if (!strcmp(argv[1], "pin")) {
		if (argc != 4)
			return usage_error("trust", "pin needs DOMAIN SHA256");
		req = new_req("trust_pin");
		json_object_object_add(req, "domain", json_object_new_string(argv[2]));
		json_object_object_add(req, "fingerprint", json_object_new_string(argv[3]));
		return simple_call(o, req, print_trust);
	}
	if (!strcmp(argv[1], "forget")) {
		if (argc != 3)
			return usage_error("trust", "forget needs DOMAIN");
		req = new_req("trust_forget");
		json_object_object_add(req, "domain", json_object_new_string(argv[2]));
		return simple_call(o, req, print_trust);
	}
	return usage_error("trust", "unknown subcommand '%s' (expected pin or forget)", argv[1]);
}

static int cmd_ping(const struct ctl_opts *o, int argc, char **argv)
{
	const char *name = NULL;
	long count = 3;
	int received = 0, rc = 0;
	json_object *all = json_object_new_array();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			char *end;
			count = strtol(argv[++i], &end, 10);
			if (*end || count < 1 || count > 1000) {
				json_object_put(all);
				return usage_error("ping", "-c wants a count from 1 to 1000, not '%s'", argv[i]);
			}
		} else if (argv[i][0] == '-') {
			json_object_put(all);
			return usage_error("ping", "unknown or incomplete option '%s'", argv[i]);
		} else if (name) {
			json_object_put(all);
			return usage_error("ping", "unexpected argument '%s'", argv[i]);
		} else {
			name = argv[i];
		}
	}
	if (!name) {
		json_object_put(all);
		return usage_error("ping", "needs an identity (user@domain)");
	}
	for (long n = 0; n < count; n++) {
		json_object *req = new_req("ping"), *r;

		json_object_object_add(req, "identity", json_object_new_string(name));
		r = ctl_call(o, req, &rc);
		if (r) {
			received++;
			if (!o->json)
				printf("reply from %s: time=%.3f ms path=%s endpoint=%s\n", name,
				    json_object_get_double(json_object_object_get(r, "rtt_ms")),
				    jstr(r, "path"), jstr(r, "endpoint"));
			json_object_array_add(all, r);
		} else if (rc == EXIT_USAGE) {
			json_object_put(all);
			return rc;
		}
		fflush(stdout);
		if (n + 1 < count)
			usleep(r ? 1000000 : 0);
	}
	if (o->json) {
		json_object *out = json_object_new_object();
		json_object_object_add(out, "identity", json_object_new_string(name));
		json_object_object_add(out, "sent", json_object_new_int((int)count));
		json_object_object_add(out, "received", json_object_new_int(received));
		json_object_object_add(out, "replies", all);
		print_json(out);
		json_object_put(out);
	} else {
		printf("%ld sent, %d received\n", count, received);
		json_object_put(all);
	}
	return received ? 0 : 1;
}

/* The gateway's port mapping: each protocol's answer, then the mapping. */
static void print_portmap(json_object *pm)
{
	json_object *arr, *m;

	if (!json_object_get_boolean(json_object_object_get(pm, "enabled"))) {
		printf("%-32s%s\n", "port mapping:", "off (config portmap)");
		return;
	}
	printf("%-32s%s\n", "gateway:", json_object_object_get(pm, "gateway") ?
	    json_object_get_string(json_object_object_get(pm, "gateway")) : "(no IPv4 default route)");
	if (json_object_object_get_ex(pm, "protocols", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *p = json_object_array_get_idx(arr, i);
			const char *d = jstr(p, "detail"), *name = jstr(p, "name"), *state = jstr(p, "state");
			char label[40];

			snprintf(label, sizeof(label), "port mapping, %s:", name ? name : "?");
			printf("%-32s%s%s%s%s\n", label, state ? state : "?", d ? " (" : "", d ? d : "", d ? ")" : "");
		}
	if (json_object_object_get_ex(pm, "mapping", &m) && m)
		printf("%-32s%s by %s, lifetime %lld s, %lld s left\n", "mapped public endpoint:",
		    jstr(m, "external") ? jstr(m, "external") : "?", jstr(m, "protocol") ? jstr(m, "protocol") : "?",
		    (long long)jint(m, "lifetime"),
		    (long long)jint(m, "expires_in"));
	else
		printf("%-32s%s\n", "mapped public endpoint:", "none");
}

static void print_netcheck(json_object *r)
{
	json_object *v, *arr;

	printf("%-32s%lld\n", "local UDP port:", (long long)jint(r, "local_port"));
	if (json_object_object_get_ex(r, "reflexive", &arr) && json_object_array_length(arr)) {
		printf("%-32s", "seen by the authority as:");
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(arr, i)));
		printf("\n");
	} else {
		printf("%-32s%s\n", "seen by the authority as:", "(no answer from its UDP service yet)");
	}
	if (json_object_object_get_ex(r, "mapping_varies_by_destination", &v)) {
		printf("%-32s%s\n", "behind a NAT:",
		    json_object_get_boolean(json_object_object_get(r, "behind_nat")) ? "yes" : "no");
		printf("%-32s%s\n", "mapping varies by destination:", json_object_get_boolean(v) ?
		    "yes (endpoint-dependent, \"hard\" NAT: direct paths need help)" : "no");
		printf("%-32s%s\n", "port preserved:",
		    json_object_get_boolean(json_object_object_get(r, "port_preserved")) ? "yes" : "no");
	}
	if (json_object_object_get_ex(r, "portmap", &v))
		print_portmap(v);
}

static int cmd_netcheck(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("netcheck", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("netcheck"), print_netcheck);
}

static void print_metrics(json_object *r)
{
	const char *s = jstr(r, "text");

	if (s)
		fputs(s, stdout);
}

static int cmd_metrics(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("metrics", "unexpected argument '%s'", argv[1]);
	return simple_call(o, new_req("metrics"), print_metrics);
}

static const struct command commands[] = {
	{ "status", cmd_status, "",
	  "this node's identity, addresses, certificate, overlay state",
	  "Show this node's identity, overlay addresses, certificate expiry, authority\n"
	  "and CA fingerprint; on an authority, also the domain it serves and its CA\n"
	  "fingerprint (give that to nodes for --ca-fingerprint)." },
	{ "enroll", cmd_enroll,
	  "USER@DOMAIN --authority IP[:PORT] {--token TOKEN|-|--token-file FILE} [--ca-fingerprint SHA256]",
	  "get this node's certificate from its domain's authority",
	  "Enroll this node as USER@DOMAIN. q2qd makes a key pair locally (it never\n"
	  "leaves this machine), sends a certificate request and the one-time TOKEN to\n"
	  "the domain's authority over TLS 1.3, and stores the certificate it gets back.\n"
	  "  --authority IP[:PORT]    the authority's address (port default 8788)\n"
	  "  --token TOKEN            from `q2qctl invite USER@DOMAIN` on the authority;\n"
	  "                           other users can see it in ps: prefer\n"
	  "  --token -                to read it from standard input, or\n"
	  "  --token-file FILE        to read it from FILE\n"
	  "  --ca-fingerprint SHA256  the authority's CA fingerprint (from its\n"
	  "                           `q2qctl status`); without it the CA is trusted on\n"
	  "                           first use and pinned. A changed CA is refused." },
	{ "invite", cmd_invite, "USER@DOMAIN",
	  "(authority) print a one-time enrollment token",
	  "On an authority: print a one-time enrollment token for USER@DOMAIN. The\n"
	  "token expires (authority.token_ttl, default one day) and works once." },
	{ "revoke", cmd_revoke, "USER@DOMAIN",
	  "(authority) revoke an identity's certificates",
	  "On an authority: revoke USER@DOMAIN's certificates. It cannot renew, and\n"
	  "peers refuse it. A new invite lets it enroll again." },
	{ "accounts", cmd_accounts, "",
	  "(authority) list enrolled identities",
	  "On an authority: list enrolled identities, their addresses and state." },
	{ "renew", cmd_renew, "",
	  "renew this node's certificate now",
	  "Renew this node's certificate now (q2qd also does this by itself when a\n"
	  "third of its lifetime is left)." },
	{ "up", cmd_up, "[--exit-node ID]",
	  "join the overlay: create q2q0 and register",
	  "Join the overlay: create the interface (q2q0), give it this node's overlay\n"
	  "addresses, open the UDP port and register with the authority. q2qd remembers\n"
	  "this: after a restart it comes back up by itself, through the same exit node.\n"
	  "--exit-node ID sends everything but q2q's own traffic through the peer ID,\n"
	  "whose certificate grants 0.0.0.0/0 and ::/0 (needs allow_exit_node = true)." },
	{ "down", cmd_down, "",
	  "leave the overlay: remove q2q0 and its routes",
	  "Leave the overlay: remove the interface with its addresses and routes and\n"
	  "close the UDP port. q2qd keeps running." },
	{ "peers", cmd_peers, "",
	  "list peers: path, endpoint, handshake, traffic",
	  "List known peers: identity, overlay address, path (direct, or relay through\n"
	  "the authority), endpoint in use, time since the last handshake, bytes\n"
	  "received and sent. --json adds the candidates tried, the peer's NAT\n"
	  "behaviour, birthday probing and this node's own NAT (see netcheck)." },
	{ "policy", cmd_policy, "",
	  "the identity firewall's rules in force here, and their hits",
	  "Show the identity firewall's rules that this node enforces on packets from\n"
	  "its peers: those its authority sent (groups and policy in the authority's\n"
	  "q2qd.conf) and those of this node's own q2qd.conf, which can only narrow\n"
	  "them. For each rule: where it came from (its index in that file), whom it\n"
	  "lets in, what it allows and how many packets it let in; then the packets\n"
	  "denied, per peer. --json adds the flows tracked. With no policy anywhere,\n"
	  "everything is allowed." },
	{ "resolve", cmd_resolve, "USER@DOMAIN [-4|-6]",
	  "print a name's overlay address",
	  "Print the overlay IPv4 (or with -6 the IPv6) address of USER@DOMAIN, asking\n"
	  "the authority if needed:  ping $(q2qctl resolve bob@example.com)" },
	{ "trust", cmd_trust, "[pin DOMAIN SHA256 | forget DOMAIN]",
	  "which CA speaks for which domain, and how that was learned",
	  "List each domain whose CA this node trusts: its CA fingerprint, how it was\n"
	  "learned (config: a trust entry's fingerprint; dnssec: a DNSSEC-validated\n"
	  "TLSA record; first-use: the first CA seen; manual: q2qctl trust pin;\n"
	  "enrollment: this node's own domain) and since when. trust_policy in\n"
	  "q2qd.conf says what is accepted for a domain without a pin (dnssec,\n"
	  "first-use or pinned).\n"
	  "  pin DOMAIN SHA256   trust only the CA with this fingerprint for DOMAIN\n"
	  "  forget DOMAIN       drop what is known for DOMAIN (not a config pin, not\n"
	  "                      this node's own domain); it is looked up afresh" },
	{ "whois", cmd_whois, "ADDRESS",
	  "print who owns an overlay address",
	  "Print which identity an overlay address belongs to, with the facts its\n"
	  "certificate binds (addresses, routed subnets, expiry)." },
	{ "ping", cmd_ping, "USER@DOMAIN [-c COUNT]",
	  "round trip through the tunnel, and the path used",
	  "Measure the round trip through the tunnel to USER@DOMAIN (a q2q-level echo,\n"
	  "answered by the peer's q2qd), and show the path and endpoint used.\n"
	  "  -c COUNT   number of probes, one per second (default 3)" },
	{ "netcheck", cmd_netcheck, "",
	  "this node's public address, NAT behaviour and port mapping",
	  "Show how the world sees this node: its public address as the authority's\n"
	  "UDP service sees it from two ports, whether a NAT's mapping varies by\n"
	  "destination (a \"hard\" NAT) and whether it preserves the local port; then\n"
	  "which port-mapping protocols (PCP, NAT-PMP, UPnP-IGD) the gateway answered\n"
	  "and the public address, protocol and lifetime of the mapping it granted." },
	{ "metrics", cmd_metrics, "",
	  "counters in the Prometheus text format",
	  "Print q2qd's metrics in the Prometheus text exposition format (0.0.4):\n"
	  "per-peer bytes, packets and path, handshakes, drops by reason, and on an\n"
	  "authority its nodes, enrollments, lookups, brokering and relay. With\n"
	  "metrics_listen set in q2qd.conf, GET /metrics there serves the same text." },
	{ "reload", cmd_reload, "",
	  "re-read the configuration file",
	  "Re-read q2qd's configuration file (same as SIGHUP)." },
	{ NULL, NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: q2qctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "       q2qctl COMMAND --help | --help | --version\n"
	    "\n"
	    "Control the q2q daemon (q2qd) on this machine.\n"
	    "\n"
	    "  -s, --socket PATH   q2qd's control socket (default %s,\n"
	    "                      or $Q2Q_SOCKET)\n"
	    "  -j, --json          print replies as JSON\n"
	    "  -h, --help          show this help; `q2qctl COMMAND --help` for a command\n"
	    "  -V, --version       show the version\n"
	    "\nCommands:\n", DEFAULT_SOCKET);
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nExit status: 0 success, 1 the operation failed, 2 bad usage.\n"
	    "See q2qctl(8), q2qd(8) and q2qd.conf(5).\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = { .socket = getenv("Q2Q_SOCKET") };
	int c, i;

	if (!o.socket || !*o.socket)
		o.socket = DEFAULT_SOCKET;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:jhV", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.socket = optarg; break;
		case 'j': o.json = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("q2qctl %s\n", Q2Q_VERSION); return 0;
		default:
			return usage_error(NULL, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* --json may also follow the command. */
	for (i = optind + 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			o.json = 1;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(argv[0]));
			argc--;
			i--;
		}
	}
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[optind]) != 0)
			continue;
		if (want_help(argc - optind, argv + optind)) {
			printf("usage: q2qctl %s%s%s\n\n%s\n", cmd->name, *cmd->args ? " " : "", cmd->args, cmd->help);
			return 0;
		}
		return cmd->fn(&o, argc - optind, argv + optind);
	}
	return usage_error(NULL, "unknown command '%s'", argv[optind]);
}
