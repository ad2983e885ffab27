// Shared by the cluster tests: the microflows of a scenario's in-cluster paths (every pod to
// every other pod and to every ClusterIP, each node's ovn0 to every pod), as ovn-trace takes them.
import { type Scenario, routerPortName } from "@ovnsim/kube";
import { parseNbctl, type NbDatabase } from "@ovnsim/ovn";
import { deriveClusterNbctl, subnetOfIp } from "@ovnsim/kube";

export interface Microflow {
  readonly datapath: string;
  readonly microflow: string;
  readonly ct: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly port: number;
  /** ovn-trace picks a backend at random: a ClusterIP target names the first endpoint (--lb-dst). */
  readonly lbDst?: string;
}

export function clusterMicroflows(s: Scenario, limit = 12, db?: NbDatabase): Microflow[] {
  const nb = db ?? parseNbctl(deriveClusterNbctl(s).lines.join("\n"), { file: "nb" });
  const lrpMac = (name: string) => nb.routers.flatMap((r) => r.ports).find((p) => p.name === name)?.mac;
  const out: Microflow[] = [];
  const ct = ["new", "new", "new", "new"];
  const targets: { ip: string; port: number; lbDst?: string }[] = [
    ...s.pods.map((p) => ({ ip: p.ip, port: 8080 })),
    ...(s.cluster?.services ?? []).flatMap((x) => {
      const svc = s.services.find((y) => y.name === x.name && y.namespace === x.namespace);
      const ep = s.pods.find((p) => p.lsp === svc?.endpoints[0]);
      const lbDst = ep && svc?.ports[0] ? `${ep.ip}:${svc.ports[0].targetPort}` : undefined;
      return x.clusterIps
        .filter((i) => !i.includes(":"))
        .map((ip) => ({ ip, port: svc?.ports[0]?.port ?? 80, ...(lbDst ? { lbDst } : {}) }));
    }),
  ];
  for (const p of s.pods) {
    const gw = lrpMac(routerPortName(p.subnet));
    if (!gw) continue;
    for (const t of targets) {
      if (t.ip === p.ip) continue;
      const same = subnetOfIp(s, t.ip)?.name === p.subnet;
      const peer = s.pods.find((x) => x.ip === t.ip);
      const dmac = same && peer ? peer.mac : gw;
      out.push({
        datapath: p.subnet,
        from: `${p.namespace}/${p.name}`,
        to: t.ip,
        port: t.port,
        ct,
        ...(t.lbDst ? { lbDst: t.lbDst } : {}),
        microflow: `inport == "${p.lsp}" && eth.src == ${p.mac} && eth.dst == ${dmac} && ip4.src == ${p.ip} && ip4.dst == ${t.ip} && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == ${t.port}`,
      });
    }
  }
  const jgw = lrpMac(routerPortName("join"));
  for (const n of s.cluster?.nodes ?? []) {
    for (const t of targets) {
      if (!jgw) continue;
      out.push({
        datapath: "join",
        from: n.name,
        to: t.ip,
        port: t.port,
        ct,
        ...(t.lbDst ? { lbDst: t.lbDst } : {}),
        microflow: `inport == "node-${n.name}" && eth.src == ${n.joinMac} && eth.dst == ${jgw} && ip4.src == ${n.joinIp} && ip4.dst == ${t.ip} && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == ${t.port}`,
      });
    }
  }
  // A deterministic spread over the list when it is long.
  if (out.length <= limit) return out;
  const step = out.length / limit;
  return Array.from({ length: limit }, (_, i) => out[Math.floor(i * step)]!);
}
