#!/usr/bin/env python3
"""record-linux-nd.py [OUT]: records how the real Linux kernel's neighbour discovery
(net/ipv6/ndisc.c) updates its cache for NS/NA frames like those MetalLB and routers send
(solicited NA without Override, unsolicited NA with Override, NA for an unknown target).
Needs root (netns + veth); cleans up. Output: each step, then `ip -6 neigh show` afterwards.
"""
import os, socket, struct, subprocess, sys, time

NS = "ovnsim-nd-%d" % os.getpid()
VA, VB = "onda%d" % (os.getpid() % 10000), "ondb%d" % (os.getpid() % 10000)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../test/golden/linux-nd.txt")

def sh(*a):
    return subprocess.run(a, check=True, capture_output=True, text=True).stdout

def mac(s): return bytes(int(x, 16) for x in s.split(":"))
def ip6(s): return socket.inet_pton(socket.AF_INET6, s)

def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def nd_frame(edst, esrc, src, dst, typ, target, flags, opt_type, opt_mac):
    body = struct.pack("!I", flags << 29) + ip6(target) if typ == 136 else b"\0\0\0\0" + ip6(target)
    body += struct.pack("!BB", opt_type, 1) + mac(opt_mac)
    icmp = struct.pack("!BBH", typ, 0, 0) + body
    pseudo = ip6(src) + ip6(dst) + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    ip = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + ip6(src) + ip6(dst)
    return mac(edst) + mac(esrc) + struct.pack("!H", 0x86DD) + ip + icmp

lines = []
try:
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", VA, "type", "veth", "peer", "name", VB)
    sh("ip", "link", "set", VA, "netns", NS)
    sh("ip", "-n", NS, "link", "set", VA, "address", "02:00:00:00:00:01")
    sh("ip", "-n", NS, "addr", "add", "fd99::1/64", "dev", VA, "nodad")
    sh("ip", "-n", NS, "link", "set", VA, "up")
    sh("ip", "link", "set", VB, "up")
    lines.append("# kernel %s" % os.uname().release)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((VB, 0))
    time.sleep(0.3)
    R, S, O = 4, 2, 1
    steps = [
        # label, eth dst, eth src, ip src, ip dst, type, target, flags, option(type, mac)
        ("NS for a local address", "33:33:ff:00:00:01", "02:00:00:00:00:a1", "fd99::2", "ff02::1:ff00:1", 135, "fd99::1", 0, 1, "02:00:00:00:00:a1"),
        ("solicited NA without override, other lladdr", "02:00:00:00:00:01", "02:00:00:00:00:a2", "fd99::2", "fd99::1", 136, "fd99::2", S, 2, "02:00:00:00:00:a2"),
        ("unsolicited NA with override", "33:33:00:00:00:01", "02:00:00:00:00:a3", "fe80::a3", "ff02::1", 136, "fd99::2", O, 2, "02:00:00:00:00:a3"),
        ("unsolicited NA with override for an unknown target", "33:33:00:00:00:01", "02:00:00:00:00:b1", "fe80::b1", "ff02::1", 136, "fd99::3", O, 2, "02:00:00:00:00:b1"),
        ("metallb solicited NA (S=1, O=0) from link-local", "02:00:00:00:00:01", "02:00:00:00:00:a4", "fe80::a4", "fd99::1", 136, "fd99::2", S, 2, "02:00:00:00:00:a4"),
        ("NA with override and solicited", "02:00:00:00:00:01", "02:00:00:00:00:a5", "fd99::2", "fd99::1", 136, "fd99::2", S | O, 2, "02:00:00:00:00:a5"),
    ]
    for label, edst, esrc, src, dst, typ, target, flags, ot, om in steps:
        s.send(nd_frame(edst, esrc, src, dst, typ, target, flags, ot, om))
        time.sleep(0.05)
        neigh = sh("ip", "-n", NS, "-6", "neigh", "show", "dev", VA)
        entries = sorted(" ".join(l.split()[:3]) for l in neigh.splitlines() if l.strip() and "lladdr" in l and not l.startswith("fe80"))
        lines.append("%s: type=%d src=%s dst=%s target=%s flags=%d lladdr=%s" % (label.replace(":", ""), typ, src, dst, target, flags, om))
        for e in entries:
            lines.append("  " + e)
finally:
    subprocess.run(["ip", "link", "del", VB], capture_output=True)
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
