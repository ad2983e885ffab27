// Issue 18: port numbers from full names (Interface list, dpif/show), `ovs-ofctl show` as a
// cross-check, `--names` dumps, and the `--names` trace printing; with fuzz tests of each parser.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildSwitch,
  INTERFACES_FILE,
  ofTruncatedName,
  parseFlows,
  parseDpifShow,
  parseOvsdbMap,
  parseVsctlListInterface,
  parseVsctlShow,
  quotePortName,
  unquotePortName,
} from "../src/index.js";

const B = join(import.meta.dirname, "golden", "portnames", "bundle");
const rd = (f: string): string => readFileSync(join(B, f), "utf8");
const files = (drop: readonly string[] = []) => {
  const bridges = new Map<string, { ports?: string; flows?: string }>();
  for (const br of ["br-provider", "br-int"])
    bridges.set(br, { ports: rd(`${br}.ports.txt`), flows: rd(`${br}.flows.txt`) });
  return {
    vsctlShow: rd("ovs-vsctl-show.txt"),
    bridges,
    ...(drop.includes("dpif") ? {} : { dpifShow: rd("dpif-show.txt") }),
    ...(drop.includes("ifaces") ? {} : { interfaces: rd(INTERFACES_FILE) }),
  };
};

/** A SimError or a result: the fuzz contract of every parser. */
const total = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!isSimError(e)) throw e;
  }
};

describe("port numbers of long and colliding names", () => {
  it("reads ovs-vsctl list Interface (quoted names, ofports, options)", () => {
    const ifs = parseVsctlListInterface(rd(INTERFACES_FILE));
    const v1 = ifs.find((i) => i.name === "0a1b2c3d4e5f_h");
    expect(v1?.ofport).toBeGreaterThan(0);
    const p = ifs.find((i) => i.name === "patch-localnet.subnet-a-to-br-int");
    expect(p?.options).toEqual({ peer: "patch-br-int-to-localnet.subnet-a" });
  });

  it("tells colliding truncated names apart by ofport (Interface list alone, dpif/show alone)", () => {
    const ifs = new Map(parseVsctlListInterface(rd(INTERFACES_FILE)).map((i) => [i.name, i.ofport]));
    for (const drop of [["dpif"], ["ifaces"], []]) {
      const sw = buildSwitch(files(drop));
      for (const br of ["br-provider", "br-int"]) {
        for (const p of sw.bridge(br).ports.values()) {
          if (p.ofport === 0xfffe) continue;
          expect(p.ofport, `${drop.join()}: ${p.name}`).toBe(ifs.get(p.name));
        }
      }
    }
  });

  it("refuses colliding names with only ovs-ofctl show, saying what to capture", () => {
    expect(() => buildSwitch(files(["dpif", "ifaces"]))).toThrow(/list Interface/);
    try {
      buildSwitch(files(["dpif", "ifaces"]));
    } catch (e) {
      expect(isSimError(e) && e.code).toBe("CONFLICT");
    }
  });

  it("cross-checks the Interface list against ovs-ofctl show", () => {
    const f = files(["dpif"]);
    const bad = f.interfaces!.replace(/(name\s+: eth0\nofport\s+: )\d+/, "$19");
    expect(bad).not.toBe(f.interfaces);
    expect(() => buildSwitch({ ...f, interfaces: bad })).toThrow(/ovs-ofctl show names port 9|eth0/);
  });

  it("reads --names dumps: truncated quoted names, numbers where names collide", () => {
    const sw = buildSwitch(files());
    const b = sw.bridge("br-int");
    const v1 = b.portByName("0a1b2c3d4e5f_h")!.ofport;
    const rules = b
      .flows()
      .filter((r) => r.match.fields.some((m) => m.field.name === "in_port" && m.value === v1));
    expect(rules.length).toBe(2);
  });

  it("truncates on bytes and quotes as namemap does", () => {
    expect(ofTruncatedName("patch-localnet.subnet-a-to-br-int")).toBe("patch-localnet.");
    expect(ofTruncatedName("eth0")).toBe("eth0");
    expect(quotePortName("eth0")).toBe("eth0");
    expect(quotePortName("br-int")).toBe('"br-int"');
    expect(quotePortName("0abc")).toBe('"0abc"');
    expect(quotePortName("a_b")).toBe('"a_b"');
  });
});

describe("fuzz: port-name parsers give a result or a SimError", () => {
  const nameArb = fc.string({ minLength: 1, maxLength: 40 });
  it("quotePortName / unquotePortName round-trip any name", () => {
    fc.assert(fc.property(nameArb, (n) => unquotePortName(quotePortName(n)) === n));
    fc.assert(
      fc.property(fc.string(), (t) => {
        unquotePortName(t);
      }),
    );
  });
  it("parseVsctlListInterface", () => {
    const line = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.constantFrom("name", "ofport", "type", "options", "mac_in_use", "x"), fc.string())
        .map(([k, v]) => `${k}${" ".repeat(3)}: ${v}`),
      fc.constant(""),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (ls) =>
        total(() => parseVsctlListInterface(ls.join("\n"))),
      ),
    );
  });
  it("parseOvsdbMap", () => {
    fc.assert(
      fc.property(fc.string(), (t) => {
        parseOvsdbMap(t);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.string()), (d) => {
        const text = Object.entries(d)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(", ");
        expect(parseOvsdbMap(text)).toEqual(d);
      }),
    );
  });
  it("parseDpifShow (with port types and vport configs)", () => {
    const line = fc.oneof(
      fc.string(),
      fc.string({ maxLength: 10 }).map((b) => `  ${b}:`),
      fc
        .tuple(
          nameArb,
          fc.nat(70000),
          fc.oneof(fc.nat(70000).map(String), fc.constant("none")),
          fc.string({ maxLength: 30 }),
        )
        .map(([n, o, d, t]) => `    ${n} ${o}/${d}: (${t})`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (ls) => total(() => parseDpifShow(ls.join("\n")))),
    );
  });
  it("parseVsctlShow", () => {
    const line = fc.oneof(
      fc.string(),
      nameArb.map((n) => `    Bridge ${quotePortName(n)}`),
      nameArb.map((n) => `        Port ${quotePortName(n)}`),
      fc.string().map((s) => `                options: {${s}}`),
      fc.nat().map((n) => `            tag: ${n}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (ls) => total(() => parseVsctlShow(ls.join("\n")))),
    );
  });
  it("--names dumps: any (quoted) name in in_port/output", () => {
    fc.assert(
      fc.property(nameArb, fc.integer({ min: 1, max: 70000 }), (n, num) => {
        const ports = new Map([[n, num & 0xffff]]);
        total(() =>
          parseFlows(` priority=1,in_port=${quotePortName(n)} actions=output:${quotePortName(n)}`, { ports }),
        );
      }),
    );
  });
});
