/*
 * Fuzz target for the control-plane framing (netstack/msg.c): the input is
 * what a peer sent down the TLS stream. msg_frame_len sizes the first
 * frame, msg_open checks it, and every lookup runs over every tag present.
 * A naive walk of the TLVs here is the model: msg_next must return the
 * same values in the same order, the typed getters must agree with the raw
 * value, and re-encoding the model with msg_writer must give back the frame
 * byte for byte.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/msg.h"

#define MAX_TLVS 2048
#define MAX_TAGS 32	/* distinct tags looked up per frame: bounds the cost */

struct tlv {
	uint16_t tag;
	const uint8_t *val;
	size_t len;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The slow twin of msg_open: -1 if the TLVs do not tile the body exactly. */
static int model_walk(const uint8_t *body, size_t len, struct tlv *t, int max)
{
	size_t off = 0;
	int n = 0;

	while (off < len) {
		if (len - off < 4 || n == max)
			return -1;
		t[n].tag = be16(body + off);
		t[n].len = be16(body + off + 2);
		if (len - off - 4 < t[n].len)
			return -1;
		t[n].val = body + off + 4;
		off += 4 + t[n].len;
		n++;
	}
	return n;
}

static void check_tag(const struct msg_reader *r, const struct tlv *t, int n,
		      uint16_t tag, size_t strcap)
{
	const uint8_t *p;
	size_t len, iter = 0;
	int first = -1, k = 0;
	char *s;
	uint32_t v32;
	uint64_t v64;
	int rc;

	for (int i = 0; i < n; i++) {
		if (t[i].tag != tag)
			continue;
		if (first < 0)
			first = i;
		FZ_CHECK(msg_next(r, tag, &iter, &p, &len) == 0);
		FZ_CHECK(p == t[i].val && len == t[i].len);
		k++;
	}
	FZ_CHECK(msg_next(r, tag, &iter, &p, &len) == -ENOENT);
	if (first < 0) {
		FZ_CHECK(msg_get(r, tag, &p, &len) == -ENOENT);
		FZ_CHECK(msg_get_u32(r, tag, &v32) == -ENOENT);
		return;
	}
	FZ_CHECK(msg_get(r, tag, &p, &len) == 0 && p == t[first].val);

	rc = msg_get_u32(r, tag, &v32);
	FZ_CHECK(t[first].len == 4 ? rc == 0 && v32 == be32(p) : rc == -EINVAL);
	rc = msg_get_u64(r, tag, &v64);
	FZ_CHECK(t[first].len == 8 ?
		 rc == 0 && v64 == ((uint64_t)be32(p) << 32 | be32(p + 4)) :
		 rc == -EINVAL);

	/* An exactly sized heap buffer: ASan catches a terminator past cap. */
	s = malloc(strcap ? strcap : 1);
	FZ_CHECK(s);
	rc = msg_get_str(r, tag, s, strcap);
	if (memchr(p, 0, len))
		FZ_CHECK(rc == -EINVAL);
	else if (strcap == 0 || len > strcap - 1)
		FZ_CHECK(rc == -ENAMETOOLONG);
	else
		FZ_CHECK(rc == 0 && memcmp(s, p, len) == 0 && s[len] == 0);
	free(s);
}

/* Re-encodes the model and compares with the frame. */
static void check_rebuild(const uint8_t *frame, size_t len, uint8_t type,
			  const struct tlv *t, int n)
{
	struct msg_writer w;
	uint8_t *out = malloc(len);

	FZ_CHECK(out);
	msg_begin(&w, out, len, type);
	for (int i = 0; i < n; i++)
		msg_put_bytes(&w, t[i].tag, t[i].val, t[i].len);
	FZ_CHECK(msg_finish(&w) == (int)len);
	FZ_CHECK(memcmp(out, frame, len) == 0);
	/* One byte less must fail cleanly, not write past the buffer. */
	msg_begin(&w, out, len - 1, type);
	for (int i = 0; i < n; i++)
		msg_put_bytes(&w, t[i].tag, t[i].val, t[i].len);
	FZ_CHECK(msg_finish(&w) == -ENOSPC);
	free(out);
}

static void check_frame(const uint8_t *frame, size_t len, size_t strcap)
{
	static struct tlv t[MAX_TLVS];
	struct msg_reader r;
	uint16_t tags[MAX_TAGS];
	int rc, n, ntags = 0;
	uint8_t type;

	rc = msg_open(&r, frame, len, &type);
	n = len >= MSG_HDR_LEN && be32(frame) == len - 4 && len <= MSG_FRAME_MAX ?
	    model_walk(frame + MSG_HDR_LEN, len - MSG_HDR_LEN, t, MAX_TLVS) : -1;
	if (n == -1 && len >= MSG_HDR_LEN && be32(frame) == len - 4 &&
	    (len - MSG_HDR_LEN) / 4 >= MAX_TLVS)
		return;		/* too many TLVs for the model's table */
	FZ_CHECK((rc == 0) == (n >= 0));
	if (rc != 0) {
		FZ_CHECK(rc == -EINVAL);
		return;
	}
	FZ_CHECK(type == frame[4]);
	FZ_CHECK(r.body == frame + MSG_HDR_LEN && r.len == len - MSG_HDR_LEN);
	for (int i = 0; i < n; i++) {
		int seen = 0;

		for (int j = 0; j < ntags; j++)
			seen |= tags[j] == t[i].tag;
		if (!seen && ntags < MAX_TAGS)
			tags[ntags++] = t[i].tag;
	}
	for (int j = 0; j < ntags; j++)
		check_tag(&r, t, n, tags[j], strcap);
	/* A tag that is absent. */
	for (uint16_t tag = 0;; tag++) {
		int seen = 0;

		for (int i = 0; i < n; i++)
			seen |= t[i].tag == tag;
		if (!seen) {
			check_tag(&r, t, n, tag, strcap);
			break;
		}
	}
	check_rebuild(frame, len, type, t, n);
}

/*
 * Input: one byte for the string buffer size given to msg_get_str, then
 * the stream bytes.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t strcap;
	int flen;

	if (size < 1)
		return 0;
	strcap = data[0];
	data++;
	size--;
	flen = msg_frame_len(data, size);
	if (size < 4) {
		FZ_CHECK(flen == 0);
	} else if (be32(data) == 0 || be32(data) > MSG_MAX_LEN) {
		FZ_CHECK(flen == -EMSGSIZE);
	} else if (size < 4 + (size_t)be32(data)) {
		FZ_CHECK(flen == 0);
	} else {
		uint8_t *frame;

		FZ_CHECK(flen == 4 + (int)be32(data));
		frame = fz_dup(data, (size_t)flen);
		check_frame(frame, (size_t)flen, strcap);
		free(frame);
	}
	/* The whole input as one frame, whatever its length field says. */
	if (size <= MSG_FRAME_MAX) {
		uint8_t *frame = fz_dup(data, size);

		check_frame(frame, size, strcap);
		free(frame);
	}
	return 0;
}

static void seeds(const char *dir)
{
	uint8_t buf[512], seed[513];
	struct msg_writer w;
	int n;

	msg_begin(&w, buf, sizeof(buf), 3);
	msg_put_str(&w, 1, "alice@example.com");
	msg_put_u32(&w, 2, 0x64400001);
	msg_put_u64(&w, 3, 0x0102030405060708ull);
	msg_put_str(&w, 4, "192.0.2.1:51820");
	msg_put_str(&w, 4, "[fd00::1]:51820");
	msg_put_bytes(&w, 5, NULL, 0);
	n = msg_finish(&w);
	seed[0] = 64;
	memcpy(seed + 1, buf, (size_t)n);
	fz_write_seed(dir, "lookup", seed, (size_t)n + 1);

	msg_begin(&w, buf, sizeof(buf), 1);
	n = msg_finish(&w);
	seed[0] = 0;
	memcpy(seed + 1, buf, (size_t)n);
	/* Two frames back to back, as they arrive on the stream. */
	memcpy(seed + 1 + n, buf, (size_t)n);
	fz_write_seed(dir, "empty-twice", seed, 2 * (size_t)n + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
