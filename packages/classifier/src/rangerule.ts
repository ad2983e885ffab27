/**
 * Range rules: the native form of ACL and firewall filters (ClassBench, iptables, OVN ACLs before
 * `expr` turns port ranges into value/mask pairs). A rule gives an inclusive [lo, hi] per field
 * and a priority; the key is one unsigned value per field. Shared by the range classifiers of
 * this package (`RangeClassifier`, `RangeLinearClassifier`): the same checks and the same tie
 * rule (higher priority wins, then the rule inserted first), so their answers are comparable.
 */
import { SimError } from "@ovnsim/packet";

/** What a caller gives to insert a range rule. */
export interface RangeRuleSpec<T> {
  /** Integer 0 … 2³¹−1; higher wins. Equal priorities: the rule inserted first wins. */
  readonly priority: number;
  /** Inclusive low end of each field. */
  readonly lo: ArrayLike<number>;
  /** Inclusive high end of each field (≥ lo, < 2^width). */
  readonly hi: ArrayLike<number>;
  readonly payload: T;
}

/** A rule in a range classifier; `id` is assigned on insertion, unique and increasing. */
export interface RangeRule<T> {
  readonly id: number;
  readonly priority: number;
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  readonly payload: T;
}

/** Field widths of the range classifiers: one entry (1–32 bits) per key field. */
export interface RangeClassifierOptions {
  readonly fields: readonly number[];
}

/** ClassBench's 5-tuple: source address, destination address, source port, destination port, protocol. */
export const CLASSBENCH_FIELDS: readonly number[] = Object.freeze([32, 32, 16, 16, 8]);

/** Internal record of the linear scan: the public rule with its own copies of lo/hi. */
export class RangeRuleRec<T> implements RangeRule<T> {
  live = true;
  constructor(
    readonly id: number,
    readonly priority: number,
    readonly lo: Uint32Array,
    readonly hi: Uint32Array,
    readonly payload: T,
  ) {}
}

/** Checks the field widths; returns them as an Int32Array. */
export function checkFields(fields: readonly number[]): Int32Array {
  if (!Array.isArray(fields) || fields.length < 1 || fields.length > 64)
    throw new SimError("BAD_VALUE", "range classifier: fields must list 1–64 field widths");
  for (const w of fields)
    if (!Number.isInteger(w) || w < 1 || w > 32)
      throw new SimError("BAD_VALUE", `range classifier: field width ${w} is not an integer in 1..32`);
  return Int32Array.from(fields);
}

/** Throws SimError BAD_VALUE unless the spec fits the field widths. */
export function validateRangeSpec(spec: RangeRuleSpec<unknown>, widths: Int32Array, id: number): void {
  const p = spec.priority;
  if (!Number.isInteger(p) || p < 0 || p > 0x7fffffff)
    throw new SimError("BAD_VALUE", `range rule #${id}: priority ${p} is outside 0–2147483647`);
  const d = widths.length;
  if (spec.lo == null || spec.hi == null || spec.lo.length !== d || spec.hi.length !== d)
    throw new SimError("BAD_VALUE", `range rule #${id}: lo and hi must have ${d} fields`);
  for (let f = 0; f < d; f++) {
    const l = spec.lo[f]!;
    const h = spec.hi[f]!;
    const w = widths[f]!;
    if (
      typeof l !== "number" ||
      typeof h !== "number" ||
      !(l >= 0 && l <= h && h <= (w === 32 ? 0xffffffff : 2 ** w - 1)) ||
      l % 1 !== 0 ||
      h % 1 !== 0
    )
      throw new SimError(
        "BAD_VALUE",
        `range rule #${id}: field ${f} range ${l}–${h} is not a range of ${w}-bit numbers`,
      );
  }
}

/** Validates a spec against the field widths and returns its lo/hi as fresh Uint32Arrays. */
export function checkRangeSpec(
  spec: RangeRuleSpec<unknown>,
  widths: Int32Array,
  id: number,
): { lo: Uint32Array; hi: Uint32Array } {
  const p = spec.priority;
  if (!Number.isInteger(p) || p < 0 || p > 0x7fffffff)
    throw new SimError("BAD_VALUE", `range rule #${id}: priority ${p} is outside 0–2147483647`);
  const d = widths.length;
  if (spec.lo == null || spec.hi == null || spec.lo.length !== d || spec.hi.length !== d)
    throw new SimError("BAD_VALUE", `range rule #${id}: lo and hi must have ${d} fields`);
  const lo = new Uint32Array(d);
  const hi = new Uint32Array(d);
  for (let f = 0; f < d; f++) {
    const l = spec.lo[f]!;
    const h = spec.hi[f]!;
    const max = widths[f] === 32 ? 0xffffffff : 2 ** widths[f]! - 1;
    if (!Number.isInteger(l) || !Number.isInteger(h) || l < 0 || h > max || l > h)
      throw new SimError(
        "BAD_VALUE",
        `range rule #${id}: field ${f} range ${l}–${h} is not a range of ${widths[f]}-bit numbers`,
      );
    lo[f] = l;
    hi[f] = h;
  }
  return { lo, hi };
}

/** Checks a lookup key's length (cheap; called once per lookup only in the linear scan). */
export function badKey(d: number, key: ArrayLike<number>, offset: number): SimError {
  return new SimError(
    "BAD_VALUE",
    `range classifier: key of ${key.length} values at offset ${offset} has fewer than ${d} fields`,
  );
}
