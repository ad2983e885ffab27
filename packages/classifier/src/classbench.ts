/**
 * ClassBench filter sets (Taylor & Turner): the standard benchmark input for packet
 * classifiers, here as rules over the flow key, plus ClassBench-style header traces.
 *
 * A filter line is `@src/len <tab> dst/len <tab> sportLo : sportHi <tab> dportLo : dportHi
 * <tab> proto/mask <tab> flags/mask`; line order is priority (the first matching line wins).
 * Each filter becomes one classifier rule per (source-port prefix × destination-port prefix)
 * of its port ranges, all at the priority of its line and with the filter's index as payload;
 * the TCP-flags field is parsed but not matched (5-tuple classifiers ignore it). Rules match
 * `ip` (dl_type=0x0800) as an OpenFlow table would.
 */
import { ETH_TYPE, FLOW_WORDS, SimError, W } from "@ovnsim/packet";
import { rangeToPrefixes } from "./ranges.js";
import type { RangeRuleSpec } from "./rangerule.js";
import type { RuleSpec } from "./rule.js";

/** One ClassBench filter. Addresses are already masked to their prefix. */
export interface ClassBenchRule {
  readonly srcIp: number;
  readonly srcLen: number;
  readonly dstIp: number;
  readonly dstLen: number;
  readonly sportLo: number;
  readonly sportHi: number;
  readonly dportLo: number;
  readonly dportHi: number;
  readonly proto: number;
  readonly protoMask: number;
  readonly flags: number;
  readonly flagsMask: number;
  /** 1-based line in the file. */
  readonly line: number;
}

const LINE_RE =
  /^@(\S+)\/(\S+)\s+(\S+)\/(\S+)\s+(\S+)\s*:\s*(\S+)\s+(\S+)\s*:\s*(\S+)\s+(\S+)\/(\S+)(?:\s+(\S+)\/(\S+))?\s*$/;

function num(text: string, what: string, max: number, file: string | undefined, line: number): number {
  const ok = /^(0x[0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(text);
  const v = ok ? Number(text) : Number.NaN;
  if (!ok || !Number.isInteger(v) || v < 0 || v > max)
    throw new SimError("BAD_VALUE", `${what}: "${text}" is not a number in 0..${max}`, { file, line });
  return v;
}

function ip4(text: string, what: string, file: string | undefined, line: number): number {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255))
    throw new SimError("BAD_VALUE", `${what}: "${text}" is not an IPv4 address`, { file, line });
  return parts.reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

const plenMask = (len: number): number => (len === 0 ? 0 : (~0 << (32 - len)) >>> 0);

/** Parses a ClassBench filter set. Blank lines are skipped; anything else malformed is a SimError. */
export function parseClassBench(text: string, file?: string): ClassBenchRule[] {
  const out: ClassBenchRule[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    if (raw.trim() === "") continue;
    const m = LINE_RE.exec(raw.trim());
    if (!m)
      throw new SimError("PARSE_ERROR", `not a ClassBench filter: "${raw.slice(0, 80)}"`, { file, line });
    const srcLen = num(m[2]!, "source prefix length", 32, file, line);
    const dstLen = num(m[4]!, "destination prefix length", 32, file, line);
    const srcIp = (ip4(m[1]!, "source address", file, line) & plenMask(srcLen)) >>> 0;
    const dstIp = (ip4(m[3]!, "destination address", file, line) & plenMask(dstLen)) >>> 0;
    const sportLo = num(m[5]!, "source port", 65535, file, line);
    const sportHi = num(m[6]!, "source port", 65535, file, line);
    const dportLo = num(m[7]!, "destination port", 65535, file, line);
    const dportHi = num(m[8]!, "destination port", 65535, file, line);
    if (sportLo > sportHi)
      throw new SimError("BAD_VALUE", `source port range ${sportLo} : ${sportHi} is empty`, { file, line });
    if (dportLo > dportHi)
      throw new SimError("BAD_VALUE", `destination port range ${dportLo} : ${dportHi} is empty`, {
        file,
        line,
      });
    const protoMask = num(m[10]!, "protocol mask", 255, file, line);
    const proto = num(m[9]!, "protocol", 255, file, line) & protoMask;
    const flagsMask = m[12] !== undefined ? num(m[12], "flags mask", 0xffff, file, line) : 0;
    const flags = m[11] !== undefined ? num(m[11], "flags", 0xffff, file, line) & flagsMask : 0;
    out.push({
      srcIp,
      srcLen,
      dstIp,
      dstLen,
      sportLo,
      sportHi,
      dportLo,
      dportHi,
      proto,
      protoMask,
      flags,
      flagsMask,
      line,
    });
  }
  return out;
}

/**
 * Classifier rules for ClassBench filters over the flow key: filter i gets priority
 * `filters.length - i` (so line order is priority) and payload i. Throws SimError if there
 * are more than 65535 filters.
 */
export function classBenchToRules(filters: readonly ClassBenchRule[]): RuleSpec<number>[] {
  if (filters.length > 65535)
    throw new SimError("UNSUPPORTED", `${filters.length} ClassBench filters exceed the 65535 priorities`);
  const out: RuleSpec<number>[] = [];
  filters.forEach((f, i) => {
    const sp =
      f.sportLo === 0 && f.sportHi === 65535
        ? [{ value: 0, mask: 0 }]
        : rangeToPrefixes(f.sportLo, f.sportHi, 16);
    const dp =
      f.dportLo === 0 && f.dportHi === 65535
        ? [{ value: 0, mask: 0 }]
        : rangeToPrefixes(f.dportLo, f.dportHi, 16);
    for (const s of sp)
      for (const d of dp) {
        const value = new Uint32Array(FLOW_WORDS);
        const mask = new Uint32Array(FLOW_WORDS);
        value[W.dl_type] = ETH_TYPE.ip;
        mask[W.dl_type] = 0xffff;
        value[W.nw_src] = f.srcIp;
        mask[W.nw_src] = plenMask(f.srcLen);
        value[W.nw_dst] = f.dstIp;
        mask[W.nw_dst] = plenMask(f.dstLen);
        value[W.nw_proto] = f.proto;
        mask[W.nw_proto] = f.protoMask;
        value[W.tp_src] = s.value;
        mask[W.tp_src] = s.mask;
        value[W.tp_dst] = d.value;
        mask[W.tp_dst] = d.mask;
        out.push({ priority: filters.length - i, value, mask, payload: i, name: `line ${f.line}` });
      }
  });
  return out;
}

/** A deterministic 32-bit LCG (Numerical Recipes constants); returns numbers in [0, 2^32). */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

/** A header of a trace: the 5-tuple and the filter it was generated from (not its answer). */
export interface ClassBenchHeader {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
  readonly ruleIdx: number;
}

/**
 * `n` headers generated as ClassBench's trace generator does: pick a filter uniformly, take
 * the low or the high end of each field with probability ½, and emit ceil(b / (1-U)^(1/a))
 * copies (Pareto, a = 1, b = 0.1). Deterministic for a given seed.
 */
export function classBenchTrace(filters: readonly ClassBenchRule[], n: number, seed = 1): ClassBenchHeader[] {
  if (filters.length === 0) return [];
  const rnd = lcg(seed);
  const u = (): number => rnd() / 4294967296;
  const out: ClassBenchHeader[] = [];
  while (out.length < n) {
    const ruleIdx = rnd() % filters.length;
    const f = filters[ruleIdx]!;
    const pick = (lo: number, hi: number): number => (rnd() & 0x10000 ? hi : lo);
    const sm = plenMask(f.srcLen);
    const dm = plenMask(f.dstLen);
    const h: ClassBenchHeader = {
      src: pick(f.srcIp, (f.srcIp | ~sm) >>> 0),
      dst: pick(f.dstIp, (f.dstIp | ~dm) >>> 0),
      sport: pick(f.sportLo, f.sportHi),
      dport: pick(f.dportLo, f.dportHi),
      proto: f.protoMask === 0xff ? f.proto : pick(f.proto, (f.proto | (~f.protoMask & 0xff)) >>> 0),
      ruleIdx,
    };
    const copies = Math.ceil(0.1 / (1 - u()));
    for (let c = 0; c < copies && out.length < n; c++) out.push(h);
  }
  return out;
}

/** The flow key of a trace header (an IPv4 packet with these fields). */
export function headerToKey(
  h: ClassBenchHeader,
  key: Uint32Array = new Uint32Array(FLOW_WORDS),
): Uint32Array {
  key[W.dl_type] = ETH_TYPE.ip;
  key[W.nw_src] = h.src;
  key[W.nw_dst] = h.dst;
  key[W.nw_proto] = h.proto;
  key[W.tp_src] = h.sport;
  key[W.tp_dst] = h.dport;
  return key;
}

/** [lo, hi] of a value/mask field when the mask is a prefix mask of `bits` bits; else null. */
function maskRange(value: number, mask: number, bits: number): [number, number] | null {
  const full = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const free = (full ^ mask) >>> 0;
  if ((free & (free + 1)) !== 0) return null; // the wildcarded bits are not a suffix
  return [(value & mask) >>> 0, ((value & mask) | free) >>> 0];
}

/**
 * Range rules for ClassBench filters over CLASSBENCH_FIELDS (src, dst, sport, dport, proto),
 * without port-range expansion: filter i gets priority `filters.length - i` (line order is
 * priority) and payload i. A protocol mask that is not a prefix mask (not 0x00 or 0xff in
 * ClassBench) is a SimError UNSUPPORTED.
 */
export function classBenchToRanges(filters: readonly ClassBenchRule[]): RangeRuleSpec<number>[] {
  return filters.map((f, i) => {
    const proto = maskRange(f.proto, f.protoMask, 8);
    if (proto === null)
      throw new SimError(
        "UNSUPPORTED",
        `ClassBench line ${f.line}: protocol mask 0x${f.protoMask.toString(16)} is not a range`,
      );
    const src = maskRange(f.srcIp, plenMask(f.srcLen), 32)!;
    const dst = maskRange(f.dstIp, plenMask(f.dstLen), 32)!;
    return {
      priority: filters.length - i,
      lo: [src[0], dst[0], f.sportLo, f.dportLo, proto[0]],
      hi: [src[1], dst[1], f.sportHi, f.dportHi, proto[1]],
      payload: i,
    };
  });
}

/** Trace headers as one flat Uint32Array of CLASSBENCH_FIELDS keys (5 values per header). */
export function headersToRangeKeys(headers: readonly ClassBenchHeader[]): Uint32Array {
  const out = new Uint32Array(5 * headers.length);
  headers.forEach((h, i) => {
    out[5 * i] = h.src;
    out[5 * i + 1] = h.dst;
    out[5 * i + 2] = h.sport;
    out[5 * i + 3] = h.dport;
    out[5 * i + 4] = h.proto;
  });
  return out;
}
