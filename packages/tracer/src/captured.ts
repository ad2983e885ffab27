/**
 * The end-to-end trace of a real node from its captures alone (`ovnsim trace --sb DIR --node
 * DIR… BRIDGE FLOW`), no manifests: each node's bridges come from `scripts/capture-node.sh`
 * (ovs-vsctl show, list Interface, per bridge ports / flows / groups), br-int's flows from
 * @ovnsim/controller over the SB capture and that node's configuration (or the node's own
 * captured br-int flows), and the trace is ovs-vswitchd's `ofproto/trace` (@ovnsim/openflow)
 * piped through ovn-detrace (detrace.ts). A packet that leaves through a Geneve port whose
 * remote_ip is another captured chassis's `ovn-encap-ip` crosses to that chassis: it enters
 * its br-int from the tunnel port back to the sender, with the same `tun_id` (the logical
 * datapath) and `tun_metadata0` (ingress << 16 | egress port keys), as the Geneve packet
 * ovn-controller built would arrive there.
 */
import { ovnController, readNodeBundle } from "@ovnsim/controller";
import {
  type BundleFiles,
  buildSwitch,
  parseVsctlShow,
  renderTrace,
  type Switch,
  type TraceResult,
  traceFlow,
  tracePortNumbers,
} from "@ovnsim/openflow";
import type { SbFiles } from "@ovnsim/ovn";
import {
  type Flow,
  SimError,
  TUN_FLAG,
  formatIp4,
  makeTunnel,
  parseFlow,
  parseIp4,
  withFlow,
} from "@ovnsim/packet";
import { CookieIndex } from "./detrace.js";

export interface CapturedNode {
  /** Chassis name (the node's system-id). */
  readonly chassis: string;
  /** `ovn-encap-ip`, when the node has one. */
  readonly encapIp: string | null;
  readonly sw: Switch;
  /** Logical flows the controller model did not translate ("uuid stage: reason"). */
  readonly skipped: readonly string[];
}

export interface CapturedHop {
  readonly chassis: string;
  readonly bridge: string;
  /** The flow traced, in ofproto/trace syntax. */
  readonly flow: string;
  readonly result: TraceResult;
  /** ofproto/trace's text followed by ovn-detrace's annotations. */
  readonly text: string;
  /** Why this hop was taken ("Geneve from hv1: tun_id=0x2, tun_metadata0=0x10002"), for hops after the first. */
  readonly via?: string;
}

export interface CapturedTraceInput {
  readonly sb: SbFiles;
  /** `scripts/capture-nb.sh`: the NB rows the logical flows' stage-hints name (optional). */
  readonly nb?: SbFiles;
  /** One capture per chassis; the first is where FLOW enters. */
  readonly nodes: readonly SbFiles[];
  readonly bridge: string;
  readonly flow: string;
  /** Use the node's captured br-int flows/groups instead of the controller model's. */
  readonly capturedBrInt?: boolean;
  /** The ovn-controller release or northd profile (@ovnsim/controller's table layout; default 23.03). */
  readonly profile?: string;
}

/** Builds one node's switch: its captured bridges, br-int from the controller model (or captured). */
export function capturedNode(
  sb: SbFiles,
  files: SbFiles,
  capturedBrInt = false,
  profile?: string,
): CapturedNode {
  const show = files["ovs-vsctl-show.txt"];
  if (show === undefined) throw new SimError("UNKNOWN_OBJECT", "node capture: ovs-vsctl-show.txt is missing");
  const cfg = readNodeBundle(files);
  const chassis = cfg.externalIds.get("system-id");
  if (!chassis)
    throw new SimError("UNKNOWN_OBJECT", "node capture: no system-id in open-vswitch-external-ids.txt");
  let skipped: string[] = [];
  const bridges = new Map<string, { ports?: string; flows?: string; groups?: string; tlv?: string }>();
  let brInt: { flows: string; groups: string } | undefined;
  if (!capturedBrInt) {
    const out = ovnController({ sb, node: files, chassis, ...(profile !== undefined ? { profile } : {}) });
    skipped = out.skipped.map((s) => `${s.lflow}: ${s.reason}`);
    brInt = { flows: out.flows.join("\n"), groups: out.groups.join("\n") };
  }
  for (const b of parseVsctlShow(show, "ovs-vsctl-show.txt")) {
    const own = (k: string) => files[`${b.name}.${k}.txt`];
    const ports = own("ports");
    const tlv = own("tlv");
    const useModel = b.name === "br-int" && brInt;
    const flows = useModel ? brInt!.flows : own("flows");
    const groups = useModel ? brInt!.groups : own("groups");
    bridges.set(b.name, {
      ...(ports !== undefined ? { ports } : {}),
      ...(flows !== undefined ? { flows } : {}),
      ...(groups !== undefined ? { groups } : {}),
      // ovn-controller maps Geneve option class 0x102 type 0x80 to tun_metadata0 on br-int.
      ...(tlv !== undefined
        ? { tlv }
        : b.name === "br-int"
          ? { tlv: "{class=0x102,type=0x80,len=4}->tun_metadata0" }
          : {}),
    });
  }
  const bundle: BundleFiles = {
    vsctlShow: show,
    bridges,
    ...(files["dpif-show.txt"] !== undefined ? { dpifShow: files["dpif-show.txt"] } : {}),
    ...(files["interfaces.txt"] !== undefined ? { interfaces: files["interfaces.txt"] } : {}),
  };
  const sw = buildSwitch(bundle);
  return { chassis, encapIp: cfg.externalIds.get("ovn-encap-ip") ?? null, sw, skipped };
}

/** A packet a pass sends out of a Geneve port: its remote, key and option, and the inner packet. */
export interface GeneveOut {
  /** The Geneve port it leaves through. */
  readonly port: string;
  readonly dst: string;
  readonly tunId: bigint;
  readonly md0: number | null;
  readonly inner: Flow;
}

/**
 * The Geneve outputs of a pass: datapath ports (`Datapath actions: 4`) that are Geneve ports
 * of the node, with the tunnel the OpenFlow pipeline set (tun_id, tun_metadata0) and the
 * packet as it ended the pass (OVN's table 39 outputs last, nothing after changes it).
 */
export function geneveOutputs(sw: Switch, pass: TraceResult["passes"][number]): GeneveOut[] {
  const out: GeneveOut[] = [];
  const final = pass.packets?.final;
  if (!final) return out;
  const byDp = new Map<number, { type: string; remote?: string; name: string }>();
  for (const b of sw.bridges.values())
    for (const p of b.ports.values())
      if (p.dpPort !== undefined)
        byDp.set(p.dpPort, {
          type: p.type,
          name: p.name,
          ...(p.options?.remote_ip ? { remote: p.options.remote_ip } : {}),
        });
  for (const tok of pass.datapathActions.split(",")) {
    if (!/^\d+$/.test(tok)) continue;
    const p = byDp.get(Number(tok));
    // A tunnel port is known by its remote_ip (a dummy datapath reports its netdev type as dummy).
    if (!p?.remote || p.remote === "flow" || (p.type !== "geneve" && p.type !== "dummy")) continue;
    const t = final.tunnel;
    out.push({
      port: p.name,
      dst: p.remote,
      tunId: t.tun_id,
      md0: (t.present & 1n) !== 0n ? (t.metadata[0] ?? 0) : null,
      inner: final,
    });
  }
  return out;
}

const MAX_CROSSINGS = 4;

/** Traces FLOW into BRIDGE of the first node, and across Geneve to the other captured chassis. */
export function traceCaptures(input: CapturedTraceInput): {
  readonly hops: readonly CapturedHop[];
  readonly skipped: ReadonlyMap<string, readonly string[]>;
} {
  if (input.nodes.length === 0) throw new SimError("BAD_VALUE", "give at least one --node capture");
  const nodes = input.nodes.map((f) => capturedNode(input.sb, f, input.capturedBrInt, input.profile));
  const detrace = new CookieIndex(input.sb, undefined, input.nb);
  const hops: CapturedHop[] = [];
  const first = nodes[0]!;
  let flow: Flow = parseFlow(input.flow, { ports: tracePortNumbers(first.sw.bridge(input.bridge)) });
  let node = first;
  let bridge = input.bridge;
  let via: string | undefined;
  for (let i = 0; i <= MAX_CROSSINGS; i++) {
    const result = traceFlow(node.sw, bridge, flow);
    const text = detrace.annotate(renderTrace(result));
    hops.push({ chassis: node.chassis, bridge, flow: result.flow, result, text, ...(via ? { via } : {}) });
    // The first Geneve output to another captured chassis continues there.
    let next: { node: CapturedNode; flow: Flow; via: string } | null = null;
    for (const pass of result.passes) {
      for (const t of geneveOutputs(node.sw, pass)) {
        const peer = nodes.find((n) => n !== node && n.encapIp === t.dst);
        if (!peer || node.encapIp === null) continue;
        const br = peer.sw.bridges.get("br-int");
        const port = [...(br?.ports.values() ?? [])].find(
          (p) => p.options?.remote_ip === node.encapIp && p.peer === undefined,
        );
        if (!br || !port) continue;
        const arriving = withFlow(t.inner, {
          in_port: port.ofport,
          regs: new Array(16).fill(0),
          metadata: 0n,
          tunnel: makeTunnel({
            tun_id: t.tunId,
            tun_src: parseIp4(node.encapIp),
            tun_dst: parseIp4(t.dst),
            tun_flags: TUN_FLAG.key,
            ...(t.md0 !== null ? { present: 1n, metadata: [t.md0] } : {}),
          }),
        });
        next = {
          node: peer,
          flow: withoutPipelineState(arriving),
          via: `Geneve from ${node.chassis} (${node.encapIp} → ${t.dst}): tun_id=0x${t.tunId.toString(16)}${t.md0 !== null ? `, tun_metadata0=0x${t.md0.toString(16)}` : ""}, in_port ${port.name}`,
        };
        break;
      }
      if (next) break;
    }
    if (!next) break;
    node = next.node;
    flow = next.flow;
    bridge = "br-int";
    via = next.via;
  }
  return { hops, skipped: new Map(nodes.map((n) => [n.chassis, n.skipped])) };
}

/** What a packet carries off the wire: no conntrack state, recirculation or pipeline registers. */
export function withoutPipelineState(f: Flow): Flow {
  return withFlow(f, {
    ct_state: 0,
    ct_zone: 0,
    ct_mark: 0,
    ct_label: 0n,
    recirc_id: 0,
    dp_hash: 0,
  } as Parameters<typeof withFlow>[1]);
}

/** The text `ovnsim trace --sb --node` prints: each hop's annotated ofproto/trace. */
export function renderCaptured(hops: readonly CapturedHop[]): string {
  return hops
    .map((h, i) => {
      const head = `# ${i === 0 ? "" : `${h.via}\n# `}chassis ${h.chassis}: ofproto/trace ${h.bridge} ${h.flow}`;
      return `${head}\n${h.text.replace(/\n+$/, "")}\n`;
    })
    .join("\n");
}

export { formatIp4 };
