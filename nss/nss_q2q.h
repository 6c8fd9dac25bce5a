/*
 * libnss_q2q.so.2: the "q2q" source of glibc's hosts database
 * (nsswitch.conf: "hosts: files q2q dns"). Only these entry points are
 * exported (nss/nss_q2q.map); glibc finds them by name.
 */
#ifndef Q2Q_NSS_Q2Q_H
#define Q2Q_NSS_Q2Q_H

#include <netdb.h>
#include <nss.h>
#include <stdint.h>
#include <sys/socket.h>

enum nss_status _nss_q2q_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
    char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp);
enum nss_status _nss_q2q_gethostbyname3_r(const char *name, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp, char **canonp);
enum nss_status _nss_q2q_gethostbyname2_r(const char *name, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop);
enum nss_status _nss_q2q_gethostbyname_r(const char *name, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop);
enum nss_status _nss_q2q_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp);
enum nss_status _nss_q2q_gethostbyaddr_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop, int *herrnop);

/* For unit tests only (not exported from the shared object): another
 * socket path, and forgetting the cache. */
void nss_q2q_test_socket(const char *path);
void nss_q2q_test_flush(void);

#endif
