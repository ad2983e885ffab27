/**
 * Logical actions → OpenFlow actions (upstream `lib/actions.c` encode_* for OVN 23.03): `next`
 * and `output` become resubmits into the pipeline's tables, assignments become set_field /
 * move on the registers OVN's symbol table maps them to (reg0–reg3 are bits of xxreg0, so a
 * partial load prints as a masked set_field on xxreg0), conntrack actions become ct() in the
 * zone register of the pipeline, `ct_lb_mark(backends=…)` becomes a select group, and
 * functions that need a lookup table (port security, LB hairpin, FDB) resubmit to it and
 * move the result bit back. Actions not modelled yet raise SimError(UNSUPPORTED).
 */
import { type Action, type FieldRef, type LbBackend, parseActions } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import { ip6Text } from "./match.js";
import { OFTABLE, type TableLayout } from "./tables.js";
import { encodeNestedController } from "./wire.js";

export interface ActionEnv {
  readonly pipeline: "ingress" | "egress";
  /** Logical table number of the flow. */
  readonly table: number;
  readonly isSwitch: boolean;
  /**
   * The zone register ct_dnat_in_czone / ct_snat_in_czone use (lflow.c get_common_nat_zone):
   * the DNAT zone (reg11), or the SNAT zone (reg12) when the datapath sets snat-ct-zone.
   */
  readonly commonZone?: "reg11" | "reg12";
  portKey(name: string): number | undefined;
  /** Returns the id of the select group with these buckets, allocating it on first use. */
  groupId(text: string): number;
  /**
   * Returns the OpenFlow meter id of a meter (a southbound Meter's name, or the per-flow meter
   * `set_meter` describes), allocating it on first use (ovn_extend_table_assign_id).
   */
  meterId?(name: string, config?: MeterConfig): number;
  /** The meter of the flow's controller_meter (CoPP): added to its controller() actions. */
  readonly ctrlMeter?: number;
  /** The release's OpenFlow table numbers (default: 23.03's). */
  readonly tables?: TableLayout;
}

/** A meter `set_meter` defines itself (kbps, one drop band). */
export interface MeterConfig {
  readonly rate: number;
  readonly burst: number;
}

/** include/ovn/actions.h log_verdict / syslog severities, as the log action's header bytes. */
const LOG_VERDICT: Readonly<Record<string, number>> = { allow: 0, drop: 1, reject: 2 };
const LOG_SEVERITY: Readonly<Record<string, number>> = {
  alert: 1,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** `name=value` / `name="value"` arguments of an action such as log(). */
function namedArgs(text: string): Map<string, string> {
  const m = /^[a-z_]+\((.*)\)\s*$/s.exec(text.trim());
  if (!m) throw new SimError("UNSUPPORTED", `cannot read the arguments of ${text}`);
  const body = m[1]!;
  const parts: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "\\" && quoted) {
      cur += c + (body[i + 1] ?? "");
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === "," && !quoted) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  if (quoted) throw new SimError("UNSUPPORTED", `unterminated string in ${text}`);
  if (cur.trim() !== "" || parts.length) parts.push(cur);
  const out = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new SimError("UNSUPPORTED", `"${part.trim()}" in ${text} is not name=value`);
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"')) {
      if (v.length < 2 || !v.endsWith('"')) throw new SimError("UNSUPPORTED", `bad string in ${text}`);
      v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    out.set(part.slice(0, eq).trim(), v);
  }
  return out;
}

const hexBytes = (b: readonly number[]): string => b.map((x) => x.toString(16).padStart(2, "0")).join(".");

/** A controller() action with the flow's CoPP meter, as put_controller_op encodes it. */
function withMeter(ctl: string, meter: number | undefined): string {
  return meter === undefined ? ctl : `${ctl.slice(0, -1)},meter_id=${meter})`;
}

const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

/** An OVN symbol's bits as OVS sees them: [OVS field for set_field, NXM name, bit offset, width]. */
interface Loc {
  readonly field: string;
  readonly nxm: string;
  readonly ofs: number;
  readonly width: number;
}

const NXM: Readonly<Record<string, string>> = {
  dl_src: "NXM_OF_ETH_SRC",
  dl_dst: "NXM_OF_ETH_DST",
  arp_sha: "NXM_NX_ARP_SHA",
  arp_tha: "NXM_NX_ARP_THA",
  ct_mark: "NXM_NX_CT_MARK",
  ct_label: "NXM_NX_CT_LABEL",
  ipv6_src: "NXM_NX_IPV6_SRC",
  ipv6_dst: "NXM_NX_IPV6_DST",
  nd_target: "NXM_NX_ND_TARGET",
  nw_ttl: "NXM_NX_IP_TTL",
  pkt_mark: "NXM_NX_PKT_MARK",
};
const SETF: Readonly<Record<string, string>> = {
  dl_src: "eth_src",
  dl_dst: "eth_dst",
  ipv6_src: "ipv6_src",
  ipv6_dst: "ipv6_dst",
  nw_ttl: "nw_ttl",
  ct_mark: "ct_mark",
  ct_label: "ct_label",
  nd_target: "nd_target",
  pkt_mark: "pkt_mark",
  vlan_tci: "vlan_tci",
};

function locate(ref: FieldRef): Loc {
  const sym = ref.sym;
  const base = sym.base;
  if (!base) throw new SimError("UNSUPPORTED", `cannot assign ${sym.name}`);
  const ofs = sym.ofs + ref.lo;
  const mf = base.mf;
  const r = /^(x{0,2})reg(\d+)$/.exec(mf);
  if (r) {
    // OVN 23.03: reg0–3 / xreg0–1 live in xxreg0, reg4–7 / xreg2–3 in xxreg1, reg8–9 / xreg4 stand alone.
    const kind = r[1]!;
    const i = Number(r[2]);
    if (kind === "xx") return { field: `xxreg${i}`, nxm: `NXM_NX_XXREG${i}`, ofs, width: 128 };
    if (kind === "" && i < 8) {
      const xx = i >> 2;
      return { field: `xxreg${xx}`, nxm: `NXM_NX_XXREG${xx}`, ofs: ofs + 32 * (3 - (i % 4)), width: 128 };
    }
    if (kind === "x" && i < 4) {
      const xx = i >> 1;
      return { field: `xxreg${xx}`, nxm: `NXM_NX_XXREG${xx}`, ofs: ofs + 64 * (1 - (i % 2)), width: 128 };
    }
    // reg8–9 are the halves of xreg4 (OVS names it OXM_OF_PKT_REG4 in subfield syntax).
    if (kind === "" && (i === 8 || i === 9))
      return { field: "xreg4", nxm: "OXM_OF_PKT_REG4", ofs: ofs + 32 * (1 - (i % 2)), width: 64 };
    if (kind === "x") return { field: `xreg${i}`, nxm: `OXM_OF_PKT_REG${i}`, ofs, width: 64 };
    return { field: `reg${i}`, nxm: `NXM_NX_REG${i}`, ofs, width: 32 };
  }
  const name = sym.parent ?? sym.name;
  const arp = name.startsWith("arp.") || name.startsWith("rarp.");
  if (mf === "nw_src")
    return arp
      ? { field: "arp_spa", nxm: "NXM_OF_ARP_SPA", ofs, width: 32 }
      : { field: "ip_src", nxm: "NXM_OF_IP_SRC", ofs, width: 32 };
  if (mf === "nw_dst")
    return arp
      ? { field: "arp_tpa", nxm: "NXM_OF_ARP_TPA", ofs, width: 32 }
      : { field: "ip_dst", nxm: "NXM_OF_IP_DST", ofs, width: 32 };
  if (mf === "arp_op") return { field: "arp_op", nxm: "NXM_OF_ARP_OP", ofs, width: 16 };
  if (mf === "tp_src" || mf === "tp_dst") {
    const proto = name.split(".")[0]!;
    const dir = mf === "tp_src" ? "SRC" : "DST";
    const p = proto === "udp" ? "UDP" : proto === "sctp" ? "SCTP" : "TCP";
    return {
      field: `${proto}_${dir.toLowerCase()}`,
      nxm: p === "SCTP" ? `OXM_OF_SCTP_${dir}` : `NXM_OF_${p}_${dir}`,
      ofs,
      width: 16,
    };
  }
  if (mf === "icmp_type" || mf === "icmp_code") {
    const v6 = name.startsWith("icmp6.");
    const what = mf === "icmp_type" ? "TYPE" : "CODE";
    return v6
      ? { field: `icmpv6_${what.toLowerCase()}`, nxm: `NXM_NX_ICMPV6_${what}`, ofs, width: 8 }
      : { field: mf, nxm: `NXM_OF_ICMP_${what}`, ofs, width: 8 };
  }
  if (mf === "arp_sha" && name.startsWith("nd."))
    return { field: "nd_sll", nxm: "NXM_NX_ND_SLL", ofs, width: 48 };
  if (mf === "arp_tha" && name.startsWith("nd."))
    return { field: "nd_tll", nxm: "NXM_NX_ND_TLL", ofs, width: 48 };
  const nxm = NXM[mf];
  const field = SETF[mf] ?? mf;
  return { field, nxm: nxm ?? mf.toUpperCase(), ofs, width: base.width };
}

function subfieldText(ref: FieldRef): string {
  const l = locate(ref);
  const nbits = ref.sym.kind === "string" ? 32 : ref.nbits;
  if (l.ofs === 0 && nbits === l.width) return `${l.nxm}[]`;
  return nbits === 1 ? `${l.nxm}[${l.ofs}]` : `${l.nxm}[${l.ofs}..${l.ofs + nbits - 1}]`;
}

const mac = (v: bigint): string =>
  v
    .toString(16)
    .padStart(12, "0")
    .replace(/(..)(?!$)/g, "$1:");
const ip4 = (v: bigint): string => [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join(".");

function setField(l: Loc, value: bigint, nbits: number): string {
  const v = value << BigInt(l.ofs);
  const m = ones(nbits) << BigInt(l.ofs);
  const full = l.ofs === 0 && nbits === l.width;
  let text: string;
  if (
    l.field === "eth_src" ||
    l.field === "eth_dst" ||
    l.field === "arp_sha" ||
    l.field === "arp_tha" ||
    l.field === "nd_sll" ||
    l.field === "nd_tll"
  )
    text = full ? mac(v) : `${mac(v)}/${mac(m)}`;
  else if (l.field === "ip_src" || l.field === "ip_dst" || l.field === "arp_spa" || l.field === "arp_tpa")
    text = full ? ip4(v) : `${ip4(v)}/${ip4(m)}`;
  else if (l.field === "ipv6_src" || l.field === "ipv6_dst" || l.field === "nd_target")
    text = full ? ip6Text(v) : `${ip6Text(v)}/${ip6Text(m)}`;
  else if (l.field === "arp_op" || l.field === "nw_ttl" || /^(tcp|udp|sctp)_|^icmp/.test(l.field))
    text = v.toString();
  else text = full ? `0x${v.toString(16)}` : `0x${v.toString(16)}/0x${m.toString(16)}`;
  return `set_field:${text}->${l.field}`;
}

/** Flag bits in reg10 (include/ovn/logical-fields.h MLF_*) that lookup actions return through. */
const RESULT: Readonly<
  Record<
    string,
    {
      table: Exclude<keyof TableLayout, "release" | "lbOrigDipIpv4" | "ctCommitSwallowed">;
      bit: number;
      prep?: string;
    }
  >
> = {
  check_in_port_sec: { table: "CHK_IN_PORT_SEC", bit: 12 },
  check_out_port_sec: { table: "CHK_OUT_PORT_SEC", bit: 12 },
  chk_lb_hairpin: { table: "CHK_LB_HAIRPIN", bit: 7 },
  chk_lb_hairpin_reply: { table: "CHK_LB_HAIRPIN_REPLY", bit: 7 },
};

/** Controller opcodes (include/ovn/actions.h enum action_opcode) of argument-less actions. */
const CONTROLLER_OPCODES: Readonly<Record<string, number>> = {
  handle_svc_check: 0x12,
  handle_dhcpv6_reply: 0x13,
};

function backendText(b: LbBackend): string {
  const ip = b.family === 4 ? ip4(BigInt(b.ip4)) : `[${ip6Text(b.ip6)}]`;
  return b.port ? `${ip}:${b.port}` : ip;
}

/** Prerequisites the actions add to the flow's match (ovnact_*_parse → add_prerequisite). */
export function actionPrereqs(actions: readonly Action[]): string[] {
  const out = new Set<string>();
  const field = (r: FieldRef): void => {
    if (r.sym.prereqs) out.add(r.sym.prereqs);
  };
  const walk = (xs: readonly Action[]): void => {
    for (const a of xs) {
      switch (a.t) {
        case "load":
        case "load_str":
          field(a.dst);
          break;
        case "move":
          field(a.dst);
          field(a.src);
          break;
        case "exchange":
          field(a.a);
          field(a.b);
          break;
        case "result":
          field(a.dst);
          break;
        case "ct_next":
        case "ct_commit":
        case "ct_commit_nat":
        case "ct_lb":
        case "ct_nat":
          out.add("ip");
          if (a.t === "ct_commit") walk(a.nested);
          break;
        case "dec_ttl":
          out.add("ip");
          break;
        case "nest": {
          const pre: Record<string, string> = {
            arp: "ip4",
            nd_na: "nd_ns",
            nd_na_router: "nd_ns",
            nd_ns: "ip6",
            icmp4: "ip4",
            icmp4_error: "ip4",
            icmp6: "ip6",
            icmp6_error: "ip6",
            tcp_reset: "tcp",
          };
          const p = pre[a.kind];
          if (p) out.add(p);
          break;
        }
        default:
          break;
      }
    }
  };
  walk(actions);
  return [...out];
}

/** A field argument of a MAC-binding action (`arp.spa`, `reg0`, `inport`…) as an OVN field. */
function fieldArg(text: string): FieldRef {
  const t = text.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_.]*(\[\d+(\.\.\d+)?\])?$/.test(t))
    throw new SimError("UNSUPPORTED", `"${t}" is not a field argument`);
  const a = parseActions(`${t} <-> ${t};`)[0];
  if (a?.t !== "exchange") throw new SimError("UNSUPPORTED", `"${t}" is not a field argument`);
  return a.a;
}

/** Full OVS fields the MAC-binding actions pass their arguments in, with their NXM names. */
const ARG_NXM: Readonly<Record<string, string>> = {
  reg0: "NXM_NX_REG0",
  xxreg0: "NXM_NX_XXREG0",
  reg14: "NXM_NX_REG14",
  reg15: "NXM_NX_REG15",
  eth_src: "NXM_OF_ETH_SRC",
  eth_dst: "NXM_OF_ETH_DST",
};

/**
 * encode_setup_args / encode_restore_args: each argument not already in its fixed field is
 * moved there through the stack (destinations saved, sources pushed in reverse, popped), and
 * the destinations are restored afterwards.
 */
function withArgs(args: readonly [FieldRef, string][], body: readonly string[]): string[] {
  const moved = args.filter(([src, dst]) => locate(src).field !== dst || !isWhole(src));
  const out: string[] = [];
  for (const [, dst] of moved) out.push(`push:${ARG_NXM[dst]}[]`);
  for (const [src] of [...moved].reverse()) out.push(`push:${subfieldText(src)}`);
  for (const [, dst] of moved) out.push(`pop:${ARG_NXM[dst]}[]`);
  out.push(...body);
  for (const [, dst] of [...moved].reverse()) out.push(`pop:${ARG_NXM[dst]}[]`);
  return out;
}

const isWhole = (ref: FieldRef): boolean => {
  const l = locate(ref);
  const nbits = ref.sym.kind === "string" ? 32 : ref.nbits;
  return l.ofs === 0 && nbits === l.width;
};

function splitArgs(text: string): string[] {
  const m = /^[a-z_]+\((.*)\)\s*$/s.exec(text.trim());
  return (m ? m[1]! : text).split(",").map((x) => x.trim());
}

const LOOKUP_MAC_BIT = 6;

export function encodeActions(actions: readonly Action[], env: ActionEnv): string[] {
  const out: string[] = [];
  const T = env.tables ?? OFTABLE;
  const base = env.pipeline === "ingress" ? T.LOG_INGRESS_PIPELINE : T.LOG_EGRESS_PIPELINE;
  const nextTable = base + env.table + 1;
  const ctZone = "NXM_NX_REG13[0..15]";
  const dnatZone = "NXM_NX_REG11[0..15]";
  for (const a of actions) {
    switch (a.t) {
      case "next": {
        const p = a.pipeline ?? env.pipeline;
        const b = p === "ingress" ? T.LOG_INGRESS_PIPELINE : T.LOG_EGRESS_PIPELINE;
        out.push(`resubmit(,${a.table !== undefined ? b + a.table : nextTable})`);
        break;
      }
      case "output":
        out.push(`resubmit(,${env.pipeline === "ingress" ? T.OUTPUT_LARGE_PKT_DETECT : T.SAVE_INPORT})`);
        break;
      case "load": {
        const l = locate(a.dst);
        out.push(setField(l, a.value & ones(a.dst.nbits), a.dst.nbits));
        break;
      }
      case "load_str": {
        // `outport = ""` clears the port (key 0), as lookup_port_cb answers for no name.
        const key = a.s === "" ? 0 : env.portKey(a.s);
        if (key === undefined)
          throw new SimError("UNKNOWN_PORT", `logical port "${a.s}" is not on this datapath`);
        out.push(`set_field:0x${key.toString(16)}->reg${a.dst.sym.name === "inport" ? 14 : 15}`);
        break;
      }
      case "move":
        out.push(`move:${subfieldText(a.src)}->${subfieldText(a.dst)}`);
        break;
      case "exchange":
        out.push(
          `push:${subfieldText(a.b)}`,
          `push:${subfieldText(a.a)}`,
          `pop:${subfieldText(a.b)}`,
          `pop:${subfieldText(a.a)}`,
        );
        break;
      case "dec_ttl":
        // OVN's ofpact has no controller ids, which ovs-ofctl prints as "dec_ttl()".
        out.push("dec_ttl()");
        break;
      case "result": {
        if (a.fn === "ct_nw_dst" || a.fn === "ct_ip6_dst" || a.fn === "ct_tp_dst") {
          // encode_result_action___: clear the load register, look conntrack up, move the result.
          const [loads, reg, table]: [string[], string, number] =
            a.fn === "ct_nw_dst"
              ? [
                  [`set_field:0->${T.lbOrigDipIpv4}`],
                  `NXM_NX_${T.lbOrigDipIpv4.toUpperCase()}[]`,
                  T.CT_ORIG_NW_DST_LOAD,
                ]
              : a.fn === "ct_tp_dst"
                ? [["set_field:0/0xffff->reg2"], "NXM_NX_REG2[0..15]", T.CT_ORIG_TP_DST_LOAD]
                : [
                    // put_load loads at most 64 bits at a time.
                    [
                      "set_field:0/0xffffffffffffffff->xxreg1",
                      "set_field:0/0xffffffffffffffff0000000000000000->xxreg1",
                    ],
                    "NXM_NX_XXREG1[]",
                    T.CT_ORIG_IP6_DST_LOAD,
                  ];
          out.push(...loads, `resubmit(,${table})`, `move:${reg}->${subfieldText(a.dst)}`);
          break;
        }
        if (a.fn === "get_fdb") {
          out.push("set_field:0->reg15", `resubmit(,${T.GET_FDB})`);
          break;
        }
        if (a.fn === "lookup_arp" || a.fn === "lookup_nd") {
          const [port, ip, mac] = splitArgs(a.args).map(fieldArg);
          if (!port || !ip || !mac) throw new SimError("UNSUPPORTED", `${a.fn} needs 3 arguments`);
          out.push(
            ...withArgs(
              [
                [port, "reg14"],
                [ip, a.fn === "lookup_arp" ? "reg0" : "xxreg0"],
                [mac, "eth_src"],
              ],
              [
                `set_field:0/0x${(1 << LOOKUP_MAC_BIT).toString(16)}->reg10`,
                `resubmit(,${T.MAC_LOOKUP})`,
                `move:NXM_NX_REG10[${LOOKUP_MAC_BIT}]->${subfieldText(a.dst)}`,
              ],
            ),
          );
          break;
        }
        if (a.fn === "lookup_arp_ip" || a.fn === "lookup_nd_ip") {
          const [port, ip] = splitArgs(a.args).map(fieldArg);
          if (!port || !ip) throw new SimError("UNSUPPORTED", `${a.fn} needs 2 arguments`);
          out.push(
            ...withArgs(
              [
                [port, "reg15"],
                [ip, a.fn === "lookup_arp_ip" ? "reg0" : "xxreg0"],
              ],
              [
                "push:NXM_OF_ETH_DST[]",
                `set_field:0/0x${(1 << LOOKUP_MAC_BIT).toString(16)}->reg10`,
                `resubmit(,${T.MAC_BINDING})`,
                `move:NXM_NX_REG10[${LOOKUP_MAC_BIT}]->${subfieldText(a.dst)}`,
                "pop:NXM_OF_ETH_DST[]",
              ],
            ),
          );
          break;
        }
        const r = RESULT[a.fn];
        if (!r) throw new SimError("UNSUPPORTED", `action ${a.fn}() is not modelled`);
        const bit = 1 << r.bit;
        out.push(
          `set_field:0/0x${bit.toString(16)}->reg10`,
          `resubmit(,${T[r.table]})`,
          `move:NXM_NX_REG10[${r.bit}]->${subfieldText(a.dst)}`,
        );
        break;
      }
      case "ct_next":
        out.push(`ct(table=${nextTable},zone=${env.isSwitch ? ctZone : dnatZone})`);
        break;
      case "ct_commit": {
        // 23.03: after other actions, the first one swallows everything through ct_commit
        // (see TableLayout.ctCommitSwallowed).
        if (T.ctCommitSwallowed && out.length > 0) {
          out.splice(1);
          break;
        }
        const nested = encodeActions(a.nested, env);
        const exec = nested.length ? `,exec(${nested.join(",")})` : "";
        out.push(`ct(commit,zone=${env.isSwitch ? ctZone : dnatZone},nat(src)${exec})`);
        break;
      }
      case "ct_commit_nat":
        out.push(`ct(commit,table=${nextTable},zone=${env.isSwitch ? ctZone : dnatZone},nat)`);
        break;
      case "ct_lb": {
        const zone = env.isSwitch ? ctZone : "NXM_NX_REG11[0..15]";
        if (a.backends.length === 0) {
          out.push(`ct(table=${nextTable},zone=${zone},nat)`);
          break;
        }
        const markField = a.mark ? "ct_mark" : "ct_label";
        const buckets = a.backends.map(
          (b, i) =>
            `bucket=bucket_id:${i},weight:100,actions=ct(commit,table=${nextTable},zone=${zone},nat(dst=${backendText(b)}),exec(set_field:0x2/0x2->${markField}))`,
        );
        const method = a.hashFields
          ? `selection_method=hash,fields(${a.hashFields
              .split(",")
              .map((f) => f.trim())
              .join(",")})`
          : "selection_method=dp_hash";
        out.push(`group:${env.groupId(`type=select,${method},${buckets.join(",")}`)}`);
        break;
      }
      case "ct_nat": {
        // encode_CT_DNAT / _SNAT: the DNAT / SNAT zone on switches and routers alike; the
        // _in_czone forms use the datapath's common NAT zone.
        const snat = a.kind.startsWith("ct_snat");
        const zone = a.kind.endsWith("_in_czone")
          ? `NXM_NX_${(env.commonZone ?? "reg11").toUpperCase()}[0..15]`
          : snat
            ? "NXM_NX_REG12[0..15]"
            : dnatZone;
        if (a.ip)
          out.push(
            `ct(commit,table=${nextTable},zone=${zone},nat(${snat ? "src" : "dst"}=${backendText(a.ip)}))`,
          );
        else out.push(`ct(table=${nextTable},zone=${zone},nat)`);
        break;
      }
      case "ct_snat_to_vip":
        out.push(`resubmit(,${T.CT_SNAT_HAIRPIN})`);
        break;
      case "ct_clear":
        out.push("ct_clear");
        break;
      case "nest":
        if (a.kind === "clone") {
          out.push(`clone(${encodeActions(a.nested, env).join(",")})`);
          break;
        }
        out.push(
          withMeter(
            encodeNestedController(a.kind, a.nested, {
              portKey: env.portKey,
              outputTable: env.pipeline === "ingress" ? T.OUTPUT_LARGE_PKT_DETECT : T.SAVE_INPORT,
              nextTable,
              tableOf: (p, t) =>
                ((p ?? env.pipeline) === "ingress" ? T.LOG_INGRESS_PIPELINE : T.LOG_EGRESS_PIPELINE) + t,
            }),
            env.ctrlMeter,
          ),
        );
        break;
      case "other": {
        if (a.name === "get_arp" || a.name === "get_nd") {
          // encode_get_mac: outport / IP into reg15 / reg0 (xxreg0), eth.dst zeroed, table 66.
          const [port, ip] = splitArgs(a.text).map(fieldArg);
          if (!port || !ip) throw new SimError("UNSUPPORTED", `${a.name} needs 2 arguments`);
          out.push(
            ...withArgs(
              [
                [port, "reg15"],
                [ip, a.name === "get_arp" ? "reg0" : "xxreg0"],
              ],
              ["set_field:00:00:00:00:00:00->eth_dst", `resubmit(,${T.MAC_BINDING})`],
            ),
          );
          break;
        }
        if (a.name === "put_arp" || a.name === "put_nd") {
          // encode_put_mac: inport / IP / MAC into reg14 / reg0 (xxreg0) / eth.src for pinctrl.
          const [port, ip, mac] = splitArgs(a.text).map(fieldArg);
          if (!port || !ip || !mac) throw new SimError("UNSUPPORTED", `${a.name} needs 3 arguments`);
          out.push(
            ...withArgs(
              [
                [port, "reg14"],
                [ip, a.name === "put_arp" ? "reg0" : "xxreg0"],
                [mac, "eth_src"],
              ],
              [
                withMeter(
                  `controller(userdata=00.00.00.0${a.name === "put_arp" ? 1 : 4}.00.00.00.00)`,
                  env.ctrlMeter,
                ),
              ],
            ),
          );
          break;
        }
        if (a.name === "log") {
          // encode_LOG: opcode 7, then struct log_pin_header (verdict, severity) and the name;
          // the ACL's own meter, never the flow's CoPP one.
          const args = namedArgs(a.text);
          const verdict = LOG_VERDICT[args.get("verdict") ?? ""] ?? 3;
          const severity = LOG_SEVERITY[args.get("severity") ?? "info"];
          if (severity === undefined)
            throw new SimError("UNSUPPORTED", `log severity ${args.get("severity")} is not modelled`);
          const name = [...new TextEncoder().encode(args.get("name") ?? "")];
          const meterName = args.get("meter");
          const meter = meterName !== undefined && env.meterId ? env.meterId(meterName) : undefined;
          out.push(
            withMeter(
              `controller(userdata=${hexBytes([0, 0, 0, 7, 0, 0, 0, 0, verdict, severity, ...name])})`,
              meter,
            ),
          );
          break;
        }
        if (a.name === "set_meter") {
          // encode_SET_METER: a kbps meter of the flow's own (one drop band) → meter:N.
          const args = splitArgs(a.text);
          if (
            args.length < 1 ||
            args.length > 2 ||
            args.some((x) => !/^\d{1,10}$/.test(x)) ||
            Number(args[0]) === 0
          )
            throw new SimError("UNSUPPORTED", `cannot read ${a.text}`);
          const [rate, burst] = args.map(Number) as [number, number | undefined];
          if (!env.meterId) throw new SimError("UNSUPPORTED", "set_meter needs a meter table");
          out.push(`meter:${env.meterId("", { rate, burst: burst ?? 0 })}`);
          break;
        }
        const op = CONTROLLER_OPCODES[a.name];
        if (op === undefined) throw new SimError("UNSUPPORTED", `action ${a.name} is not modelled`);
        const hex = op
          .toString(16)
          .padStart(8, "0")
          .replace(/(..)(?!$)/g, "$1.");
        out.push(withMeter(`controller(userdata=${hex}.00.00.00.00)`, env.ctrlMeter));
        break;
      }
      default: {
        const t: string = (a as { t: string }).t;
        throw new SimError("UNSUPPORTED", `action ${t} is not modelled`);
      }
    }
  }
  return out;
}
