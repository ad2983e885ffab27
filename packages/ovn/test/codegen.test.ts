// The generated table matchers (expr/codegen.ts) against the closure compiler (compileExpr) they
// replace on the lookup path: for every logical flow northd emits for the seed scenario under
// both Kube-OVN profiles, and for random packets biased towards the constants those flows test,
// the generated code and the closure must agree; a whole table's matcher must name the first
// flow whose closure holds.
import { readFileSync } from "node:fs";
import path from "node:path";
import { makeFlow } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileTable } from "../src/expr/codegen.js";
import { type CompileEnv, compileExpr, foldConstants } from "../src/expr/compile.js";
import { parseExpr } from "../src/expr/parse.js";
import { type MFlow, symtabFor, toMFlow } from "../src/expr/symtab.js";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";

const CONFIG = readFileSync(path.resolve(import.meta.dirname, "trace-kube-ovn-seed.nbctl"), "utf8");

// A few ports resolve, one does not; some ports are resident, some not.
const env: CompileEnv = {
  lookupPort: (n) => (n.length % 5 === 0 ? undefined : (n.length % 7) + 1),
  isChassisResident: (n) => n.length % 2 === 0,
};

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 6, 7, 0x8000, 0xffffffff, 0x0ab4cc0b, 0x0ab4ccfc, 0xc000020a),
  fc.nat({ max: 0xffffffff }),
);
const packet = fc
  .record({
    dl_type: fc.constantFrom(0x0800, 0x86dd, 0x0806, 0x88cc, 0),
    nw_proto: fc.constantFrom(6, 17, 1, 58, 0, 132),
    nw_src: u32,
    nw_dst: u32,
    nw_ttl: fc.constantFrom(0, 1, 64, 255),
    nw_frag: fc.constantFrom(0, 1, 3),
    tp_src: fc.constantFrom(0, 53, 67, 68, 80, 135, 136, 546, 547, 40000),
    tp_dst: fc.constantFrom(0, 53, 67, 68, 80, 135, 136, 546, 547, 40000),
    dl_src: fc.constantFrom(0, 0x0a580ab4cc0b, 0x010000000000, 0xffffffffffff),
    dl_dst: fc.constantFrom(0, 0x0a580ab4cc0b, 0x010000000000, 0xffffffffffff, 0x333300000001),
    ct_state: fc.nat({ max: 255 }),
    ct_mark: u32,
    regs: fc.array(u32, { minLength: 16, maxLength: 16 }),
  })
  .map((x): MFlow => toMFlow(makeFlow(x)));

function seedFlows(profile: "kube-ovn-1.14" | "kube-ovn-1.15") {
  const db = parseNbctl(CONFIG, { file: "trace-kube-ovn-seed.nbctl" });
  const sb = sbModelFromNb(db, northd(db, profile));
  // Each release's flows under its own symbol table (1.15's northd is 25.03's).
  const symtab = symtabFor(profile === "kube-ovn-1.15" ? 25 : 24);
  const tables = { addressSets: sb.addressSets, portGroups: sb.portGroups, dpKey: 1, symtab };
  return sb.flows.map((lf) => foldConstants(parseExpr(lf.match, tables), env));
}

describe.each(["kube-ovn-1.14", "kube-ovn-1.15"] as const)("generated matchers, %s flows", (profile) => {
  const matches = seedFlows(profile);
  const closures = matches.map((m) => compileExpr(m, env));
  const generated = matches.map((m) => compileTable([{ match: m, extra: [] }], env));

  it("agree with the closure compiler on every flow", () => {
    expect(matches.length).toBeGreaterThan(50);
    fc.assert(
      fc.property(packet, (f) => {
        for (let i = 0; i < matches.length; i++) {
          const want = closures[i]!(f);
          const got = generated[i]![0]!(f) === 0;
          if (got !== want) throw new Error(`flow ${i}: generated ${got}, closure ${want}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a table's matcher names the first flow whose closure holds", () => {
    // The whole flow list as one table (several chunks), with an action prerequisite on some.
    const extra = (f: MFlow): boolean => f.dl_type !== 0x88cc;
    const table = compileTable(
      matches.map((m, i) => ({ match: m, extra: i % 3 === 0 ? [extra] : [] })),
      env,
    );
    expect(table.length).toBeGreaterThan(1);
    fc.assert(
      fc.property(packet, (f) => {
        const want = closures.findIndex((p, i) => p(f) && (i % 3 !== 0 || extra(f)));
        let got = -1;
        for (const m of table) {
          got = m(f);
          if (got >= 0) break;
        }
        expect(got).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});
