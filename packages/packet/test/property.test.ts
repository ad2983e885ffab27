// Property and fuzz tests for the text forms: parse(print(x)) = x, and no input crashes or hangs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ETH_TYPE,
  FIELDS,
  type Flow,
  flowPrintMask,
  flowToKey,
  formatFlow,
  formatIp6,
  formatMatch,
  IP_PROTO,
  isSimError,
  keyToFlow,
  makeFlow,
  makeMatch,
  parseFlow,
  parseIp6,
  parseMatch,
} from "../src/index.js";

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const big = (bits: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const zeroOr = <T>(arb: fc.Arbitrary<T>, zero: T): fc.Arbitrary<T> => fc.oneof(fc.constant(zero), arb);

const vlan = fc.record({
  tpid: fc.constant(0x8100),
  pcp: fc.integer({ min: 0, max: 7 }),
  vid: fc.integer({ min: 0, max: 4095 }),
});

/** Any flow the model can hold; printing then drops what OVS does not print. */
const anyFlow: fc.Arbitrary<Flow> = fc
  .record({
    recirc_id: zeroOr(u32, 0),
    dp_hash: zeroOr(u32, 0),
    in_port: fc.integer({ min: 1, max: 0xffff }),
    skb_priority: zeroOr(u32, 0),
    pkt_mark: zeroOr(u32, 0),
    ct_state: zeroOr(u8, 0),
    ct_zone: zeroOr(u16, 0),
    ct_mark: zeroOr(u32, 0),
    ct_label: zeroOr(big(128), 0n),
    ct_nw_src: u32,
    ct_nw_dst: u32,
    ct_ipv6_src: big(128),
    ct_ipv6_dst: big(128),
    ct_nw_proto: zeroOr(u8, 0),
    ct_tp_src: u16,
    ct_tp_dst: u16,
    metadata: zeroOr(big(64), 0n),
    regs: fc.array(zeroOr(u32, 0), { minLength: 16, maxLength: 16 }),
    dl_src: mac,
    dl_dst: mac,
    dl_type: fc.constantFrom(ETH_TYPE.ip, ETH_TYPE.ipv6, ETH_TYPE.arp, ETH_TYPE.rarp, 0x88cc, 0),
    vlans: fc.array(vlan, { maxLength: 2 }),
    mpls_lse: u32,
    mpls_lse1: u32,
    mpls_lse2: u32,
    nw_src: u32,
    nw_dst: u32,
    ipv6_src: big(128),
    ipv6_dst: big(128),
    ipv6_label: fc.integer({ min: 0, max: 0xfffff }),
    nw_proto: fc.oneof(
      fc.constantFrom(IP_PROTO.tcp, IP_PROTO.udp, IP_PROTO.icmp, IP_PROTO.icmpv6, IP_PROTO.sctp, 2),
      u8,
    ),
    nw_tos: u8,
    nw_ttl: u8,
    nw_frag: fc.constantFrom(0, 1, 3),
    arp_sha: mac,
    arp_tha: mac,
    tp_src: u16,
    tp_dst: u16,
    tcp_flags: fc.integer({ min: 0, max: 0xfff }),
    nd_target: big(128),
  })
  .map((r) => {
    // ICMP type/code are 8-bit fields; ND needs type 135/136 code 0 sometimes.
    const icmp =
      (r.dl_type === ETH_TYPE.ip && r.nw_proto === IP_PROTO.icmp) ||
      (r.dl_type === ETH_TYPE.ipv6 && r.nw_proto === IP_PROTO.icmpv6);
    const isNd = r.dl_type === ETH_TYPE.ipv6 && r.nw_proto === IP_PROTO.icmpv6 && r.tp_src % 3 === 0;
    return makeFlow({
      ...r,
      ...(icmp
        ? { tp_src: isNd ? 135 + (r.tp_src % 2) : r.tp_src & 0xff, tp_dst: isNd ? 0 : r.tp_dst & 0xff }
        : {}),
    });
  });

/** The part of a flow that OVS prints (what parse(print(f)) can give back). */
function printedPart(f: Flow): Flow {
  const key = flowToKey(f);
  const m = flowPrintMask(f, key);
  for (let i = 0; i < key.length; i++) key[i] = (key[i]! & m[i]!) >>> 0;
  // VLAN words keep their TPID (not printed, always 0x8100 here).
  const k2 = flowToKey(f);
  key[48] = (key[48]! | (k2[48]! & 0xffff0000)) >>> 0;
  key[49] = (key[49]! | (k2[49]! & 0xffff0000)) >>> 0;
  return keyToFlow(key);
}

describe("formatFlow/parseFlow", () => {
  it("parse(print(f)) = the printed part of f, and print is a fixed point", () => {
    fc.assert(
      fc.property(anyFlow, (f) => {
        const text = formatFlow(f);
        const back = parseFlow(text, { lenient: true });
        expect(back).toEqual(printedPart(f));
        expect(formatFlow(back)).toBe(text);
      }),
      { numRuns: 600 },
    );
  });

  it("the issue's example", () => {
    expect(formatFlow(parseFlow("in_port=1,dl_vlan=341,tcp,nw_src=192.0.2.10,tp_dst=80"))).toBe(
      "tcp,in_port=1,dl_vlan=341,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=192.0.2.10,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0",
    );
  });

  it("refuses what ofproto/trace refuses, with a typed error naming the field and text", () => {
    const cases: [string, string, RegExp][] = [
      ["udp,tp_src=53", "PREREQUISITES", /tp_src: prerequisites not met/],
      ["tp_dst=80,tcp", "PREREQUISITES", /tp_dst/],
      ["tcp,tp_dst=8o", "BAD_VALUE", /tp_dst: "8o" is not a number/],
      ["tcp,nw_src=10.0.0.0/8", "BAD_MASK", /wildcards not allowed/],
      ["tcp,nw_src=1.2.3.4,nw_src=1.2.3.5", "DUPLICATE", /set multiple times/],
      ["tcp,udp", "CONFLICT", /Ethernet type set multiple times/],
      ["foo=1", "UNKNOWN_FIELD", /foo/],
      ["in_port=eth9", "UNKNOWN_PORT", /eth9/],
      ["udp,nw_frag=yes", "BAD_MASK", /wildcards/],
      ["ip,dl_vlan=4096", "BAD_VALUE", /dl_vlan/],
      ["in_port(1),eth(src=00:00:00:00:00:01)", "UNSUPPORTED", /ODP/],
    ];
    for (const [text, code, re] of cases) {
      let err: unknown;
      try {
        parseFlow(text);
      } catch (e) {
        err = e;
      }
      expect(isSimError(err), text).toBe(true);
      if (isSimError(err)) {
        expect(err.code, text).toBe(code);
        expect(err.message, text).toMatch(re);
      }
    }
  });

  it("in_port names from the bridge, and LOCAL", () => {
    const f = parseFlow("in_port=eth0,ip", { ports: new Map([["eth0", 7]]) });
    expect(f.in_port).toBe(7);
    expect(formatFlow(parseFlow("in_port=LOCAL,ip"))).toMatch(/^ip,in_port=LOCAL,/);
    expect(formatFlow(f, { portNames: new Map([[7, "eth0"]]) })).toMatch(/^ip,in_port=eth0,/);
    expect(parseFlow("ip").in_port).toBe(0xffff);
  });
});

/** Random matches built the way ovs-ofctl users write them. */
const anyMatchText: fc.Arbitrary<string> = fc
  .record({
    proto: fc.constantFrom(
      "",
      "ip",
      "tcp",
      "udp",
      "sctp",
      "icmp",
      "ipv6",
      "tcp6",
      "udp6",
      "icmp6",
      "arp",
      "mpls",
      "mplsm",
    ),
    in_port: fc.option(fc.integer({ min: 1, max: 0xfff0 }), { nil: undefined }),
    reg: fc.option(fc.tuple(fc.integer({ min: 0, max: 15 }), u32, u32), { nil: undefined }),
    ct: fc.option(fc.tuple(u8, u8), { nil: undefined }),
    vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }),
    dst: fc.option(fc.tuple(u32, fc.integer({ min: 0, max: 32 })), { nil: undefined }),
    port: fc.option(fc.tuple(u16, u16), { nil: undefined }),
    mac: fc.option(fc.tuple(mac, mac), { nil: undefined }),
    mpls: fc.option(
      fc.tuple(
        fc.integer({ min: 0, max: 0xfffff }),
        fc.integer({ min: 0, max: 7 }),
        u8,
        fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
      ),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const parts: string[] = [];
    if (r.proto) parts.push(r.proto);
    if (r.in_port !== undefined) parts.push(`in_port=${r.in_port}`);
    if (r.reg) parts.push(`reg${r.reg[0]}=${r.reg[1]}/0x${r.reg[2].toString(16)}`);
    if (r.ct) parts.push(`ct_state=${r.ct[0]}/${r.ct[1]}`);
    if (r.vlan !== undefined) parts.push(`dl_vlan=${r.vlan}`);
    const ip4 = ["ip", "tcp", "udp", "sctp", "icmp"].includes(r.proto);
    if (r.dst && ip4)
      parts.push(
        `nw_dst=${r.dst[0] >>> 24}.${(r.dst[0] >>> 16) & 255}.${(r.dst[0] >>> 8) & 255}.${r.dst[0] & 255}/${r.dst[1]}`,
      );
    if (r.port && ["tcp", "udp", "sctp", "tcp6", "udp6"].includes(r.proto))
      parts.push(`tp_dst=${r.port[0]}/${r.port[1]}`);
    if (r.mac) parts.push(`dl_dst=${fmtMac(r.mac[0])}/${fmtMac(r.mac[1])}`);
    if (r.mpls && r.proto.startsWith("mpls")) {
      const [label, tc, ttl, bos] = r.mpls;
      parts.push(`mpls_label=${label}`, `mpls_tc=${tc}`, `mpls_ttl=${ttl}`);
      if (bos !== undefined) parts.push(`mpls_bos=${bos}`);
    }
    return parts.join(",");
  });
const fmtMac = (n: number): string =>
  Array.from({ length: 6 }, (_, i) => Math.floor(n / 2 ** (8 * (5 - i))) % 256)
    .map((b) => b.toString(16).padStart(2, "0"))
    .join(":");

describe("formatMatch/parseMatch", () => {
  it("print(parse(print(parse(t)))) = print(parse(t)), and the match survives the round trip", () => {
    fc.assert(
      fc.property(anyMatchText, (t) => {
        const m = parseMatch(t);
        const text = formatMatch(m);
        const again = parseMatch(text);
        expect(again).toEqual(m);
        expect(formatMatch(again)).toBe(text);
      }),
      { numRuns: 600 },
    );
  });

  it("keeps OVS's invariant value & ~mask = 0", () => {
    const m = parseMatch("ip,nw_dst=10.180.204.250/26,reg0=0xff/0xf");
    expect(formatMatch(m)).toBe("ip,reg0=0xf/0xf,nw_dst=10.180.204.192/26");
    for (const fm of m.fields) {
      if (typeof fm.value === "bigint") expect(fm.value & ~(fm.mask as bigint)).toBe(0n);
      else expect(fm.value & ~(fm.mask as number)).toBe(0);
    }
  });

  it("makeMatch builds the same thing as the parser", () => {
    const a = makeMatch([
      { field: "dl_type", value: 0x800 },
      { field: "nw_proto", value: 6 },
      { field: "tp_dst", value: 80 },
    ]);
    expect(formatMatch(a)).toBe("tcp,tp_dst=80");
  });

  it("refuses a tcp_dst without tcp, a bad mask, an unknown field", () => {
    expect(() => parseMatch("tp_dst=80")).toThrowError(/prerequisites/);
    expect(() => parseMatch("arp,nw_ttl=3")).toThrowError(/prerequisites/);
    expect(() => parseMatch("ip,nw_ttl=1/0xf")).toThrowError(/invalid mask/);
    expect(() => parseMatch("bogus=1")).toThrowError(/bogus/);
    expect(formatMatch(parseMatch("udp,tp_dst=53"))).toBe("udp,tp_dst=53");
  });
});

const TOKENS = [
  ...FIELDS.map((f) => f.name),
  "tcp",
  "udp",
  "ip",
  "ipv6",
  "arp",
  "mpls",
  "mplsm",
  "icmp6",
  "eth",
  "=",
  ",",
  "/",
  "0x",
  "1",
  "80",
  "+trk",
  "-new",
  "|",
  "10.0.0.1",
  "fe80::1",
  "00:00:5e:00:53:01",
  "LOCAL",
  "no",
  "later",
  "(",
  ")",
  " ",
  "*",
  "ffffffffffffffffffffffffffffffffffff",
];
const tokenString = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((a) => a.join(""));

describe("fuzz: any text gives a result or a SimError, quickly", () => {
  for (const [name, fn] of [
    ["parseFlow", (t: string) => parseFlow(t)],
    ["parseFlow lenient", (t: string) => parseFlow(t, { lenient: true })],
    ["parseMatch", (t: string) => parseMatch(t)],
    ["parseMatch lenient", (t: string) => parseMatch(t, { lenient: true })],
  ] as const) {
    it(name, () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ maxLength: 200 }), tokenString), (t) => {
          try {
            const r = fn(t);
            expect(r).toBeTypeOf("object");
          } catch (e) {
            if (!isSimError(e)) throw e;
          }
        }),
        { numRuns: 1500 },
      );
    });
  }

  it("a long input parses in linear time", () => {
    const long = `${"reg0=0x1,".repeat(2000)}tcp`;
    const t0 = performance.now();
    expect(() => parseMatch(long)).not.toThrow();
    expect(() => parseFlow(`${"x".repeat(100000)}=1`)).toThrow();
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("formatIp6 (glibc inet_ntop, as OVS prints)", () => {
  it("agrees with the WHATWG URL serializer except for embedded IPv4 forms", () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (w) => {
        const v = w.reduce((a, x) => (a << 16n) | BigInt(x), 0n);
        const text = formatIp6(v);
        expect(parseIp6(text)).toBe(v);
        const v4ish = w.slice(0, 5).every((x) => x === 0) && (w[5] === 0xffff || (w[5] === 0 && w[6] !== 0));
        if (!v4ish) expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 2000 },
    );
    expect(formatIp6(parseIp6("::ffff:192.0.2.1"))).toBe("::ffff:192.0.2.1");
    expect(formatIp6(parseIp6("::192.0.2.1"))).toBe("::192.0.2.1");
    expect(formatIp6(parseIp6("::1"))).toBe("::1");
    expect(formatIp6(0n)).toBe("::");
    expect(formatIp6(parseIp6("2001:db8:0:0:1:0:0:1"))).toBe("2001:db8::1:0:0:1");
  });
});
