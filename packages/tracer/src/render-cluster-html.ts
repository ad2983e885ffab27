/**
 * An in-cluster trace (cluster.ts) as one self-contained HTML page, like the seed's report
 * (render-html.ts) but with the topology Kube-OVN builds drawn from the compiled cluster rather
 * than from the places the steps name: the physical network (clients, gateway, ToR and its
 * VLANs), each node with its NIC, br-provider, br-int and ovn0, the Geneve tunnels between the
 * nodes' InternalIPs, the default VPC's logical topology (ovn-cluster, join, ovn-default and
 * the other subnets' logical switches, the cluster load balancers) and the pods under their
 * nodes, wired to their switches. The request and its reply are drawn over it, a drop is marked
 * where it happened and names what dropped it (a NetworkPolicy by name). Each hop opens onto
 * the Kubernetes objects and NB rows behind it, the logical flows ovn-trace matched, and the
 * br-int OpenFlow tables and cookies ovn-controller installs those logical flows as.
 * Same world and document → same bytes (no clock, no randomness, no script, no request).
 */
import type { ClusterWorld } from "./cluster.js";
import { type TraceDocument, type TraceStep, findDrop, formatPacket, walkSteps } from "./model.js";
import {
  CSS,
  clip,
  escapeHtml,
  f1,
  findingsHtml,
  hopPaths,
  segment,
  stepLine,
  verdictHtml,
} from "./render-html.js";

type Kind = "client" | "router" | "tor" | "nic" | "brp" | "brint" | "ovn0" | "lr" | "ls" | "lb" | "pod";

interface Box {
  readonly key: string;
  readonly kind: Kind;
  readonly label: string;
  readonly sub: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface Frame {
  readonly cls: string;
  readonly title: string;
  readonly sub: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface Wire {
  readonly a: string;
  readonly b: string;
  readonly cls: string;
  readonly label?: string;
}

interface ClusterLayout {
  readonly width: number;
  readonly height: number;
  readonly boxes: Map<string, Box>;
  readonly frames: Frame[];
  readonly wires: Wire[];
  readonly tunnels: Array<{ a: string; b: string; label: string }>;
  /** Small tags on boxes: the NetworkPolicies selecting a pod. */
  readonly tags: Array<{ box: string; text: string }>;
}

const MARGIN = 40;
const NODE_W = 290;
const GAP = 44;
const BOX_H = 44;

/** The cluster as Kube-OVN built it, laid out: physical network, nodes, logical band, pods. */
function clusterLayout(w: ClusterWorld): ClusterLayout {
  const s = w.scenario;
  const boxes = new Map<string, Box>();
  const frames: Frame[] = [];
  const wires: Wire[] = [];
  const tunnels: ClusterLayout["tunnels"] = [];
  const add = (
    key: string,
    kind: Kind,
    label: string,
    sub: string,
    x: number,
    y: number,
    bw: number,
    h = BOX_H,
  ) => boxes.set(key, { key, kind, label, sub, x, y, w: bw, h });
  const nodeNames = (s.cluster?.nodes ?? s.nodes).map((n) => n.name);
  const n = Math.max(1, nodeNames.length);
  const switches = w.db.switches;
  const width = Math.max(
    1180,
    MARGIN * 2 + n * NODE_W + (n - 1) * GAP,
    MARGIN * 2 + switches.length * 236 + 40,
  );
  // The physical network: hosts and routers, then the switches they and the nodes hang on.
  const top = [
    ...s.physical.clients.map((c) => ({
      key: `dev:${c.name}`,
      kind: "client" as const,
      label: c.name,
      sub: `external client · ${c.ip}/${c.plen} · VLAN ${c.vlan}`,
    })),
    ...s.physical.routers.map((r) => ({
      key: `dev:${r.name}`,
      kind: "router" as const,
      label: r.name,
      sub: `router · ${r.interfaces.map((i) => `${i.ip} (VLAN ${i.vlan})`).join(", ")}`,
    })),
  ];
  const topW = 300;
  const topGap = top.length > 1 ? Math.min(420, (width - 2 * MARGIN - topW) / (top.length - 1)) : 0;
  const topX0 = (width - (topW + topGap * (top.length - 1))) / 2;
  top.forEach((t, i) => {
    add(t.key, t.kind, t.label, t.sub, topX0 + i * topGap, 52, topW);
  });
  const torW = 300;
  const torGap =
    s.physical.switches.length > 1 ? (width - 2 * MARGIN - torW) / (s.physical.switches.length - 1) : 0;
  s.physical.switches.forEach((sw, i) => {
    const x = s.physical.switches.length > 1 ? MARGIN + i * torGap : (width - torW) / 2;
    const vlans = [...new Set(sw.ports.flatMap((p) => (p.tag !== undefined ? [p.tag] : p.trunks)))].sort(
      (a, b) => a - b,
    );
    add(
      `dev:${sw.name}`,
      "tor",
      sw.name,
      `physical switch (ToR)${vlans.length ? ` · VLAN ${vlans.join(", ")}` : ""}`,
      x,
      150,
      torW,
    );
  });
  // The nodes: NIC, br-provider (when a subnet has a localnet port), br-int with the tunnel
  // endpoint, ovn0 on join.
  const localnets = switches.flatMap((ls) =>
    ls.ports.filter((p) => p.type === "localnet").map((p) => ({ ls: ls.name, port: p })),
  );
  const nodeTop = 262;
  let y = nodeTop + 42;
  const rowNic = y;
  y += BOX_H + 20;
  const rowBrp = y;
  if (localnets.length > 0) y += BOX_H + 20;
  const rowBrInt = y;
  y += BOX_H + 20;
  const rowOvn0 = y;
  y += BOX_H + 18;
  const nodeBottom = y;
  const x0 = (width - (n * NODE_W + (n - 1) * GAP)) / 2;
  const colX = (i: number) => x0 + i * (NODE_W + GAP);
  const inner = 18;
  const iw = NODE_W - 2 * inner;
  nodeNames.forEach((name, i) => {
    const node = s.nodes.find((x) => x.name === name);
    const cn = s.cluster?.nodes.find((x) => x.name === name);
    const x = colX(i);
    frames.push({
      cls: "node",
      title: name,
      sub: `Kubernetes node · ${node?.internalIp ?? ""}`,
      x,
      y: nodeTop,
      w: NODE_W,
      h: nodeBottom - nodeTop,
    });
    add(
      `nic:${name}`,
      "nic",
      node?.nic ?? "eth0",
      `NIC · InternalIP ${node?.internalIp ?? "?"}`,
      x + inner,
      rowNic,
      iw,
    );
    if (localnets.length > 0) {
      const tags = [
        ...new Set(localnets.map((l) => (l.port.tag !== undefined ? `VLAN ${l.port.tag}` : "untagged"))),
      ];
      add(
        `brp:${name}`,
        "brp",
        "br-provider",
        `OVS bridge · localnet ${tags.join(", ")}`,
        x + inner,
        rowBrp,
        iw,
      );
      wires.push({ a: `nic:${name}`, b: `brp:${name}`, cls: "wire" });
      wires.push({ a: `brp:${name}`, b: `brint:${name}`, cls: "wire", label: "patch" });
    }
    add(
      `brint:${name}`,
      "brint",
      "br-int",
      `OVN integration bridge · genev_sys_6081`,
      x + inner,
      rowBrInt,
      iw,
    );
    add(
      `ovn0:${name}`,
      "ovn0",
      "ovn0",
      `host network on join · ${cn?.joinIp ?? "?"}${cn?.joinIp6 ? ` · ${cn.joinIp6}` : ""}`,
      x + inner,
      rowOvn0,
      iw,
    );
    wires.push({ a: `ovn0:${name}`, b: `brint:${name}`, cls: "wire" });
  });
  // Geneve between every pair of nodes (ovn-controller's tunnel mesh over the InternalIPs).
  for (let i = 0; i < nodeNames.length; i++)
    for (let j = i + 1; j < nodeNames.length; j++) {
      const a = s.nodes.find((x) => x.name === nodeNames[i]);
      const b = s.nodes.find((x) => x.name === nodeNames[j]);
      tunnels.push({
        a: `brint:${nodeNames[i]}`,
        b: `brint:${nodeNames[j]}`,
        label: `Geneve ${a?.internalIp ?? "?"} ↔ ${b?.internalIp ?? "?"}`,
      });
    }
  // The physical links, from the ToR's ports.
  for (const sw of s.physical.switches) {
    const byTarget = new Map<string, string[]>();
    for (const p of sw.ports) {
      const dev = p.peer.split(":")[0]!;
      const target = nodeNames.includes(dev) ? `nic:${dev}` : `dev:${dev}`;
      if (!boxes.has(target)) continue;
      const mode = p.vlanMode === "trunk" ? "trunk" : `VLAN ${p.tag ?? "?"}`;
      byTarget.set(target, [...(byTarget.get(target) ?? []), `${p.name} (${mode})`]);
    }
    for (const [target, labels] of byTarget)
      wires.push({ a: `dev:${sw.name}`, b: target, cls: "wire phys", label: labels.join(", ") });
  }
  // The logical band: ovn-cluster above its switches, the cluster load balancers beside it.
  const bandTop = nodeBottom + 40;
  const router = w.db.routers.find((r) => r.name === "ovn-cluster") ?? w.db.routers[0];
  const rW = 300;
  if (router)
    add(
      `lr:${router.name}`,
      "lr",
      router.name,
      `logical router · default VPC · ${router.policies.length} policies, ${router.staticRoutes.length} static route${router.staticRoutes.length === 1 ? "" : "s"}`,
      (width - rW) / 2,
      bandTop + 38,
      rW,
      50,
    );
  const vips = w.db.loadBalancers.reduce((k, lb) => k + Object.keys(lb.vips).length, 0);
  if (vips > 0) {
    const names = w.db.loadBalancers.filter((lb) => Object.keys(lb.vips).length > 0).map((lb) => lb.name);
    add(
      "lb",
      "lb",
      "load balancers",
      `${vips} VIP${vips === 1 ? "" : "s"} · ${names.join(", ")}`,
      (width + rW) / 2 + 40,
      bandTop + 38,
      Math.min(360, width - MARGIN - 20 - ((width + rW) / 2 + 40)),
      50,
    );
  }
  const swY = bandTop + 140;
  const swGap = 16;
  const swW = Math.min(
    250,
    (width - 2 * MARGIN - 20 - (switches.length - 1) * swGap) / Math.max(1, switches.length),
  );
  const swX0 = (width - (switches.length * swW + (switches.length - 1) * swGap)) / 2;
  switches.forEach((ls, i) => {
    const sub = s.subnets.find((x) => x.name === ls.name);
    const ln = ls.ports.find((p) => p.type === "localnet");
    const cidr = ls.name === "join" ? s.cluster?.joinCidr : sub?.cidr;
    const what = ls.name === "join" ? "join · node ports" : sub ? `Subnet` : "logical switch";
    const extra = ln ? ` · localnet${ln.tag !== undefined ? ` VLAN ${ln.tag}` : ""}` : " · overlay";
    add(
      `ls:${ls.name}`,
      "ls",
      ls.name,
      `${what} ${cidr ?? ""}${extra}`,
      swX0 + i * (swW + swGap),
      swY,
      swW,
      50,
    );
    const rp = ls.ports.find((p) => p.type === "router");
    const lrp = rp ? router?.ports.find((p) => p.name === rp.options["router-port"]) : undefined;
    if (router && rp)
      wires.push({
        a: `lr:${router.name}`,
        b: `ls:${ls.name}`,
        cls: "wire lrp",
        label: lrp?.networks.join(", ") ?? "",
      });
    if (ls.name === "join")
      for (const nn of nodeNames) wires.push({ a: `ovn0:${nn}`, b: `ls:join`, cls: "wire lsp" });
    if (ln)
      for (const nn of nodeNames) wires.push({ a: `brp:${nn}`, b: `ls:${ls.name}`, cls: "wire localnet" });
  });
  const bandBottom = swY + 50 + 24;
  frames.push({
    cls: "band",
    title: "OVN logical topology",
    sub: "distributed: br-int on every chassis runs these pipelines where the packet enters",
    x: MARGIN,
    y: bandTop,
    w: width - 2 * MARGIN,
    h: bandBottom - bandTop,
  });
  // The pods, under their nodes.
  const podTop = bandBottom + 40;
  const podH = 48;
  let podBottom = podTop + 40;
  nodeNames.forEach((name, i) => {
    const pods = s.pods.filter((p) => p.node === name);
    const x = colX(i);
    const h = 40 + pods.length * (podH + 10) + 6;
    frames.push({ cls: "pods", title: `pods on ${name}`, sub: "", x, y: podTop, w: NODE_W, h });
    podBottom = Math.max(podBottom, podTop + h);
    pods.forEach((p, j) => {
      const ip6 = s.cluster?.podIp6[p.lsp];
      add(
        `pod:${p.namespace}/${p.name}`,
        "pod",
        p.name,
        `Pod · ${p.namespace} · ${p.ip}${ip6 ? ` · ${ip6}` : ""} · ${p.subnet}`,
        x + inner,
        podTop + 34 + j * (podH + 10),
        iw,
        podH,
      );
      wires.push({ a: `ls:${p.subnet}`, b: `pod:${p.namespace}/${p.name}`, cls: "wire lsp" });
    });
  });
  // The NetworkPolicies, on the pods their port groups hold.
  const tags: ClusterLayout["tags"] = [];
  for (const pg of w.db.portGroups) {
    const o = w.nb.owners.get(`pg:${pg.name}`);
    if (o?.kind !== "NetworkPolicy") continue;
    for (const port of pg.ports) {
      const pod = s.pods.find((p) => p.lsp === port);
      if (pod) tags.push({ box: `pod:${pod.namespace}/${pod.name}`, text: `NetworkPolicy ${o.name}` });
    }
  }
  return { width, height: podBottom + 36, boxes, frames, wires, tunnels, tags };
}

/** A box's name in words: a node's parts say which node. */
function boxName(L: ClusterLayout, key: string): string {
  const b = L.boxes.get(key);
  if (!b) return key;
  const node = /^(?:nic|brp|brint|ovn0):(.+)$/.exec(key)?.[1];
  return node !== undefined ? `${b.label} (${node})` : b.label;
}

// ---------------------------------------------------------------------------------------------
// The path: the places each hop of a leg goes through

const LEG = /^(forward|reply): (?:Pod (\S+)|Node (\S+))/;
const PIPE = /^(ingress|egress)\(([^)]+)\)$/;

/** The steps a person reads as hops: the leg's own steps inlined into the request. */
function hops(root: TraceStep): TraceStep[] {
  if (LEG.test(root.where)) return [root, ...root.children];
  return root.children.flatMap((c) => (LEG.test(c.where) ? [c, ...c.children] : [c]));
}

interface Placed {
  readonly step: TraceStep;
  readonly places: string[];
}

/** Each hop with the boxes it goes through (in order), for one direction. */
function placeHops(w: ClusterWorld, root: TraceStep, L: ClusterLayout): Placed[] {
  const s = w.scenario;
  const routers = new Set(w.db.routers.map((r) => r.name));
  const out: Placed[] = [];
  let origin: string | undefined;
  const portPlace = (port: string, chassis: string | undefined): string[] => {
    const pod = s.pods.find((p) => p.lsp === port);
    if (pod) return [`pod:${pod.namespace}/${pod.name}`];
    if (port.startsWith("node-")) return [`ovn0:${port.slice(5)}`];
    if (port.startsWith("localnet.") && chassis) return [`brp:${chassis}`, `nic:${chassis}`];
    return [];
  };
  const tor = s.physical.switches[0]?.name;
  for (const step of hops(root)) {
    const places: string[] = [];
    const leg = LEG.exec(step.where);
    const pipe = PIPE.exec(step.where);
    if (leg) {
      origin = step.device;
      places.push(leg[2] !== undefined ? `pod:${leg[2]}` : `ovn0:${leg[3]}`);
    } else if (step.layer === "kube" && (step.where === "pod eth0" || step.where === "ovn0")) {
      // the origin, already placed by its leg
    } else if (pipe && step.device !== undefined) {
      // A pipeline on another chassis than the leg's origin runs after the crossing, in its br-int.
      if (origin !== undefined && step.device !== origin) places.push(`brint:${step.device}`);
      else {
        places.push(`${routers.has(pipe[2]!) ? "lr" : "ls"}:${pipe[2]}`);
        if (/ct_lb_mark\(backends=/.test(step.detail ?? "")) places.push("lb", `ls:${pipe[2]}`);
      }
    } else if (step.layer === "openflow" && /^Geneve /.test(step.where)) {
      const m = /^Geneve (\S+) → (\S+)$/.exec(step.where);
      if (m) places.push(`brint:${m[1]}`, `brint:${m[2]}`);
    } else if (step.layer === "physical" && / → /.test(step.where)) {
      const m = /(\S+) → (\S+)$/.exec(step.where);
      if (m)
        places.push(
          `brp:${m[1]}`,
          `nic:${m[1]}`,
          ...(tor ? [`dev:${tor}`] : []),
          `nic:${m[2]}`,
          `brp:${m[2]}`,
          `brint:${m[2]}`,
        );
    } else if (step.layer === "ovn" && step.where.startsWith("output ")) {
      places.push(...portPlace(step.where.slice(7), step.device));
    } else if (step.layer === "kube" && step.where.startsWith("pod ")) {
      places.push(`pod:${step.where.slice(4)}`);
    } else if (step.layer === "host" && step.where.endsWith("/ovn0")) {
      places.push(`ovn0:${step.where.slice(0, -5)}`);
    } else if (step.layer === "physical" && step.where.includes("/localnet.")) {
      const ch = step.where.slice(0, step.where.indexOf("/"));
      places.push(`brp:${ch}`, `nic:${ch}`, ...(tor ? [`dev:${tor}`] : []));
    }
    out.push({ step, places: places.filter((p) => L.boxes.has(p)) });
  }
  return out;
}

/** The boxes of a whole direction, consecutive repeats folded. */
function pathOf(placed: readonly Placed[]): string[] {
  const out: string[] = [];
  for (const p of placed) for (const k of p.places) if (out[out.length - 1] !== k) out.push(k);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SVG

function anchor(b: Box, dir: "fwd" | "rev"): [number, number] {
  const fx = b.w > 200 ? (dir === "fwd" ? 0.74 : 0.86) : dir === "fwd" ? 0.6 : 0.8;
  return [b.x + b.w * fx, b.y + b.h / 2 + (dir === "fwd" ? -4 : 4)];
}

/** A segment between two places; one on the same row bows upwards so it does not cross the boxes between. */
function curve(a: [number, number], b: [number, number]): string {
  if (Math.abs(a[1] - b[1]) < 1 && Math.abs(a[0] - b[0]) > 1) {
    const bow = Math.min(60, 16 + Math.abs(a[0] - b[0]) / 40);
    const mx = (a[0] + b[0]) / 2;
    return `M${f1(a[0])} ${f1(a[1])}Q${f1(mx)} ${f1(a[1] - bow * 2)} ${f1(b[0])} ${f1(b[1])}`;
  }
  return segment(a, b);
}

function edgePoints(a: Box, b: Box): [[number, number], [number, number]] {
  const below = a.y + a.h <= b.y;
  const above = b.y + b.h <= a.y;
  if (below)
    return [
      [a.x + a.w * 0.3, a.y + a.h],
      [b.x + b.w * 0.3, b.y],
    ];
  if (above)
    return [
      [a.x + a.w * 0.3, a.y],
      [b.x + b.w * 0.3, b.y + b.h],
    ];
  const ax = a.x < b.x ? a.x + a.w : a.x;
  const bx = a.x < b.x ? b.x : b.x + b.w;
  return [
    [ax, a.y + a.h / 2],
    [bx, b.y + b.h / 2],
  ];
}

function dropLabel(doc: TraceDocument, root: TraceStep): string | undefined {
  const d = findDrop(root);
  if (!d) return undefined;
  if (root === doc.forward && doc.verdict.droppedAt)
    return `${doc.verdict.droppedAt.where}: ${doc.verdict.droppedAt.reason}`;
  return d.summary;
}

function renderClusterSvg(
  doc: TraceDocument,
  L: ClusterLayout,
  fwd: readonly string[],
  rev: readonly string[],
): string {
  const onPath = new Set([...fwd, ...rev]);
  const o: string[] = [];
  const describe = (keys: readonly string[]) => keys.map((k) => boxName(L, k)).join(" → ");
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="topology-svg" class="cluster" viewBox="0 0 ${L.width} ${L.height}" width="${L.width}" height="${L.height}" role="img" aria-labelledby="svg-title svg-desc">`,
    `<title id="svg-title">${escapeHtml(`The cluster of ${doc.scenario} as Kube-OVN builds it, with the traced path`)}</title>`,
    `<desc id="svg-desc">${escapeHtml(`Request: ${describe(fwd)}.${rev.length ? ` Reply: ${describe(rev)}.` : ""}`)}</desc>`,
    '<defs><marker id="arrow-fwd" viewBox="0 0 10 10" refX="8" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#1f6feb"/></marker>',
    '<marker id="arrow-rev" viewBox="0 0 10 10" refX="8" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#d9480f"/></marker></defs>',
    `<text class="zone" x="${MARGIN}" y="30">physical network</text>`,
  );
  for (const f of L.frames) {
    o.push(
      `<g class="frame ${f.cls}"><rect x="${f1(f.x)}" y="${f1(f.y)}" width="${f1(f.w)}" height="${f1(f.h)}" rx="${f.cls === "band" ? 12 : 14}"/><text x="${f1(f.x + 16)}" y="${f1(f.y + 26)}" class="${f.cls === "node" ? "node-name" : "frame-title"}">${escapeHtml(f.title)}</text>${f.sub ? `<text x="${f1(f.x + 24 + f.title.length * (f.cls === "node" ? 10 : 8))}" y="${f1(f.y + 26)}" class="node-sub">${escapeHtml(clip(f.sub, f.w - f.title.length * 9, 6.2))}</text>` : ""}</g>`,
    );
  }
  for (const wr of L.wires) {
    const a = L.boxes.get(wr.a);
    const b = L.boxes.get(wr.b);
    if (!a || !b) continue;
    const [pa, pb] = edgePoints(a, b);
    o.push(`<path class="${wr.cls}" d="${segment(pa, pb)}"/>`);
    if (wr.label)
      o.push(
        `<text class="port" x="${f1((pa[0] + pb[0]) / 2 + 6)}" y="${f1((pa[1] + pb[1]) / 2 + 4)}">${escapeHtml(wr.label)}</text>`,
      );
  }
  for (const t of L.tunnels) {
    const a = L.boxes.get(t.a);
    const b = L.boxes.get(t.b);
    if (!a || !b) continue;
    const adjacent = Math.abs(a.x - b.x) < NODE_W + GAP + 1;
    const d = adjacent
      ? `M${f1(a.x + a.w)} ${f1(a.y + a.h / 2)}H${f1(b.x)}`
      : curve([a.x + a.w * 0.5, a.y], [b.x + b.w * 0.5, b.y]);
    o.push(`<path class="tunnel" d="${d}"><title>${escapeHtml(t.label)}</title></path>`);
  }
  if (L.tunnels.length > 0) {
    const a = L.boxes.get(L.tunnels[0]!.a)!;
    const b = L.boxes.get(L.tunnels[0]!.b)!;
    o.push(
      `<text class="tunnel-label" x="${f1((a.x + a.w + b.x) / 2)}" y="${f1(a.y + a.h / 2 + 16)}" text-anchor="middle">Geneve</text>`,
    );
  }
  for (const b of L.boxes.values()) {
    const cls = `place ${b.kind}${onPath.has(b.key) ? " on-path" : ""}`;
    o.push(
      `<g class="${cls}" data-place="${escapeHtml(b.key)}"><title>${escapeHtml(`${b.label} — ${b.sub}`)}</title><rect x="${f1(b.x)}" y="${f1(b.y)}" width="${f1(b.w)}" height="${f1(b.h)}" rx="8"/><text x="${f1(b.x + 12)}" y="${f1(b.y + b.h / 2 - 2)}" class="label">${escapeHtml(clip(b.label, b.w, 8.2))}</text><text x="${f1(b.x + 12)}" y="${f1(b.y + b.h / 2 + 14)}" class="sub">${escapeHtml(clip(b.sub, b.w, 6.1))}</text></g>`,
    );
  }
  const tagCount = new Map<string, number>();
  for (const t of L.tags) {
    const b = L.boxes.get(t.box);
    if (!b) continue;
    const k = tagCount.get(t.box) ?? 0;
    tagCount.set(t.box, k + 1);
    const tw = Math.min(b.w - 12, t.text.length * 6.3 + 16);
    const tx = b.x + b.w - tw - 6;
    const ty = b.y - 9 + k * 2;
    o.push(
      `<g class="np-tag" data-box="${escapeHtml(t.box)}"><title>${escapeHtml(`${t.text} selects this pod (its port group)`)}</title><rect x="${f1(tx)}" y="${f1(ty)}" width="${f1(tw)}" height="17" rx="8"/><text x="${f1(tx + 8)}" y="${f1(ty + 12.5)}">${escapeHtml(clip(t.text, tw + 10, 6.3))}</text></g>`,
    );
  }
  const at = (dir: "fwd" | "rev") => (k: string) => anchor(L.boxes.get(k)!, dir);
  o.push(...hopPaths(fwd, "fwd", "request", at("fwd"), curve));
  o.push(...hopPaths(rev, "rev", "reply", at("rev"), curve));
  const endMark = (root: TraceStep, keys: readonly string[], dir: "fwd" | "rev") => {
    const last = keys[keys.length - 1];
    if (last === undefined) return;
    const drop = findDrop(root);
    // The reply's leg ends at the client's port with no outcome of its own: the verdict says.
    const delivered =
      root === doc.reply
        ? doc.verdict.replyDelivered === true
        : [...walkSteps(root)].some((x) => x.step.outcome === "deliver");
    if (!drop && !delivered) return;
    const b = L.boxes.get(last)!;
    const [x, y] = anchor(b, dir);
    // Handed to a host stack or the physical network: the cluster trace ends there, not a drop.
    const at = root === doc.forward ? doc.verdict.droppedAt : null;
    const kind = !drop ? "deliver" : at && at.layer !== "ovn" ? "handoff" : "drop";
    const mark = kind === "deliver" ? "✓" : kind === "drop" ? "✗" : "⇢";
    o.push(
      `<g class="end ${kind}" data-place="${escapeHtml(last)}"><circle cx="${f1(x)}" cy="${f1(y)}" r="11"/><text x="${f1(x)}" y="${f1(y + 5)}" text-anchor="middle">${mark}</text></g>`,
    );
    const why = drop ? dropLabel(doc, root) : undefined;
    if (why !== undefined) {
      // The drop's cause, beside the cross (a NetworkPolicy by name).
      const lw = Math.min(L.width - 16, 860, why.length * 7.7 + 30);
      const lx = Math.max(8, Math.min(L.width - lw - 8, x - lw / 2));
      const ly = y + 20;
      o.push(
        `<g class="drop-label ${kind}"><rect x="${f1(lx)}" y="${f1(ly)}" width="${f1(lw)}" height="26" rx="6"/><text x="${f1(lx + 12)}" y="${f1(ly + 17)}">${escapeHtml(clip(`${mark} ${why}`, lw + 10, 7.7))}</text></g>`,
      );
    }
  };
  endMark(doc.forward, fwd, "fwd");
  if (doc.reply) endMark(doc.reply, rev, "rev");
  o.push("</svg>");
  return o.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The hops, each opening onto its objects, its logical flows and their OpenFlow tables

interface LTable {
  readonly table: number;
  readonly stage: string;
  readonly match: string;
  readonly priority: number;
  readonly actions: string[];
}

/** The tables a pipeline step's ovn-trace block matched (its top-level lines). */
function tablesOf(detail: string): LTable[] {
  const out: LTable[] = [];
  let cur: LTable | undefined;
  for (const line of detail.split("\n")) {
    const m = /^(\d+)\. (\S+): (.*), priority (\d+)$/.exec(line);
    if (m) {
      cur = { table: Number(m[1]), stage: m[2]!, match: m[3]!, priority: Number(m[4]), actions: [] };
      out.push(cur);
    } else if (cur && /^ {4}\S.*;$/.test(line) && !/^ {4}\d+\. /.test(line)) cur.actions.push(line.trim());
  }
  return out;
}

/** A table that drops the packet: `drop;`, or an ACL stage's drop verdict (reg8[17], OVN ≥ 23.03's acl_eval). */
const dropRow = (t: LTable): boolean =>
  t.actions.some((a) => /^drop;$/.test(a)) ||
  (t.stage.includes("_acl") && t.actions.includes("reg8[17] = 1;"));

/** "Kind name (role) · NB row · lflow …" attributions at the end of a pipeline step's summary. */
function attributionsOf(summary: string): Array<{ object: string; nb: string; lflow: string }> {
  const i = summary.indexOf(" — ");
  if (i < 0) return [];
  return summary
    .slice(i + 3)
    .split("; ")
    .map((a) => {
      const [object = "", nb = "", lflow = ""] = a.split(" · ");
      return { object, nb: nb.replace(/^NB /, ""), lflow: lflow.replace(/^lflow /, "") };
    });
}

/** br-int's first table of each logical pipeline in the release's ovn-controller (controller/lflow.h). */
function ofBase(w: ClusterWorld, pipeline: "ingress" | "egress"): number {
  if (pipeline === "ingress") return 8;
  return w.profile.ovn >= 25 ? 45 : 42;
}

function hopBody(w: ClusterWorld, step: TraceStep, cookies: ReadonlyMap<string, string>): string {
  const o: string[] = [];
  if (step.packet) o.push(`<div class="packet">${escapeHtml(formatPacket(step.packet))}</div>`);
  if (step.outcome === "drop")
    o.push(
      `<p class="dropnote">${escapeHtml(`✗ ${step.summary} — at ${step.where}${step.device ? ` on ${step.device}` : ""}; the pipeline hop above shows the flows that decided it.`)}</p>`,
    );
  const pipe = PIPE.exec(step.where);
  const attr = attributionsOf(step.summary);
  if (attr.length > 0) {
    o.push(
      '<table class="attr"><caption>Kubernetes objects and NB rows behind this hop</caption><thead><tr><th scope="col">Kubernetes object</th><th scope="col">NB row</th><th scope="col">logical flow</th></tr></thead><tbody>',
      ...attr.map(
        (a) =>
          `<tr><td>${escapeHtml(a.object)}</td><td><code>${escapeHtml(a.nb)}</code></td><td><code>${escapeHtml(a.lflow)}</code></td></tr>`,
      ),
      "</tbody></table>",
    );
  }
  if (pipe && step.detail) {
    const kind = pipe[1] as "ingress" | "egress";
    const dp = pipe[2]!;
    const tables = tablesOf(step.detail);
    if (tables.length > 0) {
      const base = ofBase(w, kind);
      o.push(
        `<table class="lflows"><caption>${escapeHtml(`${kind} pipeline of ${dp} on ${step.device ?? "?"}: logical flows matched, and the br-int OpenFlow rules ovn-controller installs them as`)}</caption><thead><tr><th scope="col">logical table · stage</th><th scope="col">priority</th><th scope="col">match</th><th scope="col">actions</th><th scope="col">br-int OpenFlow</th></tr></thead><tbody>`,
      );
      for (const t of tables) {
        const cookie = cookies.get(`${dp}|${kind}|${t.table}|${t.priority}|${t.match}`);
        const of = `table=${base + t.table}, priority=${t.priority}${cookie ? `, cookie=0x${cookie}` : ""}`;
        o.push(
          `<tr${dropRow(t) ? ' class="drop"' : ""}><td>${t.table} · ${escapeHtml(t.stage)}</td><td>${t.priority}</td><td><code>${escapeHtml(t.match)}</code></td><td><code>${escapeHtml(t.actions.join(" "))}</code></td><td><code>${escapeHtml(of)}</code></td></tr>`,
        );
      }
      o.push(
        `</tbody></table><p class="note">${escapeHtml(`OpenFlow: ovn-controller puts logical ${kind} table N in br-int table ${base}+N, each rule's cookie the first 32 bits of its logical flow's UUID (ovn-detrace reads it back; the UUIDs here are the simulated southbound's, a real cluster's differ); this path is traced at the logical level, the br-int rules are not replayed.`)}</p>`,
      );
    }
  }
  if (step.detail)
    o.push(
      `<details class="native"><summary>${pipe ? "ovn-trace --detailed" : "detail"}</summary><pre>${escapeHtml(step.detail.replace(/\n+$/, ""))}</pre></details>`,
    );
  return o.join("");
}

function hopSection(
  w: ClusterWorld,
  placed: readonly Placed[],
  root: TraceStep,
  id: string,
  title: string,
  L: ClusterLayout,
  cookies: ReadonlyMap<string, string>,
): string {
  const o: string[] = [
    `<section id="${id}"><h2>${escapeHtml(title)} <small>${placed.length} hops</small></h2>`,
  ];
  if (root.packet) o.push(`<div class="packet">${escapeHtml(formatPacket(root.packet))}</div>`);
  o.push('<ol class="hops">');
  const drop = findDrop(root);
  placed.forEach(({ step, places }, i) => {
    // Open where the packet was dropped: the drop, and the pipeline whose flows dropped it.
    const holds = (x: TraceStep | undefined): boolean =>
      x !== undefined &&
      drop !== undefined &&
      (LEG.test(x.where) ? x === drop : [...walkSteps(x)].some((y) => y.step === drop));
    const next = placed[i + 1]?.step;
    const open = holds(step) || (PIPE.test(step.where) && next === drop);
    const where = places.map((k) => boxName(L, k));
    const short = { ...step, summary: step.summary.split(" — ")[0]! };
    const body = hopBody(w, step, cookies);
    o.push(
      `<li><details class="hop${step.outcome ? ` ${step.outcome}` : ""}" id="${id}-${i + 1}" data-layer="${escapeHtml(step.layer)}" data-places="${escapeHtml(places.join(" "))}"${open ? " open" : ""}><summary><span class="n">${i + 1}</span>${stepLine(short)}${where.length ? ` <span class="at">@ ${escapeHtml(where.join(" → "))}</span>` : ""}</summary><div class="body">${body || '<p class="none">no further detail</p>'}</div></details></li>`,
    );
  });
  o.push("</ol></section>");
  return o.join("\n");
}

const CLUSTER_CSS = `
svg .frame.node rect{fill:#f3f6fb;stroke:#8c959f;stroke-width:1.5}
svg .frame.pods rect{fill:#f6fbf7;stroke:#8c959f;stroke-width:1.2;stroke-dasharray:4 3}
svg .frame.band rect{fill:#f4ecfb;stroke:#8250df;stroke-dasharray:6 4}
svg .frame-title{fill:#6639ba;font-size:13px;font-weight:600}
svg .frame.pods .frame-title{fill:#1a7f37}
svg .place.client rect,svg .place.router rect{fill:#eef6ff}
svg .place.tor rect{fill:#e6f4ea}
svg .place.brp rect,svg .place.brint rect{fill:#fff4d6}
svg .place.ovn0 rect{fill:#eef6ff}
svg .place.lr rect{fill:#fbefff;stroke:#8250df}
svg .wire.lrp{stroke:#a475f9}
svg .wire.lsp{stroke:#c9d1d9;stroke-width:1.3}
svg .wire.localnet{stroke:#d4a72c;stroke-width:1.3;stroke-dasharray:3 3}
svg .tunnel{fill:none;stroke:#57606a;stroke-width:1.6;stroke-dasharray:9 5}
svg .tunnel-label{fill:#57606a;font-size:11.5px;font-style:italic}
svg .drop-label rect{fill:#fff0ee;stroke:#cf222e}
svg .drop-label text{fill:#a40e26;font-weight:600;font-size:12.5px}
svg .drop-label.handoff rect{fill:#fff8c5;stroke:#9a6700}
svg .drop-label.handoff text{fill:#7d4e00}
svg .end.handoff circle{fill:#9a6700}
svg .np-tag rect{fill:#fff0ee;stroke:#cf222e;stroke-width:1}
svg .np-tag text{fill:#a40e26;font-size:10.5px;font-weight:600}
ol.path{margin:6px 0 0;padding-left:20px;color:var(--mute);font-size:13px}
.at{color:var(--mute);font-size:12px}
table{border-collapse:collapse;margin:6px 0 8px;font-size:12.5px;width:100%}
caption{text-align:left;color:var(--mute);font-size:12px;padding:2px 0}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
tr.drop td{background:#fff0ee}
.note{color:var(--mute);font-size:12px;margin:2px 0 6px}
.dropnote{color:#a40e26;font-weight:600;margin:4px 0}
.layer.host{background:#e7ecf0}
`;

/** The cookie (first 32 bits of the logical flow's UUID) of each southbound logical flow. */
function cookieIndex(w: ClusterWorld): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of w.sb.flows)
    if (f.uuid !== undefined)
      m.set(`${f.datapath}|${f.pipeline}|${f.table}|${f.priority}|${f.match}`, f.uuid);
  return m;
}

/** The whole page for an in-cluster trace of `w` (`ovnsim trace --format html` on a cluster path). */
export function renderClusterHtml(w: ClusterWorld, doc: TraceDocument): string {
  const r = doc.request;
  const req = `${r.from} → ${r.to}${r.proto !== "icmp" ? `:${r.port}` : ""} (${r.proto})`;
  const title = `ovnsim trace: ${doc.scenario}: ${req}`;
  const L = clusterLayout(w);
  const fwdHops = placeHops(w, doc.forward, L);
  const revHops = doc.reply ? placeHops(w, doc.reply, L) : [];
  const fwd = pathOf(fwdHops);
  const rev = pathOf(revHops);
  const cookies = cookieIndex(w);
  const words = (keys: readonly string[]) => keys.map((k) => escapeHtml(boxName(L, k))).join(" → ");
  const release = `Kube-OVN ${w.scenario.controller.release}, OVN ${w.profile.ovn}.03`;
  const parts = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="ovnsim (${escapeHtml(doc.schema)})">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}${CLUSTER_CSS}</style></head><body><main>`,
    `<header><h1>ovnsim trace · ${escapeHtml(doc.scenario)}</h1><p>${escapeHtml(`${req} · in-cluster path · ${release}`)}</p></header>`,
    verdictHtml(doc),
    `<section id="topology"><h2>Cluster topology and path</h2><div class="legend"><span class="f"><i></i>request</span><span class="r"><i></i>reply</span><span>bold boxes: places the packet went through · hover a box or a line for its name</span></div>`,
    renderClusterSvg(doc, L, fwd, rev),
    `<ol class="path"><li>request: ${words(fwd)}</li>${rev.length ? `<li>reply: ${words(rev)}</li>` : ""}</ol>`,
    "</section>",
    findingsHtml(doc),
    hopSection(w, fwdHops, doc.forward, "forward", "Request", L, cookies),
    doc.reply ? hopSection(w, revHops, doc.reply, "reply", "Reply", L, cookies) : "",
    `<footer>ovnsim · ${escapeHtml(doc.schema)} · open a hop for the Kubernetes objects and NB rows behind it, its logical flows (ovn-trace) and their br-int OpenFlow tables</footer>`,
    "</main></body></html>",
  ];
  return `${parts.filter((p) => p !== "").join("\n")}\n`;
}
