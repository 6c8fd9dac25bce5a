/*
 * The overlay: the q2q0 interface, the UDP data port, handshakes with
 * peers and the encrypted data path between them. Exists between
 * `q2qctl up` and `q2qctl down`.
 */
#ifndef Q2Q_OVERLAY_H
#define Q2Q_OVERLAY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

struct config;
struct ctl_req;
struct loop;
struct node;
struct overlay;

/* Creates the interface and everything else; on failure nothing is left. */
int overlay_up(struct loop *l, const struct config *cfg, struct node *n, struct overlay **out,
    char *err, size_t errlen);
/* Removes the interface (its addresses and routes go with it). */
void overlay_down(struct overlay *o);

/* Registered with our own authority? */
int overlay_registered(const struct overlay *o);

void overlay_status(struct overlay *o, json_object *obj);
void overlay_peers(struct overlay *o, struct ctl_req *req);
void overlay_resolve(struct overlay *o, struct ctl_req *req, const char *identity);
void overlay_whois(struct overlay *o, struct ctl_req *req, const char *addr);
void overlay_netcheck(struct overlay *o, struct ctl_req *req);
void overlay_ping(struct overlay *o, struct ctl_req *req, const char *identity);

#endif
