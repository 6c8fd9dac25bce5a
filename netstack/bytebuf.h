/*
 * Bounded writing and reading of the length-prefixed fields q2q's own
 * messages are made of (the CA helper's messages, MSG_POLICY's groups and
 * rules). A writer records its first error and ignores what follows, so
 * an encoder checks once at the end; a reader refuses to read past what
 * it was given. Integers are big-endian, lengths 16-bit.
 */
#ifndef Q2Q_BYTEBUF_H
#define Q2Q_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

struct bytebuf_w {
	uint8_t *p;
	size_t cap, len;
	int err;	/* 0, -EMSGSIZE (out of room) or -EINVAL (a blob over 65535) */
};

struct bytebuf_r {
	const uint8_t *p;
	size_t left;
};

void bytebuf_init(struct bytebuf_w *w, uint8_t *buf, size_t cap);
void bytebuf_put(struct bytebuf_w *w, const void *p, size_t n);
void bytebuf_u8(struct bytebuf_w *w, unsigned v);
void bytebuf_u16(struct bytebuf_w *w, unsigned v);
void bytebuf_u32(struct bytebuf_w *w, uint32_t v);
/* A 16-bit length, then the n bytes. */
void bytebuf_blob16(struct bytebuf_w *w, const void *p, size_t n);

/* Each returns 0, or -EBADMSG when too few bytes are left (nothing taken). */
int bytebuf_take(struct bytebuf_r *r, size_t n, const uint8_t **out);
int bytebuf_get_u8(struct bytebuf_r *r, uint8_t *v);
int bytebuf_get_u16(struct bytebuf_r *r, uint16_t *v);
int bytebuf_get_u32(struct bytebuf_r *r, uint32_t *v);
/* A 16-bit length of 1..max, then that many bytes (*out points into r). */
int bytebuf_get_blob16(struct bytebuf_r *r, size_t max, const uint8_t **out, size_t *len);

#endif
