#!/usr/bin/env python3
"""Spoofed UDP floods against a q2q data port, for tests/e2e/flood.sh and
bench/flood.sh. Raw sockets (IP_HDRINCL; IPv6 IPPROTO_RAW), paced to a
bounded rate, sources spoofed from test ranges only:
  IPv4 198.18.0.0/15 (131072 addresses), IPv6 one /64 (2001:db8:66::/64).
Kinds:
  random  random bytes, random lengths
  hello   well-formed HELLOs with a valid mac1 for --identity, and HS
          datagrams (receiver index 0, valid mac1, made-up cookie)
  replay  the datagrams in --replay (hex payload per line), each from a
          spoofed source, and every 8th from --orig (the real sender)
A pool of 8192 datagrams (as many sources) is built first, then sent
round and round: "flooding" says the pool is built and the flood has
begun, "sent N" at the end (or at SIGTERM) how many went. SIGSTOP and
SIGCONT pause it: it then takes up its rate again, with no burst to
catch up."""
import argparse, hashlib, hmac, ipaddress, os, random, signal, socket, struct, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--kind", required=True, choices=["random", "hello", "replay"])
ap.add_argument("--dst4", required=True)
ap.add_argument("--dst6", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--rate", type=int, default=5000)
ap.add_argument("--secs", type=float, default=10)
ap.add_argument("--identity", default="")
ap.add_argument("--replay", default="")
ap.add_argument("--orig", default="")
a = ap.parse_args()

NET4 = ipaddress.ip_network("198.18.0.0/15")
NET6 = ipaddress.ip_network("2001:db8:66::/64")
rnd = random.Random(os.getpid())

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def udp4(src, dst, sport, dport, payload):
    ln = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ln, rnd.getrandbits(16), 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + struct.pack("!HHHH", sport, dport, ln, 0) + payload

def udp6(src, dst, sport, dport, payload):
    ln = 8 + len(payload)
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    hdr = struct.pack("!HHHH", sport, dport, ln, 0)
    c = csum(s + d + struct.pack("!I3xB", ln, 17) + hdr + payload) or 0xffff
    ip = struct.pack("!IHBB16s16s", 6 << 28, ln, 17, 64, s, d)
    return ip + hdr[:6] + struct.pack("!H", c) + payload

def src4():
    return str(NET4[rnd.randrange(NET4.num_addresses)])

def src6():
    return str(NET6[rnd.getrandbits(64)])

MAC1KEY = hashlib.sha256(b"q2q-mac1-v1" + a.identity.encode()).digest() if a.identity else b""

def hello():
    b = bytearray(64)
    b[0] = 1
    b[4:8] = os.urandom(4)
    b[8:24] = os.urandom(16)
    b[24:40] = hmac.new(MAC1KEY, bytes(b[:24]), "sha256").digest()[:16]
    return bytes(b)

def hs():
    b = bytearray(52 + 200)
    b[0] = 3
    b[4:8] = os.urandom(4)
    b[20:36] = os.urandom(16)		# a cookie nobody gave out
    b[36:52] = hmac.new(MAC1KEY, bytes(b[:36]), "sha256").digest()[:16]
    b[52:] = os.urandom(200)
    return bytes(b)

replays = []
if a.kind == "replay":
    replays = [bytes.fromhex(l.split()[-1]) for l in open(a.replay) if l.strip()]
    if not replays:
        sys.exit("floodgen: nothing to replay in %s" % a.replay)

# The datagrams are built before the clock starts and sent round a pool:
# the flooder is a third host, and building each one in Python (random
# bytes, HMACs, checksums) took a fifth of a core on the CPUs the tunnel
# under test shares; each pool entry has its own spoofed source.
POOL = 8192
def build(i):
    if a.kind == "random":
        payload = os.urandom(rnd.randrange(1, 1200))
    elif a.kind == "hello":
        payload = hello() if i % 2 else hs()
    else:
        payload = replays[i % len(replays)]
    sport = rnd.randrange(1024, 65536)
    if a.kind == "replay" and a.orig and i % 8 == 0:
        host, port = a.orig.rsplit(":", 1)
        return 4, udp4(host, a.dst4, int(port), a.port, payload)
    if rnd.getrandbits(1):
        return 4, udp4(src4(), a.dst4, sport, a.port, payload)
    return 6, udp6(src6(), a.dst6, sport, a.port, payload)
pool = [build(i) for i in range(POOL)]

s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
to = {4: (s4, (a.dst4, 0)), 6: (s6, (a.dst6, 0))}
sent = 0
tick = 0.01
per_tick = max(1, a.rate // 100)
def stop(signum, frame):
    raise SystemExit
signal.signal(signal.SIGTERM, stop)

def flood():
    global sent
    end = time.monotonic() + a.secs
    nxt = time.monotonic()
    i = 0
    while time.monotonic() < end:
        for _ in range(per_tick):
            fam, pkt = pool[i % POOL]
            i += 1
            sock, dst = to[fam]
            try:
                sock.sendto(pkt, dst)
                sent += 1
            except OSError:
                pass
        nxt += tick
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        elif d < -0.1:
            nxt = time.monotonic()	# was stopped: no burst to catch up

print("flooding", flush=True)
try:
    flood()
except SystemExit:
    pass
print("sent %d" % sent, flush=True)
