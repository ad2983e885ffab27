/**
 * Executing `learn` (upstream lib/learn.c `learn_execute`), for the side-effects mode of a
 * trace (an ovnsim extension: ofproto/trace itself suppresses side effects and only reports
 * "suppressing side effects, so learn action ignored"). The learned rule is built from the
 * packet as ovs-vswitchd builds it when a real packet passes — match specs become match fields,
 * `load` specs become `load:` actions, `output` a port — and is described with the line
 * ovs-vswitchd's trace prints for it (`table=N MATCH priority=P idle=I actions=…`).
 */
import { findField, formatMatch } from "@ovnsim/packet";
import { type LearnSpec, type OfAction, formatActions } from "./actions.js";
import { readSubfield } from "./fieldio.js";
import { type FlowEntry, parseFlowLine } from "./model.js";
import { formatFieldValue } from "./values.js";

type Learn = Extract<OfAction, { kind: "learn" }>;

const specValue = (key: Uint32Array, s: LearnSpec): bigint => (s.src ? readSubfield(key, s.src) : s.imm);

/** Valid output ports of a learned `output:` spec (learn_execute). */
const OUTPUT_OK = (p: number): boolean =>
  p < 0xff00 || p === 0xfff8 || p === 0xfffb || p === 0xfffe || p === 0xfffc;

/** The rule `learn` installs for the packet `key`, and OVS's description of it. */
export function learnExecute(a: Learn, key: Uint32Array): { entry: FlowEntry; text: string } {
  const match = new Map<string, { value: bigint; mask: bigint }>();
  const order: string[] = [];
  const acts: string[] = [];
  for (const s of a.specs) {
    const v = specValue(key, s);
    const width = BigInt(s.dst.nBits);
    const ofs = BigInt(s.dst.ofs);
    const bits = ((1n << width) - 1n) << ofs;
    if (s.type === "match") {
      const name = s.dst.field.name;
      const cur = match.get(name) ?? { value: 0n, mask: 0n };
      if (!match.has(name)) order.push(name);
      match.set(name, { value: (cur.value & ~bits) | ((v << ofs) & bits), mask: cur.mask | bits });
    } else if (s.type === "load") {
      acts.push(
        `load:0x${v.toString(16)}->${s.dst.field.nxm || s.dst.field.name}[${s.dst.ofs}..${s.dst.ofs + s.dst.nBits - 1}]`,
      );
    } else {
      const port = Number(v & 0xffffn);
      if (s.dst.nBits <= 16 || v >> 16n === 0n) if (OUTPUT_OK(port)) acts.push(`output:${port}`);
    }
  }
  const fields = order.map((name) => {
    const spec = findField(name)!;
    const { value, mask } = match.get(name)!;
    const full = mask === (1n << BigInt(spec.bits)) - 1n;
    return `${name}=${formatFieldValue(spec, value, full ? null : mask)}`;
  });
  const line = `table=${a.table},priority=${a.priority}${a.cookie ? `,cookie=0x${a.cookie.toString(16)}` : ""}${fields.length ? `,${fields.join(",")}` : ""},actions=${acts.join(",") || "drop"}`;
  const entry = parseFlowLine(line);
  let text = `table=${a.table} ${formatMatch(entry.match, {})}`.trimEnd();
  text += ` priority=${a.priority}`;
  if (a.cookie) text += ` cookie=0x${a.cookie.toString(16)}`;
  if (a.idle) text += ` idle=${a.idle}`;
  if (a.hard) text += ` hard=${a.hard}`;
  if (a.sendFlowRem) text += " send_flow_rem";
  text += ` actions=${formatActions(entry.actions)}`;
  return { entry, text };
}
