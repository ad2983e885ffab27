/**
 * A bridge's Geneve TLV map (OVS `struct tun_table`, ofproto/ofproto.c handle_tlv_table_mod):
 * which Geneve option (class, type, length) each tun_metadata<N> field stands for. Read from
 * `ovs-ofctl add-tlv-map` syntax (`{class=0x102,type=0x80,len=4}->tun_metadata0,...`) or from
 * `ovs-ofctl dump-tlv-map BR` output. ovnsim holds 4 bytes of each field, which is OVN's
 * option; a longer option is refused as UNSUPPORTED.
 */
import { SimError } from "@ovnsim/packet";

export interface TlvMapping {
  readonly index: number;
  readonly optClass: number;
  readonly type: number;
  readonly len: number;
}

/** tun_metadata index → Geneve option. */
export type TlvMap = ReadonlyMap<number, TlvMapping>;

const num = (t: string, what: string, max: number): number => {
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t))
    throw new SimError("BAD_VALUE", `TLV map: ${what} "${t}" is not a number`);
  const v = Number(t);
  if (v > max) throw new SimError("BAD_VALUE", `TLV map: ${what} ${t} is out of range (max ${max})`);
  return v;
};

function check(m: Map<number, TlvMapping>, e: TlvMapping): void {
  if (e.len % 4 !== 0 || e.len > 124)
    throw new SimError("BAD_VALUE", `TLV map: option length ${e.len} must be a multiple of 4 up to 124`);
  if (e.len !== 4)
    throw new SimError(
      "UNSUPPORTED",
      `TLV map: tun_metadata${e.index} of ${e.len} bytes (ovnsim holds 4-byte options)`,
    );
  if (m.has(e.index)) throw new SimError("DUPLICATE", `TLV map: tun_metadata${e.index} mapped twice`);
  m.set(e.index, e);
}

const fieldIndex = (t: string): number => {
  const f = /^tun_metadata(\d{1,2})$/.exec(t.trim());
  if (!f || Number(f[1]) > 63) throw new SimError("BAD_VALUE", `TLV map: "${t}" is not tun_metadata0..63`);
  return Number(f[1]);
};

/** `ovs-ofctl add-tlv-map` argument syntax. */
export function parseTlvMapSpec(text: string): Map<number, TlvMapping> {
  const out = new Map<number, TlvMapping>();
  const re = /\s*\{([^}]*)\}\s*->\s*([^,\s]+)\s*(,|$)/y;
  let at = 0;
  const t = text.trim();
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (!m) throw new SimError("PARSE_ERROR", `TLV map: cannot parse "${t.slice(at, at + 40)}"`);
    const kv = new Map<string, string>();
    for (const part of m[1]!.split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0) throw new SimError("PARSE_ERROR", `TLV map: "${part}" is not key=value`);
      kv.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const need = (k: string): string => {
      const v = kv.get(k);
      if (v === undefined) throw new SimError("PARSE_ERROR", `TLV map: {${m[1]}} lacks ${k}=`);
      return v;
    };
    check(out, {
      index: fieldIndex(m[2]!),
      optClass: num(need("class"), "class", 0xffff),
      type: num(need("type"), "type", 0xff),
      len: num(need("len"), "len", 0xff),
    });
    at = re.lastIndex;
  }
  return out;
}

/** `ovs-ofctl dump-tlv-map BR` output (its `mapping table:` rows); other lines are skipped. */
export function parseTlvMapDump(text: string): Map<number, TlvMapping> {
  const out = new Map<number, TlvMapping>();
  for (const line of text.split("\n")) {
    const m = /^\s*(0x[0-9a-fA-F]+|\d+)\s+(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    check(out, {
      index: fieldIndex(m[4]!),
      optClass: num(m[1]!, "class", 0xffff),
      type: num(m[2]!, "type", 0xff),
      len: num(m[3]!, "len", 0xff),
    });
  }
  return out;
}

/** Either form: dump-tlv-map output when it has the NXT_TLV_TABLE_REPLY header or rows, else add-tlv-map lines. */
export function parseTlvMap(text: string): Map<number, TlvMapping> {
  if (
    /TLV_TABLE_REPLY|mapping table|^\s*(0x[0-9a-fA-F]+|\d+)\s+(0x[0-9a-fA-F]+|\d+)\s+\d+\s+tun_metadata/m.test(
      text,
    )
  )
    return parseTlvMapDump(text);
  const out = new Map<number, TlvMapping>();
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    for (const e of parseTlvMapSpec(line).values()) check(out, e);
  }
  return out;
}
