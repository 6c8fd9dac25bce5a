/*
 * Longest-prefix match for the overlay routing table, looked up once per
 * packet. It is a path-compressed binary trie per family, shaped like the
 * kernel's WireGuard allowedips: every node carries a whole masked prefix and
 * its length, a child sits under the first bit where it differs from its
 * parent, and a chain of single-child bits collapses into one edge. A lookup
 * therefore touches at most one node per distinct prefix on the path (a few
 * in practice, never more than 33 or 129) and each step is two 64-bit
 * mask-and-compares, with no hashing and no allocation. A per-prefix-length
 * hash would need up to 129 probes for a miss on IPv6, each hashing the
 * address; the trie wins for the small, clustered tables an overlay has.
 * Keys are held as two host-order 64-bit words (IPv4 in the top 32 bits of
 * the first) so bit tests and prefix compares are plain shifts.
 * Nodes without a peer are "glue": they exist only to branch and are spliced
 * out as soon as they have fewer than two children, which keeps the trie
 * minimal after any sequence of inserts and removes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack/bytes.h"
#include "routing/table.h"

struct rt_node {
	struct rt_node *child[2];
	struct rt_node *parent;
	void *peer;		/* NULL: glue node */
	uint64_t key[2];	/* masked to cidr bits */
	uint8_t cidr;
};

struct route_table {
	struct rt_node *root4;
	struct rt_node *root6;
	size_t count;
};

static int family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return -1;
}

static void key_load(uint64_t key[2], int family, const uint8_t *addr)
{
	if (family == AF_INET) {
		key[0] = (uint64_t)addr[0] << 56 | (uint64_t)addr[1] << 48 |
			 (uint64_t)addr[2] << 40 | (uint64_t)addr[3] << 32;
		key[1] = 0;
	} else {
		key[0] = be64_get(addr);
		key[1] = be64_get(addr + 8);
	}
}

/* Mask with the top n bits set, n in 0..64 (a shift by 64 is undefined). */
static uint64_t top_mask(unsigned n)
{
	return n == 0 ? 0 : ~(uint64_t)0 << (64 - n);
}

static void key_mask(uint64_t key[2], unsigned cidr)
{
	if (cidr <= 64) {
		key[0] &= top_mask(cidr);
		key[1] = 0;
	} else {
		key[1] &= top_mask(cidr - 64);
	}
}

/* Does the prefix of n contain key? */
static int node_matches(const struct rt_node *n, const uint64_t key[2])
{
	if (n->cidr <= 64)
		return ((key[0] ^ n->key[0]) & top_mask(n->cidr)) == 0;
	return key[0] == n->key[0] &&
	       ((key[1] ^ n->key[1]) & top_mask(n->cidr - 64u)) == 0;
}

/* Bit i (0 = most significant) of key; i must be < 128. */
static unsigned key_bit(const uint64_t key[2], unsigned i)
{
	if (i < 64)
		return (unsigned)(key[0] >> (63 - i)) & 1;
	return (unsigned)(key[1] >> (127 - i)) & 1;
}

/* Number of leading bits a and b share, up to 128. */
static unsigned common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x)
		return (unsigned)__builtin_clzll(x);
	x = a[1] ^ b[1];
	if (x)
		return 64 + (unsigned)__builtin_clzll(x);
	return 128;
}

static struct rt_node **family_root(struct route_table *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

/* The pointer that holds n: its parent's child slot or the root. */
static struct rt_node **node_slot(struct rt_node **root, struct rt_node *n)
{
	struct rt_node *p = n->parent;

	if (!p)
		return root;
	return &p->child[p->child[1] == n];
}

static void set_child(struct rt_node *parent, unsigned bit, struct rt_node *c)
{
	parent->child[bit] = c;
	if (c)
		c->parent = parent;
}

static void subtree_free(struct rt_node *n)
{
	if (!n)
		return;
	subtree_free(n->child[0]);
	subtree_free(n->child[1]);
	free(n);
}

int route_table_init(struct route_table **out)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	*out = t;
	return 0;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	subtree_free(t->root4);
	subtree_free(t->root6);
	free(t);
}

size_t route_table_count(const struct route_table *t)
{
	return t->count;
}

static struct rt_node *node_new(const uint64_t key[2], unsigned cidr, void *peer)
{
	struct rt_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->key[0] = key[0];
	n->key[1] = key[1];
	key_mask(n->key, cidr);
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

int route_table_insert(struct route_table *t, int family, const uint8_t *addr,
		       uint8_t plen, void *peer)
{
	int bits = family_bits(family);
	struct rt_node **root, **slot, *parent = NULL, *node, *fresh, *glue;
	uint64_t key[2];
	unsigned c;

	if (bits < 0)
		return -EAFNOSUPPORT;
	if (plen > bits || !peer)
		return -EINVAL;
	key_load(key, family, addr);
	key_mask(key, plen);
	root = family_root(t, family);

	/* Descend while the node's prefix contains the new one. */
	slot = root;
	node = *root;
	while (node && node->cidr <= plen && node_matches(node, key)) {
		if (node->cidr == plen) {
			if (!node->peer)
				t->count++;	/* glue becomes a real prefix */
			node->peer = peer;
			return 0;
		}
		parent = node;
		slot = &node->child[key_bit(key, node->cidr)];
		node = *slot;
	}

	fresh = node_new(key, plen, peer);
	if (!fresh)
		return -ENOMEM;
	if (!node) {
		fresh->parent = parent;
		*slot = fresh;
		t->count++;
		return 0;
	}

	/*
	 * node hangs in the slot but does not contain the new prefix. Either
	 * the new prefix contains node (it goes in between) or they diverge
	 * at bit c < both lengths and a glue node must branch there.
	 */
	c = common_bits(key, node->key);
	if (c > plen)
		c = plen;
	if (c > node->cidr)
		c = node->cidr;
	if (c == plen) {
		fresh->parent = parent;
		set_child(fresh, key_bit(node->key, plen), node);
		*slot = fresh;
		t->count++;
		return 0;
	}
	glue = node_new(key, c, NULL);
	if (!glue) {
		free(fresh);
		return -ENOMEM;
	}
	glue->parent = parent;
	set_child(glue, key_bit(key, c), fresh);
	set_child(glue, key_bit(node->key, c), node);
	*slot = glue;
	t->count++;
	return 0;
}

/*
 * n has no peer: splice it out if it has fewer than two children, then do
 * the same for its parent, which may have become a one-child glue node.
 */
static void node_prune(struct rt_node **root, struct rt_node *n)
{
	while (n && !n->peer && !(n->child[0] && n->child[1])) {
		struct rt_node *parent = n->parent;
		struct rt_node *only = n->child[0] ? n->child[0] : n->child[1];

		*node_slot(root, n) = only;
		if (only)
			only->parent = parent;
		free(n);
		n = parent;
	}
}

static struct rt_node *node_find(struct rt_node *root, const uint64_t key[2],
				 unsigned plen)
{
	struct rt_node *n = root;

	while (n && n->cidr <= plen && node_matches(n, key)) {
		if (n->cidr == plen)
			return n;
		n = n->child[key_bit(key, n->cidr)];
	}
	return NULL;
}

int route_table_remove(struct route_table *t, int family, const uint8_t *addr,
		       uint8_t plen)
{
	int bits = family_bits(family);
	struct rt_node **root, *n;
	uint64_t key[2];

	if (bits < 0)
		return -EAFNOSUPPORT;
	if (plen > bits)
		return -EINVAL;
	key_load(key, family, addr);
	key_mask(key, plen);
	root = family_root(t, family);
	n = node_find(*root, key, plen);
	if (!n || !n->peer)
		return -ENOENT;
	n->peer = NULL;
	t->count--;
	node_prune(root, n);
	return 0;
}

/* Post-order, so a node sees its children already pruned; returns the new subtree. */
static struct rt_node *subtree_drop_peer(struct route_table *t, struct rt_node *n,
					 void *peer)
{
	struct rt_node *only;

	if (!n)
		return NULL;
	set_child(n, 0, subtree_drop_peer(t, n->child[0], peer));
	set_child(n, 1, subtree_drop_peer(t, n->child[1], peer));
	if (n->peer == peer) {
		n->peer = NULL;
		t->count--;
	}
	if (n->peer || (n->child[0] && n->child[1]))
		return n;
	only = n->child[0] ? n->child[0] : n->child[1];
	free(n);
	return only;
}

void route_table_remove_peer(struct route_table *t, void *peer)
{
	if (!peer)
		return;
	t->root4 = subtree_drop_peer(t, t->root4, peer);
	if (t->root4)
		t->root4->parent = NULL;
	t->root6 = subtree_drop_peer(t, t->root6, peer);
	if (t->root6)
		t->root6->parent = NULL;
}

void *route_table_lookup(const struct route_table *t, int family, const uint8_t *addr)
{
	const struct rt_node *n;
	void *best = NULL;
	uint64_t key[2];
	unsigned bits;

	if (family == AF_INET) {
		n = t->root4;
		bits = 32;
	} else if (family == AF_INET6) {
		n = t->root6;
		bits = 128;
	} else {
		return NULL;
	}
	key_load(key, family, addr);
	while (n && node_matches(n, key)) {
		if (n->peer)
			best = n->peer;
		if (n->cidr >= bits)
			break;
		n = n->child[key_bit(key, n->cidr)];
	}
	return best;
}

static int subtree_walk(const struct rt_node *n, int family,
			int (*cb)(int, const uint8_t *, uint8_t, void *, void *),
			void *arg)
{
	uint8_t addr[16];
	int r;

	if (!n)
		return 0;
	if (n->peer) {
		be64_put(addr, n->key[0]);
		be64_put(addr + 8, n->key[1]);
		r = cb(family, addr, n->cidr, n->peer, arg);
		if (r)
			return r;
	}
	r = subtree_walk(n->child[0], family, cb, arg);
	if (r)
		return r;
	return subtree_walk(n->child[1], family, cb, arg);
}

int route_table_walk(const struct route_table *t,
		     int (*cb)(int family, const uint8_t *addr, uint8_t plen,
			       void *peer, void *arg),
		     void *arg)
{
	int r = subtree_walk(t->root4, AF_INET, cb, arg);

	if (r)
		return r;
	return subtree_walk(t->root6, AF_INET6, cb, arg);
}
