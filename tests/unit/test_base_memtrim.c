/* The engine's minute's trim (tund/base/memtrim.c): after signatures and
 * verifications have filled wolfSSL's fixed-point ECC tables, the heap in
 * use drops by most of a megabyte or more, and signing and verifying
 * still work afterwards (the tables are rebuilt as needed). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "identity/key.h"
#include "tests/unit/harness.h"
#include "tund/base/memtrim.h"

/* Signs and verifies a few times: what a handshake or two does. */
static int sign_verify(const struct id_key *k, int rounds)
{
	uint8_t spki[256], sig[128];
	size_t spki_len, sig_len;
	int bad = 0;

	if (key_spki(k, spki, sizeof(spki), &spki_len) < 0)
		return -1;
	for (int i = 0; i < rounds; i++) {
		uint8_t msg[32] = { (uint8_t)i };

		sig_len = sizeof(sig);
		bad |= key_sign(k, msg, sizeof(msg), sig, &sig_len) != 0;
		bad |= key_verify_spki(spki, spki_len, msg, sizeof(msg), sig, sig_len) != 0;
	}
	return bad ? -1 : 0;
}

static void test_trim_gives_back_ecc_tables(void)
{
	struct id_key *k;
	size_t before, after;

	CHECK_INT(key_generate(&k), 0);
	CHECK_INT(sign_verify(k, 8), 0);
	before = mallinfo2().uordblks;
	memtrim_now();
	after = mallinfo2().uordblks;
	printf("# heap in use: %zu KiB before the trim, %zu KiB after\n", before / 1024, after / 1024);
#ifdef __SANITIZE_ADDRESS__
	/* ASan's allocator is not glibc's: mallinfo2 says nothing there. */
	printf("# under AddressSanitizer: the heap figures are not glibc's, not checked\n");
#else
	CHECK(before > after + 512 * 1024);
#endif
	/* And the keys work as before. */
	CHECK_INT(sign_verify(k, 4), 0);
	key_free(k);
}

int main(void)
{
	RUN(test_trim_gives_back_ecc_tables);
	return HARNESS_END();
}
