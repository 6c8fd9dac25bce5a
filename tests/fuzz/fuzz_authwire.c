/*
 * Fuzz target for the authority service datagrams (netstack/authwire.c).
 * The input is used twice. As a received datagram: every parser and
 * aw_verify (with a fixed key) run on it; a PROBE, PROBE_REPLY or PUNCH
 * that parses is rebuilt from the parsed fields and must come out equal
 * (the mac aside), and aw_verify must accept exactly when the datagram's
 * mac is the one the builder computes. As material for a sealed datagram:
 * a RELAY built around the input must verify, and must stop verifying
 * when any one bit of it is flipped.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/authwire.h"

static const uint8_t key[AW_KEY_LEN] = "q2q fuzz authwire fixed key 32b";

static void check_probe(int type, const uint8_t *buf, size_t len)
{
	struct aw_probe p;
	size_t maclen = AW_MAC_LEN, macoff = type == AW_PROBE ? 16 : 40;
	uint8_t *out;
	int vr;

	if (aw_parse_probe(type, buf, len, &p) != 0)
		return;
	FZ_CHECK(len == (type == AW_PROBE ? AW_PROBE_LEN : AW_PROBE_REPLY_LEN));
	out = malloc(len);
	FZ_CHECK(out);
	FZ_CHECK((type == AW_PROBE ? aw_build_probe(&p, key, out, len - 1) :
		  aw_build_probe_reply(&p, key, out, len - 1)) == -ENOSPC);
	FZ_CHECK((type == AW_PROBE ? aw_build_probe(&p, key, out, len) :
		  aw_build_probe_reply(&p, key, out, len)) == (int)len);
	FZ_CHECK(memcmp(out, buf, macoff) == 0);
	FZ_CHECK(memcmp(out + macoff + maclen, buf + macoff + maclen,
			len - macoff - maclen) == 0);
	vr = aw_verify(buf, len, key);
	FZ_CHECK(memcmp(out + macoff, buf + macoff, maclen) == 0 ?
		 vr == 0 : vr == -EBADMSG);
	FZ_CHECK(aw_verify(out, len, key) == 0);
	free(out);
}

static void check_relay(const uint8_t *buf, size_t len)
{
	struct aw_relay r;
	uint8_t *out;
	int vr;

	if (aw_parse_relay(buf, len, &r) != 0)
		return;
	FZ_CHECK(len > AW_RELAY_HDR);
	FZ_CHECK(r.payload == buf + AW_RELAY_HDR && r.payload_len == len - AW_RELAY_HDR);
	out = malloc(len);
	FZ_CHECK(out);
	memcpy(out + AW_RELAY_HDR, r.payload, r.payload_len);
	FZ_CHECK(aw_seal_relay(buf[0], &r, r.payload_len, key, out, len - 1) == -ENOSPC);
	FZ_CHECK(aw_seal_relay(buf[0], &r, r.payload_len, key, out, len) == (int)len);
	/* Bytes 20..35 are the mac; the rest follows from the parsed fields. */
	FZ_CHECK(memcmp(out, buf, 20) == 0);
	FZ_CHECK(memcmp(out + AW_RELAY_HDR, buf + AW_RELAY_HDR, r.payload_len) == 0);
	vr = aw_verify(buf, len, key);
	FZ_CHECK(memcmp(out + 20, buf + 20, AW_MAC_LEN) == 0 ? vr == 0 : vr == -EBADMSG);
	free(out);
}

static void check_punch(const uint8_t *buf, size_t len)
{
	uint8_t out[AW_PUNCH_LEN];
	uint32_t ctr;
	int vr;

	if (aw_parse_punch(buf, len, &ctr) != 0)
		return;
	FZ_CHECK(len == AW_PUNCH_LEN);
	FZ_CHECK(aw_build_punch(buf[0], ctr, key, out, sizeof(out) - 1) == -ENOSPC);
	FZ_CHECK(aw_build_punch(buf[0], ctr, key, out, sizeof(out)) == AW_PUNCH_LEN);
	FZ_CHECK(memcmp(out, buf, 8) == 0);
	vr = aw_verify(buf, len, key);
	FZ_CHECK(memcmp(out + 8, buf + 8, AW_MAC_LEN) == 0 ? vr == 0 : vr == -EBADMSG);
}

/* Seal a RELAY/RELAYED whose fields and payload come from the input. */
static void check_sealed(const uint8_t *data, size_t size)
{
	struct fz f;
	struct aw_relay r;
	const uint8_t *pl;
	size_t n, bit, len;
	int type;
	uint8_t *buf;

	fz_init(&f, data, size);
	type = fz_u8(&f) & 1 ? AW_RELAYED : AW_RELAY;
	r.sender_id = fz_u32(&f);
	r.target_id = fz_u32(&f);
	r.counter = fz_u64(&f);
	bit = fz_u16(&f);
	pl = fz_bytes(&f, SIZE_MAX, &n);
	if (n == 0)
		return;
	len = AW_RELAY_HDR + n;
	buf = malloc(len);
	FZ_CHECK(buf);
	memcpy(buf + AW_RELAY_HDR, pl, n);
	FZ_CHECK(aw_seal_relay(type, &r, n, key, buf, len) == (int)len);
	FZ_CHECK(aw_verify(buf, len, key) == 0);
	{
		struct aw_relay back;

		FZ_CHECK(aw_parse_relay(buf, len, &back) == 0);
		FZ_CHECK(back.sender_id == r.sender_id &&
			 back.target_id == r.target_id &&
			 back.counter == r.counter && back.payload_len == n);
	}
	/*
	 * Any flipped bit must be caught: the type byte changes the layout,
	 * the mac covers every other byte but itself.
	 */
	bit %= len * 8;
	buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	FZ_CHECK(aw_verify(buf, len, key) != 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t ctr;
	struct aw_probe p;
	struct aw_relay r;
	int vr;

	/* Raw calls first: none of them may read past size, even size 0. */
	(void)aw_parse_probe(AW_PROBE, data, size, &p);
	(void)aw_parse_probe(AW_PROBE_REPLY, data, size, &p);
	(void)aw_parse_probe(size ? data[0] : 0, data, size, &p);
	(void)aw_parse_relay(data, size, &r);
	(void)aw_parse_punch(data, size, &ctr);
	vr = aw_verify(data, size, key);
	FZ_CHECK(vr == 0 || vr == -EINVAL || vr == -EBADMSG);
	check_probe(AW_PROBE, data, size);
	check_probe(AW_PROBE_REPLY, data, size);
	check_relay(data, size);
	check_punch(data, size);
	check_sealed(data, size);
	return 0;
}

static void seeds(const char *dir)
{
	struct aw_probe p = { .node_id = 42, .txid = 0x1122334455667788ull,
			      .port = 51820 };
	struct aw_relay r = { .sender_id = 1, .target_id = 2, .counter = 3 };
	uint8_t buf[128];
	int n;

	n = aw_build_probe(&p, key, buf, sizeof(buf));
	fz_write_seed(dir, "probe", buf, (size_t)n);
	memcpy(p.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01", 16);
	n = aw_build_probe_reply(&p, key, buf, sizeof(buf));
	fz_write_seed(dir, "probe-reply", buf, (size_t)n);
	memset(buf + AW_RELAY_HDR, 0x04, 40);
	n = aw_seal_relay(AW_RELAY, &r, 40, key, buf, sizeof(buf));
	fz_write_seed(dir, "relay", buf, (size_t)n);
	n = aw_seal_relay(AW_RELAYED, &r, 40, key, buf, sizeof(buf));
	fz_write_seed(dir, "relayed", buf, (size_t)n);
	n = aw_build_punch(AW_PUNCH, 1, key, buf, sizeof(buf));
	fz_write_seed(dir, "punch", buf, (size_t)n);
	n = aw_build_punch(AW_PUNCH_ACK, 2, key, buf, sizeof(buf));
	fz_write_seed(dir, "punch-ack", buf, (size_t)n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
