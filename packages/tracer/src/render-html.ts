/**
 * The trace as one self-contained HTML page (inline CSS and SVG; no script, no font, no request
 * leaves the page): the topology drawn like the seed document's Figure 1 — client and routers,
 * the ToR switch, each node with its provider NIC, br-provider, the patch port, br-int, the
 * logical switch with its load balancer, the Pods — built from the places the trace's steps
 * actually name, with the request and its reply drawn over it; then each hop as a `<details>`
 * opening onto its ofproto/trace or ovn-trace block, the verdict and the doctor's findings.
 * Same document → same bytes: nothing is read from the clock, the page is a function of `doc`.
 */
import { refSummary } from "./brint.js";
import { type TraceDocument, type TraceStep, findDrop, formatPacket, walkSteps } from "./model.js";

/** Text safe in HTML / SVG text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;",
  );
}

type Kind = "host" | "router" | "switch" | "nic" | "bridge" | "patch" | "ls" | "lb" | "pod";

interface Place {
  readonly key: string;
  readonly kind: Kind;
  readonly label: string;
  readonly sub: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The devices the trace names, sorted into the picture's parts. */
interface Topology {
  readonly nodes: string[];
  readonly hosts: string[];
  readonly switches: string[];
  readonly routers: string[];
  /** Per switch, the devices its `p-<device>…` ports lead to (and the port names). */
  readonly links: Array<{ readonly sw: string; readonly dev: string; readonly port: string }>;
  /** Per node: NIC name, bridges (br-int last), patch, logical datapaths, pods. */
  readonly nic: Map<string, string>;
  readonly bridges: Map<string, string[]>;
  readonly patches: Map<string, string>;
  readonly datapaths: string[];
  readonly lbs: Set<string>;
  /** "node:datapath" where the trace ran that logical datapath (on that node's chassis). */
  readonly lsOn: Set<string>;
  readonly pods: Map<string, string[]>;
}

const NODE_LAYERS = new Set(["openflow", "ovn", "kube", "metallb", "lb", "conntrack"]);
const DATAPATH = /^logical (switch|router) (\S+)/;

/** Every step with the device it runs on (children inherit their parent's). */
function* stepsWithDevice(
  s: TraceStep,
  device: string | undefined,
  datapath: string | undefined,
): Generator<{ step: TraceStep; device: string | undefined; datapath: string | undefined }> {
  const dev = s.device ?? device;
  const dp = DATAPATH.exec(s.where)?.[2] ?? datapath;
  yield { step: s, device: dev, datapath: dp };
  for (const c of s.children) yield* stepsWithDevice(c, dev, dp);
}

function allSteps(doc: TraceDocument) {
  const roots = doc.reply ? [doc.forward, doc.reply] : [doc.forward];
  return roots.flatMap((r) => [...stepsWithDevice(r, undefined, undefined)]);
}

const bridgeOf = (where: string): string | undefined => /^(br-[A-Za-z0-9_-]+)/.exec(where)?.[1];

function topology(doc: TraceDocument): Topology {
  const steps = allSteps(doc);
  const nodeSet = new Set<string>();
  for (const { step, device } of steps) {
    if (device === undefined) continue;
    if (NODE_LAYERS.has(step.layer) || bridgeOf(step.where) !== undefined) nodeSet.add(device);
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const nodes = [...nodeSet].sort(byName);
  const others = new Map<string, { ports: Set<string>; ifaces: Set<string> }>();
  const nic = new Map<string, string>();
  const bridges = new Map<string, string[]>();
  const patches = new Map<string, string>();
  const datapaths: string[] = [];
  const lbs = new Set<string>();
  const lsOn = new Set<string>();
  const pods = new Map<string, string[]>();
  for (const { step, device, datapath } of steps) {
    if (device === undefined) continue;
    if (!nodeSet.has(device)) {
      const o = others.get(device) ?? { ports: new Set(), ifaces: new Set() };
      others.set(device, o);
      if (step.where.startsWith("p-")) {
        o.ports.add(step.where);
        // A switch's flood or forward names the ports the frame left by: "-> p-node1(vlan 100), …".
        for (const m of step.summary.matchAll(/\b(p-[\w.-]+)\(/g)) o.ports.add(m[1]!);
      } else if (step.where !== "route") o.ifaces.add(step.where);
      continue;
    }
    const br = bridgeOf(step.where);
    if (step.layer === "kube" && step.where.startsWith("pod ")) {
      const list = pods.get(device) ?? [];
      const pod = step.where.slice(4);
      if (!list.includes(pod)) list.push(pod);
      pods.set(device, list);
    } else if ((step.layer === "lb" || step.layer === "conntrack") && datapath !== undefined) {
      lbs.add(`${device}:${datapath}`);
    } else if (step.layer === "ovn" && step.device !== undefined && datapath !== undefined) {
      if (!datapaths.includes(datapath)) datapaths.push(datapath);
      lsOn.add(`${device}:${datapath}`);
    } else if (br !== undefined) {
      const list = bridges.get(device) ?? [];
      if (!list.includes(br)) list.push(br);
      bridges.set(device, list);
      const patch = /:(patch\S*)/.exec(step.where)?.[1];
      if (patch !== undefined && !patches.has(device)) patches.set(device, patch);
    } else if (step.layer === "physical" && step.children.length === 0 && !nic.has(device)) {
      nic.set(device, step.where);
    }
  }
  for (const list of bridges.values())
    list.sort((a, b) => (a === "br-int" ? 1 : b === "br-int" ? -1 : byName(a, b)));
  // Every node's NIC is named as the first one seen (the provider network's NIC is the same on all).
  const someNic = [...nic.values()][0];
  if (someNic !== undefined) for (const n of nodes) if (!nic.has(n)) nic.set(n, someNic);
  const switches: string[] = [];
  const routers: string[] = [];
  const hosts: string[] = [];
  for (const [name, o] of [...others].sort((a, b) => byName(a[0], b[0]))) {
    if (o.ports.size > 0) switches.push(name);
    else if (o.ifaces.size > 1) routers.push(name);
    else hosts.push(name);
  }
  // The request's source first, as the picture reads left to right.
  hosts.sort((a, b) => (a === doc.request.from ? -1 : b === doc.request.from ? 1 : 0));
  const links: Array<{ sw: string; dev: string; port: string }> = [];
  const known = [...nodes, ...hosts, ...routers];
  for (const sw of switches) {
    const seen = new Set<string>();
    for (const port of [...others.get(sw)!.ports].sort(byName)) {
      const rest = port.slice(2);
      const dev = known
        .filter((d) => rest === d || rest.startsWith(`${d}-`))
        .sort((a, b) => b.length - a.length)[0];
      if (dev === undefined || seen.has(dev)) continue;
      seen.add(dev);
      links.push({ sw, dev, port });
    }
  }
  return { nodes, hosts, switches, routers, links, nic, bridges, patches, datapaths, lbs, lsOn, pods };
}

/** Where a step happens, as one of the picture's places. */
function placeKey(
  s: TraceStep,
  device: string | undefined,
  datapath: string | undefined,
  nodes: ReadonlySet<string>,
): string | undefined {
  if (device === undefined) return undefined;
  if (!nodes.has(device)) return `dev:${device}`;
  if (s.layer === "kube" && s.where.startsWith("pod ")) return `pod:${device}:${s.where.slice(4)}`;
  if ((s.layer === "lb" || s.layer === "conntrack") && datapath !== undefined)
    return `lb:${device}:${datapath}`;
  const dp = DATAPATH.exec(s.where)?.[2];
  if (s.layer === "ovn" && dp !== undefined) return `ls:${device}:${dp}`;
  if (s.layer === "ovn" && datapath !== undefined) return `ls:${device}:${datapath}`;
  const br = bridgeOf(s.where);
  if (br !== undefined) return /:patch/.test(s.where) ? `patch:${device}` : `br:${device}:${br}`;
  return `nic:${device}`;
}

const hasOutcome = (s: TraceStep): boolean => s.outcome !== undefined || s.children.some(hasOutcome);

/**
 * The places a path goes through, in order: each top-level hop, its load balancer / conntrack
 * steps, and the inside of the hop where the path ends (side trips such as ARP floods are left out).
 */
function pathPlaces(root: TraceStep, nodes: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const push = (k: string | undefined) => {
    if (k !== undefined && out[out.length - 1] !== k) out.push(k);
  };
  const visit = (s: TraceStep, device: string | undefined, datapath: string | undefined) => {
    const dev = s.device ?? device;
    const dp = DATAPATH.exec(s.where)?.[2] ?? datapath;
    push(placeKey(s, dev, dp, nodes));
    for (const c of s.children) {
      if (c.layer === "lb" || c.layer === "conntrack") push(placeKey(c, dev, dp, nodes));
      else if (hasOutcome(s) && s.children.length > 0) visit(c, dev, dp);
    }
  };
  for (const c of root.children) visit(c, undefined, undefined);
  return out;
}

/**
 * The places drawn, with a node's NIC put between the physical network and the node's bridge it
 * feeds (the frame crosses the NIC; the trace names it only as the bridge's in_port).
 */
function throughNics(keys: readonly string[], places: ReadonlyMap<string, Place>): string[] {
  const out: string[] = [];
  for (const k of keys) {
    if (!places.has(k)) continue;
    const prev = out[out.length - 1];
    const node = /^br:([^:]+):/.exec(k)?.[1];
    const nic = `nic:${node}`;
    if (node !== undefined && prev?.startsWith("dev:") && places.has(nic)) out.push(nic);
    else if (prev?.startsWith("br:") && k.startsWith("dev:")) {
      const from = `nic:${/^br:([^:]+):/.exec(prev)?.[1]}`;
      if (places.has(from)) out.push(from);
    }
    out.push(k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Layout

const NODE_W = 340;
const GAP = 36;
const MARGIN = 40;
const BOX_H = 46;

interface Layout {
  readonly width: number;
  readonly height: number;
  readonly places: Map<string, Place>;
  readonly nodeBoxes: Array<{ name: string; x: number; y: number; w: number; h: number }>;
  readonly bands: Array<{ name: string; x: number; y: number; w: number; h: number }>;
  readonly wires: Array<{ a: string; b: string; label?: string }>;
}

function layout(t: Topology, doc: TraceDocument): Layout {
  const places = new Map<string, Place>();
  const add = (
    key: string,
    kind: Kind,
    label: string,
    sub: string,
    x: number,
    y: number,
    w: number,
    h = BOX_H,
  ) => places.set(key, { key, kind, label, sub, x, y, w, h });
  const nNodes = Math.max(1, t.nodes.length);
  const width = Math.max(1100, MARGIN * 2 + nNodes * NODE_W + (nNodes - 1) * GAP);
  // Top: the hosts and routers outside the cluster, then the switches they and the nodes hang on.
  const top = [...t.hosts, ...t.routers];
  const topW = 190;
  const topGap = top.length > 1 ? Math.min(260, (width - 2 * MARGIN - topW) / (top.length - 1)) : 0;
  const topX0 = (width - (topW + topGap * (top.length - 1))) / 2;
  top.forEach((d, i) => {
    const router = t.routers.includes(d);
    const sub =
      d === doc.request.from
        ? "source of the request"
        : router
          ? "router / gateway"
          : "host on the physical network";
    add(`dev:${d}`, router ? "router" : "host", d, sub, topX0 + i * topGap, 60, topW);
  });
  const swW = 240;
  const swGap = t.switches.length > 1 ? (width - 2 * MARGIN - swW) / (t.switches.length - 1) : 0;
  t.switches.forEach((d, i) => {
    const x = t.switches.length > 1 ? MARGIN + i * swGap : (width - swW) / 2;
    add(`dev:${d}`, "switch", d, "physical switch (ToR)", x, 180, swW);
  });
  // Nodes: rows shared by all nodes so the same part lines up across them.
  const extBridges = [
    ...new Set(t.nodes.flatMap((n) => (t.bridges.get(n) ?? []).filter((b) => b !== "br-int"))),
  ];
  const anyPatch = t.patches.size > 0;
  const anyBrInt = t.nodes.some((n) => t.bridges.get(n)?.includes("br-int"));
  const nodeTop = 300;
  let y = nodeTop + 46;
  const rowNic = y;
  y += BOX_H + 34;
  const rowBridge = new Map<string, number>();
  for (const b of extBridges) {
    rowBridge.set(b, y);
    y += BOX_H + 34;
  }
  const rowPatch = y;
  if (anyPatch) y += 30 + 34;
  const rowBrInt = y;
  if (anyBrInt) y += BOX_H + 40;
  const bandH = 150;
  const rowBands = y;
  y += t.datapaths.length * (bandH + 14) + 20;
  const rowPods = y;
  const anyPods = [...t.pods.values()].some((p) => p.length > 0);
  if (anyPods) y += 62 + 24;
  const nodeBottom = y;
  const nodeBoxes: Layout["nodeBoxes"] = [];
  const wires: Layout["wires"] = [];
  const x0 = (width - (nNodes * NODE_W + (nNodes - 1) * GAP)) / 2;
  t.nodes.forEach((n, i) => {
    const x = x0 + i * (NODE_W + GAP);
    nodeBoxes.push({ name: n, x, y: nodeTop, w: NODE_W, h: nodeBottom - nodeTop });
    const inner = x + 20;
    const iw = NODE_W - 40;
    const chain: string[] = [];
    const nicName = t.nic.get(n);
    if (nicName !== undefined) {
      add(`nic:${n}`, "nic", nicName, "provider NIC", inner, rowNic, iw);
      chain.push(`nic:${n}`);
    }
    for (const b of t.bridges.get(n) ?? []) {
      if (b === "br-int") continue;
      add(`br:${n}:${b}`, "bridge", b, "OVS bridge · OpenFlow", inner, rowBridge.get(b)!, iw);
      chain.push(`br:${n}:${b}`);
    }
    const patch = t.patches.get(n);
    if (patch !== undefined) {
      add(`patch:${n}`, "patch", "patch port", patch, inner + 30, rowPatch, iw - 60, 30);
      chain.push(`patch:${n}`);
    }
    if (t.bridges.get(n)?.includes("br-int")) {
      add(`br:${n}:br-int`, "bridge", "br-int", "OVN integration bridge", inner, rowBrInt, iw);
      chain.push(`br:${n}:br-int`);
    }
    t.datapaths.forEach((dp, j) => {
      const by = rowBands + j * (bandH + 14);
      if (!t.lsOn.has(`${n}:${dp}`)) return;
      add(`ls:${n}:${dp}`, "ls", dp, `logical pipeline on ${n}'s chassis`, inner, by + 32, iw, 46);
      if (t.lbs.has(`${n}:${dp}`)) {
        const vip = `${doc.request.to}${doc.request.proto !== "icmp" ? `:${doc.request.port}` : ""}`;
        add(
          `lb:${n}:${dp}`,
          "lb",
          "load balancer",
          `VIP ${vip} · conntrack`,
          inner + 24,
          by + 88,
          iw - 24,
          46,
        );
      }
      chain.push(`ls:${n}:${dp}`);
    });
    const pods = t.pods.get(n) ?? [];
    const pw = pods.length > 0 ? (iw - (pods.length - 1) * 8) / pods.length : 0;
    pods.forEach((p, j) => {
      const short = p.includes("/") ? p.slice(p.indexOf("/") + 1) : p;
      const ns = p.includes("/") ? p.slice(0, p.indexOf("/")) : "";
      add(`pod:${n}:${p}`, "pod", short, ns ? `Pod · ${ns}` : "Pod", inner + j * (pw + 8), rowPods, pw, 62);
      wires.push({ a: chain[chain.length - 1] ?? `nic:${n}`, b: `pod:${n}:${p}` });
    });
    for (let k = 1; k < chain.length; k++) wires.push({ a: chain[k - 1]!, b: chain[k]! });
  });
  const bands = t.datapaths.map((dp, j) => ({
    name: dp,
    x: x0 + 8,
    y: rowBands + j * (bandH + 14),
    w: nNodes * NODE_W + (nNodes - 1) * GAP - 16,
    h: bandH - 10,
  }));
  for (const l of t.links) {
    const target = places.has(`nic:${l.dev}`) ? `nic:${l.dev}` : `dev:${l.dev}`;
    if (places.has(target)) wires.push({ a: `dev:${l.sw}`, b: target, label: l.port });
  }
  return { width, height: nodeBottom + 30, places, nodeBoxes, bands, wires };
}

// ---------------------------------------------------------------------------------------------
// SVG

export const f1 = (n: number): string => {
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? "0" : String(r);
};

/** Where a path meets a place: right of centre, so the boxes' left-aligned labels stay readable. */
function anchor(p: Place, dir: "fwd" | "rev"): [number, number] {
  // The load balancer sits under the logical switch: a step aside, so the detour shows.
  const fx = p.kind === "patch" ? 0.62 : p.kind === "lb" ? 0.56 : 0.74;
  return [p.x + p.w * (dir === "fwd" ? fx : fx + 0.1), p.y + p.h / 2];
}

export function segment(a: [number, number], b: [number, number]): string {
  if (Math.abs(a[0] - b[0]) < 1) return `M${f1(a[0])} ${f1(a[1])}V${f1(b[1])}`;
  const my = (a[1] + b[1]) / 2;
  return `M${f1(a[0])} ${f1(a[1])}C${f1(a[0])} ${f1(my)} ${f1(b[0])} ${f1(my)} ${f1(b[0])} ${f1(b[1])}`;
}

function renderSvg(doc: TraceDocument): string {
  const t = topology(doc);
  const L = layout(t, doc);
  const nodes = new Set(t.nodes);
  const fwd = throughNics(pathPlaces(doc.forward, nodes), L.places);
  const rev = doc.reply ? throughNics(pathPlaces(doc.reply, nodes), L.places) : [];
  const onPath = new Set([...fwd, ...rev]);
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="topology-svg" viewBox="0 0 ${L.width} ${L.height}" width="${L.width}" height="${L.height}" role="img" aria-label="${escapeHtml(`Topology of ${doc.scenario} with the traced path`)}">`,
  );
  o.push(
    '<defs><marker id="arrow-fwd" viewBox="0 0 10 10" refX="8" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#1f6feb"/></marker>',
    '<marker id="arrow-rev" viewBox="0 0 10 10" refX="8" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#d9480f"/></marker></defs>',
  );
  o.push(`<text class="zone" x="${MARGIN}" y="34">physical network</text>`);
  for (const n of L.nodeBoxes) {
    o.push(
      `<g class="node"><rect x="${f1(n.x)}" y="${f1(n.y)}" width="${f1(n.w)}" height="${f1(n.h)}" rx="14"/><text x="${f1(n.x + 16)}" y="${f1(n.y + 28)}" class="node-name">${escapeHtml(n.name)}</text><text x="${f1(n.x + 30 + n.name.length * 10.2)}" y="${f1(n.y + 28)}" class="node-sub">Kubernetes node</text></g>`,
    );
  }
  for (const b of L.bands) {
    o.push(
      `<g class="band"><rect x="${f1(b.x)}" y="${f1(b.y)}" width="${f1(b.w)}" height="${f1(b.h)}" rx="10"/><text x="${f1(b.x + 14)}" y="${f1(b.y + 21)}">${escapeHtml(`logical switch ${b.name}`)} · OVN, distributed over every chassis</text></g>`,
    );
  }
  for (const w of L.wires) {
    const a = L.places.get(w.a);
    const b = L.places.get(w.b);
    if (!a || !b) continue;
    const up = a.y + a.h <= b.y;
    const pa: [number, number] = [a.x + a.w * 0.35, up ? a.y + a.h : a.y];
    const pb: [number, number] = [b.x + b.w * 0.35, up ? b.y : b.y + b.h];
    o.push(`<path class="wire" d="${segment(pa, pb)}"/>`);
    if (w.label)
      // Above the node's frame (a NIC) or the host's box, where the cable arrives.
      o.push(
        `<text class="port" x="${f1(pb[0] + 6)}" y="${f1(b.kind === "nic" ? pb[1] - 52 : pb[1] - 6)}">${escapeHtml(w.label)}</text>`,
      );
  }
  for (const p of L.places.values()) {
    const cls = `place ${p.kind}${onPath.has(p.key) ? " on-path" : ""}`;
    const sub = p.sub
      ? `<text x="${f1(p.x + 12)}" y="${f1(p.y + p.h / 2 + 15)}" class="sub">${escapeHtml(clip(p.sub, p.w, 6.3))}</text>`
      : "";
    const ly = p.sub ? p.y + p.h / 2 - 2 : p.y + p.h / 2 + 5;
    o.push(
      `<g class="${cls}" data-place="${escapeHtml(p.key)}"><title>${escapeHtml(`${p.label}${p.sub ? ` — ${p.sub}` : ""}`)}</title><rect x="${f1(p.x)}" y="${f1(p.y)}" width="${f1(p.w)}" height="${f1(p.h)}" rx="${p.kind === "patch" ? 15 : 8}"/><text x="${f1(p.x + 12)}" y="${f1(ly)}" class="label">${escapeHtml(clip(p.label, p.w, 8.2))}</text>${sub}</g>`,
    );
  }
  const at = (dir: "fwd" | "rev") => (k: string) => anchor(L.places.get(k)!, dir);
  o.push(...hopPaths(fwd, "fwd", "request", at("fwd"), segment));
  o.push(...hopPaths(rev, "rev", "reply", at("rev"), segment));
  // Where the path ends: a tick at the delivery, a cross at a drop.
  const endMark = (root: TraceStep, dir: "fwd" | "rev") => {
    for (const { step, device, datapath } of stepsWithDevice(root, undefined, undefined)) {
      if (step.outcome === undefined) continue;
      const p = L.places.get(placeKey(step, device, datapath, nodes) ?? "");
      if (!p) continue;
      const [x, y] = anchor(p, dir);
      const drop = step.outcome === "drop";
      o.push(
        `<g class="end ${drop ? "drop" : "deliver"}"><circle cx="${f1(x)}" cy="${f1(y)}" r="11"/><text x="${f1(x)}" y="${f1(y + 5)}" text-anchor="middle">${drop ? "✗" : "✓"}</text></g>`,
      );
      return;
    }
  };
  endMark(doc.forward, "fwd");
  if (doc.reply) endMark(doc.reply, "rev");
  o.push("</svg>");
  return o.join("\n");
}

/**
 * One direction of the path as SVG segments between the places `keys` names, each with its
 * arrow and a title "request 3: a → b" (what the tests and a hovering person read).
 */
export function hopPaths(
  keys: readonly string[],
  dir: "fwd" | "rev",
  title: string,
  at: (key: string) => [number, number],
  seg: (a: [number, number], b: [number, number]) => string,
): string[] {
  const out: string[] = [];
  for (let i = 1; i < keys.length; i++)
    out.push(
      `<path class="hop-path ${dir}" d="${seg(at(keys[i - 1]!), at(keys[i]!))}" marker-end="url(#arrow-${dir})"><title>${escapeHtml(`${title} ${i}: ${keys[i - 1]} → ${keys[i]}`)}</title></path>`,
    );
  return out;
}

/** Shortens a label to what fits a box of width w, at about `px` pixels per character. */
export function clip(s: string, w: number, px: number): string {
  const max = Math.max(4, Math.floor((w - 20) / px));
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------------------------------------
// The page

const NATIVE: Record<string, string> = { openflow: "ofproto/trace", ovn: "ovn-trace --detailed" };

export function stepLine(s: TraceStep): string {
  const where = s.device ? `${s.device} ${s.where}` : s.where;
  const mark =
    s.outcome === "drop"
      ? '<span class="mark drop">✗</span>'
      : s.outcome === "deliver"
        ? '<span class="mark deliver">✓</span>'
        : "";
  return `${mark}<span class="layer ${s.layer}">${escapeHtml(s.layer)}</span> <span class="where">${escapeHtml(where)}</span> <span class="summary">${escapeHtml(s.summary)}</span>`;
}

function stepBody(s: TraceStep): string {
  const o: string[] = [];
  if (s.packet) o.push(`<div class="packet">${escapeHtml(formatPacket(s.packet))}</div>`);
  // `--datapath openflow`: the OVN rows behind a br-int rule's cookie (absent otherwise).
  for (const r of s.logical ?? []) o.push(`<div class="packet">↳ ${escapeHtml(refSummary(r))}</div>`);
  if (s.detail)
    o.push(
      `<details class="native"><summary>${escapeHtml(NATIVE[s.layer] ?? "detail")}</summary><pre>${escapeHtml(s.detail.replace(/\n+$/, ""))}</pre></details>`,
    );
  if (s.children.length > 0) {
    o.push('<ul class="sub">');
    for (const c of s.children) o.push(`<li>${stepLine(c)}${stepBody(c)}</li>`);
    o.push("</ul>");
  }
  return o.join("");
}

function hopList(root: TraceStep, id: string, title: string): string {
  const o: string[] = [
    `<section id="${id}"><h2>${escapeHtml(title)} <small>${root.children.length} hops</small></h2>`,
  ];
  if (root.packet) o.push(`<div class="packet">${escapeHtml(formatPacket(root.packet))}</div>`);
  o.push(`<ol class="hops">`);
  const drop = findDrop(root);
  root.children.forEach((s, i) => {
    const open = drop !== undefined && [...walkSteps(s)].some((w) => w.step === drop) ? " open" : "";
    o.push(
      `<li><details class="hop${s.outcome ? ` ${s.outcome}` : ""}" data-layer="${escapeHtml(s.layer)}"${open}><summary><span class="n">${i + 1}</span>${stepLine(s)}</summary><div class="body">${stepBody(s) || '<p class="none">no further detail</p>'}</div></details></li>`,
    );
  });
  o.push("</ol></section>");
  return o.join("\n");
}

export function verdictHtml(doc: TraceDocument): string {
  const v = doc.verdict;
  const rows: Array<[string, string]> = [];
  if (v.announcingNode !== null) rows.push(["announcing node (MetalLB)", v.announcingNode]);
  if (v.backend !== null)
    rows.push([
      "backend",
      `${v.backend}${v.backendLocal === null ? "" : v.backendLocal ? " (local to the receiving node)" : " (REMOTE)"}`,
    ]);
  if (v.clientIpPreserved !== null) rows.push(["client IP preserved", v.clientIpPreserved ? "yes" : "no"]);
  if (v.replyDelivered !== null)
    rows.push([
      "reply",
      `${v.replyDelivered ? "delivered" : "not delivered"}${v.replySourceIp ? `, source ${v.replySourceIp}` : ""}`,
    ]);
  if (v.droppedAt)
    rows.push(["dropped at", `[${v.droppedAt.layer}] ${v.droppedAt.where}: ${v.droppedAt.reason}`]);
  // An in-cluster path can end in a node's host stack (ovn0): no pod then.
  const head = !v.delivered
    ? "Not delivered"
    : v.pod === null && v.node !== null
      ? `Delivered to ${v.node}'s host network (ovn0)`
      : `Delivered to ${v.pod ?? "?"} on ${v.node ?? "?"}`;
  return `<section id="verdict" class="verdict ${v.delivered ? "ok" : "bad"}"><h2>${v.delivered ? "✓" : "✗"} ${escapeHtml(head)}</h2><dl>${rows.map(([k, x]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(x)}</dd>`).join("")}</dl></section>`;
}

export function findingsHtml(doc: TraceDocument): string {
  if (doc.findings.length === 0)
    return '<section id="findings"><h2>Doctor</h2><p class="none">no misconfiguration found</p></section>';
  const items = doc.findings.map(
    (f) =>
      `<li class="finding ${escapeHtml(f.severity)}"><span class="sev">${escapeHtml(f.severity)}</span> <code>${escapeHtml(f.code)}</code><p>${escapeHtml(f.message)}</p><p class="fix"><b>fix:</b> ${escapeHtml(f.fix)}</p></li>`,
  );
  return `<section id="findings"><h2>Doctor <small>${doc.findings.length} finding${doc.findings.length === 1 ? "" : "s"}</small></h2><ul>${items.join("")}</ul></section>`;
}

export const CSS = `
:root{--fwd:#1f6feb;--rev:#d9480f;--ink:#1b1f24;--mute:#57606a;--line:#d0d7de}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;color:var(--ink);background:#f6f8fa}
main{max-width:1320px;margin:0 auto;padding:24px 28px 48px}
header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;color:var(--mute)}
code,pre,.packet,.where{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace}
section{background:#fff;border:1px solid var(--line);border-radius:12px;padding:16px 20px;margin-top:18px}
h2{margin:0 0 10px;font-size:18px}
h2 small{font-weight:normal;color:var(--mute);font-size:13px;margin-left:6px}
.verdict.ok{border-left:8px solid #1a7f37}.verdict.bad{border-left:8px solid #cf222e}
.verdict.ok h2{color:#1a7f37}.verdict.bad h2{color:#cf222e}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dt{color:var(--mute)}dd{margin:0}
.legend{display:flex;gap:22px;color:var(--mute);font-size:13px;margin-bottom:6px}
.legend i{display:inline-block;width:34px;height:0;border-top:3px solid;vertical-align:middle;margin-right:6px}
.legend .f i{border-color:var(--fwd)}.legend .r i{border-color:var(--rev);border-top-style:dashed}
#topology svg{width:100%;height:auto;display:block}
svg text{font-family:system-ui,"DejaVu Sans",sans-serif;font-size:13px;fill:var(--ink)}
svg .zone{fill:var(--mute);font-size:12px;letter-spacing:.08em;text-transform:uppercase}
svg .node rect{fill:#f3f6fb;stroke:#8c959f;stroke-width:1.5}
svg .node-name{font-size:16px;font-weight:600}
svg .node-sub{fill:var(--mute);font-size:11px;font-weight:normal}
svg .band rect{fill:#f4ecfb;stroke:#8250df;stroke-dasharray:6 4}
svg .band text{fill:#6639ba;font-size:12px;font-weight:600}
svg .place rect{fill:#fff;stroke:#8c959f;stroke-width:1.2}
svg .place.host rect,svg .place.router rect{fill:#eef6ff}
svg .place.switch rect{fill:#e6f4ea}
svg .place.nic rect{fill:#fff8e5}
svg .place.bridge rect{fill:#fff4d6}
svg .place.patch rect{fill:#fafafa}
svg .place.ls rect{fill:#fbf5ff;stroke:#8250df}
svg .place.lb rect{fill:#ffeef8;stroke:#bf3989}
svg .place.pod rect{fill:#eafbf0;stroke:#2da44e}
svg .place.on-path rect{stroke:var(--ink);stroke-width:2.2}
svg .label{font-weight:600}
svg .sub{fill:var(--mute);font-size:11px}
svg .port{fill:var(--mute);font-size:10.5px;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
svg .wire{fill:none;stroke:#afb8c1;stroke-width:2}
svg .hop-path{fill:none;stroke-width:3.2;stroke-linecap:round}
svg .hop-path.fwd{stroke:var(--fwd)}
svg .hop-path.rev{stroke:var(--rev);stroke-dasharray:7 5}
svg .end circle{stroke:#fff;stroke-width:2}
svg .end.deliver circle{fill:#1a7f37}svg .end.drop circle{fill:#cf222e}
svg .end text{fill:#fff;font-weight:700;font-size:14px}
ol.hops{list-style:none;margin:0;padding:0}
ol.hops>li{margin:4px 0}
details.hop{border:1px solid var(--line);border-radius:8px;background:#fff}
details.hop[open]{background:#fbfcfd}
details.hop>summary{cursor:pointer;padding:7px 10px;list-style-position:outside}
details.hop.deliver{border-color:#1a7f37}details.hop.drop{border-color:#cf222e}
.body{padding:2px 14px 10px 42px}
.n{display:inline-block;min-width:26px;font-weight:600;color:var(--mute)}
.layer{display:inline-block;font-size:11px;padding:1px 7px;border-radius:10px;background:#eaeef2;color:#24292f;margin-right:2px}
.layer.physical{background:#ddf4ff}.layer.metallb{background:#dafbe1}.layer.openflow{background:#fff8c5}
.layer.ovn{background:#fbefff}.layer.lb{background:#ffeff7}.layer.conntrack{background:#ffe2cc}.layer.kube{background:#d8f3dc}
.where{font-size:12.5px;color:#0550ae}
.packet{font-size:12px;color:var(--mute);margin:3px 0}
ul.sub{margin:4px 0;padding-left:18px}
ul.sub li{margin:3px 0}
details.native summary{cursor:pointer;color:#0550ae;font-size:12.5px}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:8px 10px;font-size:12px;overflow:auto;max-height:420px}
.mark{font-weight:700;margin-right:4px}.mark.deliver{color:#1a7f37}.mark.drop{color:#cf222e}
#findings ul{list-style:none;padding:0;margin:0}
.finding{border-left:4px solid #bf8700;padding:4px 12px;margin:6px 0;background:#fffbea}
.finding.error{border-color:#cf222e;background:#fff0ee}
.finding p{margin:4px 0}.fix{color:var(--mute)}
.sev{font-size:11px;text-transform:uppercase;font-weight:700;color:#9a6700}
.none{color:var(--mute)}
footer{color:var(--mute);font-size:12px;margin-top:16px}
`;

/** The whole page. */
export function renderHtml(doc: TraceDocument): string {
  const r = doc.request;
  const req = `${r.from} → ${r.to}${r.proto !== "icmp" ? `:${r.port}` : ""} (${r.proto})`;
  const title = `ovnsim trace: ${doc.scenario}: ${req}`;
  const parts = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="ovnsim (${escapeHtml(doc.schema)})">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style></head><body><main>`,
    `<header><h1>ovnsim trace · ${escapeHtml(doc.scenario)}</h1><p>${escapeHtml(req)}</p></header>`,
    verdictHtml(doc),
    `<section id="topology"><h2>Topology and path</h2><div class="legend"><span class="f"><i></i>request</span><span class="r"><i></i>reply</span><span>bold boxes: places the packet went through · hover a box or a line for its name</span></div>`,
    renderSvg(doc),
    "</section>",
    findingsHtml(doc),
    hopList(doc.forward, "forward", "Request"),
    doc.reply ? hopList(doc.reply, "reply", "Reply") : "",
    doc.missingLayers.length > 0
      ? `<section id="missing"><h2>Not simulated</h2><p>${escapeHtml(doc.missingLayers.join(", "))}</p></section>`
      : "",
    `<footer>ovnsim · ${escapeHtml(doc.schema)} · open a hop for its packet, its steps and the real tool's trace block (ofproto/trace, ovn-trace)</footer>`,
    "</main></body></html>",
  ];
  return `${parts.filter((p) => p !== "").join("\n")}\n`;
}
