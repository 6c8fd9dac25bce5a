/*
 * The bounded writer and reader (netstack/bytebuf.c): a writer keeps its
 * first error and writes nothing past its room; a reader never reads past
 * what it was given and takes nothing when it refuses.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "netstack/bytebuf.h"

static void test_write_read(void)
{
	uint8_t buf[32];
	struct bytebuf_w w;
	struct bytebuf_r r;
	const uint8_t *p;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	size_t n;

	bytebuf_init(&w, buf, sizeof(buf));
	bytebuf_u8(&w, 0x7f);
	bytebuf_u16(&w, 0x0102);
	bytebuf_u32(&w, 0xa0b0c0d0);
	bytebuf_blob16(&w, "abc", 3);
	CHECK_INT(w.err, 0);
	CHECK_INT(w.len, 1 + 2 + 4 + 2 + 3);
	CHECK_MEM(buf, "\x7f\x01\x02\xa0\xb0\xc0\xd0\x00\x03" "abc", 12);
	r = (struct bytebuf_r){ buf, w.len };
	CHECK_INT(bytebuf_get_u8(&r, &u8), 0);
	CHECK_INT(u8, 0x7f);
	CHECK_INT(bytebuf_get_u16(&r, &u16), 0);
	CHECK_INT(u16, 0x0102);
	CHECK_INT(bytebuf_get_u32(&r, &u32), 0);
	CHECK(u32 == 0xa0b0c0d0u);
	CHECK_INT(bytebuf_get_blob16(&r, 3, &p, &n), 0);
	CHECK_INT(n, 3);
	CHECK_MEM(p, "abc", 3);
	CHECK_INT(r.left, 0);
	CHECK_INT(bytebuf_get_u8(&r, &u8), -EBADMSG);
}

static void test_writer_bounds(void)
{
	uint8_t buf[8];
	struct bytebuf_w w;

	memset(buf, 0xee, sizeof(buf));
	bytebuf_init(&w, buf, 5);
	bytebuf_u32(&w, 1);
	bytebuf_u16(&w, 2);		/* does not fit: error, nothing written */
	CHECK_INT(w.err, -EMSGSIZE);
	CHECK_INT(w.len, 4);
	bytebuf_u8(&w, 3);		/* would fit, but the error sticks */
	CHECK_INT(w.len, 4);
	CHECK_INT(buf[4], 0xee);
	bytebuf_init(&w, buf, sizeof(buf));
	bytebuf_blob16(&w, buf, 0x10000);
	CHECK_INT(w.err, -EINVAL);
	CHECK_INT(w.len, 0);
}

static void test_reader_refusals(void)
{
	static const uint8_t b[] = { 0x00, 0x04, 'a', 'b', 'c' };
	struct bytebuf_r r = { b, sizeof(b) };
	const uint8_t *p;
	uint32_t u32;
	size_t n;

	CHECK_INT(bytebuf_get_blob16(&r, 8, &p, &n), -EBADMSG);	/* 4 announced, 3 there */
	CHECK_INT(r.left, sizeof(b));				/* nothing taken */
	CHECK_INT(bytebuf_get_blob16(&r, 3, &p, &n), -EBADMSG);	/* over max */
	r = (struct bytebuf_r){ (const uint8_t *)"\x00\x00", 2 };
	CHECK_INT(bytebuf_get_blob16(&r, 8, &p, &n), -EBADMSG);	/* empty */
	r = (struct bytebuf_r){ b, 3 };
	CHECK_INT(bytebuf_get_u32(&r, &u32), -EBADMSG);
	CHECK_INT(r.left, 3);
	CHECK_INT(bytebuf_take(&r, 3, &p), 0);
	CHECK(p == b);
	CHECK_INT(r.left, 0);
}

int main(void)
{
	RUN(test_write_read);
	RUN(test_writer_bounds);
	RUN(test_reader_refusals);
	return HARNESS_END();
}
