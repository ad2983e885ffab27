// The differential generator of issue 11: random OVS programs (bridges, ports, flow tables,
// groups, meters, TLV maps) and packets to trace, drawn from what real nodes hold rather than
// from what ovnsim implements. Its space is the ovs-actions(7) / ovs-fields(7) vocabulary that
// OVS 3.1 accepts, weighted toward the shapes ovn-controller installs on br-int (register
// pipeline, ct() chains on zone=NXM_NX_REG13[0..15], xxreg bit flags, conjunctive matches,
// learn, controller(userdata), push/pop stacks, localnet VLAN push/pop, Geneve output with
// tun_id/tun_metadata0) and Kube-OVN puts on br-provider (mod_dl_dst + output to the patch
// port next to NORMAL), plus patch/tunnel topologies and VLAN access/trunk ports for NORMAL.
// Nothing here knows what ovnsim supports: the real `ovs-ofctl` judges validity (a bridge it
// refuses is discarded by the runner) and the real `ofproto/trace` is the expected output.
//
// Every flow carries a cookie unique in its program; the runner reads the cookies a real trace
// prints to know which flows (hence which action families) a case exercised.
import { ovnRealProgram } from "./gen-ovnreal.js";
import { rng } from "@ovnsim/oracle";

/** Action families a case is classified by (a case counts in each family it touches). */
export const FAMILIES = [
  "output",
  "drop",
  "special-port",
  "normal",
  "flood",
  "output-reg",
  "output-trunc",
  "resubmit",
  "goto_table",
  "set-field",
  "set-l3l4",
  "arp-rewrite",
  "pkt_mark",
  "load",
  "move",
  "reg-xxreg",
  "vlan",
  "dec_ttl",
  "ct",
  "ct-nat",
  "ct-exec",
  "ct_clear",
  "group-all",
  "group-indirect",
  "group-ff",
  "group-select-hash",
  "group-select-hash-1field",
  "group-select-dp_hash",
  "group-select-default",
  "conjunction",
  "learn",
  "multipath",
  "bundle",
  "check_pkt_larger",
  "controller",
  "note",
  "sample",
  "meter",
  "queue",
  "clone",
  "mpls",
  "action-set",
  "write_metadata",
  "stack",
  "exit",
  "fin_timeout",
  "tunnel-set",
  "tunnel-out",
  "tunnel-in",
  "ct-non-ip",
  "patch",
  "vlan-port",
  "recirc",
] as const;
export type Family = (typeof FAMILIES)[number];

export type PortType = "dummy" | "patch" | "geneve" | "vxlan" | "internal";

export interface GenPort {
  readonly name: string;
  readonly ofport: number;
  readonly type: PortType;
  readonly peer?: string;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: "access" | "trunk" | "native-tagged" | "native-untagged";
  readonly options?: Readonly<Record<string, string>>;
}

export interface GenBridge {
  readonly name: string;
  readonly ports: readonly GenPort[];
  /** `ovs-ofctl -O OpenFlow15 add-flows` lines (each with its cookie). */
  readonly flows: readonly string[];
  /** `ovs-ofctl -O OpenFlow15 add-groups` lines. */
  readonly groups: readonly string[];
  /** `ovs-ofctl -O OpenFlow15 add-meter` arguments. */
  readonly meters: readonly string[];
  /** `ovs-ofctl add-tlv-map` argument (Geneve options), if any. */
  readonly tlvMap?: string;
  /**
   * Installed as plain `ovs-ofctl add-flows` does (OpenFlow 1.0 + NXM): flows OpenFlow 1.5 has
   * no encoding for (dec_ttl or ct() without an IP match, pop_vlan without a VLAN match), and
   * no OpenFlow 1.1+ instructions or groups.
   */
  readonly openflow10?: boolean;
}

export interface GenCase {
  /** The bridge the trace starts in. */
  readonly bridge: string;
  /** The `ofproto/trace` flow argument. */
  readonly flow: string;
  /** `--ct-next` states, in order. */
  readonly ctNext: readonly string[];
}

export type ProgramKind = "ovn-br-int" | "ovn-real" | "kubeovn-provider" | "random" | "vlan-normal";

export interface GenProgram {
  readonly id: number;
  readonly kind: ProgramKind;
  readonly bridges: readonly GenBridge[];
  /** Cookie → the families of that flow's actions (groups it calls included). */
  readonly cookieFamilies: ReadonlyMap<number, readonly Family[]>;
  readonly cases: readonly GenCase[];
}

type R = () => number;

class Pick {
  constructor(readonly r: R) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  of<T>(a: readonly T[]): T {
    return a[Math.floor(this.r() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  /** Weighted choice among [weight, value] pairs. */
  w<T>(pairs: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [wt] of pairs) total += wt;
    let x = this.r() * total;
    for (const [wt, v] of pairs) {
      x -= wt;
      if (x < 0) return v;
    }
    return pairs[pairs.length - 1]![1];
  }
  hex(n: number): string {
    return `0x${n.toString(16)}`;
  }
}

// Shared value pools: flows and packets draw from the same few values so matches hit.
const MACS = [
  "0a:58:0a:b4:cc:0b",
  "0a:58:0a:b4:cc:0c",
  "00:00:00:01:00:01",
  "9a:71:6e:61:f6:e0",
  "ff:ff:ff:ff:ff:ff",
  "01:00:5e:00:00:01",
  "52:54:00:12:34:56",
];
const IPS = [
  "10.180.204.11",
  "10.180.204.12",
  "10.180.204.252",
  "192.0.2.10",
  "10.0.0.1",
  "8.8.8.8",
  "172.16.3.4",
];
const NETS = ["10.180.204.0/24", "10.0.0.0/8", "192.0.2.0/24", "172.16.0.0/12", "10.180.204.252"];
const IP6S = ["fd00::1", "fd00::2", "fe80::1", "2001:db8::5"];
const NETS6 = ["fd00::/64", "fe80::/10", "2001:db8::5", "::/0"];
const TCP_PORTS = [80, 443, 22, 8080, 40000, 53];
const VLANS = [10, 20, 30, 341];
const CT_STATES = [
  "+trk",
  "-trk",
  "+new+trk",
  "+est+trk",
  "-new+est-rpl+trk",
  "+est+rpl+trk",
  "+inv+trk",
  "-new-est+rel-inv+trk",
  "+trk+snat",
  "+trk+dnat",
];
const CT_NEXT = ["trk,new", "trk,est", "trk,est,rpl", "trk,inv", "trk,rel", "trk,new,dnat", "trk,est,snat"];

/** What a flow's match guarantees about the packet (for prerequisites of actions). */
type Proto = "any" | "ip" | "tcp" | "udp" | "icmp" | "arp" | "ipv6" | "tcp6" | "udp6" | "icmp6";
const isIp4 = (p: Proto): boolean => p === "ip" || p === "tcp" || p === "udp" || p === "icmp";
const isIp6 = (p: Proto): boolean => p === "ipv6" || p === "tcp6" || p === "udp6" || p === "icmp6";
const isIpAny = (p: Proto): boolean => isIp4(p) || isIp6(p);
const isL4 = (p: Proto): boolean => p === "tcp" || p === "udp" || p === "tcp6" || p === "udp6";

interface Act {
  readonly text: string;
  readonly fam: readonly Family[];
}

interface BridgeCtx {
  readonly name: string;
  readonly ports: GenPort[];
  readonly nTables: number;
  /** Group ids defined on this bridge → families. */
  readonly groups: Map<number, readonly Family[]>;
  readonly meters: number[];
  readonly tlv: boolean;
  /** Tables the program uses (ascending). */
  readonly tables: readonly number[];
  /** See GenBridge.openflow10. */
  readonly of10: boolean;
}

/** A generator of one program at a time; all randomness from the seeded PRNG. */
class Gen {
  readonly p: Pick;
  cookie = 0;
  readonly fams = new Map<number, Family[]>();
  /** Whether the match of the flow being generated guarantees a VLAN header. */
  vlanMatched = false;
  /** Whether the bridge being generated installs over OpenFlow 1.0 (no prerequisites then). */
  of10 = false;
  constructor(
    seed: number,
    /** When set, only actions of these families are drawn (the live test's supported list). */
    readonly allow?: ReadonlySet<Family>,
  ) {
    this.p = new Pick(rng(seed));
  }

  ok(fam: readonly Family[]): boolean {
    return this.allow === undefined || fam.every((f) => this.allow!.has(f));
  }

  /** Draws until the families are allowed (rejection sampling), else the fallback. */
  draw(f: () => Act, fallback: () => Act): Act {
    for (let i = 0; i < 40; i++) {
      const a = f();
      if (this.ok(a.fam)) return a;
    }
    return fallback();
  }

  plainPort(b: BridgeCtx): GenPort {
    return b.ports.find((x) => x.type === "dummy") ?? b.ports[0]!;
  }

  nextCookie(fam: readonly Family[]): number {
    this.cookie += 1;
    this.fams.set(this.cookie, [...new Set(fam)]);
    return this.cookie;
  }

  // ---------- matches ----------

  proto(): Proto {
    return this.p.w<Proto>([
      [22, "any"],
      [18, "ip"],
      [18, "tcp"],
      [10, "udp"],
      [5, "icmp"],
      [9, "arp"],
      [7, "ipv6"],
      [4, "tcp6"],
      [2, "udp6"],
      [3, "icmp6"],
    ]);
  }

  matchAtoms(proto: Proto, b: BridgeCtx, nMax: number): string[] {
    const p = this.p;
    const out: string[] = [];
    const n = p.int(0, nMax);
    const used = new Set<string>();
    for (let i = 0; i < n; i++) {
      const kind = p.w<string>([
        [10, "in_port"],
        [10, "reg"],
        [6, "metadata"],
        [5, "dl_dst"],
        [3, "dl_src"],
        [4, "vlan"],
        [6, "ct_state"],
        [2, "ct_mark"],
        [1, "ct_zone"],
        [1, "ct_label"],
        [isIp4(proto) ? 8 : 0, "nw"],
        [isIp4(proto) ? 2 : 0, "nw_misc"],
        [isIp6(proto) ? 6 : 0, "nw6"],
        [isL4(proto) ? 8 : 0, "tp"],
        [proto === "tcp" || proto === "tcp6" ? 2 : 0, "tcp_flags"],
        [proto === "icmp" || proto === "icmp6" ? 4 : 0, "icmp"],
        [proto === "arp" ? 6 : 0, "arp"],
        [b.tlv ? 2 : 0, "tun"],
        [1, "pkt_mark"],
      ]);
      if (used.has(kind) && kind !== "reg") continue;
      used.add(kind);
      switch (kind) {
        case "in_port":
          out.push(`in_port=${p.of(b.ports).ofport}`);
          break;
        case "reg": {
          const r = p.of([0, 0, 10, 13, 14, 15, 1, 2]);
          const v = p.of([1, 2, 3, 4, 0x40, 0x1000, 0x8000, 0x8001]);
          out.push(p.chance(0.5) ? `reg${r}=${p.hex(v)}/${p.hex(v)}` : `reg${r}=${p.hex(v)}`);
          break;
        }
        case "metadata":
          out.push(`metadata=${p.hex(p.of([1, 2, 3, 7]))}`);
          break;
        case "dl_dst":
          out.push(
            p.chance(0.3) ? "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00" : `dl_dst=${p.of(MACS.slice(0, 5))}`,
          );
          break;
        case "dl_src":
          out.push(`dl_src=${p.of(MACS.slice(0, 4))}`);
          break;
        case "vlan":
          out.push(
            p.of([`dl_vlan=${p.of(VLANS)}`, "vlan_tci=0x1000/0x1000", "vlan_tci=0/0x1000", "dl_vlan_pcp=3"]),
          );
          break;
        case "ct_state":
          out.push(`ct_state=${p.of(CT_STATES)}`);
          break;
        case "ct_mark":
          out.push(p.of(["ct_mark=0/0x1", "ct_mark=0x1/0x1", "ct_mark=0x2/0x2"]));
          break;
        case "ct_zone":
          out.push(`ct_zone=${p.of([0, 1, 5])}`);
          break;
        case "ct_label":
          out.push("ct_label=0x1/0x1");
          break;
        case "nw":
          out.push(`${p.of(["nw_src", "nw_dst"])}=${p.chance(0.5) ? p.of(NETS) : p.of(IPS)}`);
          break;
        case "nw_misc":
          out.push(p.of(["nw_ttl=1", "nw_ttl=64", "nw_tos=32", "ip_dscp=8", "nw_frag=no", "nw_ecn=1"]));
          break;
        case "nw6":
          out.push(`${p.of(["ipv6_src", "ipv6_dst"])}=${p.of(NETS6)}`);
          break;
        case "tp": {
          const f =
            proto === "udp" || proto === "udp6"
              ? p.of(["udp_dst", "udp_src", "tp_dst"])
              : p.of(["tp_dst", "tp_src", "tcp_dst"]);
          out.push(p.chance(0.15) ? `${f}=0x1000/0xf000` : `${f}=${p.of(TCP_PORTS)}`);
          break;
        }
        case "tcp_flags":
          out.push(p.of(["tcp_flags=+syn", "tcp_flags=+syn-ack", "tcp_flags=0x12"]));
          break;
        case "icmp":
          out.push(
            proto === "icmp"
              ? p.of(["icmp_type=8", "icmp_type=0,icmp_code=0"])
              : p.of(["icmp_type=135", "icmp_type=136,icmp_code=0"]),
          );
          break;
        case "arp":
          out.push(
            p.of([
              `arp_op=${p.of([1, 2])}`,
              `arp_tpa=${p.of(IPS)}`,
              `arp_spa=${p.of(IPS)}`,
              `arp_sha=${p.of(MACS.slice(0, 3))}`,
            ]),
          );
          break;
        case "tun":
          out.push(p.of(["tun_id=0x5", "tun_metadata0=0x20000/0x7fff0000", "tun_src=192.168.0.2"]));
          break;
        case "pkt_mark":
          out.push("pkt_mark=0x7");
          break;
      }
    }
    return out;
  }

  protoText(proto: Proto): string[] {
    return proto === "any" ? [] : [proto];
  }

  // ---------- actions ----------

  regField(): string {
    return this.p.w([
      [5, `NXM_NX_REG${this.p.of([0, 1, 2, 10, 13, 14, 15])}[]`],
      [3, `NXM_NX_REG${this.p.of([0, 10])}[${this.p.int(0, 15)}]`],
      [3, `NXM_NX_REG${this.p.of([0, 1, 13])}[0..15]`],
      [1, `NXM_NX_XXREG0[${this.p.int(96, 127)}]`],
      [1, "OXM_OF_METADATA[0..23]"],
    ]);
  }

  setField(proto: Proto): Act {
    const p = this.p;
    const opts: [number, () => Act][] = [
      [
        10,
        () => ({
          text: `set_field:${p.hex(p.int(1, 8))}->reg${p.of([13, 11, 12, 14, 15, 0, 10])}`,
          fam: ["set-field"],
        }),
      ],
      [6, () => ({ text: `set_field:${p.hex(p.of([1, 2]))}->metadata`, fam: ["set-field"] })],
      [
        5,
        () => {
          const mask = p.of(["0x1000", "0x80", "0x1"]);
          return { text: `set_field:${p.of(["0", mask])}/${mask}->reg10`, fam: ["set-field"] };
        },
      ],
      [
        4,
        () => {
          const bit = 1n << BigInt(p.int(96, 115));
          return {
            text: `set_field:0x${bit.toString(16)}/0x${bit.toString(16)}->xxreg0`,
            fam: ["set-field", "reg-xxreg"],
          };
        },
      ],
      [
        4,
        () => {
          const f = this.regField();
          const oneBit = /\[\d+\]$/.test(f);
          return { text: `load:${p.hex(oneBit ? p.int(0, 1) : p.int(0, 15))}->${f}`, fam: ["load"] };
        },
      ],
      [
        5,
        () => ({
          text: p.of([
            `mod_dl_dst:${p.of(MACS)}`,
            `set_field:${p.of(MACS)}->eth_dst`,
            `mod_dl_src:${p.of(MACS)}`,
            `set_field:${p.of(MACS)}->eth_src`,
          ]),
          fam: ["set-field"],
        }),
      ],
      [
        isIp4(proto) ? 5 : 0,
        () => ({
          text: p.of([
            `mod_nw_dst:${p.of(IPS)}`,
            `set_field:${p.of(IPS)}->ip_src`,
            `mod_nw_src:${p.of(IPS)}`,
            "mod_nw_tos:32",
            "mod_nw_ttl:9",
            "set_field:2->ip_ecn",
            "set_field:7->nw_ttl",
          ]),
          fam: ["set-l3l4"],
        }),
      ],
      [
        isIp6(proto) ? 3 : 0,
        () => ({
          text: p.of([
            `set_field:${p.of(IP6S)}->ipv6_dst`,
            "set_field:0x12345->ipv6_label",
            "set_field:5->nw_ttl",
          ]),
          fam: ["set-l3l4"],
        }),
      ],
      [
        isL4(proto) ? 4 : 0,
        () => ({
          text: p.of([
            "mod_tp_dst:8080",
            "mod_tp_src:1234",
            proto.startsWith("udp") ? "set_field:5353->udp_src" : "set_field:443->tcp_dst",
          ]),
          fam: ["set-l3l4"],
        }),
      ],
      [
        proto === "arp" ? 5 : 0,
        () => ({
          text: p.of([
            "set_field:2->arp_op",
            `set_field:${p.of(IPS)}->arp_spa`,
            `set_field:${p.of(MACS)}->arp_sha`,
            `load:0x2->NXM_OF_ARP_OP[]`,
          ]),
          fam: ["arp-rewrite"],
        }),
      ],
      [1, () => ({ text: "set_field:0x7->pkt_mark", fam: ["pkt_mark"] })],
    ];
    return p.w(opts.map(([w, f]) => [w, f] as const))();
  }

  move(proto: Proto): Act {
    const p = this.p;
    const opts: [number, string][] = [
      [6, "move:NXM_NX_REG14[]->NXM_NX_REG15[]"],
      [5, `move:NXM_NX_REG10[${p.int(0, 12)}]->NXM_NX_XXREG0[${p.int(96, 111)}]`],
      [4, "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]"],
      [4, "move:NXM_OF_IN_PORT[]->NXM_NX_REG2[0..15]"],
      [3, "move:OXM_OF_METADATA[0..23]->NXM_NX_REG11[0..23]"],
      [2, "move:NXM_NX_REG0[0..7]->NXM_NX_REG1[8..15]"],
      [isIp4(proto) ? 4 : 0, "move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]"],
      [isIp4(proto) ? 2 : 0, "move:NXM_OF_IP_DST[]->NXM_NX_XXREG0[96..127]"],
      [proto === "arp" ? 5 : 0, "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]"],
      [proto === "arp" ? 3 : 0, "move:NXM_OF_ARP_TPA[]->NXM_OF_ARP_SPA[]"],
      [proto === "tcp" ? 2 : 0, "move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[]"],
      [1, "move:NXM_NX_CT_MARK[0..7]->NXM_NX_REG3[0..7]"],
      [1, "move:NXM_OF_VLAN_TCI[0..11]->NXM_NX_REG4[0..11]"],
    ];
    const text = p.w(opts);
    const fam: Family[] = ["move"];
    if (/->NXM_(OF|NX)_ARP/.test(text)) fam.push("arp-rewrite");
    if (/->NXM_OF_(IP|TCP)_/.test(text)) fam.push("set-l3l4");
    return { text, fam };
  }

  vlan(): Act {
    const p = this.p;
    const v = p.of(VLANS);
    const tagged = this.of10 || this.vlanMatched;
    return {
      text: p.w([
        [5, `push_vlan:0x8100,set_field:${4096 + v}->vlan_vid`],
        [tagged ? 4 : 0, "pop_vlan"],
        [tagged ? 2 : 0, "strip_vlan"],
        [3, `mod_vlan_vid:${v}`],
        [tagged ? 2 : 0, "mod_vlan_pcp:3"],
        [1, `push_vlan:0x88a8,set_field:${4096 + v}->vlan_vid`],
        [tagged ? 1 : 0, `set_field:${4096 + v}->vlan_vid`],
        [2, `push_vlan:0x8100,set_field:${4096 + v}->vlan_vid,mod_vlan_pcp:5,pop_vlan`],
      ]),
      fam: ["vlan"],
    };
  }

  ctAction(b: BridgeCtx, table: number, proto: Proto): Act {
    const p = this.p;
    const later = b.tables.filter((t) => t > table);
    const zone = p.w([
      [5, "zone=NXM_NX_REG13[0..15]"],
      [2, "zone=NXM_NX_REG12[0..15]"],
      [3, `zone=${p.int(0, 9)}`],
      [1, ""],
    ]);
    const parts: string[] = [];
    const fam: Family[] = ["ct"];
    const commit = p.chance(0.45);
    if (commit) parts.push(p.chance(0.1) ? "commit,force" : "commit");
    if (later.length && p.chance(0.65)) parts.push(`table=${p.of(later)}`);
    if (zone) parts.push(zone);
    if (p.chance(0.45)) {
      fam.push("ct-nat");
      const ip6 = isIp6(proto);
      parts.push(
        p.w([
          [5, "nat"],
          [commit ? 3 : 0, ip6 ? "nat(src=fd00::9)" : `nat(src=${p.of(IPS)})`],
          [commit ? 3 : 0, ip6 ? "nat(dst=[fd00::2]:80)" : `nat(dst=${p.of(IPS)}:${p.of([80, 8080])})`],
          [commit ? 1 : 0, "nat(src=10.0.0.1-10.0.0.9:1000-2000,random)"],
          [commit ? 2 : 0, "nat(src)"],
        ]),
      );
    }
    if (commit && p.chance(0.5)) {
      fam.push("ct-exec");
      parts.push(
        `exec(${p.w([
          [4, `set_field:${p.of(["0/0x1", "0x1/0x1", "0x2/0x2"])}->ct_mark`],
          [2, "move:NXM_NX_XXREG0[0..31]->NXM_NX_CT_LABEL[96..127]"],
          [2, "set_field:0x1/0x1->ct_label"],
          [1, "load:0x5->NXM_NX_CT_MARK[]"],
        ])})`,
      );
    }
    if (p.chance(0.04)) parts.push("alg=ftp");
    return { text: `ct(${parts.join(",")})`, fam };
  }

  outputTo(b: BridgeCtx): Act {
    const p = this.p;
    const port = p.of(b.ports);
    const fam: Family[] = ["output"];
    if (port.type === "patch") fam.push("patch");
    if (port.type === "geneve" || port.type === "vxlan") fam.push("tunnel-out");
    return { text: p.chance(0.7) ? `output:${port.ofport}` : `${port.ofport}`.replace(/^/, "output:"), fam };
  }

  terminal(b: BridgeCtx, table: number, proto: Proto, depth: number): Act {
    return this.draw(
      () => this.terminalRaw(b, table, proto, depth),
      () => ({ text: `output:${this.plainPort(b).ofport}`, fam: ["output"] }),
    );
  }

  terminalRaw(b: BridgeCtx, table: number, proto: Proto, depth: number): Act {
    const p = this.p;
    const later = b.tables.filter((t) => t > table);
    const groups = [...b.groups.keys()];
    const opts: [number, () => Act][] = [
      [later.length ? 16 : 0, () => ({ text: `resubmit(,${p.of(later)})`, fam: ["resubmit"] })],
      [
        later.length && depth === 0 && !this.of10 ? 5 : 0,
        () => ({ text: `goto_table:${p.of(later)}`, fam: ["goto_table"] }),
      ],
      // Only forward: loops make the real ofproto/trace run for minutes (see README).
      [
        later.length ? 2 : 0,
        () => ({ text: `resubmit(${p.of(b.ports).ofport},${p.of(later)})`, fam: ["resubmit"] }),
      ],
      [14, () => this.outputTo(b)],
      [5, () => ({ text: "NORMAL", fam: ["normal"] })],
      [4, () => ({ text: "drop", fam: ["drop"] })],
      [2, () => ({ text: p.of(["IN_PORT", "in_port", "output:in_port"]), fam: ["special-port"] })],
      [1, () => ({ text: "LOCAL", fam: ["special-port"] })],
      [2, () => ({ text: p.of(["FLOOD", "ALL"]), fam: ["flood"] })],
      [
        groups.length && later.length && !this.of10 ? 8 : 0,
        () => {
          const g = p.of(groups);
          return { text: `group:${g}`, fam: [...(b.groups.get(g) ?? [])] };
        },
      ],
      [later.length && (isIpAny(proto) || this.of10) ? 5 : 0, () => this.ctAction(b, table, proto)],
      [
        2,
        () => {
          const port = p.of(
            b.ports.filter((x) => x.ofport < 16).length ? b.ports.filter((x) => x.ofport < 16) : b.ports,
          );
          return {
            text: `load:${port.ofport}->NXM_NX_REG5[0..15],output:NXM_NX_REG5[0..15]`,
            fam: ["load", "output-reg"],
          };
        },
      ],
      [
        1,
        () => ({
          text: `output(port=${p.of(b.ports).ofport},max_len=${p.of([64, 128])})`,
          fam: ["output-trunc"],
        }),
      ],
      [
        2,
        () => ({
          text: p.of([
            "controller",
            "controller(userdata=00.00.00.12.00.00.00.00)",
            "CONTROLLER:65535",
            "controller(reason=no_match,id=5)",
            "controller(userdata=00.00.00.0c.00.00.00.00,pause)",
          ]),
          fam: ["controller"],
        }),
      ],
      [
        b.meters.length ? 1 : 0,
        () => ({
          text: `controller(userdata=00.00.00.02.00.00.00.00,meter_id=${p.of(b.meters)})`,
          fam: ["controller", "meter"],
        }),
      ],
      [1, () => ({ text: p.of(["enqueue:1:3", `enqueue(${p.of(b.ports).ofport},1)`]), fam: ["queue"] })],
      [
        depth < 2 ? 2 : 0,
        () => {
          const inner = this.actionList(b, table, proto, depth + 1, 1, 3);
          return { text: `clone(${inner.text})`, fam: ["clone", ...inner.fam] };
        },
      ],
      [1, () => ({ text: "exit", fam: ["exit"] })],
    ];
    return p.w(opts)();
  }

  /** One non-terminal action. */
  middle(b: BridgeCtx, table: number, proto: Proto, depth: number): Act {
    return this.draw(
      () => this.middleRaw(b, table, proto, depth),
      () => ({ text: `set_field:${this.p.hex(this.p.int(1, 8))}->reg13`, fam: ["set-field"] }),
    );
  }

  middleRaw(b: BridgeCtx, table: number, proto: Proto, _depth: number): Act {
    const p = this.p;
    const later = b.tables.filter((t) => t > table);
    const opts: [number, () => Act][] = [
      [22, () => this.setField(proto)],
      [10, () => this.move(proto)],
      [5, () => this.vlan()],
      [
        isIpAny(proto) ? 4 : this.of10 ? 1 : 0,
        () => ({ text: p.of(["dec_ttl", "dec_ttl", "dec_ttl(1,2)"]), fam: ["dec_ttl"] }),
      ],
      [2, () => ({ text: "ct_clear", fam: ["ct_clear"] })],
      [later.length ? 4 : 0, () => ({ text: `resubmit(,${p.of(later)})`, fam: ["resubmit"] })],
      [4, () => this.outputTo(b)],
      [3, () => ({ text: `note:${p.of(["00.01.02", "ab.cd", "de.ad.be.ef.00"])}`, fam: ["note"] })],
      [
        3,
        () => {
          const f = p.of(["NXM_NX_REG0[]", "NXM_OF_ETH_SRC[]", "NXM_OF_IN_PORT[]", "NXM_NX_REG14[0..15]"]);
          const g = p.of(["NXM_NX_REG1[]", "NXM_OF_ETH_DST[]", "NXM_NX_REG14[0..15]"]);
          return p.chance(0.5)
            ? { text: `push:${f},pop:${f}`, fam: ["stack"] }
            : f === "NXM_OF_ETH_SRC[]"
              ? {
                  text: "push:NXM_OF_ETH_SRC[],push:NXM_OF_ETH_DST[],pop:NXM_OF_ETH_SRC[],pop:NXM_OF_ETH_DST[]",
                  fam: ["stack"],
                }
              : f === "NXM_OF_IN_PORT[]" && later.length
                ? {
                    text: `push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,${p.of(later)}),pop:NXM_OF_IN_PORT[]`,
                    fam: ["stack", "resubmit"],
                  }
                : { text: `push:${g},pop:${g}`, fam: ["stack"] };
        },
      ],
      [
        2,
        () => ({
          text: `check_pkt_larger(${p.of([64, 1500, 1514])})->NXM_NX_REG0[6]`,
          fam: ["check_pkt_larger"],
        }),
      ],
      [
        2,
        () => ({
          text: `multipath(${p.of(["symmetric_l4", "eth_src", "symmetric_l3l4+udp", "nw_dst", "symmetric_l3"])},${p.of([0, 50])},${p.of(["modulo_n", "hash_threshold", "hrw", "iter_hash"])},${p.of([2, 3, 4])},0,NXM_NX_REG0[0..3])`,
          fam: ["multipath"],
        }),
      ],
      [
        2,
        () => {
          const ms = b.ports.filter((x) => x.type === "dummy").slice(0, 3);
          const members = (ms.length ? ms : b.ports.slice(0, 2)).map((x) => x.ofport).join(",");
          return p.chance(0.5)
            ? {
                text: `bundle(${p.of(["eth_src", "symmetric_l4", "symmetric_l3l4"])},0,${p.of(["hrw", "active_backup"])},ofport,members:${members})`,
                fam: ["bundle"],
              }
            : {
                text: `bundle_load(${p.of(["eth_src", "symmetric_l4"])},0,${p.of(["hrw", "active_backup"])},ofport,NXM_NX_REG6[],members:${members})`,
                fam: ["bundle"],
              };
        },
      ],
      [2, () => this.learn(b, table, proto)],
      [
        1,
        () => ({
          text: `sample(probability=${p.of([65535, 100])},collector_set_id=1,obs_domain_id=2,obs_point_id=3)`,
          fam: ["sample"],
        }),
      ],
      [1, () => ({ text: p.of(["set_queue:1", "set_queue:2,pop_queue"]), fam: ["queue"] })],
      [
        proto === "tcp" || proto === "tcp6" || this.of10 ? 1 : 0,
        () => ({ text: `fin_timeout(idle_timeout=${p.of([10, 30])},hard_timeout=60)`, fam: ["fin_timeout"] }),
      ],
      [
        1,
        () => ({
          text: p.of([
            "push_mpls:0x8847,set_field:10->mpls_label",
            "push_mpls:0x8847,set_mpls_ttl(9),dec_mpls_ttl",
            this.of10 ? "pop_mpls:0x0800" : "push_mpls:0x8847,pop_mpls:0x0800",
            "push_mpls:0x8848,set_mpls_label(5),set_mpls_tc(3)",
            "push_mpls:0x8847,move:NXM_NX_REG0[0..19]->OXM_OF_MPLS_LABEL[],push_mpls:0x8847",
            "push_mpls:0x8847,move:OXM_OF_MPLS_LABEL[]->NXM_NX_REG1[0..19],set_mpls_ttl(1)",
            // Label stacks on MPLS packets; OpenFlow 1.1+ needs an MPLS match for these.
            this.of10 ? "dec_mpls_ttl,set_mpls_ttl(7)" : "push_mpls:0x8847,pop_mpls:0x8847",
            this.of10 ? "pop_mpls:0x8847,pop_mpls:0x0800" : "push_mpls:0x8847,dec_mpls_ttl",
            this.of10 ? "pop_mpls:0x86dd,dec_ttl" : "push_mpls:0x8848,push_mpls:0x8847,pop_mpls:0x86dd",
          ]),
          fam: ["mpls"],
        }),
      ],
      [
        b.tlv ? 4 : 1,
        () => ({
          text: p.of([
            "set_field:0x5->tun_id",
            "set_tunnel:0x6",
            "set_tunnel64:0x7",
            "set_field:192.168.0.9->tun_dst",
            b.tlv ? "move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30]" : "set_field:0x8->tun_id",
          ]),
          fam: ["tunnel-set"],
        }),
      ],
    ];
    return p.w(opts)();
  }

  learn(b: BridgeCtx, table: number, proto: Proto): Act {
    const p = this.p;
    const target = p.of(
      b.tables.filter((t) => t !== table).length ? b.tables.filter((t) => t !== table) : b.tables,
    );
    const spec = p.w([
      [
        3,
        `learn(table=${target},priority=${p.of([100, 10])},idle_timeout=${p.of([0, 30])},NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15])`,
      ],
      [
        isIp4(proto) && proto === "tcp" ? 3 : 0,
        `learn(table=${target},delete_learned,cookie=0x${(0xf8a07744).toString(16)},OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.180.204.252,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7])`,
      ],
      [
        2,
        `learn(table=${target},hard_timeout=10,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])`,
      ],
      [
        proto === "arp" ? 2 : 0,
        `learn(table=${target},priority=100,reg15=0x1,eth_type=0x806,NXM_OF_ARP_SPA[]=NXM_OF_ARP_TPA[],load:NXM_NX_ARP_SHA[]->NXM_OF_ETH_DST[])`,
      ],
      [
        1,
        `learn(table=${target},limit=10,result_dst=NXM_NX_REG0[3],NXM_OF_ETH_SRC[],load:0x1->NXM_NX_REG9[])`,
      ],
    ]);
    return { text: spec, fam: ["learn"] };
  }

  actionList(b: BridgeCtx, table: number, proto: Proto, depth: number, lo: number, hi: number): Act {
    const n = this.p.int(lo, hi);
    const texts: string[] = [];
    const fam: Family[] = [];
    for (let i = 0; i < n; i++) {
      const a = this.middle(b, table, proto, depth);
      texts.push(a.text);
      fam.push(...a.fam);
    }
    const t = this.terminal(b, table, proto, depth);
    // "drop" must be the only action (ovs-ofctl); after others, dropping is ending the list.
    if (t.text !== "drop" || texts.length === 0) texts.push(t.text);
    fam.push(...t.fam);
    if (t.text.startsWith("goto_table:")) return { text: texts.join(","), fam };
    // OVN often restores a register after the resubmit, and clears the ct state first.
    if (texts[texts.length - 1] !== "drop" && this.p.chance(0.08))
      texts.push(`set_field:${this.p.hex(this.p.int(1, 9))}->reg15`);
    return { text: texts.join(","), fam };
  }

  /** Instruction forms: apply-actions plus, sometimes, OpenFlow 1.1+ instructions. */
  instructions(b: BridgeCtx, table: number, proto: Proto): Act {
    return this.draw(
      () => this.instructionsRaw(b, table, proto),
      () => this.actionList(b, table, proto, 0, 0, 2),
    );
  }

  instructionsRaw(b: BridgeCtx, table: number, proto: Proto): Act {
    const p = this.p;
    const later = b.tables.filter((t) => t > table);
    const r = this.of10 ? 1 : p.r();
    if (r < 0.05) {
      const a = this.actionList(b, table, proto, 1, 0, 1);
      return { text: `${a.text === "drop" ? "" : `${a.text},`}clear_actions`, fam: ["action-set", ...a.fam] };
    }
    if (r < 0.11 && later.length) {
      const w = p.of([
        `write_actions(output:${p.of(b.ports).ofport})`,
        `write_actions(set_field:${p.of(MACS)}->eth_dst,output:${p.of(b.ports).ofport})`,
        b.groups.size ? `write_actions(group:${p.of([...b.groups.keys()])})` : "write_actions(drop)",
        "clear_actions",
      ]);
      const pre = p.chance(0.5) ? `${this.setField(proto).text},` : "";
      return { text: `${pre}${w},goto_table:${p.of(later)}`, fam: ["action-set", "goto_table"] };
    }
    if (r < 0.16 && later.length) {
      const pre = p.chance(0.6) ? `${this.setField(proto).text},` : "";
      return {
        text: `${pre}write_metadata:${p.hex(p.int(1, 7))}/0xff,goto_table:${p.of(later)}`,
        fam: ["write_metadata", "goto_table"],
      };
    }
    const a = this.actionList(b, table, proto, 0, 0, 3);
    // A meter instruction comes first (OpenFlow 1.1+ instruction order).
    if (b.meters.length && !this.of10 && p.chance(0.08) && a.text !== "drop")
      return { text: `meter:${p.of(b.meters)},${a.text}`, fam: ["meter", ...a.fam] };
    return a;
  }

  flow(_b: BridgeCtx, table: number, prio: number, match: string[], act: Act): string {
    const c = this.nextCookie(act.fam);
    const m = match.filter((x) => x !== "");
    return `cookie=${this.p.hex(c)},table=${table},priority=${prio}${m.length ? `,${m.join(",")}` : ""},actions=${act.text}`;
  }

  /** A conjunctive match in one table: k dimensions of alternatives, then the conj_id flow. */
  conjunction(b: BridgeCtx, table: number, out: string[]): void {
    const p = this.p;
    const id = p.int(1, 50);
    const prio = p.of([1000, 2002, 100]);
    const n = p.int(2, 3);
    const proto = p.of<Proto>(["ip", "tcp"]);
    const dims: string[][] = [
      IPS.slice(0, 4).map((ip) => `nw_src=${ip}`),
      IPS.slice(0, 5).map((ip) => `nw_dst=${ip}`),
      proto === "tcp"
        ? TCP_PORTS.slice(0, 3).map((x) => `tp_dst=${x}`)
        : ["reg14=0x1", "reg14=0x2", "reg14=0x3"],
    ];
    for (let k = 0; k < n; k++) {
      const alts = dims[k]!.filter(() => p.chance(0.6));
      for (const alt of alts.length ? alts : [dims[k]![0]!]) {
        // Some alternatives belong to two conjunctions, as OVN emits for shared address sets.
        const extra = p.chance(0.15) ? `,conjunction(${id + 100},1/2)` : "";
        out.push(
          this.flow(b, table, prio, [proto, alt], {
            text: `conjunction(${id},${k + 1}/${n})${extra}`,
            fam: ["conjunction"],
          }),
        );
      }
    }
    const later = b.tables.filter((t) => t > table);
    const act = later.length
      ? {
          text: `set_field:0x2/0x2->reg0,resubmit(,${p.of(later)})`,
          fam: ["set-field", "resubmit"] as Family[],
        }
      : this.terminal(b, table, proto, 0);
    out.push(
      this.flow(b, table, prio, [`conj_id=${id}`, proto], {
        text: act.text,
        fam: ["conjunction", ...act.fam],
      }),
    );
    if (p.chance(0.3))
      out.push(
        this.flow(b, table, prio, [`conj_id=${id + 100}`, proto], {
          text: "drop",
          fam: ["conjunction", "drop"],
        }),
      );
  }

  groups(b: BridgeCtx, proto: Proto): string[] {
    const p = this.p;
    const out: string[] = [];
    if (b.of10) return out;
    const n = p.w([
      [3, 0],
      [4, 1],
      [3, 2],
      [1, 3],
    ]);
    for (let i = 0; i < n; i++) {
      const id = i + 1;
      const kind = p.w<string>([
        [6, "select-hash"],
        [2, "select-hash-1"],
        [3, "select-dp_hash"],
        [2, "select-default"],
        [4, "all"],
        [2, "indirect"],
        [2, "ff"],
      ]);
      const nb = kind === "indirect" ? 1 : p.int(1, 3);
      const withIds = p.chance(0.7);
      const buckets: string[] = [];
      const fam: Family[] = [];
      for (let k = 0; k < nb; k++) {
        const bucketActs = this.groupBucket(b, proto);
        fam.push(...bucketActs.fam);
        const wt = kind.startsWith("select") ? `weight:${p.of([100, 100, 50, 10])},` : "";
        const watch = kind === "ff" ? `watch_port:${p.of(b.ports).ofport},` : "";
        const bid = withIds ? `bucket_id:${k},` : "";
        buckets.push(`bucket=${bid}${wt}${watch}actions=${bucketActs.text}`);
      }
      let head = `group_id=${id},type=`;
      switch (kind) {
        case "select-hash": {
          const fields = p.of([
            "ip_src,tcp_src",
            "ip_dst,tcp_dst",
            "eth_dst,ip_dst,udp_dst",
            "ip_src,ip_dst",
            "eth_src,eth_dst",
          ]);
          head += `select,selection_method=hash,fields(${fields})`;
          fam.push("group-select-hash");
          break;
        }
        case "select-hash-1":
          head += `select,selection_method=hash,fields=${p.of(["ip_dst", "ip_src", "eth_src", "tcp_dst"])}`;
          fam.push("group-select-hash-1field");
          break;
        case "select-dp_hash":
          head += `select,selection_method=dp_hash${p.chance(0.3) ? ",selection_method_param=0" : ""}`;
          fam.push("group-select-dp_hash");
          break;
        case "select-default":
          head += "select";
          fam.push("group-select-default");
          break;
        case "all":
          head += "all";
          fam.push("group-all");
          break;
        case "indirect":
          head += "indirect";
          fam.push("group-indirect");
          break;
        case "ff":
          head += "ff";
          fam.push("group-ff");
          break;
      }
      if (!this.ok(fam)) continue;
      b.groups.set(id, [...new Set(fam)]);
      out.push(`${head},${buckets.join(",")}`);
    }
    return out;
  }

  groupBucket(b: BridgeCtx, proto: Proto): Act {
    return this.draw(
      () => this.groupBucketRaw(b, proto),
      () => ({ text: `output:${this.plainPort(b).ofport}`, fam: ["output"] }),
    );
  }

  groupBucketRaw(b: BridgeCtx, proto: Proto): Act {
    const p = this.p;
    this.vlanMatched = false;
    // Buckets continue only in the bridge's last table, and only earlier tables call groups:
    // a ct(table=N) that comes back to its own table recirculates forever, and the real
    // ofproto/trace then never returns (ovs-vswitchd stops answering).
    const t = b.tables.length > 1 ? [b.tables[b.tables.length - 1]!] : [];
    return p.w<() => Act>([
      [5, () => this.outputTo(b)],
      [
        3,
        () => {
          const s = this.setField(proto);
          const o = this.outputTo(b);
          return { text: `${s.text},${o.text}`, fam: [...s.fam, ...o.fam] };
        },
      ],
      [
        t.length ? 4 : 0,
        () => ({
          text: `ct(commit,table=${p.of(t)},zone=NXM_NX_REG13[0..15],nat(dst=${p.of(IPS)}:${p.of([80, 8080])}),exec(set_field:0x2/0x2->ct_mark))`,
          fam: ["ct", "ct-nat", "ct-exec"],
        }),
      ],
      [
        t.length ? 2 : 0,
        () => ({
          text: `set_field:${p.hex(p.int(1, 4))}->reg15,resubmit(,${p.of(t)})`,
          fam: ["set-field", "resubmit"],
        }),
      ],
      [1, () => ({ text: "NORMAL", fam: ["normal"] })],
      [1, () => ({ text: "drop", fam: ["drop"] })],
    ])();
  }

  /** The flows of one bridge: tables in use, each ending in a miss flow most of the time. */
  tables(b: BridgeCtx, perTable: [number, number], ovnish: boolean): string[] {
    const p = this.p;
    const out: string[] = [];
    for (const table of b.tables) {
      const n = p.int(perTable[0], perTable[1]);
      for (let i = 0; i < n; i++) {
        if (p.chance(ovnish ? 0.07 : 0.04) && this.ok(["conjunction", "set-field", "resubmit", "drop"])) {
          this.conjunction(b, table, out);
          continue;
        }
        const proto = this.proto();
        const m = [...this.protoText(proto), ...this.matchAtoms(proto, b, ovnish ? 3 : 2)];
        if (ovnish && p.chance(0.7)) m.push(`metadata=${p.hex(p.of([1, 1, 2]))}`);
        this.vlanMatched = m.some((x) => x.startsWith("dl_vlan=") || x === "vlan_tci=0x1000/0x1000");
        const prio = p.w([
          [4, p.of([100, 110, 120, 50, 90])],
          [2, p.int(1, 200)],
          [1, p.of([65535, 65532, 34000, 150])],
        ]);
        out.push(this.flow(b, table, prio, [...new Set(m)], this.instructions(b, table, proto)));
      }
      if (p.chance(0.8)) {
        const later = b.tables.filter((t) => t > table);
        const miss =
          later.length && p.chance(0.75)
            ? { text: `resubmit(,${later[0]})`, fam: ["resubmit"] as Family[] }
            : p.chance(0.5)
              ? { text: "drop", fam: ["drop"] as Family[] }
              : { text: "NORMAL", fam: ["normal"] as Family[] };
        out.push(this.flow(b, table, 0, ovnish && p.chance(0.5) ? ["metadata=0x1"] : [], miss));
      }
    }
    return out;
  }

  // ---------- topologies ----------

  ctx(
    name: string,
    ports: GenPort[],
    tables: number[],
    meters: number[],
    tlv: boolean,
    of10 = false,
  ): BridgeCtx {
    this.of10 = of10;
    this.vlanMatched = false;
    return {
      name,
      ports,
      nTables: tables.length,
      groups: new Map(),
      meters: of10 ? [] : meters,
      tlv,
      tables,
      of10,
    };
  }

  tableSet(ovnish: boolean): number[] {
    const p = this.p;
    if (ovnish) {
      const pool = [0, 8, 9, 10, 13, 14, 15, 16, 20, 22, 23, 27, 37, 38, 39, 40, 64, 65, 68, 69, 73];
      const picked = pool.filter((t) => t === 0 || p.chance(0.35));
      return picked.length >= 3 ? picked : [0, 8, 37, 65];
    }
    const n = p.int(1, 5);
    const t = [0];
    for (let i = 1; i < n; i++) t.push(t[t.length - 1]! + p.int(1, 4));
    return t;
  }
}

function programBridges(
  g: Gen,
  id: number,
  kind: ProgramKind,
): { bridges: GenBridge[]; entry: string[]; ctxs: BridgeCtx[] } {
  const p = g.p;
  const pre = `g${id}`;
  const mk = (n: string): string => `${pre}${n}`;
  const bridges: GenBridge[] = [];
  const ctxs: BridgeCtx[] = [];
  const vifs = (br: string, n: number, first: number): GenPort[] =>
    Array.from({ length: n }, (_, i) => ({
      name: `${br}v${i + 1}`,
      ofport: first + i,
      type: "dummy" as const,
    }));
  const finish = (b: BridgeCtx, flows: string[], groups: string[], extra?: Partial<GenBridge>): void => {
    ctxs.push(b);
    bridges.push({
      name: b.name,
      ports: b.ports,
      flows,
      groups,
      meters: b.meters.map(
        (m) => `meter=${m},${p.of(["kbps", "pktps"])},band=type=drop,rate=${p.of([1000, 10])}`,
      ),
      ...(b.tlv ? { tlvMap: "{class=0x102,type=0x80,len=4}->tun_metadata0" } : {}),
      ...(b.of10 ? { openflow10: true } : {}),
      ...extra,
    });
  };
  const entry: string[] = [];
  switch (kind) {
    case "ovn-br-int": {
      // br-int: VIFs, a patch to the provider bridge (localnet), maybe Geneve/VXLAN tunnels.
      const bi = mk("i");
      const bp = mk("p");
      const ports: GenPort[] = [...vifs(bi, p.int(1, 3), 11)];
      ports.push({ name: `${bi}-pl`, ofport: 1, type: "patch", peer: `${bp}-pi` });
      const tunnels = p.chance(0.4) && g.ok(["tunnel-in", "tunnel-out", "tunnel-set", "move"]);
      if (tunnels) {
        ports.push({
          name: `${bi}-gnv`,
          ofport: 5,
          type: "geneve",
          options: { remote_ip: "192.168.0.2", key: "flow", csum: "true" },
        });
        if (p.chance(0.4))
          ports.push({
            name: `${bi}-vx`,
            ofport: 6,
            type: "vxlan",
            options: { remote_ip: "flow", key: "flow" },
          });
      }
      const meters = p.chance(0.15) && g.ok(["meter"]) ? [1] : [];
      const b = g.ctx(bi, ports, g.tableSet(true), meters, tunnels);
      const groups = g.groups(b, "tcp");
      const flows = ovnTable0(g, b);
      flows.push(...g.tables({ ...b, tables: b.tables.filter((t) => t !== 0) }, [1, 5], true));
      flows.push(...ovnOutput(g, b));
      finish(b, flows, groups);
      // br-provider: NIC (trunk or access) + patch, NORMAL, sometimes a Kube-OVN flow.
      const pports: GenPort[] = [
        { name: `${bp}-pi`, ofport: 1, type: "patch", peer: `${bi}-pl` },
        {
          name: `${bp}-eth`,
          ofport: 2,
          type: "dummy",
          ...(p.chance(0.3) && g.ok(["vlan-port"]) ? { trunks: [341, 10] } : {}),
        },
      ];
      const pb = g.ctx(bp, pports, [0], [], false);
      finish(pb, providerFlows(g, pb), []);
      entry.push(bi, bi, bi, bp);
      break;
    }
    case "kubeovn-provider": {
      const bp = mk("p");
      const bi = mk("i");
      const pports: GenPort[] = [
        {
          name: `${bp}-eth`,
          ofport: 1,
          type: "dummy",
          ...(p.chance(0.5) || !g.ok(["vlan-port"]) ? {} : { trunks: [341] }),
        },
        { name: `${bp}-pi`, ofport: 2, type: "patch", peer: `${bi}-pp` },
        {
          name: `${bp}-u341`,
          ofport: 3,
          type: "internal" as PortType,
          ...(p.chance(0.5) && g.ok(["vlan-port"]) ? { tag: 341 } : {}),
        },
      ];
      const pb = g.ctx(bp, pports, [0], [], false);
      finish(pb, providerFlows(g, pb), []);
      const iports: GenPort[] = [
        { name: `${bi}-pp`, ofport: 1, type: "patch", peer: `${bp}-pi` },
        ...vifs(bi, 2, 11),
      ];
      const ib = g.ctx(bi, iports, g.tableSet(true).slice(0, 4), [], false);
      const groups = g.groups(ib, "tcp");
      const flows = ovnTable0(g, ib);
      flows.push(...g.tables({ ...ib, tables: ib.tables.filter((t) => t !== 0) }, [1, 3], true));
      flows.push(...ovnOutput(g, ib));
      finish(ib, flows, groups);
      entry.push(bp, bp, bp, bi);
      break;
    }
    case "random": {
      const n = p.w([
        [5, 1],
        [3, 2],
        [1, 3],
      ]);
      const names = Array.from({ length: n }, (_, i) => mk(`r${i}`));
      const allPorts: GenPort[][] = names.map((br) => vifs(br, p.int(2, 4), 1));
      // Patch links between consecutive bridges, sometimes a tunnel port.
      for (let i = 0; i + 1 < n; i++) {
        allPorts[i]!.push({ name: `${names[i]}-x`, ofport: 9, type: "patch", peer: `${names[i + 1]}-y` });
        allPorts[i + 1]!.push({ name: `${names[i + 1]}-y`, ofport: 8, type: "patch", peer: `${names[i]}-x` });
      }
      const tlv = p.chance(0.15) && g.ok(["tunnel-in", "tunnel-out", "tunnel-set"]);
      if (tlv)
        allPorts[0]!.push({
          name: `${names[0]}-t`,
          ofport: 7,
          type: p.of<PortType>(["geneve", "vxlan"]),
          options: { remote_ip: "flow", key: "flow" },
        });
      for (const [i, br] of names.entries()) {
        const ports = allPorts[i]!;
        // Some access/trunk ports for NORMAL.
        const tagged = ports.map((pt) =>
          pt.type === "dummy" && p.chance(0.25) && g.ok(["vlan-port"])
            ? { ...pt, ...(p.chance(0.5) ? { tag: p.of(VLANS) } : { trunks: [10, 20] }) }
            : pt,
        );
        const b = g.ctx(
          br,
          tagged,
          g.tableSet(false),
          p.chance(0.1) && g.ok(["meter"]) ? [1, 2] : [],
          tlv && i === 0,
          p.chance(0.25),
        );
        const groups = g.groups(b, p.of<Proto>(["tcp", "ip", "any"]));
        finish(b, g.tables(b, [2, 7], false), groups);
        entry.push(br);
      }
      entry.push(names[0]!);
      break;
    }
    case "vlan-normal": {
      const br = mk("v");
      const ports: GenPort[] = [];
      const np = p.int(3, 5);
      for (let i = 0; i < np; i++) {
        const mode = p.w<string>([
          [4, "access"],
          [3, "trunk"],
          [2, "plain"],
          [1, "native-untagged"],
          [1, "native-tagged"],
        ]);
        const base = { name: `${br}p${i + 1}`, ofport: i + 1, type: "dummy" as const };
        if (mode === "access") ports.push({ ...base, tag: p.of(VLANS) });
        else if (mode === "trunk") ports.push({ ...base, trunks: p.chance(0.5) ? [10, 20] : [20, 30, 341] });
        else if (mode === "plain") ports.push(base);
        else
          ports.push({
            ...base,
            tag: p.of(VLANS),
            trunks: [10, 20, 30],
            vlanMode: mode as "native-untagged" | "native-tagged",
          });
      }
      const b = g.ctx(br, ports, [0, 1], [], false, true);
      const flows: string[] = [];
      // VLAN push/pop around NORMAL and outputs to trunks (what the issue's captures tripped on).
      for (let i = 0; i < p.int(1, 4); i++) {
        const inp = p.of(ports);
        const acts = p.of([
          "pop_vlan,NORMAL",
          `push_vlan:0x8100,set_field:${4096 + p.of(VLANS)}->vlan_vid,NORMAL`,
          `mod_vlan_vid:${p.of(VLANS)},NORMAL`,
          `strip_vlan,output:${p.of(ports).ofport}`,
          "NORMAL,pop_vlan",
          `push_vlan:0x8100,set_field:${4096 + p.of(VLANS)}->vlan_vid,output:${p.of(ports).ofport},pop_vlan,output:${p.of(ports).ofport}`,
          "dec_ttl,IN_PORT",
          `dec_ttl,output:${inp.ofport}`,
          "resubmit(,1)",
        ]);
        const m = [
          `in_port=${inp.ofport}`,
          ...(p.chance(0.5) ? [p.of([`dl_vlan=${p.of(VLANS)}`, "vlan_tci=0/0x1000", "ip", "arp"])] : []),
        ];
        const fam: Family[] = ["vlan"];
        if (acts.includes("NORMAL")) fam.push("normal");
        if (acts.includes("output")) fam.push("output");
        if (acts.includes("dec_ttl")) fam.push("dec_ttl");
        if (acts.includes("IN_PORT")) fam.push("special-port");
        if (acts.includes("resubmit")) fam.push("resubmit");
        flows.push(g.flow(b, 0, p.of([100, 200, 50]), m, { text: acts, fam }));
      }
      flows.push(g.flow(b, 0, 0, [], { text: "NORMAL", fam: ["normal"] }));
      flows.push(g.flow(b, 1, 0, [], { text: p.of(["NORMAL", "FLOOD", "ALL"]), fam: ["flood"] }));
      finish(b, flows, []);
      entry.push(br);
      break;
    }
  }
  return { bridges, entry, ctxs };
}

/** ovn-controller's table 0: physical port → logical datapath/port registers, then table 8. */
function ovnTable0(g: Gen, b: BridgeCtx): string[] {
  const p = g.p;
  const out: string[] = [];
  const next = b.tables.find((t) => t > 0) ?? 0;
  let lport = 1;
  for (const port of b.ports) {
    const regs = `set_field:${p.hex(p.int(1, 6))}->reg13,set_field:0x3->reg11,set_field:0x2->reg12,set_field:0x1->metadata,set_field:${p.hex(lport++)}->reg14`;
    if (port.type === "patch") {
      out.push(
        g.flow(b, 0, 150, [`in_port=${port.ofport}`, "dl_vlan=341"], {
          text: `pop_vlan,${regs},resubmit(,${next})`,
          fam: ["vlan", "set-field", "resubmit"],
        }),
      );
      out.push(
        g.flow(b, 0, 100, [`in_port=${port.ofport}`, "vlan_tci=0/0x1000"], {
          text: `${regs},resubmit(,${next})`,
          fam: ["set-field", "resubmit"],
        }),
      );
    } else if (port.type === "geneve" || port.type === "vxlan") {
      const t =
        port.type === "geneve" && b.tlv
          ? `move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,${b.tables.includes(38) ? 38 : next})`
          : `move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],resubmit(,${next})`;
      out.push(
        g.flow(b, 0, 100, [`in_port=${port.ofport}`], { text: t, fam: ["tunnel-in", "move", "resubmit"] }),
      );
    } else {
      out.push(
        g.flow(b, 0, 100, [`in_port=${port.ofport}`], {
          text: `${regs},resubmit(,${next})`,
          fam: ["set-field", "resubmit"],
        }),
      );
    }
  }
  out.push(g.flow(b, 0, 0, [], { text: "drop", fam: ["drop"] }));
  return out;
}

/** ovn-controller's output tables: remote (tunnel), local, egress, then the physical output. */
function ovnOutput(g: Gen, b: BridgeCtx): string[] {
  const p = g.p;
  const out: string[] = [];
  const last = b.tables[b.tables.length - 1]!;
  const t = b.tables.includes(65) ? 65 : last;
  let lport = 1;
  for (const port of b.ports) {
    const m = [`reg15=${p.hex(lport++)}`, "metadata=0x1"];
    if (port.type === "patch") {
      out.push(
        g.flow(b, t, 100, m, {
          text: `push_vlan:0x8100,set_field:4437->vlan_vid,output:${port.ofport},pop_vlan`,
          fam: ["vlan", "output", "patch"],
        }),
      );
    } else if (port.type === "geneve") {
      const a = b.tlv
        ? `set_field:0x1->tun_id,set_field:${p.hex(0x10002)}->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:${port.ofport}`
        : `set_field:0x1->tun_id,output:${port.ofport}`;
      out.push(g.flow(b, t, 100, m, { text: a, fam: ["tunnel-set", "tunnel-out", "move"] }));
    } else if (port.type === "vxlan") {
      out.push(
        g.flow(b, t, 100, m, {
          text: `set_field:0x2->tun_id,set_field:192.168.0.3->tun_dst,output:${port.ofport}`,
          fam: ["tunnel-set", "tunnel-out"],
        }),
      );
    } else {
      out.push(g.flow(b, t, 100, m, { text: `output:${port.ofport}`, fam: ["output"] }));
    }
  }
  if (b.tables.includes(64) && t === 65 && g.ok(["stack", "resubmit"]))
    out.push(
      g.flow(b, 64, 100, ["reg10=0x1/0x1"], {
        text: "push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]",
        fam: ["stack", "resubmit"],
      }),
    );
  return out;
}

/** The provider bridge: NORMAL plus, sometimes, Kube-OVN's svc-local flow (mod_dl_dst + output). */
function providerFlows(g: Gen, b: BridgeCtx): string[] {
  const p = g.p;
  const out: string[] = [];
  const nic = b.ports.find((x) => x.name.endsWith("-eth"))!;
  const patch = b.ports.find((x) => x.type === "patch")!;
  if (p.chance(0.6)) {
    out.push(
      g.flow(
        b,
        0,
        10000,
        [
          `in_port=${nic.ofport}`,
          p.of(["tcp", "udp"]),
          `nw_dst=${p.of(IPS.slice(0, 3))}`,
          `tp_dst=${p.of([80, 53])}`,
        ],
        {
          text: `mod_dl_dst:00:00:00:01:00:01,output:${patch.ofport}`,
          fam: ["set-field", "output", "patch"],
        },
      ),
    );
  }
  if (p.chance(0.3))
    out.push(
      g.flow(b, 0, 200, [`in_port=${nic.ofport}`, `dl_vlan=${p.of(VLANS)}`], {
        text: `pop_vlan,output:${patch.ofport}`,
        fam: ["vlan", "output", "patch"],
      }),
    );
  out.push(g.flow(b, 0, 0, [], { text: "NORMAL", fam: ["normal"] }));
  return out;
}

/** A packet to trace into `bridge`, mostly shaped to hit the program's flows. */
function packet(g: Gen, b: GenBridge): GenCase {
  const p = g.p;
  const port = p.of(b.ports);
  const parts: string[] = [`in_port=${port.ofport}`];
  const trunkish = port.trunks !== undefined || port.type === "patch" || port.tag === undefined;
  if (trunkish && p.chance(0.3)) {
    parts.push(`dl_vlan=${p.of(port.trunks ?? VLANS)}`);
    if (p.chance(0.2)) parts.push("dl_vlan_pcp=5");
  }
  if (port.type === "geneve" || port.type === "vxlan") {
    parts.push(`tun_id=${p.hex(p.of([1, 5, 0x10]))}`, "tun_src=192.168.0.2", "tun_dst=192.168.0.1");
    if (port.type === "geneve" && b.tlvMap && p.chance(0.7))
      parts.push(`tun_metadata0=${p.hex(p.of([0x10002, 0x30001]))}`);
  }
  if (p.chance(0.15)) parts.push(`reg${p.of([0, 10, 14, 15])}=${p.hex(p.of([1, 2, 0x40, 0x1000]))}`);
  if (p.chance(0.1)) parts.push(`metadata=${p.hex(p.of([1, 2]))}`);
  parts.push(`dl_src=${p.of(MACS.slice(0, 4))}`, `dl_dst=${p.of(MACS)}`);
  const ip = (): string =>
    `nw_src=${p.of(IPS)},nw_dst=${p.of(IPS)},nw_ttl=${p.of([64, 64, 1, 2])}${p.chance(0.2) ? ",nw_tos=32" : ""}`;
  const l = p.w<() => string>([
    [
      30,
      () =>
        `tcp,${ip()},tp_src=${p.of([40000, 1024, 80])},tp_dst=${p.of(TCP_PORTS)}${p.chance(0.3) ? ",tcp_flags=syn" : ""}`,
    ],
    [12, () => `udp,${ip()},udp_src=${p.of([5353, 68])},udp_dst=${p.of([53, 67, 80])}`],
    [7, () => `icmp,${ip()},icmp_type=8,icmp_code=0`],
    [5, () => `ip,${ip()}`],
    [
      14,
      () =>
        `arp,arp_spa=${p.of(IPS)},arp_tpa=${p.of(IPS)},arp_op=${p.of([1, 2])},arp_sha=${p.of(MACS.slice(0, 3))}`,
    ],
    [7, () => `ipv6,ipv6_src=${p.of(IP6S)},ipv6_dst=${p.of(IP6S)},nw_ttl=64`],
    [4, () => `tcp6,ipv6_src=${p.of(IP6S)},ipv6_dst=${p.of(IP6S)},nw_ttl=64,tp_dst=${p.of(TCP_PORTS)}`],
    [
      3,
      () =>
        `icmp6,ipv6_src=${p.of(IP6S)},ipv6_dst=ff02::16,nw_ttl=255,icmpv6_type=${p.of([135, 136, 143])},icmpv6_code=0`,
    ],
    [2, () => "dl_type=0x88cc"],
    [
      g.ok(["mpls"]) ? 3 : 0,
      () =>
        `${p.of(["mpls", "mpls", "mplsm"])},mpls_label=${p.of([0, 3, 100])},mpls_tc=${p.of([0, 5])},mpls_ttl=${p.of([64, 1, 0])},mpls_bos=${p.of([1, 1, 0])}`,
    ],
  ])();
  parts.push(l);
  const ctNext: string[] = [];
  if (p.chance(0.4) && g.ok(["ct"])) for (let i = p.int(1, 3); i > 0; i--) ctNext.push(p.of(CT_NEXT));
  return { bridge: b.name, flow: parts.join(","), ctNext };
}

/**
 * Program `id` of the run `seed`: its bridges (topology, flows, groups), the families of each
 * flow cookie, and `nCases` packets. Same (seed, id) → same program.
 */
export function generateProgram(
  seed: number,
  id: number,
  nCases: number,
  allow?: ReadonlySet<Family>,
): GenProgram {
  const g = new Gen((seed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0, allow);
  const kind = g.p.w<ProgramKind>([
    [g.ok(["vlan"]) ? 40 : 0, "ovn-br-int"],
    [g.ok(["vlan"]) ? 12 : 0, "kubeovn-provider"],
    [33, "random"],
    [g.ok(["vlan", "normal", "flood", "vlan-port"]) ? 15 : 0, "vlan-normal"],
    // Real ovn-controller flows hold every family: only unrestricted runs draw them.
    [allow === undefined ? 15 : 0, "ovn-real"],
  ]);
  if (kind === "ovn-real") {
    const real = ovnRealProgram(g.p, `g${id}`, nCases, (f) => g.nextCookie(f));
    return { id, kind, bridges: real.bridges, cookieFamilies: g.fams, cases: real.cases };
  }
  const { bridges, entry } = programBridges(g, id, kind);
  const byName = new Map(bridges.map((b) => [b.name, b]));
  const cases: GenCase[] = [];
  for (let i = 0; i < nCases; i++) cases.push(packet(g, byName.get(g.p.of(entry))!));
  return { id, kind, bridges, cookieFamilies: g.fams, cases };
}

/** `ovs-vsctl` arguments creating a program's bridges and ports (one transaction). */
export function vsctlArgs(prog: GenProgram): string[] {
  const a: string[] = [];
  for (const b of prog.bridges) {
    a.push(
      "--",
      "add-br",
      b.name,
      "--",
      "set",
      "bridge",
      b.name,
      "datapath_type=dummy",
      "protocols=OpenFlow10,OpenFlow13,OpenFlow15",
    );
    for (const pt of b.ports) {
      const portCols: string[] = [];
      if (pt.tag !== undefined) portCols.push(`tag=${pt.tag}`);
      if (pt.trunks !== undefined) portCols.push(`trunks=${pt.trunks.join(",")}`);
      if (pt.vlanMode !== undefined) portCols.push(`vlan_mode=${pt.vlanMode}`);
      a.push("--", "add-port", b.name, pt.name, ...portCols);
      const ifc = [`type=${pt.type}`, `ofport_request=${pt.ofport}`];
      if (pt.peer !== undefined) ifc.push(`options:peer=${pt.peer}`);
      for (const [k, v] of Object.entries(pt.options ?? {})) ifc.push(`options:${k}=${v}`);
      a.push("--", "set", "interface", pt.name, ...ifc);
    }
  }
  return a;
}
