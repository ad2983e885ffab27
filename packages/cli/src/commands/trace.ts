// `ovnsim trace [FILES|DIR]`: the end-to-end trace of a scenario (default: the built-in
// MetalLB-underlay seed) from a client to a VIP, as text, JSON (ovnsim.trace/v1), Mermaid, pcap.
import { join } from "node:path";
import { loadScenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import {
  type CaptureWorld,
  type TraceDocument,
  type WireFrame,
  buildClusterWorld,
  captureWorld,
  clusterCaptureWorld,
  createSimulation,
  isClusterPath,
  renderCaptured,
  traceCaptures,
  traceCluster,
  type SourceRef,
  type TargetRef,
  parseSource,
  parseTarget,
  renderClusterHtml,
  renderHtml,
  renderMermaid,
  renderText,
  resolveSource,
  sourceKind,
  resolveTarget,
  runTrace,
  toJson,
  writePcap,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { oneOf, walkArgs } from "../args.js";
import { registerSubcommand } from "../cli.js";
import {
  checkInputDirectory,
  checkInputPaths,
  isManifestName,
  readDirectory,
  readTextFile,
  writeOutputFile,
} from "../files.js";

const USAGE = `usage: ovnsim trace [FILES|DIR]... [--from SRC] [--to DST] [--proto tcp|udp|icmp]
                    [--format text|json|mermaid|html] [--detailed] [--html FILE]
                    [--pcap FILE [--pcap-format F]] [--datapath logical|openflow]
  Traces a packet end to end through the scenario the manifests describe (Kubernetes, Kube-OVN,
  MetalLB and an optional ovnsim Scenario file); without files, the built-in seed scenario
  (examples/metallb-underlay) from its client to its LoadBalancer VIP, and the reply.
  --from SRC      pod/NAMESPACE/NAME, node/NAME, client/NAME, or a bare client, router, node or
                  pod name (default: the first client)
  --to DST        IP[:PORT], pod/NAMESPACE/NAME[:PORT] (the Pod's IP) or svc/NAMESPACE/NAME[:PORT]
                  (the Service's LoadBalancer address; default port: its service port);
                  default: the first LoadBalancer VIP and its service port
  --proto P       tcp (default), udp or icmp
  --format F      text (default), json (schema ovnsim.trace/v1), mermaid (flowchart + sequence)
                  or html (one self-contained page: the topology with the path drawn on it,
                  each hop opening onto its ofproto/trace / ovn-trace block, verdict, findings;
                  on an in-cluster path, the cluster Kube-OVN builds — nodes, br-int, ovn0,
                  Geneve tunnels, ovn-cluster, join, the subnets' switches, the pods — with
                  each hop's Kubernetes objects, NB rows, logical flows and br-int tables)
  --detailed      text: add the ofproto/trace and ovn-trace blocks under each hop
  --html FILE     also write the HTML page to FILE (stdout keeps the --format output)
  --pcap FILE     write the frames seen at each hop to FILE: pcapng, one interface per place the
                  frame was seen (client/eth0, tor/p-node3, node3/br-provider/underlay0,
                  pod NS/NAME eth0), a comment per frame with the step that put it there;
                  frame n at n microseconds (virtual time). A FILE ending in .pcap gets classic
                  libpcap (one interface, no comments) unless --pcap-format says otherwise
  --pcap-format F pcapng or pcap (default: pcap for a .pcap FILE, else pcapng)
  --datapath D    logical (default): br-int's table 0 hands the packet to OVN's logical-pipeline
                  executor (ovn-trace) and table 65 takes it back; openflow: br-int runs the
                  flows ovn-controller 23.03 computes for the scenario's southbound database,
                  conntrack included, each rule annotated with the logical flow, stage and NB
                  row behind its cookie (as ovn-detrace); same verdict, different steps
  exit status: 0 delivered, 1 not delivered (the trace says why), 2 bad input
usage: ovnsim trace --sb DIR [--nb DIR] --node DIR [--node DIR]... [--bridge B] [--captured-br-int] [--profile P] FLOW
  A real node's trace from its captures alone, no manifests: the node's bridges from
  scripts/capture-node.sh, br-int's flows from the ovn-controller model over the SB capture
  (scripts/capture-sb.sh) and the node's configuration (--captured-br-int: the node's own
  br-int.flows.txt; --profile: the ovn-controller release or northd profile, 23.03 (default),
  24.03, 25.03, kube-ovn-1.14, kube-ovn-1.15, which sets br-int's table layout), traced as ofproto/trace and annotated as ovn-detrace (the logical flow,
  stage, Port_Binding, and with --nb (scripts/capture-nb.sh) the NB row of each stage-hint).
  FLOW enters BRIDGE (default br-int) of the
  first --node; a packet leaving through a Geneve port to another captured chassis (its
  ovn-encap-ip) continues in that chassis's br-int with the same tun_id / tun_metadata0.
  exit status: 0 traced, 2 bad input`;

export interface TraceArgs {
  files: string[];
  from?: SourceRef;
  to?: TargetRef;
  proto?: "tcp" | "udp" | "icmp";
  format: "text" | "json" | "mermaid" | "html";
  detailed: boolean;
  pcap?: string;
  html?: string;
  pcapFormat?: "pcapng" | "pcap";
  datapath?: "logical" | "openflow";
  sb?: string;
  nb?: string;
  nodes: string[];
  bridge?: string;
  capturedBrInt: boolean;
  profile?: string;
}

export function parseTraceArgs(args: readonly string[]): TraceArgs {
  const out: TraceArgs = { files: [], format: "text", detailed: false, nodes: [], capturedBrInt: false };
  walkArgs(args, (name, value, a) => {
    switch (name) {
      case "--from":
        out.from = parseSource(value());
        break;
      case "--to":
        out.to = parseTarget(value());
        break;
      case "--proto":
        out.proto = oneOf(name, value(), ["tcp", "udp", "icmp"] as const);
        break;
      case "--format":
        out.format = oneOf(name, value(), ["text", "json", "mermaid", "html"] as const);
        break;
      case "--detailed":
        out.detailed = true;
        break;
      case "--pcap":
        out.pcap = value();
        break;
      case "--html":
        out.html = value();
        break;
      case "--sb":
        out.sb = value();
        break;
      case "--nb":
        out.nb = value();
        break;
      case "--node":
        out.nodes.push(value());
        break;
      case "--bridge":
        out.bridge = value();
        break;
      case "--captured-br-int":
        out.capturedBrInt = true;
        break;
      case "--profile":
        out.profile = value();
        break;
      case "--datapath":
        out.datapath = oneOf(name, value(), ["logical", "openflow"] as const);
        break;
      case "--pcap-format":
        out.pcapFormat = oneOf(name, value(), ["pcapng", "pcap"] as const);
        break;
      default:
        if (a.startsWith("-")) throw new SimError("BAD_VALUE", `unknown option ${a}`);
        out.files.push(a);
    }
  });
  return out;
}

registerSubcommand({
  name: "trace",
  summary: "end-to-end trace of a scenario (default: the built-in MetalLB-underlay seed)",
  usage: USAGE,
  run(args, io) {
    const a = parseTraceArgs(args);
    if (a.sb !== undefined || a.nodes.length > 0) return runCaptured(a, io);
    if (a.pcapFormat !== undefined && a.pcap === undefined)
      throw new SimError("BAD_VALUE", "--pcap-format needs --pcap FILE");
    checkInputPaths(a.files, isManifestName);
    const s = loadScenario(a.files);
    io.stderr(
      `ovnsim trace: scenario ${s.name}: ${s.nodes.length} nodes, ${s.pods.length} pods, ${s.services.length} services (Kube-OVN ${s.controller.release})\n`,
    );
    // Objects named by kind are looked up before the simulation is built, so a typo fails fast.
    const from = a.from !== undefined ? resolveSource(s, a.from) : undefined;
    const to = a.to !== undefined ? resolveTarget(s, a.to) : undefined;
    // In-cluster paths (pod or node → pod, ClusterIP, node, outside) cross Kube-OVN's topology.
    // client/NAME and node/NAME are never a pod of the same name.
    const kind = a.from !== undefined ? sourceKind(a.from) : undefined;
    if (from !== undefined && to !== undefined && isClusterPath(s, from, to.to, kind)) {
      const cw = buildClusterWorld(s);
      const { doc, frames } = traceCluster(cw, {
        from,
        ...(kind === "pod" || kind === "node" ? { fromKind: kind } : {}),
        to: to.to,
        ...(to.port !== undefined ? { port: to.port } : {}),
        ...(a.proto !== undefined ? { proto: a.proto } : {}),
      });
      return report(a, io, doc, frames, clusterCaptureWorld(s), (d) => renderClusterHtml(cw, d));
    }
    const sim = createSimulation(s, a.datapath !== undefined ? { datapath: a.datapath } : {});
    const { doc, frames } = runTrace(sim, {
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to: to.to } : {}),
      ...(to?.port !== undefined ? { port: to.port } : {}),
      ...(a.proto !== undefined ? { proto: a.proto } : {}),
    });
    return report(a, io, doc, frames, captureWorld(sim));
  },
});

const isCapture = (n: string): boolean => n.endsWith(".txt");

/** A capture directory's .txt files by name; a path that cannot be read fails with its reason. */
function readCaptureDir(dir: string): Record<string, string> {
  checkInputDirectory(dir, isCapture);
  return Object.fromEntries(
    readDirectory(dir)
      .filter(isCapture)
      .map((n) => [n, readTextFile(join(dir, n))]),
  );
}

function runCaptured(a: TraceArgs, io: { stdout(s: string): void; stderr(s: string): void }): number {
  if (a.sb === undefined || a.nodes.length === 0)
    throw new SimError("BAD_VALUE", "--sb DIR and at least one --node DIR go together");
  if (a.files.length !== 1)
    throw new SimError(
      "BAD_VALUE",
      `give one FLOW (ofproto/trace syntax) with --sb/--node, got ${a.files.length}`,
    );
  const sb = readCaptureDir(a.sb);
  const nodes = a.nodes.map(readCaptureDir);
  const r = traceCaptures({
    sb,
    ...(a.nb !== undefined ? { nb: readCaptureDir(a.nb) } : {}),
    nodes,
    bridge: a.bridge ?? "br-int",
    flow: a.files[0]!,
    capturedBrInt: a.capturedBrInt,
    ...(a.profile !== undefined ? { profile: a.profile } : {}),
  });
  for (const [ch, sk] of r.skipped)
    for (const x of sk) io.stderr(`ovnsim trace: ${ch}: logical flow not translated: ${x}\n`);
  io.stdout(renderCaptured(r.hops));
  return 0;
}

function report(
  a: TraceArgs,
  io: Parameters<Parameters<typeof registerSubcommand>[0]["run"]>[1],
  doc: TraceDocument,
  frames: readonly WireFrame[],
  world: CaptureWorld,
  html: (doc: TraceDocument) => string = renderHtml,
): number {
  if (a.pcap !== undefined) {
    // Written before the report, so a path that cannot be written fails the command up front.
    const format = a.pcapFormat ?? (/\.pcap$/i.test(a.pcap) ? "pcap" : "pcapng");
    const bytes = format === "pcap" ? writePcap(frames) : writeTracePcapng(frames, world);
    writeOutputFile(a.pcap, bytes);
    io.stderr(`ovnsim trace: wrote ${frames.length} frames to ${a.pcap} (${format})\n`);
  }
  if (a.html !== undefined) {
    writeOutputFile(a.html, html(doc));
    io.stderr(`ovnsim trace: wrote the HTML report to ${a.html}\n`);
  }
  if (a.format === "json") io.stdout(toJson(doc));
  else if (a.format === "html") io.stdout(html(doc));
  else if (a.format === "mermaid") io.stdout(renderMermaid(doc));
  else io.stdout(renderText(doc, { detailed: a.detailed }));
  return doc.verdict.delivered ? 0 : 1;
}
