// Wire format: our own round trip always; the real tshark reading our pcap when it is installed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  arpReply,
  arpRequest,
  decodeFrame,
  ETH_TYPE,
  encodeFrame,
  FRAG,
  formatFlow,
  frameChecksumsOk,
  IP_PROTO,
  icmpPacket,
  isSimError,
  makeFlow,
  makePacket,
  ndAdvert,
  ndSolicit,
  type Packet,
  readPcap,
  sctpPacket,
  tcpPacket,
  tcpSyn,
  udpPacket,
  writePcap,
} from "../src/index.js";

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const ip6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

/** Packets in canonical form: every field the frame carries, nothing it does not. */
const anyPacket: fc.Arbitrary<Packet> = fc
  .record({
    dl_src: mac,
    dl_dst: mac,
    vlans: fc.array(
      fc.record({
        tpid: fc.constantFrom(0x8100, 0x88a8),
        pcp: fc.integer({ min: 0, max: 7 }),
        vid: fc.integer({ min: 0, max: 4095 }),
      }),
      { maxLength: 2 },
    ),
    kind: fc.constantFrom("ip", "ipv6", "arp", "rarp", "other"),
    other: fc.constantFrom(0x88cc, 0x9000, 0x8847, 0x0842),
    proto: fc.oneof(
      fc.constantFrom(IP_PROTO.tcp, IP_PROTO.udp, IP_PROTO.sctp, IP_PROTO.icmp, IP_PROTO.icmpv6, 2, 47),
      u8,
    ),
    frag: fc.constantFrom(0, 1, 3),
    src4: u32,
    dst4: u32,
    src6: ip6,
    dst6: ip6,
    label: fc.integer({ min: 0, max: 0xfffff }),
    tos: u8,
    ttl: u8,
    tp_src: u16,
    tp_dst: u16,
    flags: fc.integer({ min: 0, max: 0xfff }),
    nd: fc.boolean(),
    target: ip6,
    sha: fc.oneof(fc.constant(0), mac),
    tha: fc.oneof(fc.constant(0), mac),
    op: u8,
    payload: bytes(64),
    ipId: u32,
    seq: u32,
    ack: u32,
    win: u16,
    tag: u32,
  })
  .map((r) => {
    const base = { dl_src: r.dl_src, dl_dst: r.dl_dst, vlans: r.vlans };
    if (r.kind === "other")
      return makePacket(makeFlow({ ...base, dl_type: r.other }), { payload: r.payload });
    if (r.kind === "arp" || r.kind === "rarp") {
      return makePacket(
        makeFlow({
          ...base,
          dl_type: r.kind === "arp" ? ETH_TYPE.arp : ETH_TYPE.rarp,
          nw_proto: r.op,
          nw_src: r.src4,
          nw_dst: r.dst4,
          arp_sha: r.sha,
          arp_tha: r.tha,
        }),
        { payload: r.payload },
      );
    }
    const v6 = r.kind === "ipv6";
    let proto = r.proto;
    if (v6 && (proto === 44 || proto === IP_PROTO.icmp)) proto = IP_PROTO.icmpv6;
    if (v6 && [0, 43, 60, 51].includes(proto)) proto = 59; // extension headers would need their bytes
    if (v6 && r.frag & FRAG.later) proto = 44; // as OVS's flow_extract says for IPv6 later fragments
    if (!v6 && proto === IP_PROTO.icmpv6) proto = IP_PROTO.icmp;
    const later = (r.frag & FRAG.later) !== 0;
    const l4 =
      !later &&
      [IP_PROTO.tcp, IP_PROTO.udp, IP_PROTO.sctp, IP_PROTO.icmp, IP_PROTO.icmpv6, 2].includes(proto as 6);
    const icmp = proto === IP_PROTO.icmp || proto === IP_PROTO.icmpv6 || proto === 2; // ICMP-like: ICMP, ICMPv6, IGMP
    const nd = l4 && v6 && proto === IP_PROTO.icmpv6 && r.nd;
    // A non-ND ICMPv6 message must not look like ND (type 135/136 with code 0).
    const type = icmp && !nd && (r.tp_src & 0xff) >= 135 && (r.tp_src & 0xff) <= 136 ? 128 : r.tp_src & 0xff;
    const flow = makeFlow({
      ...base,
      dl_type: v6 ? ETH_TYPE.ipv6 : ETH_TYPE.ip,
      nw_src: v6 ? 0 : r.src4,
      nw_dst: v6 ? 0 : r.dst4,
      ipv6_src: v6 ? r.src6 : 0n,
      ipv6_dst: v6 ? r.dst6 : 0n,
      ipv6_label: v6 ? r.label : 0,
      nw_proto: proto,
      nw_tos: r.tos,
      nw_ttl: r.ttl,
      nw_frag: r.frag,
      tp_src: !l4 ? 0 : nd ? 135 + (r.tp_src % 2) : icmp ? type : r.tp_src,
      tp_dst: !l4 ? 0 : nd ? 0 : icmp ? r.tp_dst & 0xff : r.tp_dst,
      tcp_flags: l4 && proto === IP_PROTO.tcp ? r.flags : 0,
      nd_target: nd ? r.target : 0n,
      arp_sha: nd ? r.sha : 0,
      arp_tha: nd ? r.tha : 0,
    });
    const tcp = l4 && proto === IP_PROTO.tcp;
    return makePacket(flow, {
      payload:
        l4 && icmp && !nd && r.payload.length < 4
          ? Uint8Array.of(1, 2, 3, 4)
          : nd
            ? r.payload.slice(0, 4).length === 4
              ? r.payload.slice(0, 4)
              : new Uint8Array(4)
            : r.payload,
      ipId: v6 ? (r.frag ? r.ipId : 0) : r.ipId & 0xffff,
      tcpSeq: tcp ? r.seq : 0,
      tcpAck: tcp ? r.ack : 0,
      tcpWindow: tcp ? r.win : 0,
      sctpTag: l4 && proto === IP_PROTO.sctp ? r.tag : 0,
    });
  });

describe("encodeFrame/decodeFrame", () => {
  it("decode(encode(p)) = p, with every checksum right", () => {
    fc.assert(
      fc.property(anyPacket, (p) => {
        const b = encodeFrame(p);
        expect(decodeFrame(b, { vlanLimit: 2 })).toEqual(p);
        expect(frameChecksumsOk(b)).toBe(true);
      }),
      { numRuns: 800 },
    );
  });

  it("fuzz: random bytes decode to a packet or a BAD_PACKET error, never a crash", () => {
    const framey = fc.tuple(anyPacket, fc.nat(), fc.uint8Array({ maxLength: 8 })).map(([p, cut, junk]) => {
      const b = encodeFrame(p);
      const c = b.slice(0, cut % (b.length + 1));
      if (junk.length > 0 && c.length > 0) c[junk[0]! % c.length] = junk[1] ?? 0;
      return c;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), framey), (b) => {
        try {
          decodeFrame(b);
        } catch (e) {
          if (!isSimError(e) || e.code !== "BAD_PACKET") throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a bad checksum is noticed", () => {
    const b = encodeFrame(tcpSyn({ src: "192.0.2.10:40000", dst: "10.180.204.252:80" }));
    b[b.length - 1] = 0x01; // urgent pointer byte
    expect(frameChecksumsOk(b)).toBe(false);
  });
});

describe("builders", () => {
  it("a TCP SYN on VLAN 341, as the issue's example", () => {
    const p = tcpSyn({
      src: "192.0.2.10:40000",
      dst: "10.180.204.252:80",
      vlan: 341,
      dlSrc: "00:00:5e:00:53:01",
      dlDst: "00:00:5e:00:53:ff",
      inPort: 1,
    });
    expect(formatFlow(p.flow)).toBe(
      "tcp,in_port=1,dl_vlan=341,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:ff,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=40000,tp_dst=80,tcp_flags=syn",
    );
    const b = encodeFrame(p);
    expect(b.length).toBe(14 + 4 + 20 + 20);
    expect(decodeFrame(b, { in_port: 1 })).toEqual(p);
  });

  it("ARP, ND and ICMP builders fill the flow as OVS flow_extract would", () => {
    const req = arpRequest({ sha: "00:00:5e:00:53:01", spa: "192.0.2.10", tpa: "192.0.2.1" });
    expect(formatFlow(req.flow)).toBe(
      "arp,vlan_tci=0x0000,dl_src=00:00:5e:00:53:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=192.0.2.10,arp_tpa=192.0.2.1,arp_op=1,arp_sha=00:00:5e:00:53:01,arp_tha=00:00:00:00:00:00",
    );
    const rep = arpReply({
      sha: "00:00:5e:00:53:02",
      spa: "192.0.2.1",
      tpa: "192.0.2.10",
      tha: "00:00:5e:00:53:01",
    });
    expect(rep.flow.dl_dst).toBe(0x00005e005301);
    const ns = ndSolicit({ src: "fe80::1", target: "fe80::2", dlSrc: "00:00:5e:00:53:01" });
    expect(formatFlow(ns.flow)).toContain("ipv6_dst=ff02::1:ff00:2,");
    expect(formatFlow(ns.flow)).toContain(
      "icmp_type=135,icmp_code=0,nd_target=fe80::2,nd_sll=00:00:5e:00:53:01,nd_tll=00:00:00:00:00:00",
    );
    const na = ndAdvert({ src: "fe80::2", dst: "fe80::1", target: "fe80::2", dlSrc: "00:00:5e:00:53:02" });
    expect(decodeFrame(encodeFrame(na))).toEqual(na);
    const echo = icmpPacket({ src: "192.0.2.10", dst: "192.0.2.1", id: 7, seq: 1, payload: "ping" });
    expect(formatFlow(echo.flow)).toContain("icmp_type=8,icmp_code=0");
    const echo6 = icmpPacket({ src: "2001:db8::1", dst: "2001:db8::2" });
    expect(formatFlow(echo6.flow)).toMatch(/^icmp6,.*icmp_type=128,icmp_code=0$/);
    expect(() => tcpPacket({ src: "192.0.2.1:1", dst: "[2001:db8::1]:2" })).toThrowError(
      /both be IPv4 or both IPv6/,
    );
    expect(() => tcpPacket({ src: "192.0.2.1:1", dst: "192.0.2.2:2", flags: "syn|bogus" })).toThrowError(
      /bogus/,
    );
  });
});

const tshark = (() => {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("pcap", () => {
  const frames = [
    tcpSyn({
      src: "192.0.2.10:40000",
      dst: "10.180.204.252:80",
      vlan: 341,
      dlSrc: "00:00:5e:00:53:01",
      dlDst: "00:00:5e:00:53:ff",
      payload: "hello",
    }),
    udpPacket({ src: "10.1.2.3:40001", dst: "10.180.204.99:9999", payload: "data" }),
    udpPacket({ src: "[2001:db8::1]:1000", dst: "[fd00::5]:9999", payload: "v6" }),
    tcpPacket({
      src: "[2001:db8::10]:33333",
      dst: "[fd00::5]:443",
      flags: "syn|ack",
      seq: 100,
      ack: 200,
      payload: "x",
    }),
    icmpPacket({ src: "192.0.2.10", dst: "192.0.2.1", id: 1, seq: 2, payload: "abcd" }),
    icmpPacket({ src: "2001:db8::1", dst: "2001:db8::2", id: 1, seq: 2 }),
    arpRequest({ sha: "00:00:5e:00:53:01", spa: "192.0.2.10", tpa: "192.0.2.1" }),
    ndSolicit({ src: "fe80::1", target: "fe80::2", dlSrc: "00:00:5e:00:53:01" }),
    sctpPacket({ src: "192.0.2.10:1000", dst: "192.0.2.11:2000", tag: 0x1234 }),
    tcpSyn({
      src: "192.0.2.10:1",
      dst: "192.0.2.20:2",
      vlan: [
        { tpid: 0x88a8, pcp: 1, vid: 100 },
        { tpid: 0x8100, pcp: 2, vid: 200 },
      ],
    }),
  ];
  const file = writePcap(frames.map((p, i) => ({ bytes: encodeFrame(p), timeUs: 1_000_000 * i + 250 })));

  it("reads back what it writes", () => {
    const r = readPcap(file);
    expect(r.linktype).toBe(1);
    expect(r.records.map((x) => decodeFrame(x.bytes, { vlanLimit: 2 }))).toEqual(frames);
    expect(r.records[2]!.timeUs).toBe(2_000_250n);
    expect(writePcap(frames.map((p, i) => ({ bytes: encodeFrame(p), timeUs: 1_000_000 * i + 250 })))).toEqual(
      file,
    );
  });

  it.skipIf(!tshark)("the real tshark reads it, with every checksum good", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ovnsim-pcap-"));
    try {
      const f = path.join(dir, "t.pcap");
      writeFileSync(f, file);
      const out = execFileSync(
        "tshark",
        [
          "-r",
          f,
          "-n",
          "-o",
          "tcp.check_checksum:TRUE",
          "-o",
          "udp.check_checksum:TRUE",
          "-o",
          "ip.check_checksum:TRUE",
          "-o",
          "sctp.checksum:CRC 32c",
          "-T",
          "fields",
          "-E",
          "separator=|",
          "-e",
          "vlan.id",
          "-e",
          "ip.src",
          "-e",
          "ipv6.src",
          "-e",
          "ip.dst",
          "-e",
          "ipv6.dst",
          "-e",
          "tcp.dstport",
          "-e",
          "udp.dstport",
          "-e",
          "ip.checksum.status",
          "-e",
          "tcp.checksum.status",
          "-e",
          "udp.checksum.status",
          "-e",
          "icmp.checksum.status",
          "-e",
          "icmpv6.checksum.status",
          "-e",
          "arp.opcode",
          "-e",
          "icmpv6.nd.ns.target_address",
          "-e",
          "sctp.checksum.status",
          "-e",
          "tcp.flags",
          "-e",
          "_ws.expert.severity",
        ],
        { encoding: "utf8", env: { ...process.env, HOME: dir } },
      );
      const rows = out
        .trim()
        .split("\n")
        .map((l) => l.split("|"));
      expect(rows).toHaveLength(frames.length);
      // tshark's checksum.status: 0 bad, 1 good, 2 unverified.
      expect(rows[0]!.slice(0, 9)).toEqual([
        "341",
        "192.0.2.10",
        "",
        "10.180.204.252",
        "",
        "80",
        "",
        "1",
        "1",
      ]);
      expect(rows[0]![15]).toBe("0x0002");
      expect(rows[1]!.slice(6, 10)).toEqual(["9999", "1", "", "1"]);
      expect(rows[2]![2]).toBe("2001:db8::1");
      expect(rows[2]![9]).toBe("1");
      expect(rows[3]![8]).toBe("1");
      expect(rows[3]![15]).toBe("0x0012");
      expect(rows[4]![10]).toBe("1");
      expect(rows[5]![11]).toBe("1");
      expect(rows[6]![12]).toBe("1");
      expect(rows[7]![13]).toBe("fe80::2");
      expect(rows[7]![11]).toBe("1");
      expect(rows[8]![14]).toBe("1"); // SCTP CRC32c
      expect(rows[9]![0]).toBe("200"); // inner 802.1Q under the 802.1ad tag
      // Nothing above "chat" severity (0x200000) from any dissector: no warnings, no malformed.
      for (const r of rows) expect(Number(r[16] || 0)).toBeLessThanOrEqual(0x200000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
