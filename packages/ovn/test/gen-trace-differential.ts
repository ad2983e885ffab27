// Random northbound configurations and microflows for the ovn-trace differential (issue 12):
// the shapes real OVN users and Kube-OVN produce — switches with VIFs (port security,
// disabled ports), routers with static / ECMP / src-ip / discard routes, policies (allow,
// drop, reroute to one or more next hops, Kube-OVN's priorities and address sets), NAT of
// every type, distributed gateway ports on an external switch with a localnet port, gateway
// routers, router-to-router links, switch load balancers, ACLs on port groups and address
// sets, static neighbours (Static_MAC_Binding) and learned ones (SB MAC_Binding), IPv4 and
// IPv6 — and microflows drawn from the configuration (to peers, through router hops, to NAT
// external addresses, to VIPs, ARP / ND to router addresses) plus fuzzier ones.
import { rng } from "@ovnsim/oracle";

/** Feature switches of the generator (`--features`). */
export const ALL_FEATURES = [
  "router",
  "ecmp",
  "policy",
  "nat",
  "gwrouter",
  "dgp",
  "lb",
  "acl",
  "neigh",
  "ipv6",
  "router-lb",
  "lb-affinity",
  "lb-group",
] as const;
export type Feature = (typeof ALL_FEATURES)[number];
/** Every feature (router load balancers, affinity and LB groups included since issue 12's run). */
export const DEFAULT_FEATURES: readonly Feature[] = ALL_FEATURES;

export function parseFeatures(s: string | undefined): Set<Feature> {
  if (!s || s === "default") return new Set(DEFAULT_FEATURES);
  if (s === "all") return new Set(ALL_FEATURES);
  const out = new Set<Feature>(s.startsWith("+") ? DEFAULT_FEATURES : []);
  for (const w of s.replace(/^\+/, "").split(",")) {
    const f = w.trim();
    if (f === "") continue;
    if (!(ALL_FEATURES as readonly string[]).includes(f)) throw new Error(`unknown feature ${f}`);
    out.add(f as Feature);
  }
  return out;
}

export interface GenPort {
  readonly name: string;
  readonly sw: string;
  readonly mac: string;
  readonly ip: string;
  readonly ip6?: string;
}
export interface GenRouterPort {
  readonly name: string;
  readonly router: string;
  readonly sw: string;
  readonly mac: string;
  readonly ip: string;
  readonly ip6?: string;
  /** The switch port of type router facing it. */
  readonly swPort: string;
}
export interface GenVip {
  readonly vip: string;
  readonly port?: number;
  readonly proto: "tcp" | "udp";
  readonly backends: readonly string[];
  readonly switches: readonly string[];
  /** The router the load balancer is on (a switch load balancer otherwise). */
  readonly router?: string;
}
/** What the microflow generator knows of a configuration. */
export interface GenTopology {
  readonly ports: readonly GenPort[];
  readonly routerPorts: readonly GenRouterPort[];
  /** Localnet ports (inport of traffic from outside). */
  readonly localnets: readonly { readonly name: string; readonly sw: string }[];
  readonly natIps: readonly string[];
  readonly vips: readonly GenVip[];
  /** Destinations behind routes: default route targets, ECMP and policy prefixes. */
  readonly farIps: readonly string[];
  readonly selectIds: boolean;
}
export interface GenConfig {
  /** ovn-nbctl command lines (without "ovn-nbctl "), and `ovn-sbctl …` lines as such. */
  readonly lines: readonly string[];
  readonly topo: GenTopology;
}

const hex = (n: number) => n.toString(16).padStart(2, "0");

/** A random configuration (same seed and features → same configuration). */
export function generateNb(seed: number, features: ReadonlySet<Feature>): GenConfig {
  const r = rng(seed);
  const has = (f: Feature) => features.has(f);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const L: string[] = [];
  const ports: GenPort[] = [];
  const routerPorts: GenRouterPort[] = [];
  const localnets: { name: string; sw: string }[] = [];
  const natIps: string[] = [];
  const vips: GenVip[] = [];
  const farIps: string[] = [];
  let selectIds = false;
  const switches: { sw: string; net: string; v6: boolean }[] = [];

  const addSwitch = (sw: string, net: string, v6: boolean) => {
    L.push(`ls-add ${sw}`);
    const nP = 1 + Math.floor(r() * 3);
    const k = switches.length;
    for (let p = 0; p < nP; p++) {
      const name = `${sw}-p${p}`;
      const mac = `0a:58:0a:${hex(k)}:00:${hex(p + 2)}`;
      const ip = `${net}.${p + 2}`;
      const ip6 = v6 ? `fd00:${k}::${p + 2}` : undefined;
      const addr = `${mac} ${ip}${ip6 ? ` ${ip6}` : ""}`;
      L.push(`lsp-add ${sw} ${name} -- lsp-set-addresses ${name} "${addr}"`);
      if (r() < 0.35) L.push(`lsp-set-port-security ${name} "${addr}"`);
      if (r() < 0.05) L.push(`lsp-set-enabled ${name} disabled`);
      ports.push({ name, sw, mac, ip, ...(ip6 ? { ip6 } : {}) });
    }
    if (r() < 0.1) {
      const name = `${sw}-unk`;
      L.push(`lsp-add ${sw} ${name} -- lsp-set-addresses ${name} unknown`);
    }
    switches.push({ sw, net, v6 });
  };

  const nR = has("router") ? 1 + Math.floor(r() * 2) : 0;
  if (nR === 0) {
    const n = 1 + Math.floor(r() * 2);
    for (let i = 0; i < n; i++) addSwitch(`sw${i}`, `10.${i}.0`, has("ipv6") && r() < 0.4);
  }
  let swN = 0;
  for (let ri = 0; ri < nR; ri++) {
    const lr = `lr${ri}`;
    L.push(`lr-add ${lr}`);
    const gw = has("gwrouter") && r() < 0.3;
    if (gw) L.push(`set logical_router ${lr} options:chassis=hv1`);
    if (r() < 0.2) L.push(`set logical_router ${lr} options:always_learn_from_arp_request=false`);
    if (r() < 0.2) L.push(`set logical_router ${lr} options:dynamic_neigh_routers=true`);
    if (gw && has("nat") && r() < 0.3)
      L.push(`set logical_router ${lr} options:dnat_force_snat_ip=172.16.${ri}.200`);
    if (gw && has("lb") && r() < 0.3)
      L.push(`set logical_router ${lr} options:lb_force_snat_ip=172.16.${ri}.201`);
    const inner: { sw: string; net: string; v6: boolean; lrp: string }[] = [];
    const nSw = 1 + Math.floor(r() * 3);
    for (let k = 0; k < nSw; k++, swN++) {
      const sw = `sw${swN}`;
      const net = `10.${swN}.0`;
      const v6 = has("ipv6") && r() < 0.35;
      addSwitch(sw, net, v6);
      const lrp = `${lr}-${sw}`;
      const mac = `00:00:00:00:${hex(ri + 1)}:${hex(swN + 1)}`;
      const ip6 = v6 ? `fd00:${switches.length - 1}::1` : undefined;
      L.push(`lrp-add ${lr} ${lrp} ${mac} ${net}.1/24${ip6 ? ` ${ip6}/64` : ""}`);
      const sp = `${sw}-${lr}`;
      L.push(
        `lsp-add ${sw} ${sp} -- lsp-set-type ${sp} router -- lsp-set-addresses ${sp} router -- lsp-set-options ${sp} router-port=${lrp}`,
      );
      if (r() < 0.1) L.push(`set logical_router_port ${lrp} options:gateway_mtu=1400`);
      routerPorts.push({
        name: lrp,
        router: lr,
        sw,
        mac,
        ip: `${net}.1`,
        ...(ip6 ? { ip6 } : {}),
        swPort: sp,
      });
      inner.push({ sw, net, v6, lrp });
    }
    // The external network: a switch with a localnet port (provider network).
    const ext = `ext${ri}`;
    const extNet = `172.16.${ri}`;
    const extV6 = has("ipv6") && r() < 0.3;
    L.push(`ls-add ${ext}`);
    L.push(
      `lsp-add ${ext} ln-${ext} -- lsp-set-type ln-${ext} localnet -- lsp-set-addresses ln-${ext} unknown -- lsp-set-options ln-${ext} network_name=provider`,
    );
    localnets.push({ name: `ln-${ext}`, sw: ext });
    const extLrp = `${lr}-${ext}`;
    const extMac = `00:00:00:00:${hex(ri + 1)}:ff`;
    L.push(`lrp-add ${lr} ${extLrp} ${extMac} ${extNet}.1/24${extV6 ? ` fd00:ff${ri}::1/64` : ""}`);
    const esp = `${ext}-${lr}`;
    L.push(
      `lsp-add ${ext} ${esp} -- lsp-set-type ${esp} router -- lsp-set-addresses ${esp} router -- lsp-set-options ${esp} router-port=${extLrp}`,
    );
    routerPorts.push({
      name: extLrp,
      router: lr,
      sw: ext,
      mac: extMac,
      ip: `${extNet}.1`,
      ...(extV6 ? { ip6: `fd00:ff${ri}::1` } : {}),
      swPort: esp,
    });
    const dgp = !gw && has("dgp") && r() < 0.6;
    if (dgp) {
      L.push(`lrp-set-gateway-chassis ${extLrp} hv1 10`);
      if (r() < 0.3) L.push(`lrp-set-gateway-chassis ${extLrp} hv2 20`);
      if (r() < 0.2) L.push(`lrp-set-redirect-type ${extLrp} bridged`);
    }
    // Routes.
    if (r() < 0.85) L.push(`lr-route-add ${lr} 0.0.0.0/0 ${extNet}.254`);
    farIps.push("8.8.8.8", "1.1.1.1");
    if (has("ecmp") && r() < 0.5) {
      const n = 2 + Math.floor(r() * 2);
      for (let i = 0; i < n; i++) L.push(`--ecmp lr-route-add ${lr} 192.168.${ri}.0/24 ${extNet}.${240 + i}`);
      farIps.push(`192.168.${ri}.7`);
      selectIds = true;
    }
    if (has("ecmp") && gw && r() < 0.3) {
      L.push(`--ecmp-symmetric-reply lr-route-add ${lr} 192.169.${ri}.0/24 ${extNet}.230`);
      L.push(`--ecmp-symmetric-reply lr-route-add ${lr} 192.169.${ri}.0/24 ${extNet}.231`);
      farIps.push(`192.169.${ri}.9`);
      selectIds = true;
    }
    if (r() < 0.25) {
      L.push(`--policy=src-ip lr-route-add ${lr} ${pick(inner).net}.0/24 ${extNet}.253`);
    }
    if (r() < 0.2) {
      L.push(`lr-route-add ${lr} 10.200.${ri}.0/24 discard`);
      farIps.push(`10.200.${ri}.5`);
    }
    if (r() < 0.2) {
      L.push(`lr-route-add ${lr} 10.201.${ri}.0/24 ${pick(inner).lrp}`);
      farIps.push(`10.201.${ri}.5`);
    }
    if (r() < 0.2) {
      L.push(`lr-route-add ${lr} 10.203.${ri}.7 ${pick(inner).net}.250`);
      farIps.push(`10.203.${ri}.7`);
    }
    const v6in = inner.filter((x) => x.v6);
    if (v6in.length && r() < 0.5) {
      L.push(
        extV6
          ? `lr-route-add ${lr} ::/0 fd00:ff${ri}::fe`
          : `lr-route-add ${lr} ::/0 fd00:${switches.findIndex((s) => s.sw === v6in[0]!.sw)}::fe`,
      );
    }
    // Policies (Kube-OVN: 31000 allow to subnets, 30000 reroute node traffic, 29000 reroute by
    // address set; plus plain drop / allow with pkt_mark / reroute with several next hops).
    if (has("policy")) {
      const nPol = Math.floor(r() * 4);
      if (r() < 0.3) {
        L.push(`create address_set name=${lr}_subnet_ip4 addresses='"${inner[0]!.net}.0/24"'`);
        L.push(`lr-policy-add ${lr} 31000 "ip4.dst == ${pick(inner).net}.0/24" allow`);
        L.push(`lr-policy-add ${lr} 29000 'ip4.src == $${lr}_subnet_ip4' reroute ${extNet}.250`);
      }
      for (let i = 0; i < nPol; i++) {
        const src = pick(inner);
        const dst = pick(inner);
        const kind = pick(["drop", "allow", "allow-mark", "reroute", "reroute-ecmp"]);
        const match = pick([
          `ip4.src == ${src.net}.0/24`,
          `ip4.dst == ${dst.net}.3`,
          `ip4.src == ${src.net}.2 && ip4.dst == 8.8.8.8`,
          "ip4",
          `ip4.dst == 1.1.1.1 && tcp`,
        ]);
        const prio = 1000 + i * 10;
        if (kind === "drop") L.push(`lr-policy-add ${lr} ${prio} "${match}" drop`);
        else if (kind === "allow") L.push(`lr-policy-add ${lr} ${prio} "${match}" allow`);
        else if (kind === "allow-mark")
          L.push(`lr-policy-add ${lr} ${prio} "${match}" allow pkt_mark=${100 + i}`);
        else if (kind === "reroute")
          L.push(`lr-policy-add ${lr} ${prio} "${match}" reroute ${extNet}.${200 + i}`);
        else {
          L.push(`lr-policy-add ${lr} ${prio} "${match}" reroute ${extNet}.210,${extNet}.211`);
          selectIds = true;
        }
      }
    }
    // NAT.
    if (has("nat") && (gw || dgp || r() < 0.15)) {
      const nNat = 1 + Math.floor(r() * 4);
      for (let i = 0; i < nNat; i++) {
        const extIp = `${extNet}.${100 + i}`;
        const inn = pick(inner);
        const lip = `${inn.net}.${2 + (i % 3)}`;
        const kind = pick(["snat", "snat-net", "dnat", "dnat_and_snat", "fip", "stateless"]);
        natIps.push(extIp);
        if (kind === "snat") L.push(`lr-nat-add ${lr} snat ${extIp} ${lip}`);
        else if (kind === "snat-net") L.push(`lr-nat-add ${lr} snat ${extIp} ${inn.net}.0/24`);
        else if (kind === "dnat") L.push(`lr-nat-add ${lr} dnat ${extIp} ${lip}`);
        else if (kind === "dnat_and_snat") L.push(`lr-nat-add ${lr} dnat_and_snat ${extIp} ${lip}`);
        else if (kind === "fip" && dgp)
          L.push(
            `lr-nat-add ${lr} dnat_and_snat ${extIp} ${lip} ${inn.sw}-p${i % 1} 0a:00:00:00:${hex(ri)}:${hex(i)}`,
          );
        else L.push(`--stateless lr-nat-add ${lr} dnat_and_snat ${extIp} ${lip}`);
      }
    }
    // Neighbours: configured (Static_MAC_Binding) and learned (SB MAC_Binding).
    if (has("neigh")) {
      if (r() < 0.5) L.push(`static-mac-binding-add ${extLrp} ${extNet}.254 0a:00:00:00:fe:${hex(ri)}`);
      if (r() < 0.5)
        L.push(
          `ovn-sbctl create mac_binding datapath=$(ovn-sbctl --bare --columns=_uuid find datapath_binding external_ids:name=${lr}) logical_port=${extLrp} ip=${extNet}.240 mac='"0a:00:00:00:f0:${hex(ri)}"'`,
        );
      if (r() < 0.3)
        L.push(
          `ovn-sbctl create mac_binding datapath=$(ovn-sbctl --bare --columns=_uuid find datapath_binding external_ids:name=${lr}) logical_port=${inner[0]!.lrp} ip=${inner[0]!.net}.2 mac='"0a:00:00:00:e0:${hex(ri)}"'`,
        );
    }
    if (has("router-lb") && r() < 0.7) {
      // Router load balancers: a VIP on the external network (tcp, udp, or without a port),
      // sometimes one on an inner subnet (answered by ARP there), an IPv6 one, skip_snat,
      // session affinity, the same LB on the inner switches, or attached through a
      // Load_Balancer_Group.
      const back = ports.filter((p) => inner.some((x) => x.sw === p.sw));
      if (back.length) {
        const nLb = 1 + Math.floor(r() * 2);
        for (let j = 0; j < nLb; j++) {
          const name = `rlb${ri}${j ? `_${j}` : ""}`;
          const pool = back.filter(() => r() < 0.7).slice(0, 3);
          if (!pool.length) pool.push(back[0]!);
          const kind = pick(["tcp", "tcp", "udp", "noport"] as const);
          const onInner = r() < 0.3;
          const v6 = extV6 && !onInner && pool.every((p) => p.ip6) && r() < 0.3;
          const vip = v6
            ? `fd00:ff${ri}::${150 + j}`
            : onInner
              ? `${inner[0]!.net}.${150 + j}`
              : `${extNet}.${150 + j}`;
          const withPort = kind !== "noport";
          const b = pool.map((p) => {
            const ip = v6 ? (p.ip6 as string) : p.ip;
            return withPort ? (v6 ? `[${ip}]:8080` : `${ip}:8080`) : ip;
          });
          const vipText = withPort ? (v6 ? `[${vip}]:80` : `${vip}:80`) : vip;
          const sws = [ext, ...(r() < 0.3 ? inner.map((x) => x.sw) : [])];
          if (has("lb-group") && r() < 0.4) {
            // ovn-nbctl 23.03 has no lb-group command and takes only UUIDs as references:
            // the LB, its group and the attachments in one transaction of generic commands.
            L.push(
              `-- --id=@lb create load_balancer name=${name} protocol=${kind === "udp" ? "udp" : "tcp"} 'vips={"${vipText}"="${b.join(",")}"}' -- --id=@g create load_balancer_group name=lbg${ri}_${j} load_balancer=@lb -- add logical_router ${lr} load_balancer_group @g${sws
                .slice(1)
                .map((sw) => ` -- add logical_switch ${sw} load_balancer_group @g`)
                .join("")}`,
            );
          } else {
            L.push(`lb-add ${name} ${vipText} ${b.join(",")}${withPort ? ` ${kind}` : ""}`);
            L.push(`lr-lb-add ${lr} ${name}`);
            for (const sw of sws.slice(1)) L.push(`ls-lb-add ${sw} ${name}`);
          }
          if (r() < 0.2) L.push(`set load_balancer ${name} options:skip_snat=true`);
          if (has("lb-affinity") && r() < 0.3)
            L.push(`set load_balancer ${name} options:affinity_timeout=${pick([60, 300])}`);
          vips.push({
            vip,
            ...(withPort ? { port: 80 } : {}),
            proto: kind === "udp" ? "udp" : "tcp",
            backends: b,
            switches: onInner ? [inner[0]!.sw] : sws,
            router: lr,
          });
        }
      }
    }
  }
  if (nR > 1 && r() < 0.5) {
    L.push("lrp-add lr0 lr0-lr1 00:00:00:00:0f:01 169.254.0.1/30 peer=lr1-lr0");
    L.push("lrp-add lr1 lr1-lr0 00:00:00:00:0f:02 169.254.0.2/30 peer=lr0-lr1");
    L.push("lr-route-add lr0 10.250.0.0/16 169.254.0.2");
    farIps.push("10.250.1.1");
  }
  // Switch load balancers.
  if (has("lb")) {
    const nLb = Math.floor(r() * 3);
    for (let i = 0; i < nLb; i++) {
      const sws = switches.filter(() => r() < 0.6);
      if (!sws.length) continue;
      const pool = ports.filter(() => r() < 0.4).slice(0, 3);
      if (!pool.length) continue;
      const proto = pick(["tcp", "udp"] as const);
      const v6 = has("ipv6") && pool.every((p) => p.ip6) && r() < 0.5;
      const withPort = r() < 0.8;
      let vip: string;
      let backs: string[];
      if (v6) {
        vip = `fd00:aa::${i + 1}`;
        backs = pool.map((p) => (withPort ? `[${p.ip6}]:8080` : (p.ip6 as string)));
        L.push(
          `lb-add lb${i} ${withPort ? `[${vip}]:80` : vip} ${backs.join(",")}${withPort ? ` ${proto}` : ""}`,
        );
      } else {
        vip = r() < 0.5 ? `10.96.0.${10 + i}` : `${switches[0]!.net}.${100 + i}`;
        backs = pool.map((p) => (withPort ? `${p.ip}:8080` : p.ip));
        L.push(
          `lb-add lb${i} ${withPort ? `${vip}:80` : vip} ${backs.join(",")}${withPort ? ` ${proto}` : ""}`,
        );
      }
      let lbName = `lb${i}`;
      if (has("lb-group") && r() < 0.3) {
        // Attached through a group instead (one transaction: see the router LBs above).
        L.pop();
        lbName = `glb${i}`;
        const vipText = withPort ? (v6 ? `[${vip}]:80` : `${vip}:80`) : vip;
        L.push(
          `-- --id=@lb create load_balancer name=${lbName} protocol=${withPort ? proto : "tcp"} 'vips={"${vipText}"="${backs.join(",")}"}' -- --id=@g create load_balancer_group name=lbg_s${i} load_balancer=@lb${sws.map((s) => ` -- add logical_switch ${s.sw} load_balancer_group @g`).join("")}`,
        );
      } else for (const s of sws) L.push(`ls-lb-add ${s.sw} lb${i}`);
      if (r() < 0.2) L.push(`set load_balancer ${lbName} options:skip_snat=true`);
      if (has("lb-affinity") && r() < 0.25)
        L.push(`set load_balancer ${lbName} options:affinity_timeout=${pick([60, 300])}`);
      vips.push({
        vip,
        ...(withPort ? { port: 80 } : {}),
        proto,
        backends: backs,
        switches: sws.map((s) => s.sw),
      });
    }
  }
  // ACLs on port groups and address sets (Kube-OVN NetworkPolicy shape).
  if (has("acl") && r() < 0.6) {
    const nPg = 1 + Math.floor(r() * 2);
    L.push(`create address_set name=as0 addresses='"10.0.0.2","10.1.0.0/24"'`);
    if (r() < 0.5) L.push("add address_set as0 addresses 10.9.9.9");
    for (let g = 0; g < nPg; g++) {
      const members = ports.filter(() => r() < 0.5).map((p) => p.name);
      L.push(`pg-add pg${g}${members.length ? ` ${members.join(" ")}` : ""}`);
      const nAcl = 1 + Math.floor(r() * 3);
      for (let a = 0; a < nAcl; a++) {
        const dir = pick(["from-lport", "to-lport"]);
        const port = dir === "to-lport" ? "outport" : "inport";
        const verdict = pick(["allow", "allow-related", "drop", "reject", "allow-stateless"]);
        const match = pick([
          `${port} == @pg${g} && ip4`,
          `${port} == @pg${g} && ip4.src == $as0`,
          `${port} == @pg${g} && ip4.dst == $pg${g}_ip4`,
          `${port} == @pg${g} && tcp.dst == 80`,
          `${port} == @pg${g} && ip6`,
        ]);
        let opts = "--type=port-group ";
        if (r() < 0.3) opts += `--log --name=np${g}-${a} --severity=info `;
        if (dir === "from-lport" && r() < 0.3) opts += "--apply-after-lb ";
        L.push(`${opts}acl-add pg${g} ${dir} ${2000 + a} '${match}' ${verdict}`);
      }
    }
  }
  return { lines: L, topo: { ports, routerPorts, localnets, natIps, vips, farIps, selectIds } };
}

/** One ovn-trace invocation: its arguments (options, datapath, microflow). */
export interface TraceCase {
  readonly args: readonly string[];
  /** Features the case exercises by construction (the trace decides the rest). */
  readonly tags: readonly string[];
}

const CTS: readonly (readonly string[])[] = [
  [],
  [],
  ["new"],
  ["new", "new"],
  ["new", "new", "new"],
  ["est,trk"],
  ["est,trk", "est,trk"],
  ["new", "est,trk"],
  ["est,rpl,trk"],
  ["rel,trk"],
  ["inv,trk"],
];

/** Conntrack answers that start with a new connection (what a VIP's DNAT flows need). */
const CTS_NEW: readonly (readonly string[])[] = [[], ["new"], ["new", "new"], ["new", "est,trk"]];

/** Random microflows for a configuration. */
export function generateMicroflows(seed: number, topo: GenTopology, n: number): TraceCase[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: TraceCase[] = [];
  const allIp4 = [
    ...topo.ports.map((p) => p.ip),
    ...topo.routerPorts.map((p) => p.ip),
    ...topo.natIps,
    ...topo.vips.filter((v) => !v.vip.includes(":")).map((v) => v.vip),
    ...topo.farIps,
  ];
  for (let i = 0; i < n; i++) {
    const tags = new Set<string>();
    const fuzz = r() < 0.2;
    // Source: a VIF (most), a localnet port (traffic from outside) or a router port.
    const roll = r();
    let inport: string;
    let sw: string;
    let srcMac: string;
    let srcIp: string;
    let srcIp6: string | undefined;
    let dp: string | undefined;
    if (roll < 0.72 || (!topo.localnets.length && roll < 0.95)) {
      const p = pick(topo.ports);
      inport = p.name;
      sw = p.sw;
      srcMac = r() < 0.9 ? p.mac : `00:00:5e:00:53:${hex(Math.floor(r() * 256))}`;
      srcIp = r() < 0.9 ? p.ip : `${p.ip.split(".").slice(0, 3).join(".")}.${50 + Math.floor(r() * 100)}`;
      srcIp6 = p.ip6;
    } else if (topo.localnets.length && roll < 0.95) {
      const l = pick(topo.localnets);
      inport = l.name;
      sw = l.sw;
      srcMac = `0a:00:00:00:fe:${hex(Math.floor(r() * 4))}`;
      srcIp = pick(["172.16.0.254", "8.8.8.8", "203.0.113.7", "172.16.1.254"]);
      srcIp6 = "fd00:ff0::fe";
      tags.add("external");
    } else {
      const rp = pick(topo.routerPorts);
      inport = rp.name;
      sw = rp.router;
      dp = rp.router;
      srcMac = `0a:00:00:00:fd:${hex(Math.floor(r() * 4))}`;
      srcIp = `${rp.ip.split(".").slice(0, 3).join(".")}.77`;
      srcIp6 = undefined;
      tags.add("router-inport");
    }
    // Destination.
    const routers = topo.routerPorts.filter((rp) => rp.sw === sw);
    const peers = topo.ports.filter((p) => p.sw === sw && p.name !== inport);
    let dstMac: string;
    let dstIp: string;
    let dstIp6: string | undefined;
    let dport: number = pick([80, 22, 53, 8080]);
    let proto = pick(["tcp", "tcp", "udp", "icmp", "icmp", "arp"] as const);
    let lbDst: string | undefined;
    let ctNew = false;
    const d = r();
    if (dp !== undefined) {
      // From a router port: the router's own MAC, to anything.
      const rp = topo.routerPorts.find((x) => x.name === inport)!;
      dstMac = rp.mac;
      dstIp = pick(allIp4);
      dstIp6 = pick(topo.ports).ip6;
    } else if (d < 0.25 && peers.length) {
      const q = pick(peers);
      dstMac = r() < 0.85 ? q.mac : pick(["ff:ff:ff:ff:ff:ff", "0a:00:00:00:00:99"]);
      dstIp = q.ip;
      dstIp6 = q.ip6;
      tags.add("l2");
    } else if (d < 0.4 && topo.vips.some((v) => v.switches.includes(sw) || routers.length)) {
      // Half of them to the VIP of a router this switch is attached to, when there is one:
      // to that router's MAC, mostly as a new connection.
      const rv = topo.vips.filter((x) => routers.some((rp) => rp.router === x.router));
      const v = rv.length && r() < 0.5 ? pick(rv) : pick(topo.vips);
      const q = r() < 0.5 && peers.length ? pick(peers) : undefined;
      if (v.router !== undefined && routers.some((rp) => rp.router === v.router)) {
        tags.add("router-lb");
        dstMac = routers.find((rp) => rp.router === v.router)!.mac;
        if (r() < 0.7) ctNew = true;
      } else {
        tags.add("lb");
        dstMac =
          routers.length && r() < 0.6
            ? pick(routers).mac
            : (q?.mac ?? routers[0]?.mac ?? "0a:00:00:00:00:99");
      }
      if (v.vip.includes(":")) {
        dstIp6 = v.vip;
        dstIp = pick(allIp4);
      } else dstIp = v.vip;
      if (v.port !== undefined) {
        dport = v.port;
        proto = v.proto;
      } else if (proto === "arp") proto = "tcp";
      if (r() < 0.6) lbDst = pick(v.backends);
      else if (r() < 0.3) lbDst = v.vip.includes(":") ? `[${v.vip}]:80` : `${v.vip}:80`;
    } else if (routers.length) {
      const rp = pick(routers);
      dstMac = r() < 0.9 ? rp.mac : "ff:ff:ff:ff:ff:ff";
      tags.add("router");
      const far = r();
      if (far < 0.35) {
        const q = pick(topo.ports);
        dstIp = q.ip;
        dstIp6 = q.ip6;
      } else if (far < 0.55 && topo.natIps.length) {
        dstIp = pick(topo.natIps);
        tags.add("nat");
      } else if (far < 0.7) {
        const rq = pick(topo.routerPorts);
        dstIp = rq.ip;
        dstIp6 = rq.ip6;
      } else {
        dstIp = pick(topo.farIps.length ? topo.farIps : ["8.8.8.8"]);
        dstIp6 = pick(["2001:db8::1", "fd00:0::2", "fd00:1::3", "fd00:ff0::fe"]);
      }
    } else {
      const q = pick(topo.ports);
      dstMac = q.mac;
      dstIp = q.ip;
      dstIp6 = q.ip6;
    }
    if (topo.natIps.includes(dstIp)) tags.add("nat");
    if (topo.natIps.includes(srcIp)) tags.add("nat");
    const ttl = pick([64, 64, 64, 1, 2, 255, 0]);
    const v6 = srcIp6 !== undefined && dstIp6 !== undefined && r() < 0.45;
    let mf = `inport == "${inport}" && eth.src == ${srcMac} && eth.dst == ${dstMac}`;
    if (v6) {
      tags.add("ipv6");
      if (proto === "arp" || r() < 0.15) {
        const tgt = dstIp6!;
        const last = tgt.slice(tgt.lastIndexOf(":") + 1).padStart(4, "0");
        mf += ` && ip6.src == ${srcIp6} && ip6.dst == ff02::1:ff00:${last} && icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255 && nd.target == ${tgt} && nd.sll == ${srcMac}`;
        tags.add("nd");
      } else if (proto === "icmp") {
        mf += ` && ip6.src == ${srcIp6} && ip6.dst == ${dstIp6} && ip.ttl == ${ttl} && icmp6.type == 128 && icmp6.code == 0`;
      } else {
        mf += ` && ip6.src == ${srcIp6} && ip6.dst == ${dstIp6} && ip.ttl == ${ttl} && ${proto}.src == ${1024 + Math.floor(r() * 60000)} && ${proto}.dst == ${dport}`;
      }
    } else if (proto === "arp") {
      const op = r() < 0.85 ? 1 : 2;
      mf += ` && arp.op == ${op} && arp.sha == ${srcMac} && arp.spa == ${srcIp} && arp.tpa == ${dstIp}${op === 2 ? ` && arp.tha == ${dstMac}` : ""}`;
      tags.add("arp");
    } else {
      mf += ` && ip4.src == ${srcIp} && ip4.dst == ${dstIp} && ip.ttl == ${ttl}`;
      if (proto === "icmp") mf += ` && icmp4.type == ${pick([8, 8, 0, 3])} && icmp4.code == 0`;
      else mf += ` && ${proto}.src == ${1024 + Math.floor(r() * 60000)} && ${proto}.dst == ${dport}`;
    }
    if (ttl <= 1 && !mf.includes("ip.ttl == 255")) tags.add("ttl");
    if (fuzz) {
      // Fuzzier: drop or perturb a clause, or add a fragment/flag clause.
      const parts = mf.split(" && ");
      const k = r();
      if (k < 0.4 && parts.length > 2) parts.splice(1 + Math.floor(r() * (parts.length - 1)), 1);
      else if (k < 0.6)
        parts.push(pick(["ip.frag == 0", "tcp.flags == 2", "vlan.present == 0", "ip.dscp == 10"]));
      else if (k < 0.8) parts.push(pick(["ip4.src == 203.0.113.9", "eth.type == 0x88cc", "ip.proto == 47"]));
      else {
        // Another inport (then without the datapath argument: an inport of another datapath
        // makes ovn-trace abort).
        parts[0] = `inport == "${pick(topo.ports).name}"`;
        dp = undefined;
        tags.add("any-inport");
      }
      mf = parts.join(" && ");
      tags.add("fuzz");
    }
    const args: string[] = [...(ctNew ? pick(CTS_NEW) : pick(CTS)).map((c) => `--ct=${c}`)];
    if (lbDst) args.push(`--lb-dst=${lbDst}`);
    if (topo.selectIds && r() < 0.85) args.push(`--select-id=${1 + Math.floor(r() * 3)}`);
    args.push("--all");
    if (tags.has("any-inport")) {
      /* the datapath comes from the inport */
    } else if (dp !== undefined || r() < 0.7) args.push(dp ?? sw);
    args.push(mf);
    out.push({ args, tags: [...tags] });
  }
  return out;
}
