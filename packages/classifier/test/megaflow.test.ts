// Megaflow (wildcard) golden tests: the rules and the Megaflow lines of upstream OVS
// tests/classifier.at ("flow classifier - lookup segmentation", "... final stage") and of
// Documentation/topics/tracing.rst, minus the bits ofproto-dpif-xlate adds on its own
// (recirc_id, eth, nw_frag): what is left is what the classifier un-wildcarded.
import { ETH_TYPE, FLOW_WORDS, IP_PROTO, TCP_FLAG, W } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { Classifier } from "../src/index.js";

type F = [number, number]; // [value, mask]
interface M {
  in_port?: number;
  dl_type?: number;
  nw_proto?: number;
  nw_src?: F;
  nw_dst?: F;
  tp_dst?: F | number;
  tcp_flags?: F;
}
const ip = (s: string): number => s.split(".").reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
const pfx = (s: string, len: number): F => [ip(s), len === 0 ? 0 : (~0 << (32 - len)) >>> 0];

function words(m: M): { value: Uint32Array; mask: Uint32Array } {
  const value = new Uint32Array(FLOW_WORDS);
  const mask = new Uint32Array(FLOW_WORDS);
  const set = (w: number, v: number, mk: number) => {
    value[w] = v & mk;
    mask[w] = mk;
  };
  if (m.in_port !== undefined) set(W.in_port, m.in_port, 0xffffffff);
  if (m.dl_type !== undefined) set(W.dl_type, m.dl_type, 0xffff);
  if (m.nw_proto !== undefined) set(W.nw_proto, m.nw_proto, 0xff);
  if (m.nw_src) set(W.nw_src, ...m.nw_src);
  if (m.nw_dst) set(W.nw_dst, ...m.nw_dst);
  if (m.tp_dst !== undefined) {
    const [v, mk] = typeof m.tp_dst === "number" ? [m.tp_dst, 0xffff] : m.tp_dst;
    set(W.tp_dst, v, mk);
  }
  if (m.tcp_flags) set(W.tcp_flags, ...m.tcp_flags);
  return { value, mask };
}

const tcp = { dl_type: ETH_TYPE.ip, nw_proto: IP_PROTO.tcp };
const ipm = { dl_type: ETH_TYPE.ip };

function packet(p: {
  in_port: number;
  nw_src: string;
  nw_dst: string;
  tp_src: number;
  tp_dst: number;
  tcp_flags?: number;
}) {
  const k = new Uint32Array(FLOW_WORDS);
  k[W.in_port] = p.in_port;
  k[W.dl_type] = ETH_TYPE.ip;
  k[W.nw_proto] = IP_PROTO.tcp;
  k[W.nw_src] = ip(p.nw_src);
  k[W.nw_dst] = ip(p.nw_dst);
  k[W.nw_ttl] = 128;
  k[W.tp_src] = p.tp_src;
  k[W.tp_dst] = p.tp_dst;
  k[W.tcp_flags] = p.tcp_flags ?? 0;
  k[W.dl_src + 1] = 5;
  return k;
}

function build(rules: [number, M, string][]): Classifier<string> {
  const c = new Classifier<string>();
  for (const [priority, m, payload] of rules) c.insert({ priority, ...words(m), payload });
  return c;
}

/** Non-zero wc words, as {word: mask}. */
function wcOf(c: Classifier<string>, key: Uint32Array): [string | undefined, Record<number, number>] {
  const wc = new Uint32Array(FLOW_WORDS);
  const r = c.lookup(key, wc);
  const out: Record<number, number> = {};
  wc.forEach((m, i) => {
    if (m !== 0) out[i] = m;
  });
  return [r?.payload, out];
}

const expectWc = (m: M): Record<number, number> => {
  const out: Record<number, number> = {};
  words(m).mask.forEach((mk, i) => {
    if (mk !== 0) out[i] = mk;
  });
  return out;
};

describe("lookup segmentation (tests/classifier.at)", () => {
  const c = build([
    [16, { in_port: 1, ...tcp, nw_dst: pfx("10.1.0.0", 16) }, "output:3"],
    [32, { in_port: 1, ...tcp, nw_dst: pfx("10.1.2.15", 32) }, "output:2"],
    [33, { in_port: 1, ...tcp, nw_dst: pfx("10.1.2.15", 32), tp_dst: 80 }, "drop33"],
    [0, { in_port: 1, ...ipm }, "drop0-1"],
    [16, { in_port: 2, ...tcp, nw_dst: pfx("192.168.0.0", 16) }, "output:1"],
    [0, { in_port: 2, ...ipm }, "drop0-2"],
    [16, { in_port: 3, ...tcp, nw_src: pfx("10.1.0.0", 16) }, "output:1"],
    [0, { in_port: 3, ...ipm }, "drop0-3"],
  ]);
  const base = { nw_src: "192.168.0.1", tp_src: 8 };

  it("tcp,in_port=2,nw_dst=192.168.0.0/16 → 1", () => {
    expect(wcOf(c, packet({ ...base, in_port: 2, nw_dst: "192.168.0.2", tp_dst: 80 }))).toEqual([
      "output:1",
      expectWc({ in_port: 2, ...tcp, nw_dst: pfx("192.168.0.0", 16) }),
    ]);
  });
  it("ip,in_port=1,nw_dst=11.0.0.0/8 → drop (the trie keeps nw_proto and most of nw_dst wild)", () => {
    expect(wcOf(c, packet({ ...base, in_port: 1, nw_dst: "11.1.2.15", tp_dst: 80 }))).toEqual([
      "drop0-1",
      expectWc({ in_port: 1, ...ipm, nw_dst: pfx("11.0.0.0", 8) }),
    ]);
  });
  it("tcp,in_port=1,nw_dst=10.1.2.15,tp_dst=80 → drop", () => {
    expect(wcOf(c, packet({ ...base, in_port: 1, nw_dst: "10.1.2.15", tp_dst: 80 }))).toEqual([
      "drop33",
      expectWc({ in_port: 1, ...tcp, nw_dst: pfx("10.1.2.15", 32), tp_dst: 80 }),
    ]);
  });
  it("tcp,in_port=1,nw_dst=10.1.2.15,tp_dst=0x40/0xfff0 → 2 (ports trie)", () => {
    expect(wcOf(c, packet({ ...base, in_port: 1, nw_dst: "10.1.2.15", tp_dst: 79 }))).toEqual([
      "output:2",
      expectWc({ in_port: 1, ...tcp, nw_dst: pfx("10.1.2.15", 32), tp_dst: [0x40, 0xfff0] }),
    ]);
  });
});

describe("lookup segmentation - final stage (tests/classifier.at)", () => {
  const c = build([
    [33, { in_port: 1, ...tcp, tp_dst: 80, tcp_flags: [TCP_FLAG.psh, TCP_FLAG.psh] }, "output:2"],
    [0, { in_port: 1, ...ipm }, "drop"],
  ]);
  const base = { in_port: 1, nw_src: "192.168.0.1", nw_dst: "192.168.0.2", tp_src: 8 };
  const cases: [number, number, string, M][] = [
    [80, TCP_FLAG.syn, "drop", { tp_dst: 80, tcp_flags: [0, TCP_FLAG.psh] }],
    [80, TCP_FLAG.syn | TCP_FLAG.ack, "drop", { tp_dst: 80, tcp_flags: [0, TCP_FLAG.psh] }],
    [80, TCP_FLAG.ack | TCP_FLAG.psh, "output:2", { tp_dst: 80, tcp_flags: [TCP_FLAG.psh, TCP_FLAG.psh] }],
    [80, 0, "drop", { tp_dst: 80, tcp_flags: [0, TCP_FLAG.psh] }],
    [79, 0, "drop", { tp_dst: [0x40, 0xfff0], tcp_flags: [0, TCP_FLAG.psh] }],
    [81, 0, "drop", { tp_dst: 81, tcp_flags: [0, TCP_FLAG.psh] }],
  ];
  for (const [tp_dst, flags, payload, m] of cases)
    it(`tp_dst=${tp_dst},tcp_flags=0x${flags.toString(16)} → ${payload}`, () => {
      expect(wcOf(c, packet({ ...base, tp_dst, tcp_flags: flags }))).toEqual([
        payload,
        expectWc({ in_port: 1, ...tcp, ...m }),
      ]);
    });
});

describe("ofproto/trace example (Documentation/topics/tracing.rst)", () => {
  const t0 = build([[32768 >> 1, { in_port: 3, ...ipm, nw_src: pfx("192.0.2.0", 24) }, "resubmit(,2)"]]);
  const t2 = build([[32768 >> 1, { ...tcp, tp_dst: 22 }, "output:1"]]);
  const run = (tp_dst: number) => {
    const key = packet({ in_port: 3, nw_src: "192.0.2.2", nw_dst: "0.0.0.0", tp_src: 0, tp_dst });
    const wc = new Uint32Array(FLOW_WORDS);
    const a = t0.lookup(key, wc)?.payload;
    const b = t2.lookup(key, wc)?.payload;
    const out: Record<number, number> = {};
    wc.forEach((m, i) => {
      if (m !== 0) out[i] = m;
    });
    return [a, b, out];
  };
  it("tcp_dst=80: no match in table 2, Megaflow …,nw_src=192.0.2.0/24,…,tp_dst=0x40/0xffc0", () => {
    expect(run(80)).toEqual([
      "resubmit(,2)",
      undefined,
      expectWc({ in_port: 3, ...tcp, nw_src: pfx("192.0.2.0", 24), tp_dst: [0x40, 0xffc0] }),
    ]);
  });
  it("tcp_dst=22: output:1, Megaflow …,nw_src=192.0.2.0/24,…,tp_dst=22", () => {
    expect(run(22)).toEqual([
      "resubmit(,2)",
      "output:1",
      expectWc({ in_port: 3, ...tcp, nw_src: pfx("192.0.2.0", 24), tp_dst: 22 }),
    ]);
  });
});
