/**
 * MetalLB in layer-2 mode, as the metallb/metallb speaker implements it:
 * - election (`speaker/layer2_controller.go ShouldAnnounce`): no serving endpoint → no owner;
 *   candidates = usable speakers (memberlist) or every node (memberlist disabled), minus nodes
 *   with NetworkUnavailable, nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers`
 *   and nodes no L2Advertisement selects; with externalTrafficPolicy=Local only nodes with a
 *   serving local endpoint (`nodesWithEndpoint`); sorted by sha256(node + "#" + ip.String())
 *   ascending (`sortL2Candidates`, no preference scores: as in v0.13.7); the first one announces.
 * - responders (`internal/layer2/announcer.go updateInterfaces`): an interface gets an ARP
 *   responder if not matched by the exclude regexps, up, not enslaved (no
 *   /sys/class/net/<if>/master), not NOARP and broadcast-capable; an NDP responder if also it
 *   has an IPv6 link-local address. `respectMaster: false` models the Kube-OVN doc's reading
 *   (MetalLB answers on the enslaved `underlay0.341`); `true` is the code (the NIC is skipped,
 *   the bridge's internal interface answers).
 * - replies (`arp.go`, `ndp.go`): an ARP request (broadcast or to the interface MAC) for an
 *   announced IP on a matching interface gets a reply from that interface's MAC; an NS with a
 *   source link-layer option gets a solicited NA (S=1, O=0).
 * - gratuitous announcements (`announcer.go spamLoop`): on SetBalancer, at once, then on a
 *   shared 1100 ms ticker until 5 s have passed: an ARP request and an ARP reply (sha = own MAC,
 *   spa = tpa = VIP, tha = ff:ff:ff:ff:ff:ff, to broadcast) per ARP responder, or one unsolicited
 *   NA (O=1) to ff02::1 per NDP responder; nothing once the IP is no longer announced.
 *
 * memberlist's failure detection is a parameter (`setNodeUp(…, { detectionDelay })`, default 0:
 * seen at once). Not modelled: BGP, preferred-node scores, service selectors on advertisements, shared IPs.
 */
import { createHash } from "node:crypto";
import { ETH_TYPE, type Flow, formatMac, SimError } from "@ovnsim/packet";
import {
  type AddressRange,
  formatIp,
  goIpString,
  type IpAddr,
  parseIp,
  parsePoolEntry,
  rangeContains,
  sameIp,
} from "./addr.js";
import { ALL_NODES6, ARP_OP, arpFrame, BROADCAST, isNs, NA_FLAG, naFrame, solicitedNode } from "./frames.js";
import type { PhysicalNetwork, TapApi, Trace } from "./network.js";
import type { Host, Nic } from "./topology.js";

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    readonly values?: readonly string[];
  }[];
}

export interface IPAddressPool {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly autoAssign?: boolean;
  readonly avoidBuggyIPs?: boolean;
}

export interface L2Advertisement {
  readonly name: string;
  /** Pools by name; empty/absent (and no selectors) = every pool. */
  readonly ipAddressPools?: readonly string[];
  /** Empty/absent = every node. */
  readonly nodeSelectors?: readonly LabelSelector[];
  /** Empty/absent = every interface. */
  readonly interfaces?: readonly string[];
}

export interface K8sNode {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** The NetworkUnavailable condition is True. */
  readonly networkUnavailable?: boolean;
}

export interface Endpoint {
  readonly nodeName?: string;
  /** EndpointConditions.ready; absent = unknown = can serve. */
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly address?: string;
}

export interface LBService {
  readonly namespace?: string;
  readonly name: string;
  readonly type?: "LoadBalancer" | "ClusterIP" | "NodePort";
  readonly externalTrafficPolicy?: "Cluster" | "Local";
  /** Requested VIPs (spec.loadBalancerIP / metallb.universe.tf/loadBalancerIPs); else one is allocated. */
  readonly loadBalancerIPs?: readonly string[];
  readonly ipFamilies?: readonly ("IPv4" | "IPv6")[];
  readonly ports?: readonly {
    readonly port: number;
    readonly protocol?: "TCP" | "UDP";
    readonly targetPort?: number;
  }[];
  readonly endpoints: readonly Endpoint[];
}

export interface MetalLBSpec {
  readonly pools: readonly IPAddressPool[];
  readonly advertisements: readonly L2Advertisement[];
  readonly nodes: readonly K8sNode[];
  /** Nodes running a healthy speaker; default: every node. */
  readonly speakers?: readonly string[];
  /** memberlist on (default): candidates are the usable speakers; off: every node. */
  readonly memberlist?: boolean;
  /** Speaker flag --ignore-exclude-lb. */
  readonly ignoreExcludeLB?: boolean;
  /** announcedInterfacesToExclude regexps (default: the Helm chart's list). */
  readonly excludeInterfaces?: readonly string[];
  /** true (MetalLB's code): enslaved interfaces get no responder. false: the Kube-OVN doc's reading. */
  readonly respectMaster?: boolean;
}

export const DEFAULT_EXCLUDE_INTERFACES: readonly string[] = [
  "^docker.*",
  "^cbr.*",
  "^dummy.*",
  "^virbr.*",
  "^lxcbr.*",
  "^veth.*",
  "^lo$",
  "^cali.*",
  "^tunl.*",
  "^flannel.*",
  "^kube-ipvs.*",
  "^cni.*",
  "^nodelocaldns.*",
  "^lxc.*",
];

export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
export const GARP_INTERVAL = 1.1;
export const GARP_DURATION = 5;

export interface ParsedPool {
  readonly name: string;
  readonly ranges: readonly AddressRange[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  /** Advertisements that select this pool. */
  readonly ads: readonly L2Advertisement[];
}

export function selectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    switch (e.operator) {
      case "In":
        if (!has || !(e.values ?? []).includes(val as string)) return false;
        break;
      case "NotIn":
        if (has && (e.values ?? []).includes(val as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        throw new SimError("BAD_VALUE", `label selector: unknown operator "${String(e.operator)}"`);
    }
  }
  return true;
}

/** Which nodes an advertisement selects (config.go: empty nodeSelectors = all nodes). */
export function adNodes(ad: L2Advertisement, nodes: readonly K8sNode[]): Set<string> {
  const sels = ad.nodeSelectors ?? [];
  return new Set(
    nodes
      .filter((n) => sels.length === 0 || sels.some((s) => selectorMatches(s, n.labels ?? {})))
      .map((n) => n.name),
  );
}

/** Validates pools and advertisements; SimErrors name the object. */
export function parseMetalLB(spec: MetalLBSpec): readonly ParsedPool[] {
  const names = new Set<string>();
  const pools = spec.pools.map((p) => {
    if (names.has(p.name)) throw new SimError("DUPLICATE", `IPAddressPool ${p.name} is defined twice`);
    names.add(p.name);
    if (p.addresses.length === 0) throw new SimError("BAD_VALUE", `IPAddressPool ${p.name}: no addresses`);
    const ranges = p.addresses.map((a) => parsePoolEntry(a, `IPAddressPool ${p.name}`));
    return { p, ranges };
  });
  for (let i = 0; i < pools.length; i++) {
    for (let j = i + 1; j < pools.length; j++) {
      for (const a of pools[i]?.ranges ?? []) {
        for (const b of pools[j]?.ranges ?? []) {
          if (a.family === b.family && a.first <= b.last && b.first <= a.last) {
            throw new SimError(
              "CONFLICT",
              `IPAddressPool ${pools[i]?.p.name} (${a.text}) overlaps IPAddressPool ${pools[j]?.p.name} (${b.text})`,
            );
          }
        }
      }
    }
  }
  for (const ad of spec.advertisements) {
    for (const pn of ad.ipAddressPools ?? []) {
      if (!names.has(pn))
        throw new SimError("UNKNOWN_OBJECT", `L2Advertisement ${ad.name}: no IPAddressPool ${pn}`);
    }
    for (const s of ad.nodeSelectors ?? []) selectorMatches(s, {});
  }
  return pools.map(({ p, ranges }) => ({
    name: p.name,
    ranges,
    autoAssign: p.autoAssign ?? true,
    avoidBuggyIPs: p.avoidBuggyIPs ?? false,
    ads: spec.advertisements.filter(
      (ad) => (ad.ipAddressPools ?? []).length === 0 || (ad.ipAddressPools ?? []).includes(p.name),
    ),
  }));
}

export function serviceKey(s: LBService): string {
  return `${s.namespace ?? "default"}/${s.name}`;
}

export interface Assignment {
  readonly service: string;
  readonly vip: IpAddr;
  readonly pool: ParsedPool;
}

/**
 * VIP per LoadBalancer service: the requested IPs (each must be in a pool: SimError naming the
 * service otherwise), or the first free address of the first auto-assign pool of the family.
 */
export function assignVips(
  services: readonly LBService[],
  pools: readonly ParsedPool[],
): readonly Assignment[] {
  const used = new Set<string>();
  const out: Assignment[] = [];
  const poolOf = (ip: IpAddr) => pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
  for (const s of services) {
    if ((s.type ?? "LoadBalancer") !== "LoadBalancer") continue;
    const key = serviceKey(s);
    if (s.loadBalancerIPs && s.loadBalancerIPs.length > 0) {
      for (const t of s.loadBalancerIPs) {
        const ip = parseIp(t, `Service ${key} loadBalancerIP`);
        const pool = poolOf(ip);
        if (!pool) throw new SimError("BAD_VALUE", `Service ${key}: VIP ${t} is outside every IPAddressPool`);
        used.add(formatIp(ip));
        out.push({ service: key, vip: ip, pool });
      }
    }
  }
  for (const s of services) {
    if ((s.type ?? "LoadBalancer") !== "LoadBalancer" || (s.loadBalancerIPs?.length ?? 0) > 0) continue;
    const key = serviceKey(s);
    const family = (s.ipFamilies?.[0] ?? "IPv4") === "IPv6" ? 6 : 4;
    let found: Assignment | undefined;
    for (const pool of pools) {
      if (!pool.autoAssign || found) continue;
      for (const r of pool.ranges) {
        if (r.family !== family || found) continue;
        for (let v = r.first; v <= r.last && v - r.first < 65536n; v++) {
          if (pool.avoidBuggyIPs && family === 4 && ((v & 0xffn) === 0n || (v & 0xffn) === 255n)) continue;
          const ip: IpAddr = { family, v };
          if (!used.has(formatIp(ip))) {
            used.add(formatIp(ip));
            found = { service: key, vip: ip, pool };
            break;
          }
        }
      }
    }
    if (!found)
      throw new SimError(
        "CONFLICT",
        `Service ${key}: no free IPv${family} address in any auto-assign IPAddressPool`,
      );
    out.push(found);
  }
  return out;
}

/** epslices.EndpointCanServe: ready unknown or true, or serving. */
export function endpointCanServe(e: Endpoint): boolean {
  return e.ready === undefined || e.ready || e.serving === true;
}

export interface Candidate {
  readonly node: string;
  /** sha256(node + "#" + ip) in hex. */
  readonly hash: string;
}

export interface Election {
  readonly service: string;
  readonly vip: IpAddr;
  /** The announcing node, if any. */
  readonly owner: string | undefined;
  /** Why there is no owner / how it was chosen. */
  readonly reason: string;
  /** Candidates in election order (first = owner). */
  readonly candidates: readonly Candidate[];
  /** Nodes filtered out, with the speaker's reason. */
  readonly excluded: readonly { readonly node: string; readonly reason: string }[];
}

export function l2Hash(node: string, ip: IpAddr): string {
  return createHash("sha256")
    .update(`${node}#${goIpString(ip)}`)
    .digest("hex");
}

/** ShouldAnnounce evaluated for every node at once: who announces `vip` of `svc`. */
export function electAnnouncer(spec: MetalLBSpec, svc: LBService, vip: IpAddr, pool: ParsedPool): Election {
  const service = serviceKey(svc);
  const excluded: { node: string; reason: string }[] = [];
  const none = (reason: string): Election => ({
    service,
    vip,
    owner: undefined,
    reason,
    candidates: [],
    excluded,
  });
  if (!svc.endpoints.some(endpointCanServe)) return none("no active endpoints");
  const ads = pool.ads;
  if (ads.length === 0) return none("no L2Advertisement for the pool");
  const nodesByName = new Map(spec.nodes.map((n) => [n.name, n]));
  const memberlist = spec.memberlist ?? true;
  const speakers = new Set(spec.speakers ?? spec.nodes.map((n) => n.name));
  const eligible = memberlist ? [...speakers] : spec.nodes.map((n) => n.name);
  const selected = new Set<string>();
  for (const ad of ads) for (const n of adNodes(ad, spec.nodes)) selected.add(n);
  const speakerMap = new Set<string>();
  for (const s of eligible) {
    const node = nodesByName.get(s);
    if (node?.networkUnavailable) {
      excluded.push({ node: s, reason: "NetworkUnavailable" });
      continue;
    }
    if (!spec.ignoreExcludeLB && node && Object.hasOwn(node.labels ?? {}, EXCLUDE_LB_LABEL)) {
      excluded.push({ node: s, reason: `labelled ${EXCLUDE_LB_LABEL}` });
      continue;
    }
    if (!selected.has(s)) {
      excluded.push({ node: s, reason: "not selected by any L2Advertisement" });
      continue;
    }
    speakerMap.add(s);
  }
  for (const n of spec.nodes) {
    if (memberlist && !speakers.has(n.name)) excluded.push({ node: n.name, reason: "no running speaker" });
  }
  let available = [...speakerMap];
  if (svc.externalTrafficPolicy === "Local") {
    const withEp = new Set<string>();
    for (const e of svc.endpoints) {
      if (endpointCanServe(e) && e.nodeName !== undefined && speakerMap.has(e.nodeName))
        withEp.add(e.nodeName);
    }
    for (const n of available)
      if (!withEp.has(n))
        excluded.push({ node: n, reason: "externalTrafficPolicy=Local and no serving local endpoint" });
    available = available.filter((n) => withEp.has(n));
  }
  if (available.length === 0) return none("no available nodes");
  const candidates = available
    .map((node) => ({ node, hash: l2Hash(node, vip) }))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return {
    service,
    vip,
    owner: candidates[0]?.node,
    reason: `first of ${candidates.length} by sha256(node#${goIpString(vip)})`,
    candidates,
    excluded,
  };
}

export interface Responders {
  readonly arp: readonly Nic[];
  readonly ndp: readonly Nic[];
  /** Interfaces not excluded by regexp (announcer.nodeInterfaces, used by MatchInterfaces). */
  readonly names: readonly string[];
  readonly skipped: readonly { readonly iface: string; readonly reason: string }[];
}

/** The exclusion patterns as one RegExp, compiled once per list (it is asked on every ARP). */
const EXCLUDE_RE = new WeakMap<readonly string[], RegExp | undefined>();
function excludeRegExp(patterns: readonly string[]): RegExp | undefined {
  if (EXCLUDE_RE.has(patterns)) return EXCLUDE_RE.get(patterns);
  const re = patterns.length > 0 ? new RegExp(`(${patterns.join(")|(")})`) : undefined;
  EXCLUDE_RE.set(patterns, re);
  return re;
}

/** announcer.updateInterfaces for one host. */
export function responderInterfaces(
  host: Host,
  spec: Pick<MetalLBSpec, "excludeInterfaces" | "respectMaster">,
): Responders {
  const patterns = spec.excludeInterfaces ?? DEFAULT_EXCLUDE_INTERFACES;
  const re = excludeRegExp(patterns);
  const arp: Nic[] = [];
  const ndp: Nic[] = [];
  const names: string[] = [];
  const skipped: { iface: string; reason: string }[] = [];
  for (const nic of host.nics.values()) {
    if (re?.test(nic.name)) {
      skipped.push({ iface: nic.name, reason: "excluded by announcedInterfacesToExclude" });
      continue;
    }
    names.push(nic.name);
    if (!nic.up) {
      skipped.push({ iface: nic.name, reason: "down" });
      continue;
    }
    if ((spec.respectMaster ?? true) && nic.master !== undefined) {
      skipped.push({ iface: nic.name, reason: `enslaved (master ${nic.master})` });
      continue;
    }
    if (nic.noarp) {
      skipped.push({ iface: nic.name, reason: "NOARP" });
      continue;
    }
    if (nic.broadcast) arp.push(nic);
    if (nic.linkLocal6 !== undefined) ndp.push(nic);
  }
  return { arp, ndp, names, skipped };
}

interface Adv {
  readonly ip: IpAddr;
  readonly all: boolean;
  readonly interfaces: ReadonlySet<string>;
}

interface SpeakerState {
  readonly node: string;
  /** svc → advertisements. */
  readonly ips: Map<string, Adv[]>;
  readonly refcnt: Map<string, number>;
  /** ip → spam-until time and its advertisement. */
  readonly spam: Map<string, { until: number; adv: Adv }>;
  tickerNext: number | undefined;
}

export interface L2Status {
  readonly service: string;
  readonly vip: string;
  readonly node: string | undefined;
  readonly interfaces: readonly string[];
  readonly election: Election;
}

/**
 * MetalLB speakers running on the nodes of a PhysicalNetwork: elections, ARP/NDP responders and
 * gratuitous announcements, driven by `reconcile()` whenever the inputs change.
 */
export class MetalLB {
  private spec: MetalLBSpec;
  private services: readonly LBService[];
  private pools: readonly ParsedPool[];
  private assignments: readonly Assignment[];
  private readonly speakers = new Map<string, SpeakerState>();
  private elections: Election[] = [];
  private readonly responderCache = new WeakMap<Host, { spec: MetalLBSpec; r: Responders }>();

  constructor(
    private readonly net: PhysicalNetwork,
    spec: MetalLBSpec,
    services: readonly LBService[],
  ) {
    this.spec = spec;
    this.services = services;
    this.pools = parseMetalLB(spec);
    this.assignments = assignVips(services, this.pools);
    for (const n of spec.nodes) {
      if (!net.topology.hosts.has(n.name))
        throw new SimError("UNKNOWN_OBJECT", `MetalLB node ${n.name} is not a host of the network`);
    }
    net.addTap((api, host, nic, frame) => this.onFrame(api, host, nic, frame));
  }

  /** The VIP assigned to a service. */
  vip(service: string): IpAddr | undefined {
    return this.assignments.find((a) => a.service === service)?.vip;
  }

  /** ServiceL2Status-like view: per VIP, the announcing node and its announcing interfaces. */
  status(): readonly L2Status[] {
    return this.elections.map((e) => {
      const host = e.owner !== undefined ? this.net.topology.hosts.get(e.owner) : undefined;
      const r = host ? responderInterfaces(host, this.spec) : undefined;
      const adv =
        e.owner !== undefined
          ? this.speakers
              .get(e.owner)
              ?.ips.get(e.service)
              ?.find((a) => sameIp(a.ip, e.vip))
          : undefined;
      const list = e.vip.family === 4 ? r?.arp : r?.ndp;
      return {
        service: e.service,
        vip: formatIp(e.vip),
        node: e.owner,
        interfaces: (list ?? [])
          .filter((n) => adv && (adv.all || adv.interfaces.has(n.name)))
          .map((n) => n.name),
        election: e,
      };
    });
  }

  /** Changes inputs (any of them) and reconciles. */
  update(change: { readonly spec?: MetalLBSpec; readonly services?: readonly LBService[] }): Trace {
    if (change.spec) {
      this.pools = parseMetalLB(change.spec);
      this.spec = change.spec;
    }
    if (change.services) this.services = change.services;
    this.assignments = assignVips(this.services, this.pools);
    return this.reconcile();
  }

  /** Stops or starts the speaker on a node (memberlist sees it at once). */
  setSpeaker(node: string, running: boolean): Trace {
    this.spec = { ...this.spec, speakers: this.speakersWith(node, running) };
    return this.reconcile();
  }

  private speakersWith(node: string, running: boolean): string[] {
    const all = this.spec.speakers ?? this.spec.nodes.map((n) => n.name);
    return running ? [...new Set([...all, node])] : all.filter((s) => s !== node);
  }

  /**
   * Takes a node down (power off: no frames, no speaker) or back up. With `detectionDelay`
   * (seconds), the other speakers only learn of a dead node that much later (memberlist's
   * probe + suspicion time, a deployment parameter): until then the VIP still points at the
   * dead node and frames to it are lost; the election and the GARPs run from a timer.
   */
  setNodeUp(node: string, up: boolean, opts: { readonly detectionDelay?: number } = {}): Trace {
    this.net.setHostUp(node, up);
    if (!up) {
      const st = this.speakers.get(node);
      st?.ips.clear();
      st?.refcnt.clear();
      st?.spam.clear();
      if (st) st.tickerNext = undefined;
      this.net.cancel(`metallb ${node} `);
    }
    const delay = opts.detectionDelay ?? 0;
    if (!up && delay > 0) {
      this.net.schedule(this.net.now + delay, `metallb memberlist: ${node} declared dead`, (api) => {
        this.spec = { ...this.spec, speakers: this.speakersWith(node, false) };
        this.reconcileWith(api);
      });
      return this.net.act((api) =>
        api.event("metallb", node, `node down; memberlist will notice in ${delay}s`),
      );
    }
    return this.setSpeaker(node, up);
  }

  /** Runs every speaker's ShouldAnnounce and applies SetBalancer/DeleteBalancer. */
  reconcile(): Trace {
    return this.net.act((api) => this.reconcileWith(api));
  }

  private reconcileWith(api: TapApi): void {
    {
      this.elections = [];
      const wanted = new Map<string, Map<string, Adv[]>>();
      for (const a of this.assignments) {
        const svc = this.services.find((s) => serviceKey(s) === a.service);
        if (!svc) continue;
        const e = electAnnouncer(this.spec, svc, a.vip, a.pool);
        this.elections.push(e);
        const order = e.candidates.map((c) => `${c.node} ${c.hash.slice(0, 12)}…`).join(", ");
        api.event(
          "metallb",
          a.service,
          `VIP ${formatIp(a.vip)}: ${e.owner !== undefined ? `${e.owner} announces (${e.reason}: ${order})` : `no owner (${e.reason})`}`,
        );
        if (e.owner === undefined || !this.net.isHostUp(e.owner)) continue;
        const ads = a.pool.ads.filter((ad) => adNodes(ad, this.spec.nodes).has(e.owner as string));
        const all = ads.some((ad) => (ad.interfaces ?? []).length === 0);
        const interfaces = new Set(ads.flatMap((ad) => ad.interfaces ?? []));
        const host = this.net.topology.hosts.get(e.owner);
        const known = host ? responderInterfaces(host, this.spec).names : [];
        if (!all && !known.some((n) => interfaces.has(n))) {
          // SetBalancer: ipAdv.MatchInterfaces(localIfs) fails → event "announceFailed", no announcement.
          api.event(
            "metallb",
            e.owner,
            `announceFailed: the interfaces specified by LB IP "${formatIp(a.vip)}" doesn't exist in assigned node "${e.owner}" with protocol "layer2"`,
          );
          continue;
        }
        let m = wanted.get(e.owner);
        if (!m) {
          m = new Map();
          wanted.set(e.owner, m);
        }
        m.set(a.service, [...(m.get(a.service) ?? []), { ip: a.vip, all, interfaces }]);
      }
      // DeleteBalancer where no longer owner, then SetBalancer on owners.
      for (const [node, st] of this.speakers) {
        for (const svc of [...st.ips.keys()]) {
          if (!wanted.get(node)?.has(svc)) this.deleteBalancer(api, st, svc);
        }
      }
      for (const [node, m] of wanted) {
        let st = this.speakers.get(node);
        if (!st) {
          st = { node, ips: new Map(), refcnt: new Map(), spam: new Map(), tickerNext: undefined };
          this.speakers.set(node, st);
        }
        for (const [svc, advs] of m) for (const adv of advs) this.setBalancer(api, st, svc, adv);
      }
    }
  }

  private deleteBalancer(api: TapApi, st: SpeakerState, svc: string): void {
    const advs = st.ips.get(svc) ?? [];
    st.ips.delete(svc);
    for (const a of advs) {
      const k = formatIp(a.ip);
      const n = (st.refcnt.get(k) ?? 0) - 1;
      st.refcnt.set(k, n);
      if (n <= 0 && a.ip.family === 6) this.net.listen(st.node, solicitedNode(a.ip.v), false);
    }
    api.event(
      "metallb",
      st.node,
      `DeleteBalancer ${svc}: stops announcing ${advs.map((a) => formatIp(a.ip)).join(", ")}`,
    );
  }

  private setBalancer(api: TapApi, st: SpeakerState, svc: string, adv: Adv): void {
    const list = st.ips.get(svc) ?? [];
    const i = list.findIndex((a) => sameIp(a.ip, adv.ip));
    if (i >= 0) {
      list[i] = adv;
    } else {
      list.push(adv);
      st.ips.set(svc, list);
      const k = formatIp(adv.ip);
      st.refcnt.set(k, (st.refcnt.get(k) ?? 0) + 1);
      if (adv.ip.family === 6) this.net.listen(st.node, solicitedNode(adv.ip.v), true);
      api.event("metallb", st.node, `SetBalancer ${svc}: announces ${k}`);
    }
    this.doSpam(api, st, adv);
  }

  /** spamLoop's receive side: schedule the ticker, spam at once if the IP is new to the map. */
  private doSpam(api: TapApi, st: SpeakerState, adv: Adv): void {
    const k = formatIp(adv.ip);
    if (st.spam.size === 0) {
      st.tickerNext = this.net.now + GARP_INTERVAL;
      this.scheduleTick(st);
    }
    const had = st.spam.has(k);
    st.spam.set(k, { until: this.net.now + GARP_DURATION, adv });
    if (!had) this.gratuitous(api, st, adv);
  }

  private scheduleTick(st: SpeakerState): void {
    const t = st.tickerNext;
    if (t === undefined) return;
    this.net.cancel(`metallb ${st.node} tick`);
    this.net.schedule(
      t,
      `metallb ${st.node} tick (gratuitous announcements every ${GARP_INTERVAL}s)`,
      (api) => {
        if (st.tickerNext !== t) return;
        const now = this.net.now;
        for (const [k, s] of [...st.spam]) {
          if (now > s.until + 1e-9) st.spam.delete(k);
          else this.gratuitous(api, st, s.adv);
        }
        if (st.spam.size === 0) {
          st.tickerNext = undefined;
          return;
        }
        st.tickerNext = t + GARP_INTERVAL;
        this.scheduleTick(st);
      },
    );
  }

  private gratuitous(api: TapApi, st: SpeakerState, adv: Adv): void {
    if ((st.refcnt.get(formatIp(adv.ip)) ?? 0) <= 0) return;
    const host = this.net.topology.hosts.get(st.node);
    if (!host || !this.net.isHostUp(st.node)) return;
    const r = responderInterfaces(host, this.spec);
    if (adv.ip.family === 4) {
      for (const nic of r.arp) {
        if (!adv.all && !adv.interfaces.has(nic.name)) continue;
        for (const op of [ARP_OP.request, ARP_OP.reply] as const) {
          const f = arpFrame({
            op,
            dlSrc: nic.mac,
            dlDst: BROADCAST,
            sha: nic.mac,
            spa: adv.ip,
            tha: BROADCAST,
            tpa: adv.ip,
          });
          api.event(
            "metallb",
            `${st.node}/${nic.name}`,
            `gratuitous ARP ${op === 1 ? "request" : "reply"} ${formatIp(adv.ip)} is-at ${formatMac(nic.mac)}`,
            f,
          );
          api.transmit(st.node, nic.name, f);
        }
      }
    } else {
      for (const nic of r.ndp) {
        if (!adv.all && !adv.interfaces.has(nic.name)) continue;
        const f = naFrame({
          dlSrc: nic.mac,
          dlDst: 0x333300000001,
          src: nic.linkLocal6 ?? 0n,
          dst: ALL_NODES6,
          target: adv.ip.v,
          tll: nic.mac,
          flags: NA_FLAG.override,
        });
        api.event(
          "metallb",
          `${st.node}/${nic.name}`,
          `unsolicited NA ${formatIp(adv.ip)} is-at ${formatMac(nic.mac)}`,
          f,
        );
        api.transmit(st.node, nic.name, f);
      }
    }
  }

  /** announcer's interface lists for `host` under the current spec (both change only on update). */
  private responders(host: Host): Responders {
    const hit = this.responderCache.get(host);
    if (hit && hit.spec === this.spec) return hit.r;
    const r = responderInterfaces(host, this.spec);
    this.responderCache.set(host, { spec: this.spec, r });
    return r;
  }

  /** shouldAnnounce: the IP is announced and the interface matches. */
  private shouldAnnounce(st: SpeakerState, ip: IpAddr, iface: string): boolean {
    for (const advs of st.ips.values())
      for (const a of advs) if (sameIp(a.ip, ip) && (a.all || a.interfaces.has(iface))) return true;
    return false;
  }

  /** The ARP/NDP responders' read loop. */
  private onFrame(api: TapApi, host: Host, nic: Nic, f: Flow): void {
    // Only ARP requests and neighbour solicitations concern a responder: anything else (the
    // traffic to the VIP itself) is let by before the speaker and interfaces are looked at.
    const arp = f.dl_type === ETH_TYPE.arp;
    if (arp ? f.nw_proto !== ARP_OP.request : !isNs(f)) return;
    const st = this.speakers.get(host.name);
    if (!st || st.ips.size === 0) return;
    const r = this.responders(host);
    if (arp) {
      if (!r.arp.some((n) => n.name === nic.name)) return;
      if (f.dl_dst !== BROADCAST && f.dl_dst !== nic.mac) return;
      const tip: IpAddr = { family: 4, v: BigInt(f.nw_dst >>> 0) };
      if (!this.shouldAnnounce(st, tip, nic.name)) return;
      const reply = arpFrame({
        op: ARP_OP.reply,
        dlSrc: nic.mac,
        dlDst: f.arp_sha,
        sha: nic.mac,
        spa: tip,
        tha: f.arp_sha,
        tpa: { family: 4, v: BigInt(f.nw_src >>> 0) },
      });
      api.event(
        "metallb",
        `${host.name}/${nic.name}`,
        `speaker answers ARP for ${formatIp(tip)} with ${formatMac(nic.mac)}`,
        reply,
      );
      api.transmit(host.name, nic.name, reply);
      return;
    }
    // A neighbour solicitation.
    if (!r.ndp.some((n) => n.name === nic.name)) return;
    if (f.arp_sha === 0) return; // dropReasonNoSourceLL
    const target: IpAddr = { family: 6, v: f.nd_target };
    if (!this.shouldAnnounce(st, target, nic.name)) return;
    const na = naFrame({
      dlSrc: nic.mac,
      dlDst: f.arp_sha,
      src: nic.linkLocal6 ?? 0n,
      dst: f.ipv6_src,
      target: f.nd_target,
      tll: nic.mac,
      flags: NA_FLAG.solicited,
    });
    api.event(
      "metallb",
      `${host.name}/${nic.name}`,
      `speaker answers NS for ${formatIp(target)} with ${formatMac(nic.mac)}`,
      na,
    );
    api.transmit(host.name, nic.name, na);
  }
}
