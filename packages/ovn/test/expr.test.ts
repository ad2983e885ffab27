import fc from "fast-check";
import { isSimError } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { compileExpr, foldConstants } from "../src/expr/compile.js";
import { tokenize } from "../src/expr/lexer.js";
import { parseMicroflow } from "../src/expr/microflow.js";
import { parseExpr } from "../src/expr/parse.js";
import type { MFlow } from "../src/expr/symtab.js";

const ports = new Map([
  ["lp", 1],
  ["pod1", 2],
  ["_MC_flood", 32768],
]);
const env = { lookupPort: (n: string) => ports.get(n), isChassisResident: (n: string) => n === "pod1" };
const flow = (m: string): MFlow => parseMicroflow(m, (n) => ports.get(n));
const TCP = flow(
  'inport == "lp" && eth.src == 00:00:5e:00:53:01 && eth.dst == 0a:58:0a:b4:cc:0b && ip4.src == 10.1.2.3 && ip4.dst == 10.180.204.252 && tcp.src == 40000 && tcp.dst == 80 && ip.ttl == 64',
);
const ARP = flow('inport == "pod1" && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.tpa == 10.0.0.1');
const V6 = flow(
  "ip6.src == fe80::1 && ip6.dst == ff02::1:ff00:13 && icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255",
);
const ev = (e: string, f: MFlow, tables = {}): boolean => compileExpr(parseExpr(e, tables), env)(f);

describe("OVN match expressions", () => {
  it("fields, prerequisites and predicates", () => {
    expect(ev("tcp.dst == 80", TCP)).toBe(true);
    expect(ev("tcp.dst != 80", ARP)).toBe(false); // != still needs tcp
    expect(ev("udp.dst == 80", TCP)).toBe(false);
    expect(ev("ip && ip4 && tcp", TCP)).toBe(true);
    expect(ev("arp", ARP)).toBe(true);
    expect(ev("ip", ARP)).toBe(false);
    expect(ev("eth.mcast", ARP)).toBe(true);
    expect(ev("eth.bcast", ARP)).toBe(true);
    expect(ev("eth.src[40]", TCP)).toBe(false);
    expect(ev("nd_ns", V6)).toBe(true);
    expect(ev("nd", V6)).toBe(true);
    expect(ev("ip6.mcast_sol_node", V6)).toBe(true);
    expect(ev("mldv1 || mldv2", V6)).toBe(false);
  });
  it("ct bits carry ct.trk as a prerequisite, even negated", () => {
    expect(ev("!ct.est", TCP)).toBe(false);
    expect(ev("!ct.trk", TCP)).toBe(true);
    const t = { ...TCP, ct_state: 0x21 };
    expect(ev("ct.new && !ct.est", t)).toBe(true);
    expect(ev("ct.est || ct.rel", t)).toBe(false);
    expect(ev("ct_mark.blocked == 0", t)).toBe(true);
  });
  it("masks, CIDRs, sets, relational operators and ranges", () => {
    expect(ev("ip4.src == 10.0.0.0/8", TCP)).toBe(true);
    expect(ev("ip4.src == 10.0.0.0/255.255.0.0", TCP)).toBe(false);
    expect(ev("ip4.dst == {10.0.0.1, 10.180.204.252}", TCP)).toBe(true);
    expect(ev("ip4.dst != {10.0.0.1, 10.180.204.252}", TCP)).toBe(false);
    expect(ev("tcp.dst < 100 && tcp.dst >= 80", TCP)).toBe(true);
    expect(ev("79 < tcp.dst < 81", TCP)).toBe(true);
    expect(ev("tcp.src > 40000", TCP)).toBe(false);
    expect(ev("tcp.dst == 0x50/0xf0", TCP)).toBe(true);
    expect(ev("eth.dst == 0a:58:0a:b4:cc:00/ff:ff:ff:ff:ff:00", TCP)).toBe(true);
    expect(ev("ip.ttl == {64, 65}", TCP)).toBe(true);
    expect(ev("tcp.dst == {}", TCP)).toBe(false);
  });
  it("registers, xregs and subfields share storage", () => {
    const f = { ...TCP, regs: [0x4, 0x0a0b0c0d, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0] };
    expect(ev("reg0[2] == 1", f)).toBe(true);
    expect(ev("reg0[2]", f)).toBe(true);
    expect(ev("!reg0[3]", f)).toBe(true);
    expect(ev("reg2[0..15] == 80", f)).toBe(true);
    expect(ev("reg1 == 10.11.12.13", f)).toBe(true);
    expect(ev("xreg0[0..31] == 0x0a0b0c0d", f)).toBe(true);
    expect(ev("xxreg0[32..63] == 80", f)).toBe(true);
  });
  it("ports, port groups, address sets and is_chassis_resident", () => {
    expect(ev('inport == "lp"', TCP)).toBe(true);
    expect(ev('inport == {"pod1", "lp"}', TCP)).toBe(true);
    expect(ev('inport == "nosuch"', TCP)).toBe(false);
    expect(() => ev('!(inport == "lp")', TCP)).toThrow(/Nominal field inport/);
    const tables = {
      addressSets: new Map([["as1", ["10.1.0.0/16", "192.168.0.1"]]]),
      portGroups: new Map([["7_pg1", ["lp"]]]),
      dpKey: 7,
    };
    expect(ev("ip4.src == $as1", TCP, tables)).toBe(true);
    expect(ev("inport == @pg1", TCP, tables)).toBe(true);
    expect(ev('is_chassis_resident("pod1")', TCP)).toBe(true);
    expect(ev('is_chassis_resident("lp")', TCP)).toBe(false);
    expect(ev('!is_chassis_resident("lp")', TCP)).toBe(true);
    expect(foldConstants(parseExpr('1 && is_chassis_resident("pod1")'), env)).toEqual({ t: "bool", v: true });
  });
  it("IPv6 constants", () => {
    const toks = tokenize("fe80::/10 ::ffff:1.2.3.4 ff02::1:ff00:0000/104 2001:db8::1");
    expect(toks.filter((t) => t.t === "int").length).toBe(4);
    expect(ev("ip6.src == fe80::/10", V6)).toBe(true);
  });
  it("reports errors where OVN does, with its messages", () => {
    const msg = (s: string): string => {
      try {
        parseExpr(s);
        return "ok";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(msg("ip4.src ==")).toBe("Syntax error at end of input expecting constant.");
    expect(msg("foo == 1")).toBe("Syntax error at `foo' expecting field name.");
    expect(msg("tcp.dst = 80")).toBe("Syntax error at `=' expecting relational operator.");
    expect(msg("ip4.src == 1.2.3.4 1")).toBe("Syntax error at `1' expecting end of input.");
    expect(msg("!tcp")).toMatch(/^Nominal predicate tcp may only be tested positively/);
    expect(msg("a && b || c")).toBe("Syntax error at `a' expecting field name.");
    expect(msg("ip && tcp || udp")).toBe("&& and || must be parenthesized when used together.");
    expect(msg("tcp.dst")).toBe(
      "Explicit `!= 0' is required for inequality test of multibit field against 0.",
    );
    expect(msg("tcp.dst == 70000")).toBe("17-bit constant is not compatible with 16-bit field tcp.dst.");
    expect(msg("inport == 1")).toBe("String field inport is not compatible with integer constant.");
    expect(msg("reg0[40]")).toMatch(/Cannot select bits 40 to 40/);
    expect(msg("ip4.src < 10.0.0.0/8")).toMatch(
      /^Only == and != operators may be used with masked constants/,
    );
    expect(msg("ip4.src == $nosuch")).toBe("Syntax error at `$nosuch' expecting address set name.");
  });
  it("microflows fill in prerequisites and refuse ambiguity", () => {
    expect(TCP.dl_type).toBe(0x0800);
    expect(TCP.nw_proto).toBe(6);
    expect(TCP.regs[14]).toBe(1);
    expect(ARP.dl_type).toBe(0x0806);
    expect(() => flow("tcp.dst == 80")).toThrow(/Constraints are ambiguous/);
    expect(() => flow("ip4.src == 1.1.1.1 && ip4.src == 1.1.1.2")).toThrow(/contradictory/);
    expect(() => flow('inport == "nosuch"')).toThrow(/unknown logical port/);
  });
  it("a prerequisite disjunction no field can satisfy is contradictory, as real ovn-trace says", () => {
    // Real ovn-trace 23.03 (differential): ARP and `ip.frag` / `ip.proto` / `tcp.flags`.
    const arp = "eth.src == 0a:58:0a:00:00:02 && arp.op == 1 && arp.tpa == 10.0.0.1";
    for (const extra of ["ip.frag == 0", "ip.proto == 47", "tcp.flags == 2", "ip.dscp == 10"])
      expect(() => flow(`${arp} && ${extra}`)).toThrow("Constraints are contradictory.");
    expect(() => flow("eth.src == 0a:58:0a:00:00:02 && ip.frag == 0")).toThrow(/ambiguous/);
  });
  it("ip.dscp and ip.ecn leave nw_tos alone (OVS's mf_set ignores a partial mask on them)", () => {
    const f = flow("ip4.src == 10.0.0.1 && udp.dst == 53 && ip.dscp == 10 && ip.ecn == 1 && ip.ttl == 9");
    expect(f.nw_tos).toBe(0);
    expect(f.nw_ttl).toBe(9);
    expect(() => flow("ip4 && ip.dscp == 10 && ip.dscp == 11")).toThrow(/contradictory/);
  });
});

const TOKENS = [
  "ip4.src",
  "tcp.dst",
  "reg0",
  "[",
  "]",
  "0..15",
  "==",
  "!=",
  "<",
  ">=",
  "&&",
  "||",
  "!",
  "(",
  ")",
  "{",
  "}",
  ",",
  "10.0.0.1",
  "10.0.0.0/8",
  "fe80::1",
  "0x10",
  "00:11:22:33:44:55",
  "80",
  "1",
  "0",
  '"lp"',
  "inport",
  "$as",
  "@pg",
  "is_chassis_resident",
  "ct.new",
  "ct_mark.blocked",
  "ip",
  "eth.mcast",
  "..",
  "/",
  ":",
  ";",
];
describe("expression parser fuzz", () => {
  it("any token soup gives an expression or a SimError", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }), (toks) => {
        const s = toks.join(" ");
        try {
          compileExpr(parseExpr(s), env)(TCP);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
  it("any string gives an expression or a SimError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          parseExpr(s);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
        try {
          parseMicroflow(s, () => 1);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
