/*
 * A names answer laid out the way glibc's NSS interface wants it: a
 * struct hostent (gethostbyname*, gethostbyaddr*) or a list of
 * gaih_addrtuple (getaddrinfo), every string and address inside the
 * caller's buffer. Pure, so that every buffer size can be tested.
 */
#ifndef Q2Q_NSS_HOSTENT_H
#define Q2Q_NSS_HOSTENT_H

#include <netdb.h>
#include <nss.h>
#include <stddef.h>

#include "nss/wire.h"

/* h_name is the identity, h_aliases its DNS-safe alias when it has one,
 * h_addr_list its address of family af. 0, -ERANGE (buf too small: the
 * caller retries with a larger one) or -ENOENT (no address of family af). */
int names_hostent_fill(const struct names_reply *r, int af, struct hostent *h,
    char *buf, size_t len);

/* One tuple per address, IPv6 first. If *pat is not NULL the first tuple
 * is written there (glibc's nscd hands one in), the rest into buf.
 * 0 or -ERANGE. */
int names_tuples_fill(const struct names_reply *r, struct gaih_addrtuple **pat,
    char *buf, size_t len);

#endif
