/**
 * OpenFlow 1.5 wire encoding of the actions nested in arp { … }, nd_na { … }, icmp4 { … } and
 * friends: ovn-controller hands them to pinctrl inside `controller(userdata=…)` as the action
 * opcode (include/ovn/actions.h), 4 bytes of padding, then the nested actions as
 * ofpacts_put_openflow_actions(…, OFP15_VERSION) writes them: set_field as OXM, moves as
 * OFPAT_COPY_FIELD, output / next as NXAST_RESUBMIT_TABLE.
 */
import type { Action, FieldRef } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";

/** OXM class / field / byte length of an OVN symbol's field, as OVS encodes it in OF1.5. */
interface Oxm {
  readonly cls: number;
  readonly field: number;
  readonly len: number;
  /** Bit offset of the symbol within the OXM field. */
  readonly ofs: number;
}

const BASIC: Readonly<Record<string, [number, number]>> = {
  dl_dst: [3, 6],
  dl_src: [4, 6],
  nw_proto: [10, 1],
  tcp_src: [13, 2],
  tcp_dst: [14, 2],
  udp_src: [15, 2],
  udp_dst: [16, 2],
  sctp_src: [17, 2],
  sctp_dst: [18, 2],
  icmpv4_type: [19, 1],
  icmpv4_code: [20, 1],
  arp_op: [21, 2],
  arp_spa: [22, 4],
  arp_tpa: [23, 4],
  arp_sha: [24, 6],
  arp_tha: [25, 6],
  ipv6_src: [26, 16],
  ipv6_dst: [27, 16],
  icmpv6_type: [29, 1],
  icmpv6_code: [30, 1],
  nd_target: [31, 16],
  nd_sll: [32, 6],
  nd_tll: [33, 6],
  ip_src: [11, 4],
  ip_dst: [12, 4],
};

function oxmOf(ref: FieldRef): Oxm {
  const sym = ref.sym;
  const name = sym.parent ?? sym.name;
  const ofs = sym.ofs + ref.lo;
  if (sym.kind === "string") return { cls: 1, field: name === "inport" ? 14 : 15, len: 4, ofs: 0 };
  const mf = sym.base?.mf ?? "";
  // OVN's symbol table nests reg0–7 / xreg0–3 in xxreg0–1 and reg8–9 in xreg4, so OVS
  // encodes them as those wider fields (NXM_NX_XXREGn, OXM_OF_PKT_REG4) at an offset.
  const r = /^(x{0,2})reg(\d+)$/.exec(mf);
  if (r) {
    const i = Number(r[2]);
    if (r[1] === "xx") return { cls: 1, field: 111 + i, len: 16, ofs };
    if (r[1] === "x" && i < 4)
      return { cls: 1, field: 111 + (i >> 1), len: 16, ofs: ofs + 64 * (1 - (i % 2)) };
    if (r[1] === "x") return { cls: 0x8001, field: i, len: 8, ofs };
    if (i < 8) return { cls: 1, field: 111 + (i >> 2), len: 16, ofs: ofs + 32 * (3 - (i % 4)) };
    if (i < 10) return { cls: 0x8001, field: 4, len: 8, ofs: ofs + 32 * (1 - (i % 2)) };
    return { cls: 1, field: i, len: 4, ofs };
  }
  if (mf === "nw_ttl") return { cls: 1, field: 29, len: 1, ofs };
  let key: string | undefined;
  if (mf === "dl_src" || mf === "dl_dst") key = mf;
  else if (mf === "nw_src" || mf === "nw_dst")
    key = name.startsWith("arp.")
      ? mf === "nw_src"
        ? "arp_spa"
        : "arp_tpa"
      : mf === "nw_src"
        ? "ip_src"
        : "ip_dst";
  else if (mf === "ipv6_src" || mf === "ipv6_dst" || mf === "nd_target") key = mf;
  else if (mf === "arp_op") key = "arp_op";
  else if (mf === "arp_sha" || mf === "arp_tha")
    key = name.startsWith("nd.") ? (mf === "arp_sha" ? "nd_sll" : "nd_tll") : mf;
  else if (mf === "tp_src" || mf === "tp_dst") key = `${name.split(".")[0]}_${mf.slice(3)}`;
  else if (mf === "icmp_type" || mf === "icmp_code")
    key = `${name.startsWith("icmp6") ? "icmpv6" : "icmpv4"}_${mf.slice(5)}`;
  const b = key ? BASIC[key] : undefined;
  if (!b) throw new SimError("UNSUPPORTED", `field ${sym.name} in a nested action is not modelled`);
  return { cls: 0x8000, field: b[0], len: b[1], ofs };
}

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [...u16((n >>> 16) & 0xffff), ...u16(n & 0xffff)];
const bytesOf = (v: bigint, len: number): number[] => {
  const out: number[] = [];
  for (let i = len - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
};
const pad8 = (b: number[]): number[] => {
  const out = [...b];
  while (out.length % 8) out.push(0);
  return out;
};
const header = (o: Oxm, masked: boolean): number[] => [
  ...u16(o.cls),
  (o.field << 1) | (masked ? 1 : 0),
  masked ? 2 * o.len : o.len,
];

function setField(o: Oxm, value: bigint, nbits: number): number[] {
  const full = o.ofs === 0 && nbits === o.len * 8;
  const v = value << BigInt(o.ofs);
  const m = ((1n << BigInt(nbits)) - 1n) << BigInt(o.ofs);
  const body = [...header(o, !full), ...bytesOf(v, o.len), ...(full ? [] : bytesOf(m, o.len))];
  const b = pad8([0, 0x19, 0, 0, ...body]);
  b[3] = b.length;
  return b;
}

function copyField(src: Oxm, dst: Oxm, nbits: number): number[] {
  return pad8([
    0,
    0x1c,
    0,
    24,
    ...u16(nbits),
    ...u16(src.ofs),
    ...u16(dst.ofs),
    0,
    0,
    ...header(src, false),
    ...header(dst, false),
  ]);
}

/** Pre-OXM NXM headers, which the NX stack actions (push / pop) carry: [class, field, bytes]. */
const NXM_HDR: Readonly<Record<string, [number, number, number]>> = {
  dl_dst: [0, 1, 6],
  dl_src: [0, 2, 6],
  ip_src: [0, 7, 4],
  ip_dst: [0, 8, 4],
  tcp_src: [0, 9, 2],
  tcp_dst: [0, 10, 2],
  udp_src: [0, 11, 2],
  udp_dst: [0, 12, 2],
  arp_spa: [0, 16, 4],
  arp_tpa: [0, 17, 4],
  arp_sha: [1, 17, 6],
  arp_tha: [1, 18, 6],
  ipv6_src: [1, 19, 16],
  ipv6_dst: [1, 20, 16],
  nd_target: [1, 23, 16],
  nd_sll: [1, 24, 6],
  nd_tll: [1, 25, 6],
};

/** NXAST_STACK_PUSH (27) / NXAST_STACK_POP (28) of a field's bits. */
function stack(push: boolean, ref: FieldRef): number[] {
  const o = oxmOf(ref);
  let hdr: number[];
  if (o.cls === 0x8000) {
    const key = Object.entries(BASIC).find(([, [f, l]]) => f === o.field && l === o.len)?.[0];
    const n = key ? NXM_HDR[key] : undefined;
    if (!n) throw new SimError("UNSUPPORTED", `field ${ref.sym.name} in a nested exchange is not modelled`);
    hdr = [...u16(n[0]), n[1] << 1, n[2]];
  } else hdr = header(o, false);
  const nbits = ref.sym.kind === "string" ? 32 : ref.nbits;
  const b = [0xff, 0xff, 0, 24, 0, 0, 0x23, 0x20, 0, push ? 27 : 28, ...u16(o.ofs), ...hdr, ...u16(nbits)];
  while (b.length < 24) b.push(0);
  return b;
}

function resubmit(table: number): number[] {
  return [0xff, 0xff, 0, 0x10, 0, 0, 0x23, 0x20, 0, 0x0e, 0xff, 0xf8, table, 0, 0, 0];
}

/** include/ovn/actions.h enum action_opcode, for the nested actions modelled. */
export const NEST_OPCODES: Readonly<Record<string, number>> = {
  arp: 0,
  nd_na: 3,
  nd_ns: 9,
  icmp4: 10,
  icmp6: 10,
  tcp_reset: 11,
  nd_na_router: 12,
  icmp4_error: 14,
  icmp6_error: 20,
  reject: 22,
  sctp_abort: 24,
};

export interface WireEnv {
  portKey(name: string): number | undefined;
  /** OpenFlow table of `output` (37 in the ingress pipeline, 64 in egress). */
  readonly outputTable: number;
  /** OpenFlow table of `next`. */
  readonly nextTable: number;
  /** OpenFlow table of `next(pipeline=P, table=T)` (P defaults to the flow's pipeline). */
  tableOf?(pipeline: "ingress" | "egress" | undefined, table: number): number;
}

/** The `controller(userdata=…)` action for `kind { nested }`. */
export function encodeNestedController(kind: string, nested: readonly Action[], env: WireEnv): string {
  const op = NEST_OPCODES[kind];
  if (op === undefined) throw new SimError("UNSUPPORTED", `action ${kind} { … } is not modelled`);
  const b: number[] = [...u32(op), 0, 0, 0, 0];
  for (const a of nested) {
    switch (a.t) {
      case "load": {
        const o = oxmOf(a.dst);
        b.push(...setField(o, a.value & ((1n << BigInt(a.dst.nbits)) - 1n), a.dst.nbits));
        break;
      }
      case "load_str": {
        const key = a.s === "" ? 0 : env.portKey(a.s);
        if (key === undefined)
          throw new SimError("UNKNOWN_PORT", `logical port "${a.s}" is not on this datapath`);
        b.push(...setField(oxmOf(a.dst), BigInt(key), 32));
        break;
      }
      case "move": {
        const nbits = a.dst.sym.kind === "string" ? 32 : a.dst.nbits;
        b.push(...copyField(oxmOf(a.src), oxmOf(a.dst), nbits));
        break;
      }
      case "exchange":
        // Like the top-level exchange: push b, push a, pop b, pop a.
        b.push(...stack(true, a.b), ...stack(true, a.a), ...stack(false, a.b), ...stack(false, a.a));
        break;
      case "output":
        b.push(...resubmit(env.outputTable));
        break;
      case "next":
        if (a.table !== undefined || a.pipeline !== undefined) {
          if (a.table === undefined || !env.tableOf)
            throw new SimError(
              "UNSUPPORTED",
              "next(pipeline=…) without a table inside a nested action is not modelled",
            );
          b.push(...resubmit(env.tableOf(a.pipeline, a.table)));
        } else b.push(...resubmit(env.nextTable));
        break;
      default:
        throw new SimError("UNSUPPORTED", `action ${a.t} inside ${kind} { … } is not modelled`);
    }
  }
  return `controller(userdata=${b.map((x) => x.toString(16).padStart(2, "0")).join(".")})`;
}
