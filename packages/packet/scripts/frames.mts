// Prints "NAME HEX" lines: frames built by this package, for record-golden.sh to feed to the real
// `ovs-appctl ofproto/trace br0 in_port=1 HEX` (OVS then runs flow_extract() on our bytes).
import {
  arpReply,
  arpRequest,
  encodeFrame,
  icmpPacket,
  makeFlow,
  makePacket,
  ndAdvert,
  ndSolicit,
  type Packet,
  sctpPacket,
  tcpPacket,
  tcpSyn,
  udpPacket,
} from "../src/index.js";

const M1 = "00:00:5e:00:53:01";
const M2 = "00:00:5e:00:53:ff";
const frames: [string, Packet][] = [
  [
    "syn-vlan341",
    tcpSyn({ src: "192.0.2.10:40000", dst: "10.180.204.252:80", vlan: 341, dlSrc: M1, dlDst: M2 }),
  ],
  [
    "synack",
    tcpPacket({
      src: "10.180.204.11:80",
      dst: "192.0.2.10:40000",
      flags: "syn|ack",
      seq: 9,
      ack: 2,
      dlSrc: M2,
      dlDst: M1,
      tos: 0x2e,
    }),
  ],
  [
    "tcp-data",
    tcpPacket({
      src: "192.0.2.10:40000",
      dst: "10.180.204.252:80",
      flags: "psh|ack",
      payload: "GET / HTTP/1.0\r\n\r\n",
      dlSrc: M1,
      dlDst: M2,
    }),
  ],
  [
    "udp-dns",
    udpPacket({
      src: "192.0.2.10:5353",
      dst: "10.180.204.99:53",
      payload: "q",
      dlSrc: M1,
      dlDst: M2,
      ttl: 3,
    }),
  ],
  [
    "udp6",
    udpPacket({
      src: "[2001:db8::1]:1000",
      dst: "[fd00::5]:53",
      dlSrc: M1,
      dlDst: M2,
      ipv6Label: 0x12345,
      tos: 0x21,
    }),
  ],
  ["tcp6-syn", tcpSyn({ src: "[2001:db8::10]:33333", dst: "[fd00::5]:443", dlSrc: M1, dlDst: M2 })],
  [
    "icmp-echo",
    icmpPacket({ src: "192.0.2.10", dst: "192.0.2.1", id: 7, seq: 1, payload: "ping", dlSrc: M1, dlDst: M2 }),
  ],
  [
    "icmp-unreach",
    icmpPacket({ src: "192.0.2.1", dst: "192.0.2.10", type: 3, code: 4, dlSrc: M2, dlDst: M1 }),
  ],
  ["icmp6-echo", icmpPacket({ src: "2001:db8::1", dst: "2001:db8::2", id: 1, seq: 2, dlSrc: M1, dlDst: M2 })],
  ["arp-req", arpRequest({ sha: M1, spa: "192.0.2.10", tpa: "192.0.2.1" })],
  ["arp-reply", arpReply({ sha: "00:00:5e:00:53:02", spa: "192.0.2.1", tha: M1, tpa: "192.0.2.10" })],
  ["nd-ns", ndSolicit({ src: "fe80::1", target: "fe80::2", dlSrc: M1, dlDst: "33:33:ff:00:00:02" })],
  [
    "nd-na",
    ndAdvert({ src: "fe80::2", dst: "fe80::1", target: "fe80::2", dlSrc: "00:00:5e:00:53:02", dlDst: M1 }),
  ],
  ["sctp", sctpPacket({ src: "192.0.2.10:1000", dst: "192.0.2.11:2000", tag: 0x1234, dlSrc: M1, dlDst: M2 })],
  [
    "qinq",
    tcpSyn({
      src: "192.0.2.10:1",
      dst: "192.0.2.20:2",
      dlSrc: M1,
      dlDst: M2,
      vlan: [
        { tpid: 0x88a8, pcp: 1, vid: 100 },
        { tpid: 0x8100, pcp: 2, vid: 200 },
      ],
    }),
  ],
  [
    "vlan-pcp",
    udpPacket({
      src: "192.0.2.10:1",
      dst: "192.0.2.20:2",
      dlSrc: M1,
      dlDst: M2,
      vlan: { tpid: 0x8100, pcp: 5, vid: 4094 },
    }),
  ],
  [
    "frag-first",
    makePacket(makeFlow({ ...tcpSyn({ src: "192.0.2.10:1", dst: "192.0.2.20:2" }).flow, nw_frag: 1 }), {
      ipId: 77,
    }),
  ],
  [
    "frag-later",
    makePacket(
      makeFlow({
        dl_type: 0x0800,
        nw_proto: 17,
        nw_src: 0xc000020a,
        nw_dst: 0xc0000214,
        nw_ttl: 64,
        nw_frag: 3,
      }),
      { ipId: 77, payload: new Uint8Array(16) },
    ),
  ],
  [
    "frag6-later",
    makePacket(
      makeFlow({ dl_type: 0x86dd, nw_proto: 6, ipv6_src: 1n, ipv6_dst: 2n, nw_ttl: 64, nw_frag: 3 }),
      { ipId: 5, payload: new Uint8Array(8) },
    ),
  ],
  [
    "gre",
    makePacket(
      makeFlow({ dl_type: 0x0800, nw_proto: 47, nw_src: 0xc000020a, nw_dst: 0xc0000214, nw_ttl: 64 }),
      { payload: new Uint8Array(4) },
    ),
  ],
  [
    "lldp",
    makePacket(makeFlow({ dl_type: 0x88cc, dl_src: 1, dl_dst: 0x0180c200000e }), {
      payload: new Uint8Array(20),
    }),
  ],
];
for (const [name, p] of frames) console.log(`${name} ${Buffer.from(encodeFrame(p)).toString("hex")}`);
