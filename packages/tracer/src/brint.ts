/**
 * br-int as OpenFlow (`--datapath openflow`): each node's br-int runs the flows and groups
 * @ovnsim/controller computes — ovn-controller's translation of the southbound logical
 * flows plus its physical flows, in the table layout of the OVN release the scenario's Kube-OVN
 * ships (1.14: 24.03, ingress 8–36 / egress 42–63; 1.15: 25.03, ingress 8–39 / egress 45–63) —
 * from the scenario written as captures (captures.ts), so a
 * packet crosses br-provider → patch → br-int table 0 → the logical pipelines as OpenFlow
 * tables → table 65 → the Pod's veth (or back out through the localnet patch)
 * in one `ofproto/trace`, with conntrack run statefully per node (@ovnsim/conntrack through
 * @ovnsim/openflow's stateful mode), as the kernel datapath would. Each br-int rule becomes a
 * step carrying the OVN row behind its cookie (detrace.ts), as ovn-detrace annotates a real
 * trace.
 */
import type { Conntrack } from "@ovnsim/conntrack";
import { ovnController } from "@ovnsim/controller";
import type { Scenario } from "@ovnsim/kube";
import { Bridge, parseFlows, parseGroups, type TraceResult } from "@ovnsim/openflow";
import type { Flow } from "@ovnsim/packet";
import { scenarioNodeFiles, scenarioSbFiles, tunnelPorts } from "./captures.js";
import { CookieIndex, type OvnRef } from "./detrace.js";
import { StepBuilder, type TraceStep } from "./model.js";
import type { OvnWorld } from "./ovn.js";
import type { NodeOvs, OvsRun } from "./ovs.js";

export type Datapath = "logical" | "openflow";

/** What the OpenFlow mode adds to a simulation. */
export interface BrIntWorld {
  readonly detrace: CookieIndex;
  /** Logical flows @ovnsim/controller did not translate, per node ("lflow: reason"). */
  readonly skipped: ReadonlyMap<string, readonly string[]>;
}

/**
 * Replaces each node's br-int rules with ovn-controller's (computed from the scenario's SB and
 * the node's configuration) and returns the cookie index for the annotations.
 */
export function installBrInt(s: Scenario, w: OvnWorld, nodes: ReadonlyMap<string, NodeOvs>): BrIntWorld {
  const sb = scenarioSbFiles(s, w);
  const skipped = new Map<string, string[]>();
  for (const [name, o] of nodes) {
    const old = o.sw.bridges.get("br-int");
    if (!old) continue;
    const out = ovnController({
      sb,
      node: scenarioNodeFiles(s, o.dataplane),
      chassis: name,
      profile: w.profile,
    });
    skipped.set(
      name,
      out.skipped.map((x) => `${x.lflow}: ${x.reason}`),
    );
    const br = new Bridge("br-int");
    for (const p of old.ports.values()) br.addPort(p);
    // ovn-controller's Geneve ports to the other chassis, each a datapath port of its own.
    const dpPorts = o.dpPorts as Map<number, { bridge: string; port: string }>;
    let dpNo = Math.max(0, ...dpPorts.keys()) + 1;
    for (const t of tunnelPorts(s, o.dataplane)) {
      br.addPort({
        ofport: t.ofport,
        name: t.name,
        mac: 0,
        type: "geneve",
        dpPort: dpNo,
        options: { csum: "true", key: "flow", remote_ip: t.remoteIp },
      });
      dpPorts.set(dpNo++, { bridge: "br-int", port: t.name });
    }
    const ports = new Map([...br.ports.values()].map((p) => [p.name, p.ofport]));
    for (const f of parseFlows(out.flows.join("\n"), { file: `${name}/br-int (ovn-controller)`, ports }))
      br.addFlow(f);
    for (const g of parseGroups(out.groups.join("\n"), { file: `${name}/br-int groups`, ports }))
      br.addGroup(g);
    o.sw.addBridge(br);
  }
  return { detrace: new CookieIndex(sb, w.db), skipped };
}

/** One line for a row behind a cookie: "ls_in_lb (ingress table 13) priority 140: match → actions". */
export function refSummary(r: OvnRef): string {
  if (r.table === "Logical_Flow")
    return `${r.stage} (${r.pipeline} table ${r.logicalTable}) priority ${r.priority}: ${r.match} → ${r.actions}${r.nb !== undefined ? ` [NB ${r.nb}]` : ""}`;
  if (r.table === "Port_Binding")
    return `Port_Binding ${r.logicalPort} (tunnel_key ${r.tunnelKey}${r.chassis ? `, chassis ${r.chassis}` : ""})${r.nb !== undefined ? ` [NB ${r.nb}]` : ""}`;
  return `Multicast_Group ${r.group} (tunnel_key ${r.tunnelKey}: ${(r.ports ?? []).join(", ")})`;
}

/**
 * The rules of a run as steps, one group per bridge crossed (in order), each br-int rule with
 * the OVN rows behind its cookie (`logical`).
 */
export function ruleSteps(run: OvsRun, node: string, detrace: CookieIndex | undefined): TraceStep[] {
  // Contiguous rules of one bridge form one step.
  const segs: { bridge: string; rules: OvsRun["rules"][number][] }[] = [];
  for (const r of run.rules) {
    const last = segs[segs.length - 1];
    if (last && last.bridge === r.bridge) last.rules.push(r);
    else segs.push({ bridge: r.bridge, rules: [r] });
  }
  return segs.map((seg) => {
    const n = seg.rules.length;
    const b = new StepBuilder(
      "openflow",
      `${seg.bridge} rules`,
      `${n} OpenFlow rule${n === 1 ? "" : "s"}`,
      node,
    );
    for (const r of seg.rules) {
      const refs = r.bridge === "br-int" && detrace ? detrace.lookup(r.cookie) : [];
      b.step(
        "openflow",
        `${r.bridge} table ${r.table}`,
        `priority ${r.priority}${r.cookie !== "0" ? ` cookie ${r.cookie}` : ""}: ${r.actions || "drop"}`,
        undefined,
        refs.length > 0 ? { logical: refs } : {},
      );
    }
    return b.build();
  });
}

/** The ct states the trace's recirculations resumed with, in order ("new|trk", "est|rpl|trk"). */
export function ctStates(result: TraceResult): string[] {
  return result.passes.flatMap((p) => (p.recirc ? [p.recirc.ctState] : []));
}

/** The conntrack the node's stateful traces share (one datapath per node). */
export function nodeConntrack(tables: Map<string, Conntrack>, node: string): Conntrack | undefined {
  return tables.get(node);
}

export type { Flow };
