#!/usr/bin/env python3
"""record-linux-arp.py [OUT]: records how the real Linux kernel's ARP code (net/ipv4/arp.c)
updates its neighbour cache for the frame sequence @ovnsim/physical's Linux model must follow
(locktime, gratuitous request/reply, MetalLB's gratuitous reply with tha=ff:ff:ff:ff:ff:ff,
arp_accept=0). Needs root (a network namespace and a veth pair); cleans up after itself.
Output: one block per step: the frame sent and `ip neigh show` in the namespace afterwards.
"""
import os, socket, struct, subprocess, sys, time

NS = "ovnsim-arp-%d" % os.getpid()
VA, VB = "ova%d" % (os.getpid() % 10000), "ovb%d" % (os.getpid() % 10000)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../test/golden/linux-arp.txt")

def sh(*a):
    return subprocess.run(a, check=True, capture_output=True, text=True).stdout

def mac(s): return bytes(int(x, 16) for x in s.split(":"))
def ip(s): return socket.inet_aton(s)

BCAST = "ff:ff:ff:ff:ff:ff"
lines = []
try:
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", VA, "type", "veth", "peer", "name", VB)
    sh("ip", "link", "set", VA, "netns", NS)
    sh("ip", "-n", NS, "link", "set", VA, "address", "02:00:00:00:00:01")
    sh("ip", "-n", NS, "addr", "add", "10.99.0.1/24", "dev", VA)
    sh("ip", "-n", NS, "link", "set", VA, "up")
    sh("ip", "-n", NS, "link", "set", "lo", "up")
    sh("ip", "link", "set", VB, "up")
    lock = sh("ip", "netns", "exec", NS, "sysctl", "-n", "net.ipv4.neigh.%s.locktime" % VA).strip()
    accept = sh("ip", "netns", "exec", NS, "sysctl", "-n", "net.ipv4.conf.%s.arp_accept" % VA).strip()
    lines.append("# kernel %s locktime=%s arp_accept=%s" % (os.uname().release, lock, accept))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((VB, 0))
    ns_mac = "02:00:00:00:00:01"
    t0 = time.monotonic()
    steps = [
        # (at, label, op, eth_dst, sha, spa, tha, tpa)
        (0.0, "request for a local address", 1, BCAST, "02:00:00:00:00:a1", "10.99.0.2", "00:00:00:00:00:00", "10.99.0.1"),
        (0.1, "reply within locktime", 2, ns_mac, "02:00:00:00:00:a2", "10.99.0.2", ns_mac, "10.99.0.1"),
        (0.2, "gratuitous request within locktime", 1, BCAST, "02:00:00:00:00:a3", "10.99.0.2", "00:00:00:00:00:00", "10.99.0.2"),
        (0.3, "metallb gratuitous reply (tha=ff:ff:ff:ff:ff:ff) within locktime", 2, BCAST, "02:00:00:00:00:a4", "10.99.0.2", BCAST, "10.99.0.2"),
        (1.6, "metallb gratuitous reply after locktime", 2, BCAST, "02:00:00:00:00:a4", "10.99.0.2", BCAST, "10.99.0.2"),
        (1.7, "gratuitous request for an unknown address", 1, BCAST, "02:00:00:00:00:b1", "10.99.0.3", "00:00:00:00:00:00", "10.99.0.3"),
        (1.8, "gratuitous reply (tha=sha) within locktime", 2, BCAST, "02:00:00:00:00:a5", "10.99.0.2", "02:00:00:00:00:a5", "10.99.0.2"),
        (1.9, "request for another address within locktime", 1, BCAST, "02:00:00:00:00:a6", "10.99.0.2", "00:00:00:00:00:00", "10.99.0.9"),
        (3.2, "request for another address after locktime", 1, BCAST, "02:00:00:00:00:a6", "10.99.0.2", "00:00:00:00:00:00", "10.99.0.9"),
        (3.3, "unsolicited reply for an unknown address", 2, ns_mac, "02:00:00:00:00:b2", "10.99.0.4", ns_mac, "10.99.0.1"),
    ]
    for at, label, op, edst, sha, spa, tha, tpa in steps:
        while time.monotonic() - t0 < at:
            time.sleep(0.005)
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac(sha) + ip(spa) + mac(tha) + ip(tpa)
        frame = mac(edst) + mac(sha) + struct.pack("!H", 0x0806) + arp
        s.send(frame.ljust(60, b"\0"))
        time.sleep(0.03)
        neigh = sh("ip", "-n", NS, "neigh", "show", "dev", VA)
        entries = sorted(" ".join(l.split()[:3]) for l in neigh.splitlines() if l.strip())
        lines.append("%.1f %s: op=%d dst=%s sha=%s spa=%s tha=%s tpa=%s" % (at, label, op, edst, sha, spa, tha, tpa))
        for e in entries:
            lines.append("  " + e)
finally:
    subprocess.run(["ip", "link", "del", VB], capture_output=True)
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
