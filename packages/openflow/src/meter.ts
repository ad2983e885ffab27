/**
 * OpenFlow meters as a bridge holds them (ofproto `struct meter`, lib/ofp-meter.c): id, rate
 * unit (kbps or pktps), the burst and stats flags, and the bands (drop or dscp_remark, with
 * rate, burst size and precedence level). Read from `ovs-ofctl add-meter` syntax
 * (`meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100`) and from `ovs-ofctl
 * -O OpenFlow13+ dump-meters` output, printed back as dump-meters prints them.
 *
 * This is the model and its text forms; what a `meter:N` action does to a packet belongs to
 * the action translator. Note that an OpenFlow 1.0 dump-flows cannot express `meter:N` and
 * leaves it out of the action list, so capture flows with -O OpenFlow13 or later.
 */
import { SimError } from "@ovnsim/packet";

export interface MeterBand {
  readonly type: "drop" | "dscp_remark";
  /** kbps or packets per second, as the meter's unit says. */
  readonly rate: number;
  readonly burstSize: number;
  /** dscp_remark: how many drop-precedence levels to add. */
  readonly precLevel: number;
}

export interface Meter {
  readonly id: number;
  readonly unit: "kbps" | "pktps";
  readonly burst: boolean;
  readonly stats: boolean;
  readonly bands: readonly MeterBand[];
}

/** Special meter ids (OFPM13_SLOWPATH, OFPM13_CONTROLLER, OFPM13_ALL). */
const SPECIAL_IDS: ReadonlyMap<string, number> = new Map([
  ["slowpath", 0xfffffffd],
  ["controller", 0xfffffffe],
  ["all", 0xffffffff],
]);

function u32(text: string, what: string): number {
  if (!/^(0[xX][0-9a-fA-F]{1,8}|\d{1,10})$/.test(text))
    throw new SimError("BAD_VALUE", `${what}: "${text}" is not a 32-bit number`);
  const v = Number(text);
  if (v > 0xffffffff) throw new SimError("BAD_VALUE", `${what}: ${text} is out of range`);
  return v;
}

/** ofputil_format_meter_id. */
export function formatMeterId(id: number): string {
  for (const [n, v] of SPECIAL_IDS) if (v === id) return n;
  return String(id);
}

function parseMeterId(text: string): number {
  const s = SPECIAL_IDS.get(text);
  if (s !== undefined && s !== 0xffffffff) return s;
  const v = u32(text, "meter");
  if (v === 0 || v > 0xffff0000)
    throw new SimError("BAD_VALUE", `meter=${text}: meter ids run from 1 to ${0xffff0000}`);
  return v;
}

interface BandBuild {
  type?: MeterBand["type"];
  rate?: number;
  burstSize: number;
  precLevel: number;
}

function finishBand(b: BandBuild, where: string): MeterBand {
  if (b.type === undefined) throw new SimError("PARSE_ERROR", `${where}: band without type=`);
  if (b.rate === undefined) throw new SimError("PARSE_ERROR", `${where}: band without rate=`);
  return { type: b.type, rate: b.rate, burstSize: b.burstSize, precLevel: b.precLevel };
}

/**
 * One meter in add-meter syntax (parse_ofp_meter_mod_str): `meter=ID`, flags `kbps`/`pktps`/
 * `burst`/`stats` (any separators), then `band=`/`bands=` followed by `type=…,rate=…[,burst_size=…][,prec_level=…]`
 * groups, each `type=` starting a new band. Also reads dump-meters' space-separated form.
 */
export function parseMeterSpec(text: string): Meter {
  const where = `meter "${text.trim().slice(0, 60)}"`;
  const items = text
    .trim()
    .split(/[\s,]+/)
    .filter((s) => s !== "");
  let id: number | undefined;
  let unit: Meter["unit"] | undefined;
  let burst = false;
  let stats = false;
  const bands: MeterBand[] = [];
  let inBands = false;
  let cur: BandBuild | null = null;
  for (let item of items) {
    if (!inBands) {
      const bm = /^bands?=(.*)$/.exec(item);
      if (bm) {
        inBands = true;
        item = bm[1]!;
        if (item === "") continue;
      }
    }
    if (!inBands) {
      const m = /^meter[=:](.+)$/.exec(item);
      if (m) {
        if (id !== undefined) throw new SimError("DUPLICATE", `${where}: meter= given twice`);
        id = parseMeterId(m[1]!);
      } else if (item === "kbps" || item === "pktps") {
        if (unit !== undefined && unit !== item)
          throw new SimError("CONFLICT", `${where}: both kbps and pktps`);
        unit = item;
      } else if (item === "burst") burst = true;
      else if (item === "stats") stats = true;
      else throw new SimError("PARSE_ERROR", `${where}: unknown meter property "${item}"`);
      continue;
    }
    const kv = /^([a-z_]+)=(.*)$/.exec(item);
    if (!kv) throw new SimError("PARSE_ERROR", `${where}: "${item}" is not a band key=value`);
    const [, k, v] = kv as unknown as [string, string, string];
    if (k === "type") {
      if (cur) bands.push(finishBand(cur, where));
      if (v !== "drop" && v !== "dscp_remark")
        throw new SimError("BAD_VALUE", `${where}: unknown band type "${v}"`);
      cur = { type: v, burstSize: 0, precLevel: 0 };
      continue;
    }
    if (!cur) throw new SimError("PARSE_ERROR", `${where}: ${k}= before the band's type=`);
    if (k === "rate") cur.rate = u32(v, "rate");
    else if (k === "burst_size") cur.burstSize = u32(v, "burst_size");
    else if (k === "prec_level") {
      const p = u32(v, "prec_level");
      if (p > 255) throw new SimError("BAD_VALUE", `${where}: prec_level ${v} is out of range`);
      cur.precLevel = p;
    } else throw new SimError("PARSE_ERROR", `${where}: unknown band property "${k}"`);
  }
  if (cur) bands.push(finishBand(cur, where));
  if (id === undefined) throw new SimError("PARSE_ERROR", `${where}: missing meter=`);
  return { id, unit: unit ?? "kbps", burst, stats, bands };
}

const SKIP = /^\s*$|^\s*#|^(OFPST|OFPT|NXST)\S*\s.*\(xid=/;

/**
 * A whole `dump-meters` output (records of a `meter=…bands=` line followed by one `type=…`
 * line per band) or add-meter lines, one meter per line.
 */
export function parseMeters(text: string): Meter[] {
  const out: Meter[] = [];
  let record: string[] = [];
  const flush = (): void => {
    if (record.length) out.push(parseMeterSpec(record.join(" ")));
    record = [];
  };
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (SKIP.test(line)) {
      flush();
      return;
    }
    try {
      if (/^\s*meter[=:]/.test(line)) {
        flush();
        record.push(line);
      } else if (/^\s*type=/.test(line) && record.length) record.push(line);
      else throw new SimError("PARSE_ERROR", `"${line.trim().slice(0, 60)}": not a meter line`);
    } catch (e) {
      if (e instanceof SimError) throw e.at(undefined, i + 1);
      throw e;
    }
  });
  flush();
  const ids = new Set<number>();
  for (const m of out) {
    if (ids.has(m.id)) throw new SimError("DUPLICATE", `meter ${formatMeterId(m.id)} given twice`);
    ids.add(m.id);
  }
  return out;
}

/** One meter as dump-meters prints it (ofputil_format_meter_config), without the trailing blank line. */
export function formatMeter(m: Meter): string {
  let s = `meter=${formatMeterId(m.id)} ${m.unit}`;
  if (m.burst) s += " burst";
  if (m.stats) s += " stats";
  s += " bands=";
  for (const b of m.bands) {
    s += `\ntype=${b.type} rate=${b.rate}`;
    if (m.burst) s += ` burst_size=${b.burstSize}`;
    if (b.type === "dscp_remark") s += ` prec_level=${b.precLevel}`;
  }
  return s;
}
