/**
 * The path through br-int when it runs as OpenFlow (`--datapath openflow`): where the logical
 * mode hands the packet to OVN's executor, here one `ofproto/trace` (already run by the bridge
 * it entered) has crossed br-int's tables, conntrack included; this turns that run into trace
 * steps — the rules with their logical flows (ovn-detrace), the DNAT or un-DNAT conntrack
 * made, and the packet's way out: a Pod's veth (delivered) or the provider NIC back onto the
 * underlay (physical network).
 */
import { type Flow, TUN_FLAG, makeTunnel, parseIp4, withFlow } from "@ovnsim/packet";
import { podVethName } from "@ovnsim/kube";
import { refSummary, ruleSteps } from "./brint.js";
import { type GeneveOut, geneveOutputs, withoutPipelineState } from "./captured.js";
import type { OvnRef } from "./detrace.js";
import { type Ctx, type PathEnd, dstIp, podByAddr, srcIp, summarizeBridge, toUnderlay } from "./engine.js";
import { StepBuilder, hostPort } from "./model.js";
import { type OvsRun, runBridge } from "./ovs.js";

const NOTABLE = /^ls_(in_(pre_lb|pre_stateful|lb|l2_lkup|l2_unknown)|out_(pre_lb|pre_stateful))$/;

/** The logical flows the run's br-int rules came from, in order, once each. */
function logicalFlows(run: OvsRun, ctx: Ctx): OvnRef[] {
  const d = ctx.sim.brInt?.detrace;
  if (!d) return [];
  const seen = new Set<string>();
  const out: OvnRef[] = [];
  for (const r of run.rules) {
    if (r.bridge !== "br-int") continue;
    for (const ref of d.lookup(r.cookie)) {
      const k = `${ref.uuid}/${r.table}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(ref);
    }
  }
  return out;
}

export function brIntFollow(
  ctx: Ctx,
  node: string,
  run: OvsRun,
  root: StepBuilder,
  end: PathEnd,
  replyOf: Flow | null,
  fromPod: boolean,
): void {
  const { sim } = ctx;
  const s = sim.scenario;
  const detrace = sim.brInt?.detrace;
  // The packet as it entered the bridge the run started in (before any NAT of its passes).
  const entry = run.result.passes[0]?.packets?.start ?? null;
  const refs = logicalFlows(run, ctx);
  const inport = refs.find((r) => r.table === "Port_Binding")?.logicalPort ?? "?";
  const o = sim.ovs.get(node);
  const isTunnel = (port: string) => o?.sw.bridges.get("br-int")?.portByName(port)?.type === "geneve";
  const podExits = run.exits.filter((e) => e.bridge === "br-int" && !isTunnel(e.port));
  const geneve = o ? run.result.passes.flatMap((p) => geneveOutputs(o.sw, p)) : [];
  const out = podExits.map(
    (e) => s.pods.find((p) => p.node === node && podVethName(p) === e.port)?.lsp ?? e.port,
  );
  const nicExits = run.exits.filter(
    (e) => e.bridge !== "br-int" && s.nodes.find((n) => n.name === node)?.nic === e.port,
  );
  const notable = refs
    .filter((r) => r.table === "Logical_Flow" && NOTABLE.test(r.stage ?? "") && (r.priority ?? 0) > 0)
    .map((r) => `${r.stage} ${r.priority}`);
  const parts = [`from ${inport}`, ...notable];
  const exitFlow = podExits[0]?.flow ?? nicExits[0]?.flow;
  const dnat =
    entry && exitFlow && !fromPod && (dstIp(exitFlow) !== dstIp(entry) || exitFlow.tp_dst !== entry.tp_dst)
      ? {
          vip: hostPort(dstIp(entry), entry.tp_dst),
          backend: hostPort(dstIp(exitFlow), exitFlow.tp_dst),
          backendIp: dstIp(exitFlow),
        }
      : null;
  if (dnat) parts.push(`DNAT → ${dnat.backend}`);
  parts.push(
    out.length > 0
      ? `output to ${out.join(", ")}`
      : geneve.length > 0
        ? `output to ${geneve.map((g) => `${g.port} (Geneve to ${g.dst})`).join(", ")}`
        : nicExits.length > 0
          ? `output to ${nicExits.map((e) => `${e.bridge} ${e.port}`).join(", ")}`
          : "dropped",
  );
  const sb = new StepBuilder("openflow", "br-int", parts.join("; "), node).seen(root.last);
  if (detrace) sb.setDetail(() => detrace.annotate(run.text));
  for (const st of ruleSteps(run, node, detrace)) sb.add(st);
  for (const r of refs) {
    if (r.table !== "Logical_Flow" || !NOTABLE.test(r.stage ?? "") || (r.priority ?? 0) === 0) continue;
    sb.step("ovn", `${r.stage} (table ${r.logicalTable})`, `priority ${r.priority}: ${r.match}`, undefined, {
      logical: [r],
    });
  }
  const states = run.result.passes.flatMap((p) => (p.recirc ? [p.recirc.ctState] : []));
  if (ctx.ctLookup && !fromPod && entry) {
    const st = states[0] ?? "new|trk";
    // The zone of the first ct() (the inport's, reg13 from table 0), as the resumed pass has it.
    const zone = run.result.passes.find((p) => p.recirc)?.packets?.start.ct_zone ?? 0;
    ctx.ctSeen = { node, zone, state: st, found: !/\bnew\b/.test(st) };
  }
  if (dnat && exitFlow) {
    const backendNode = podByAddr(s, dnat.backendIp)?.node;
    sb.step(
      "lb",
      "ct_lb_mark group",
      `DNAT ${dnat.vip} → ${dnat.backend} (${backendNode === node ? "backend on this chassis" : `backend on ${backendNode ?? "?"}`})`,
      exitFlow,
    );
    sb.step(
      "conntrack",
      `${node} datapath`,
      `committed connection; ct states met: ${states.join(", ") || "none"}`,
    );
    end.dnat = { node, backend: dnat.backend, backendIp: dnat.backendIp, vip: dnat.vip };
  } else if (entry && exitFlow && (srcIp(exitFlow) !== srcIp(entry) || exitFlow.tp_src !== entry.tp_src)) {
    sb.step(
      "conntrack",
      `${node} datapath`,
      `reply of a DNAT connection: source ${hostPort(srcIp(entry), entry.tp_src)} → ${hostPort(srcIp(exitFlow), exitFlow.tp_src)}`,
      exitFlow,
    );
  }
  if (podExits.length === 0 && nicExits.length === 0 && geneve.length === 0) {
    const last = run.rules[run.rules.length - 1];
    sb.step(
      "openflow",
      "br-int",
      last
        ? `dropped after table ${last.table} priority ${last.priority}: ${last.actions || "drop"}`
        : "no rule matched",
      undefined,
      { outcome: "drop", ...(last && detrace ? { logical: detrace.lookup(last.cookie) } : {}) },
    );
  }
  root.add(sb.build());
  for (const e of podExits) {
    const pod = s.pods.find((p) => p.node === node && podVethName(p) === e.port);
    ctx.frames?.push({
      link: `${node}/${e.port}`,
      flow: e.flow,
      kind: "pod",
      note: `br-int ${summarizeBridge(run)}`,
    });
    if (!pod) {
      root.step("openflow", `br-int port ${e.port}`, "leaves br-int", e.flow, { device: node });
      continue;
    }
    root.step(
      "kube",
      `pod ${pod.namespace}/${pod.name}`,
      `delivered to ${pod.name} (${pod.ip}) on ${node}`,
      e.flow,
      {
        device: node,
        outcome: "deliver",
      },
    );
    if (end.phase === "reply") end.replyPod = { pod, flow: e.flow, node };
    else end.delivered = { pod, flow: e.flow, node };
  }
  for (const g of geneve) crossGeneve(ctx, node, g, root, end, replyOf);
  // From a Pod, what leaves the provider NIC goes onto the underlay here (from the physical
  // network, the provider bridge already handed those frames back to it).
  if (!fromPod) return;
  toUnderlay(ctx, node, run, nicExits, root, end, replyOf);
}

const MAX_GENEVE = 4;

/**
 * A packet br-int sent out of a Geneve port: it crosses to the chassis whose encap IP is the
 * port's remote_ip (the tunnel itself — the outer IP/UDP over the nodes' network — is not
 * traced hop by hop) and enters that node's br-int from its Geneve port back to the sender,
 * carrying tun_id (the logical datapath's key) and tun_metadata0 (ingress port key << 16 |
 * egress port key), as ovn-controller's physical flows built it.
 */
function crossGeneve(
  ctx: Ctx,
  node: string,
  g: GeneveOut,
  root: StepBuilder,
  end: PathEnd,
  replyOf: Flow | null,
): void {
  const { sim } = ctx;
  const s = sim.scenario;
  const here = s.nodes.find((n) => n.name === node);
  const peer = s.nodes.find((n) => n.internalIp === g.dst);
  const po = peer ? sim.ovs.get(peer.name) : undefined;
  const tport =
    po && here
      ? [...(po.sw.bridges.get("br-int")?.ports.values() ?? [])].find(
          (p) => p.type === "geneve" && p.options?.remote_ip === here.internalIp,
        )
      : undefined;
  const md = g.md0 ?? 0;
  const label = `tun_id=0x${g.tunId.toString(16)}, tun_metadata0=0x${md.toString(16)} (logical ports ${md >>> 16} → ${md & 0xffff})`;
  if (!peer || !po || !tport || !here) {
    root.step(
      "openflow",
      `Geneve ${g.port}`,
      `no chassis with encap IP ${g.dst} in the scenario (${label})`,
      undefined,
      {
        device: node,
        outcome: "drop",
      },
    );
    return;
  }
  if (++ctx.hops > MAX_GENEVE * 3) {
    root.step("openflow", "hop limit", "stopped after too many hops", undefined, { outcome: "drop" });
    return;
  }
  root.step(
    "openflow",
    `Geneve ${g.port}`,
    `to ${peer.name} (${here.internalIp} → ${g.dst}): ${label}`,
    undefined,
    {
      device: node,
    },
  );
  const arriving = withoutPipelineState(
    withFlow(g.inner, {
      regs: new Array(16).fill(0),
      metadata: 0n,
      tunnel: makeTunnel({
        tun_id: g.tunId,
        tun_src: parseIp4(here.internalIp),
        tun_dst: parseIp4(g.dst),
        tun_flags: TUN_FLAG.key,
        ...(g.md0 !== null ? { present: 1n, metadata: [g.md0] } : {}),
      }),
    }),
  );
  const table = sim.ctByNode.get(peer.name);
  const r = runBridge(po, "br-int", tport.name, arriving, table ? { conntrack: table } : {});
  if (r.result.conntrack) sim.ctByNode.set(peer.name, r.result.conntrack);
  brIntFollow(ctx, peer.name, r, root, end, replyOf, true);
}

export { refSummary };
