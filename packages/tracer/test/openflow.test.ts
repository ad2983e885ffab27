import { loadScenario, scenarioFromTexts } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CookieIndex,
  TRACE_JSON_SCHEMA,
  type TraceStep,
  buildOvn,
  createSimulation,
  renderHtml,
  renderText,
  scenarioSbFiles,
  toJson,
  trace,
  traceFailover,
  walkSteps,
} from "../src/index.js";
import { edited } from "./helpers.js";

const seed = () => loadScenario();

function allSteps(doc: ReturnType<typeof trace>): TraceStep[] {
  const out: TraceStep[] = [];
  for (const root of [doc.forward, doc.reply])
    if (root) for (const { step } of walkSteps(root)) out.push(step);
  return out;
}

describe("--datapath openflow: the seed trace with br-int as ovn-controller's OpenFlow", () => {
  const logical = trace(createSimulation(seed()));
  const of = trace(createSimulation(seed(), { datapath: "openflow" }));

  it("gives the same verdict and findings as the logical mode", () => {
    expect(of.verdict).toEqual(logical.verdict);
    expect(of.findings).toEqual(logical.findings);
    expect(of.verdict.delivered).toBe(true);
    expect(of.verdict.backend).toBe("10.180.204.4:80");
    expect(of.verdict.replySourceIp).toBe("10.180.204.252");
  });

  it("runs br-int's tables (0, the logical pipelines, 65) with the rows behind each cookie", () => {
    const steps = allSteps(of);
    const brInt = steps.filter((s) => /^br-int table \d+$/.test(s.where));
    const tables = new Set(brInt.map((s) => Number(s.where.split(" ").pop())));
    for (const t of [0, 8, 14, 21, 37, 40, 42, 65]) expect(tables).toContain(t);
    // The LB rule: ls_in_lb priority 140 (prefer-local), its cookie the logical flow's uuid.
    const lb = brInt.find((s) => s.logical?.some((r) => r.stage === "ls_in_lb" && r.priority === 140));
    expect(lb?.summary).toMatch(/^priority 140 cookie 0x[0-9a-f]+: group:1$/);
    const ref = lb!.logical![0]!;
    expect(ref.table).toBe("Logical_Flow");
    expect(ref.pipeline).toBe("ingress");
    expect(ref.match).toContain('is_chassis_resident("deploy-169402624-2.default")');
    expect(ref.uuid.startsWith(ref.cookie.slice(2).padStart(8, "0"))).toBe(true);
    // Table 0's localnet entry names the Port_Binding and the NB Logical_Switch_Port.
    const t0 = brInt.find((s) => s.where === "br-int table 0" && s.logical?.[0]?.table === "Port_Binding");
    expect(t0?.logical?.[0]?.logicalPort).toBe("localnet.underlay-subnet");
    expect(t0?.logical?.[0]?.nb).toMatch(/^Logical_Switch_Port localnet.underlay-subnet/);
    // Every br-int rule with a nonzero cookie is explained.
    for (const s of brInt) if (!/ cookie /.test(s.summary)) expect(s.logical).toBeUndefined();
  });

  it("is annotated in text (↳ lines, ovn-detrace blocks) and in JSON (schema key `logical`)", () => {
    const text = renderText(of);
    expect(text).toContain("↳ ls_in_lb (ingress table 13) priority 140:");
    expect(renderHtml(of)).toContain(
      "↳ ls_in_lb (ingress table 13) priority 140: ct.new &amp;&amp; ip4.dst == 10.180.204.252",
    );
    const detailed = renderText(of, { detailed: true });
    expect(detailed).toMatch(/│ {3}\* Logical flow: table=13 \(ls_in_lb\), priority=140/);
    const j = JSON.parse(toJson(of));
    const schema = TRACE_JSON_SCHEMA as {
      $defs: {
        step: { properties: Record<string, unknown> };
        ovnRef: { properties: Record<string, unknown> };
      };
    };
    const keys = new Set(Object.keys(schema.$defs.ovnRef.properties));
    const stepKeys = new Set(Object.keys(schema.$defs.step.properties));
    const walk = (s: Record<string, unknown>): void => {
      for (const k of Object.keys(s)) expect(stepKeys.has(k), k).toBe(true);
      for (const r of (s.logical as Record<string, unknown>[] | undefined) ?? [])
        for (const k of Object.keys(r)) expect(keys.has(k), k).toBe(true);
      for (const c of s.children as Record<string, unknown>[]) walk(c);
    };
    walk(j.forward);
    walk(j.reply);
  });

  it("leaves the default (logical) trace without OpenFlow annotations", () => {
    expect(allSteps(logical).some((s) => s.logical !== undefined)).toBe(false);
    expect(renderText(logical)).not.toContain("↳");
  });
});

describe("CookieIndex (ovn-detrace offline)", () => {
  const s = seed();
  const sb = scenarioSbFiles(s, buildOvn(s));
  const idx = new CookieIndex(sb);
  it("finds logical flows, Port_Bindings and Multicast_Groups by cookie", () => {
    const flows = sb["lflow-list.txt"]!.match(/uuid=0x([0-9a-f]{8})/g)!;
    const u = flows[0]!.slice("uuid=0x".length);
    expect(idx.lookup(`0x${u}`)[0]?.table).toBe("Logical_Flow");
    expect(idx.lookup(0n)).toEqual([]);
    expect(idx.lookup("0x1000")).toEqual([]);
    const text = idx.annotate(
      ` 8. metadata=0x1, priority 50, cookie 0x${u.replace(/^0+/, "")}\n    resubmit(,9)`,
    );
    expect(text.split("\n")[1]).toBe("  * Logical datapaths:");
  });
  it("fuzz: any capture text gives an index or a SimError", () => {
    fc.assert(
      fc.property(
        fc.record({
          lflow: fc.oneof(fc.string(), fc.constant(sb["lflow-list.txt"]!)),
          lf: fc.string(),
          pb: fc.oneof(fc.string(), fc.constant(sb["port-binding.txt"]!)),
          mc: fc.string(),
          cookie: fc.oneof(fc.string(), fc.bigInt({ min: 0n, max: 1n << 64n })),
        }),
        ({ lflow, lf, pb, mc, cookie }) => {
          try {
            const i = new CookieIndex({
              "lflow-list.txt": lflow,
              "logical-flow.txt": lf,
              "port-binding.txt": pb,
              "multicast-group.txt": mc,
            });
            i.lookup(cookie);
            i.annotate(`cookie ${String(cookie)}`);
          } catch (e) {
            if (!(e instanceof SimError)) throw e;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("--datapath openflow: Geneve between chassis (an overlay subnet across nodes)", () => {
  // Without spec.vlan the seed's subnet is an overlay: no localnet port, so ovn-controller sends
  // a remote VIF's traffic over the Geneve port to its chassis (physical.c), one per other node.
  const s = scenarioFromTexts(edited(["vlan: vlan341 #", "# vlan: vlan341 #"]));
  const a = s.pods.find((p) => p.node === "node1")!;
  const b = s.pods.find((p) => p.node === "node2")!;
  const input = { from: `${a.namespace}/${a.name}`, to: b.ip, port: 80 };

  it("crosses to the other chassis's br-int with tun_id / tun_metadata0, both ways", () => {
    const doc = trace(createSimulation(s, { datapath: "openflow" }), input);
    expect(doc.verdict.delivered).toBe(true);
    expect(doc.verdict.pod).toBe(`${b.namespace}/${b.name}`);
    expect(doc.verdict.node).toBe("node2");
    expect(doc.verdict.replyDelivered).toBe(true);
    const steps = allSteps(doc);
    const hops = steps.filter((x) => x.where.startsWith("Geneve "));
    expect(hops.map((x) => `${x.device} ${x.where}`)).toEqual([
      "node1 Geneve ovn-node2-0",
      "node2 Geneve ovn-node1-0",
    ]);
    // ls underlay-subnet is datapath 1; the ports' tunnel keys are their NB order.
    expect(hops[0]!.summary).toMatch(
      /^to node2 \(172\.18\.0\.2 → 172\.18\.0\.3\): tun_id=0x1, tun_metadata0=0x(\d+) /,
    );
    const md = Number(/tun_metadata0=(0x[0-9a-f]+)/.exec(hops[0]!.summary)![1]);
    const md2 = Number(/tun_metadata0=(0x[0-9a-f]+)/.exec(hops[1]!.summary)![1]);
    expect(md >>> 16).toBe(md2 & 0xffff);
    expect(md & 0xffff).toBe(md2 >>> 16);
    // On node2, br-int took the tunnel in at table 0, ran the egress pipeline (tables 42+)
    // and output to the veth from table 65.
    const node2 = steps.find((x) => x.device === "node2" && x.where === "br-int");
    const tables = new Set<number>();
    for (const { step } of walkSteps(node2!)) {
      const m = /^br-int table (\d+)$/.exec(step.where);
      if (m) tables.add(Number(m[1]));
    }
    expect([...tables].filter((t) => t === 0 || t >= 42).sort((x, y) => x - y)).toEqual(
      expect.arrayContaining([0, 42, 65]),
    );
    expect([...tables].some((t) => t >= 8 && t <= 33)).toBe(false);
  });

  it("where the logical mode cannot reach a VIF on another chassis of an overlay switch", () => {
    const doc = trace(createSimulation(s), input);
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt?.reason).toMatch(/no physical port for logical port/);
  });
});

describe("--datapath openflow: failover of an existing connection", () => {
  it("the ACK meets the new node's own conntrack through br-int's ct() (no entry: new|trk)", () => {
    const of = traceFailover(createSimulation(seed(), { datapath: "openflow" }), { fail: "speaker" });
    const lg = traceFailover(createSimulation(seed()), { fail: "speaker" });
    expect(of.newAnnouncer).toBe(lg.newAnnouncer);
    expect(of.next.verdict).toEqual(lg.next.verdict);
    expect(of.ct?.node).toBe("node1");
    expect(of.ct?.state).toBe("new|trk");
    expect(of.ct?.found).toBe(false);
    // The zone is ovn-controller's for the localnet port on node1 (assigned in sorted name
    // order by the model, see @ovnsim/controller), not the logical mode's port key.
    expect(of.ct?.zone).toBeGreaterThan(0);
  });
});
