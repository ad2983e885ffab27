/**
 * OVN's logical field symbol table (upstream `lib/logical-fields.c` `ovn_init_symtab`): the
 * names a logical flow may use, each mapped onto the OVS flow fields ovn-controller would
 * match (inport → reg14, outport → reg15, flags → reg10, reg0–reg9, ct_*), with its width,
 * its prerequisites (`tcp.dst` needs `tcp`), its level (nominal fields such as `eth.type` may
 * only be tested for equality) and, for predicates such as `ip4`, the expression it stands for.
 * One table per release (23.03, 24.03, 25.03), as each ovn-controller/ovn-trace accepts only its
 * own: 25.03's ACL observation and persist-established bits in ct_mark/ct_label are refused by
 * 23.03 with its own "expecting field name"; so are the logical flags a release does not name
 * (23.03.1 knows five; 24.03 adds flags.localnet, tunnel_rx, icmp_snat, from_ctrl, network_id;
 * 25.03 unsnat_new and unsnat_not_tracked).
 */
import type { Flow } from "@ovnsim/packet";

/**
 * Which L4 port fields a trace has read (bit {@link READ_TP_SRC}, {@link READ_TP_DST}): every
 * read of `tp_src`/`tp_dst` through a symbol (tcp.src, udp.dst, icmp4.type…) sets its bit, in
 * the generated match code as in the closures, and the executor sets them for its own reads
 * (hashes, hairpin sessions, port security's exceptions). The megaflow idea (OVS un-wildcards
 * the fields a lookup consulted) for the two fields that differ between connections of one
 * client: a run that read neither decides the same for every source and destination port.
 * One word, reset by each run: runs are synchronous and never nested.
 */
export const PORT_READS: Int32Array = new Int32Array(1);
export const READ_TP_SRC = 1;
export const READ_TP_DST = 2;
/** Records a read of the L4 ports (`READ_TP_SRC`, `READ_TP_DST` or both). */
export function markPortRead(bits: number): void {
  PORT_READS[0] = PORT_READS[0]! | bits;
}

/** The mutable working copy of a flow the logical pipeline executes on (ovn-trace's `uflow`). */
export type MFlow = { -readonly [K in keyof Omit<Flow, "regs">]: Flow[K] } & { regs: number[] };

/**
 * A copy of the working flow, written out field by field: every MFlow then shares one V8 hidden
 * class, and the copy is one allocation (a spread of 45 fields was most of a ct fork's cost).
 */
export function cloneMFlow(f: MFlow): MFlow {
  return copyFields(f, f.regs.slice(), f.vlans);
}

export function toMFlow(f: Flow): MFlow {
  const regs = new Array<number>(16).fill(0);
  for (let i = 0; i < 16; i++) regs[i] = f.regs[i] ?? 0;
  return copyFields(f, regs, [...f.vlans]);
}

/** `f`'s fields (in EMPTY_FLOW's order) with the given registers and VLAN headers. */
export function copyFields(f: Flow, regs: number[], vlans: Flow["vlans"]): MFlow {
  return {
    recirc_id: f.recirc_id,
    dp_hash: f.dp_hash,
    in_port: f.in_port,
    skb_priority: f.skb_priority,
    pkt_mark: f.pkt_mark,
    ct_state: f.ct_state,
    ct_zone: f.ct_zone,
    ct_mark: f.ct_mark,
    ct_label: f.ct_label,
    ct_nw_src: f.ct_nw_src,
    ct_nw_dst: f.ct_nw_dst,
    ct_ipv6_src: f.ct_ipv6_src,
    ct_ipv6_dst: f.ct_ipv6_dst,
    ct_nw_proto: f.ct_nw_proto,
    ct_tp_src: f.ct_tp_src,
    ct_tp_dst: f.ct_tp_dst,
    metadata: f.metadata,
    regs,
    tunnel: f.tunnel,
    dl_src: f.dl_src,
    dl_dst: f.dl_dst,
    dl_type: f.dl_type,
    vlans,
    mpls_lse: f.mpls_lse,
    mpls_lse1: f.mpls_lse1,
    mpls_lse2: f.mpls_lse2,
    nw_src: f.nw_src,
    nw_dst: f.nw_dst,
    ipv6_src: f.ipv6_src,
    ipv6_dst: f.ipv6_dst,
    ipv6_label: f.ipv6_label,
    nw_proto: f.nw_proto,
    nw_tos: f.nw_tos,
    nw_ttl: f.nw_ttl,
    nw_frag: f.nw_frag,
    arp_sha: f.arp_sha,
    arp_tha: f.arp_tha,
    tp_src: f.tp_src,
    tp_dst: f.tp_dst,
    tcp_flags: f.tcp_flags,
    nd_target: f.nd_target,
  };
}

/** A whole field of the OVS flow as an unsigned integer of `width` bits. */
export interface BaseField {
  /** The OVS (meta-flow) name, as ovs-ofctl prints it: reg14, dl_dst, nw_src… */
  readonly mf: string;
  readonly width: number;
  get(f: MFlow): bigint;
  set(f: MFlow, v: bigint): void;
  /** Fast path for fields of at most 32 bits: the value as an unsigned number. */
  readonly getN?: (f: MFlow) => number;
  /**
   * `getN` as a JS expression over a flow named `f` (`f.nw_dst`, `(f.regs[3] ?? 0)`), for the
   * generated match code (expr/codegen.ts); absent where the read is not a plain property.
   */
  readonly js?: string;
}

export type Level = "nominal" | "boolean" | "ordinal";

export interface ExprSymbol {
  readonly name: string;
  /** field: a base field or a bit range of one; predicate: an expansion; string: inport/outport. */
  readonly kind: "field" | "predicate" | "string";
  /** Bits; 0 for string fields. */
  readonly width: number;
  readonly base?: BaseField;
  /** Bit offset of this symbol within its base field. */
  readonly ofs: number;
  /** Prerequisites of this symbol itself (not counting its parent's). */
  readonly prereqs?: string;
  /** The parent symbol for a subfield (`ct.new` → `ct_state`). */
  readonly parent?: string;
  readonly expansion?: string;
  /** Whether actions may assign it. */
  readonly rw: boolean;
  /** For nominal fields (must_crossproduct in OVN). */
  readonly nominal: boolean;
}

const u = (v: number): bigint => BigInt(v >>> 0);
const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

function num(
  mf: string,
  width: number,
  get: (f: MFlow) => number,
  set: (f: MFlow, v: number) => void,
  js?: string,
): BaseField {
  const getN = width <= 32 ? get : undefined;
  const m = mask(width);
  return {
    mf,
    width,
    get: (f) => BigInt(get(f)),
    set: (f, v) => set(f, Number(v & m)),
    ...(getN ? { getN } : {}),
    ...(getN && js ? { js } : {}),
  };
}
function big(
  mf: string,
  width: number,
  get: (f: MFlow) => bigint,
  set: (f: MFlow, v: bigint) => void,
): BaseField {
  const m = mask(width);
  return { mf, width, get, set: (f, v) => set(f, v & m) };
}

function reg(i: number): BaseField {
  return {
    mf: `reg${i}`,
    width: 32,
    get: (f) => u(f.regs[i] ?? 0),
    getN: (f) => (f.regs[i] ?? 0) >>> 0,
    js: `(f.regs[${i}] ?? 0)`,
    set: (f, v) => {
      f.regs[i] = Number(v & 0xffffffffn);
    },
  };
}
/** xreg/xxreg: `n` consecutive 32-bit registers starting at `first`, most significant first. */
function multiReg(mf: string, first: number, n: number): BaseField {
  return {
    mf,
    width: 32 * n,
    get: (f) => {
      let v = 0n;
      for (let k = 0; k < n; k++) v = (v << 32n) | u(f.regs[first + k] ?? 0);
      return v;
    },
    set: (f, v) => {
      for (let k = n - 1; k >= 0; k--) {
        f.regs[first + k] = Number(v & 0xffffffffn);
        v >>= 32n;
      }
    },
  };
}

const VLAN_CFI = 0x1000;
const vlanTci = num(
  "vlan_tci",
  16,
  (f) => {
    const v = f.vlans[0];
    return v ? (v.pcp << 13) | VLAN_CFI | v.vid : 0;
  },
  (f, v) => {
    if (v & VLAN_CFI)
      f.vlans = [
        { tpid: f.vlans[0]?.tpid ?? 0x8100, pcp: (v >> 13) & 7, vid: v & 0xfff },
        ...f.vlans.slice(1),
      ];
    else f.vlans = f.vlans.slice(1);
  },
);

/** The base fields, by OVS name. */
export const BASE: Readonly<Record<string, BaseField>> = (() => {
  const b: Record<string, BaseField> = {};
  for (let i = 0; i < 16; i++) b[`reg${i}`] = reg(i);
  for (let i = 0; i < 8; i++) b[`xreg${i}`] = multiReg(`xreg${i}`, 2 * i, 2);
  for (let i = 0; i < 4; i++) b[`xxreg${i}`] = multiReg(`xxreg${i}`, 4 * i, 4);
  const add = (x: BaseField): void => {
    b[x.mf] = x;
  };
  type NumKey = {
    [K in keyof MFlow]: MFlow[K] extends number ? K : never;
  }[keyof MFlow];
  type BigKey = {
    [K in keyof MFlow]: MFlow[K] extends bigint ? K : never;
  }[keyof MFlow];
  const n = (mf: string, width: number, k: NumKey): void => {
    const set = (f: MFlow, v: number): void => {
      f[k] = width === 32 ? v >>> 0 : v;
    };
    // The L4 ports record their reads (PORT_READS; `R` in the generated code).
    const bit = k === "tp_src" ? READ_TP_SRC : k === "tp_dst" ? READ_TP_DST : 0;
    if (bit === 0) add(num(mf, width, (f) => f[k], set, `f.${k}`));
    else {
      const get = (f: MFlow): number => {
        markPortRead(bit);
        return f[k];
      };
      add(num(mf, width, get, set, `(R[0] |= ${bit}, f.${k})`));
    }
  };
  const g = (mf: string, width: number, k: BigKey): void =>
    add(
      big(
        mf,
        width,
        (f) => f[k],
        (f, v) => {
          f[k] = v;
        },
      ),
    );
  n("ct_state", 8, "ct_state");
  n("ct_mark", 32, "ct_mark");
  g("ct_label", 128, "ct_label");
  n("ct_nw_proto", 8, "ct_nw_proto");
  n("dl_src", 48, "dl_src");
  n("dl_dst", 48, "dl_dst");
  n("dl_type", 16, "dl_type");
  add(vlanTci);
  n("nw_proto", 8, "nw_proto");
  add(
    num(
      "ip_dscp",
      6,
      (f) => f.nw_tos >> 2,
      (f, v) => {
        f.nw_tos = (f.nw_tos & 3) | (v << 2);
      },
    ),
  );
  add(
    num(
      "nw_ecn",
      2,
      (f) => f.nw_tos & 3,
      (f, v) => {
        f.nw_tos = (f.nw_tos & 0xfc) | v;
      },
    ),
  );
  n("nw_ttl", 8, "nw_ttl");
  n("nw_frag", 2, "nw_frag");
  n("nw_src", 32, "nw_src");
  n("nw_dst", 32, "nw_dst");
  g("ipv6_src", 128, "ipv6_src");
  g("ipv6_dst", 128, "ipv6_dst");
  n("ipv6_label", 20, "ipv6_label");
  n("arp_op", 16, "nw_proto");
  n("arp_sha", 48, "arp_sha");
  n("arp_tha", 48, "arp_tha");
  n("tp_src", 16, "tp_src");
  n("tp_dst", 16, "tp_dst");
  n("icmp_type", 8, "tp_src");
  n("icmp_code", 8, "tp_dst");
  n("tcp_flags", 12, "tcp_flags");
  g("nd_target", 128, "nd_target");
  n("pkt_mark", 32, "pkt_mark");
  return b;
})();

/** Logical flag bits (include/ovn/logical-fields.h MLF_*_BIT). */
export const MLF = {
  loopback: 0,
  force_snat_for_dnat: 2,
  force_snat_for_lb: 3,
  skip_snat_for_lb: 9,
  use_snat_zone: 11,
  localnet: 15,
  tunnel_rx: 16,
  icmp_snat: 17,
  from_ctrl: 19,
  unsnat_new: 20,
  unsnat_not_tracked: 21,
} as const;

const FLAGS_23 = [
  "loopback",
  "force_snat_for_dnat",
  "force_snat_for_lb",
  "skip_snat_for_lb",
  "use_snat_zone",
] as const;
const FLAGS_24 = [...FLAGS_23, "localnet", "tunnel_rx", "icmp_snat", "from_ctrl"] as const;
const FLAGS_BY_RELEASE: Readonly<Record<23 | 24 | 25, readonly (keyof typeof MLF)[]>> = {
  23: FLAGS_23,
  24: FLAGS_24,
  25: [...FLAGS_24, "unsnat_new", "unsnat_not_tracked"],
};

/** Logical registers for ports and flags. */
export const LOG_INPORT = 14;
export const LOG_OUTPORT = 15;
export const LOG_FLAGS = 10;

/** OVS fields that are not fully maskable: OVN calls them nominal (equality tests only). */
const NOMINAL_MF = new Set([
  "dl_type",
  "nw_proto",
  "nw_ttl",
  "ip_dscp",
  "nw_ecn",
  "icmp_type",
  "icmp_code",
  "arp_op",
]);

/** Whether OVS's match of base field `mf` is not maskable (mf_set refuses a partial mask). */
export function nonMaskable(mf: string): boolean {
  return NOMINAL_MF.has(mf);
}

function build(ovn: SymtabRelease): Map<string, ExprSymbol> {
  const t = new Map<string, ExprSymbol>();
  const field = (name: string, mf: string, prereqs?: string, _crossproduct = false, rw = true): void => {
    const base = BASE[mf]!;
    const nominal = NOMINAL_MF.has(mf);
    t.set(name, {
      name,
      kind: "field",
      width: base.width,
      base,
      ofs: 0,
      rw,
      nominal,
      ...(prereqs ? { prereqs } : {}),
    });
  };
  const sub = (name: string, parent: string, lo: number, hi: number, prereqs?: string, rw = true): void => {
    const p = t.get(parent)!;
    t.set(name, {
      name,
      kind: "field",
      width: hi - lo + 1,
      base: p.base!,
      ofs: p.ofs + lo,
      parent,
      rw,
      nominal: p.nominal,
      ...(prereqs ? { prereqs } : {}),
    });
  };
  const pred = (name: string, expansion: string): void => {
    t.set(name, { name, kind: "predicate", width: 1, ofs: 0, expansion, rw: false, nominal: false });
  };
  t.set("inport", {
    name: "inport",
    kind: "string",
    width: 0,
    base: BASE.reg14!,
    ofs: 0,
    rw: true,
    nominal: true,
  });
  t.set("outport", {
    name: "outport",
    kind: "string",
    width: 0,
    base: BASE.reg15!,
    ofs: 0,
    rw: true,
    nominal: true,
  });
  // Registers: OVN 23.03 has 10 logical registers (xxreg0-1, xreg0-4, reg0-9).
  for (let i = 0; i < 2; i++) field(`xxreg${i}`, `xxreg${i}`);
  for (let i = 0; i < 5; i++) field(`xreg${i}`, `xreg${i}`);
  for (let i = 0; i < 10; i++) field(`reg${i}`, `reg${i}`);
  field("flags", "reg10");
  // The named flags each release's ovn_init_symtab adds (the installed 23.03.1; 24.03's and
  // 25.03's later point releases, whose lr_in_network_id the northd profiles emit).
  for (const k of FLAGS_BY_RELEASE[ovn]) sub(`flags.${k}`, "flags", MLF[k], MLF[k]);
  if (ovn >= 24) sub("flags.network_id", "flags", 28, 31);
  field("ct_mark", "ct_mark");
  sub("ct_mark.blocked", "ct_mark", 0, 0);
  sub("ct_mark.natted", "ct_mark", 1, 1);
  sub("ct_mark.skip_snat", "ct_mark", 2, 2);
  sub("ct_mark.force_snat", "ct_mark", 3, 3);
  sub("ct_mark.ecmp_reply_port", "ct_mark", 16, 31);
  field("ct_label", "ct_label");
  if (ovn >= 25) {
    // 24.09 moved the ACL bookkeeping into ct_mark (include/ovn/logical-fields.h
    // OVN_CT_OBS_STAGE_*_BIT 4–5, OVN_CT_ALLOW_ESTABLISHED_BIT 6) and ct_label, and dropped
    // the ct_label copies of the ct_mark bits.
    sub("ct_mark.obs_stage", "ct_mark", 4, 5);
    sub("ct_mark.allow_established", "ct_mark", 6, 6);
    sub("ct_mark.obs_collector_id", "ct_mark", 16, 23);
    sub("ct_label.ecmp_reply_eth", "ct_label", 32, 79);
    sub("ct_label.label", "ct_label", 96, 127);
    sub("ct_label.obs_point_id", "ct_label", 96, 127);
    sub("ct_label.obs_unused", "ct_label", 0, 95);
    sub("ct_label.acl_id", "ct_label", 80, 95);
  } else {
    sub("ct_label.blocked", "ct_label", 0, 0);
    sub("ct_label.natted", "ct_label", 1, 1);
    sub("ct_label.skip_snat", "ct_label", 2, 2);
    sub("ct_label.force_snat", "ct_label", 3, 3);
    sub("ct_label.ecmp_reply_eth", "ct_label", 32, 79);
    sub("ct_label.ecmp_reply_port", "ct_label", 80, 95);
    sub("ct_label.label", "ct_label", 96, 127);
  }
  field("ct_state", "ct_state", undefined, false, false);
  const cs = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];
  for (const [i, n] of cs.entries())
    sub(`ct.${n}`, "ct_state", i, i, n === "trk" ? undefined : "ct.trk", false);
  field("eth.src", "dl_src");
  field("eth.dst", "dl_dst");
  field("eth.type", "dl_type", undefined, true);
  pred("eth.bcast", "eth.dst == ff:ff:ff:ff:ff:ff");
  sub("eth.mcast", "eth.dst", 40, 40);
  pred("eth.mcastv6", "eth.dst[32..47] == 0x3333");
  field("vlan.tci", "vlan_tci");
  pred("vlan.present", "vlan.tci[12]");
  sub("vlan.pcp", "vlan.tci", 13, 15, "vlan.present");
  sub("vlan.vid", "vlan.tci", 0, 11, "vlan.present");
  pred("ip4", "eth.type == 0x800");
  pred("ip6", "eth.type == 0x86dd");
  pred("ip", "ip4 || ip6");
  field("ip.proto", "nw_proto", "ip", true);
  field("ip.dscp", "ip_dscp", "ip");
  field("ip.ecn", "nw_ecn", "ip");
  field("ip.ttl", "nw_ttl", "ip");
  field("ip4.src", "nw_src", "ip4");
  field("ip4.dst", "nw_dst", "ip4");
  pred("ip4.src_mcast", "ip4.src[28..31] == 0xe");
  pred("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe");
  pred("icmp4", "ip4 && ip.proto == 1");
  field("icmp4.type", "icmp_type", "icmp4");
  field("icmp4.code", "icmp_code", "icmp4");
  pred("igmp", "ip4 && ip.proto == 2");
  field("ip6.src", "ipv6_src", "ip6");
  field("ip6.dst", "ipv6_dst", "ip6");
  field("ip6.label", "ipv6_label", "ip6");
  pred("ip6.mcast_rsvd", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0");
  pred("ip6.mcast_all_nodes", "ip6.dst == ff01::1 || ip6.dst == ff02::1");
  pred("ip6.mcast_all_rtrs", "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2");
  pred("ip6.mcast_sol_node", "ip6.dst == ff02::1:ff00:0000/104");
  pred(
    "ip6.mcast_flood",
    "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)",
  );
  pred("ip6.mcast", "eth.mcastv6 && ip6.dst[120..127] == 0xff");
  pred("icmp6", "ip6 && ip.proto == 58");
  field("icmp6.type", "icmp_type", "icmp6", true);
  field("icmp6.code", "icmp_code", "icmp6", true);
  pred("icmp", "icmp4 || icmp6");
  field("ip.frag", "nw_frag", "ip");
  pred("ip.is_frag", "ip.frag[0]");
  pred("ip.later_frag", "ip.frag[1]");
  pred("ip.first_frag", "ip.is_frag && !ip.later_frag");
  pred("arp", "eth.type == 0x806");
  field("arp.op", "arp_op", "arp");
  field("arp.spa", "nw_src", "arp");
  field("arp.sha", "arp_sha", "arp");
  field("arp.tpa", "nw_dst", "arp");
  field("arp.tha", "arp_tha", "arp");
  pred("rarp", "eth.type == 0x8035");
  field("rarp.op", "arp_op", "rarp");
  field("rarp.spa", "nw_src", "rarp");
  field("rarp.sha", "arp_sha", "rarp");
  field("rarp.tpa", "nw_dst", "rarp");
  field("rarp.tha", "arp_tha", "rarp");
  pred("nd", "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255");
  pred("nd_ns", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255");
  pred("nd_na", "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255");
  pred("nd_rs", "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255");
  pred("nd_ra", "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255");
  field("nd.target", "nd_target", "nd");
  field("nd.sll", "arp_sha", "nd_ns");
  field("nd.tll", "arp_tha", "nd_na");
  pred("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}");
  pred("mldv2", "ip6.dst == ff02::16 && icmp6.type == 143");
  pred("tcp", "ip.proto == 6");
  field("tcp.src", "tp_src", "tcp");
  field("tcp.dst", "tp_dst", "tcp");
  field("tcp.flags", "tcp_flags", "tcp");
  pred("udp", "ip.proto == 17");
  field("udp.src", "tp_src", "udp");
  field("udp.dst", "tp_dst", "udp");
  pred("sctp", "ip.proto == 132");
  field("sctp.src", "tp_src", "sctp");
  field("sctp.dst", "tp_dst", "sctp");
  field("pkt.mark", "pkt_mark");
  return t;
}

/** The OVN release (major) whose `ovn_init_symtab` a table mirrors: 23.03, 24.03 or 25.03. */
export type SymtabRelease = 23 | 24 | 25;

/** A release's symbol table: what its ovn-controller and ovn-trace accept in a logical flow. */
export type Symtab = ReadonlyMap<string, ExprSymbol> & { readonly ovn: SymtabRelease };

function table(ovn: SymtabRelease): Symtab {
  return Object.assign(build(ovn), { ovn });
}

const TABLES: Readonly<Record<SymtabRelease, Symtab>> = { 23: table(23), 24: table(24), 25: table(25) };

/** The symbol table of an OVN release (its major: 23, 24, 25; later ones get 25.03's). */
export function symtabFor(ovn: number): Symtab {
  return TABLES[(ovn >= 25 ? 25 : ovn >= 24 ? 24 : 23) as SymtabRelease];
}

/**
 * 23.03's symbol table, the default of every parser (the live ovn-trace differential runs real
 * 23.03). A field's parent (`ct_mark`, `flags`, `reg0`…) is the same in every release.
 */
export const SYMTAB: Symtab = TABLES[23];
