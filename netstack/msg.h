/*
 * Control-plane message framing between a node and its authority, carried
 * over TLS/TCP. A frame is
 *   u32 length (big-endian; counts type + body; 1 .. MSG_MAX_LEN)
 *   u8  type
 *   TLVs: u16 tag (BE), u16 len (BE), len value bytes, repeated.
 * Tags may repeat (lists); unknown tags are skipped by readers, so fields
 * can be added without breaking old peers. Message types and tags are
 * defined by the control-plane code that uses this, not here.
 *
 * The writer builds into a caller buffer; the reader validates every TLV
 * boundary once in msg_open and then hands out pointers into the frame
 * (valid as long as the frame buffer). Nothing allocates.
 */
#ifndef Q2Q_MSG_H
#define Q2Q_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MSG_MAX_LEN	65536	/* type + body */
#define MSG_HDR_LEN	5	/* length + type */
#define MSG_FRAME_MAX	(4 + MSG_MAX_LEN)

struct msg_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;	/* sticky -ENOSPC: check once, at msg_finish */
};

struct msg_reader {
	const uint8_t *body;	/* the TLVs */
	size_t len;
};

/* Starts a frame of the given type in buf. */
void msg_begin(struct msg_writer *w, uint8_t *buf, size_t cap, uint8_t type);
/* Appends a TLV; a failure is remembered and reported by msg_finish. */
void msg_put_bytes(struct msg_writer *w, uint16_t tag, const void *p,
		   size_t n);
void msg_put_str(struct msg_writer *w, uint16_t tag, const char *s);
void msg_put_u32(struct msg_writer *w, uint16_t tag, uint32_t v); /* BE */
void msg_put_u64(struct msg_writer *w, uint16_t tag, uint64_t v); /* BE */
/* Writes the length prefix; returns the whole frame length or -ENOSPC. */
int msg_finish(struct msg_writer *w);

/*
 * Given the first avail bytes of a TCP stream: 0 if more are needed, the
 * length of the first complete frame (4 + length field), or -EMSGSIZE if
 * the length field is 0 or over MSG_MAX_LEN (close the connection).
 */
int msg_frame_len(const uint8_t *buf, size_t avail);

/*
 * Opens one complete frame (as sized by msg_frame_len): 0 and *type, or
 * -EINVAL if the length field disagrees with len or any TLV overruns.
 */
int msg_open(struct msg_reader *r, const uint8_t *frame, size_t len,
	     uint8_t *type);

/* First TLV with tag: 0 and *p, *n (pointing into the frame), or -ENOENT. */
int msg_get(const struct msg_reader *r, uint16_t tag, const uint8_t **p,
	    size_t *n);
/*
 * Iterates TLVs with tag: set *iter = 0 first; each call returns 0 with the
 * next one, or -ENOENT when there are no more.
 */
int msg_next(const struct msg_reader *r, uint16_t tag, size_t *iter,
	     const uint8_t **p, size_t *n);
/*
 * Copies a string value NUL-terminated into buf: 0, -ENOENT, -EINVAL if it
 * contains a NUL byte, -ENAMETOOLONG if it does not fit in cap - 1.
 */
int msg_get_str(const struct msg_reader *r, uint16_t tag, char *buf,
		size_t cap);
/*
 * The same for text another host wrote for people to read (an authority's
 * error): every byte but printable ASCII becomes '?', so no control
 * character or terminal escape reaches a log or a terminal.
 */
int msg_get_text(const struct msg_reader *r, uint16_t tag, char *buf,
		 size_t cap);
/* 0, -ENOENT, or -EINVAL if the value is not exactly 4 / 8 bytes. */
int msg_get_u32(const struct msg_reader *r, uint16_t tag, uint32_t *v);
int msg_get_u64(const struct msg_reader *r, uint16_t tag, uint64_t *v);

#endif
