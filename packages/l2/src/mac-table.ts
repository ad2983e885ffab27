/**
 * The MAC learning table of an OVS bridge (upstream `lib/mac-learning.c`, OVS 3.1), also used
 * as the forwarding database of the physical switches.
 *
 * What it mirrors: entries keyed by (VLAN, MAC) → port; learning only from unicast sources
 * (`mac_learning_may_learn`); an entry's expiry reset on every learn (`expires = now +
 * idle_time`, default 300 s, clamped to 15–3600 like `normalize_idle_time`); expiry from the
 * least-recently-learned end (`mac_learning_run`); when full (default 8192 entries), evicting
 * the least-recently-learned entry of the port that holds most entries
 * (`evict_mac_entry_fairly`); static entries (`fdb/add`) that never age and never move; lookups
 * of multicast destinations always miss. Time is virtual, in seconds; like OVS's `time_now()`
 * it is truncated to whole seconds.
 *
 * Not modelled: the gratuitous-ARP lock (it only matters on bond ports, which ovnsim has not),
 * `flood_vlans`.
 *
 * A table is a value for replay purposes: `clone()` gives an independent copy, so a trace can
 * run against a snapshot and leave the live table untouched.
 */
import { formatMac } from "@ovnsim/packet";

export const MAC_ENTRY_DEFAULT_IDLE_TIME = 300;
export const MAC_DEFAULT_MAX = 8192;

interface Entry {
  readonly vlan: number;
  readonly mac: number;
  port: number;
  /** Whole second at which the entry expires; Infinity for a static entry. */
  expires: number;
  /** Neighbours in the least-recently-learned list (OVS keeps its `lrus` list the same way). */
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** What `learn` returns: two shared answers, so learning a MAC allocates nothing. */
const CHANGED: { readonly changed: boolean } = Object.freeze({ changed: true });
const UNCHANGED: { readonly changed: boolean } = Object.freeze({ changed: false });

export interface MacEntry {
  readonly vlan: number;
  readonly mac: number;
  readonly port: number;
  /** Seconds since last learned, or "static". */
  readonly age: number | "static";
}

export interface MacTableOptions {
  /** `other_config:mac-aging-time`, seconds (clamped to 15–3600). */
  readonly idleTime?: number;
  /** `other_config:mac-table-size` (clamped to 10–1,000,000). */
  readonly maxEntries?: number;
}

function isMulticast(mac: number): boolean {
  // The group bit is the least significant bit of the first octet (bit 40 of the integer).
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

export class MacTable {
  readonly idleTime: number;
  readonly maxEntries: number;
  /** vlan → mac → entry. */
  private readonly byVlan = new Map<number, Map<number, Entry>>();
  /**
   * Least recently learned first: an intrusive list rather than a Map re-inserted on every
   * learn, whose deleted slots made V8 rebuild the table every few hundred packets.
   */
  private head: Entry | undefined;
  private tail: Entry | undefined;
  private count = 0;
  /** Counters like `fdb/stats-show`. */
  private counters = { learned: 0, expired: 0, evicted: 0, moved: 0 };

  constructor(opts: MacTableOptions = {}) {
    const idle = Math.trunc(opts.idleTime ?? MAC_ENTRY_DEFAULT_IDLE_TIME);
    this.idleTime = idle < 15 ? 15 : Math.min(idle, 3600);
    const max = Math.trunc(opts.maxEntries ?? MAC_DEFAULT_MAX);
    this.maxEntries = max < 10 ? 10 : Math.min(max, 1_000_000);
  }

  get size(): number {
    return this.count;
  }

  get stats(): {
    readonly learned: number;
    readonly expired: number;
    readonly evicted: number;
    readonly moved: number;
  } {
    return { ...this.counters };
  }

  private find(vlan: number, mac: number): Entry | undefined {
    return this.byVlan.get(vlan)?.get(mac);
  }

  /** Appends `e` as the most recently learned entry. */
  private append(e: Entry): void {
    e.prev = this.tail;
    e.next = undefined;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.count++;
  }

  private unlink(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = undefined;
    e.next = undefined;
    this.count--;
  }

  private remove(e: Entry): void {
    this.unlink(e);
    const m = this.byVlan.get(e.vlan);
    m?.delete(e.mac);
    if (m && m.size === 0) this.byVlan.delete(e.vlan);
  }

  /** mac_learning_run: drop expired entries (and any over the size limit). */
  run(now: number): void {
    const t = Math.floor(now);
    for (let e = this.head; e !== undefined; e = this.head) {
      if (this.count > this.maxEntries || t >= e.expires) {
        this.remove(e);
        this.counters.expired++;
      } else {
        break;
      }
    }
  }

  /**
   * Learns that `mac` is on `port` in `vlan` at time `now` (mac_learning_update). Returns
   * `changed: true` when the entry is new or moved: the case where OVS reports "learned that
   * … is on port … in VLAN …". Multicast sources are never learned; static entries never move.
   */
  learn(vlan: number, mac: number, port: number, now: number): { readonly changed: boolean } {
    if (isMulticast(mac)) return UNCHANGED;
    this.run(now);
    const t = Math.floor(now);
    let e = this.find(vlan, mac);
    if (e && e.expires === Number.POSITIVE_INFINITY) return UNCHANGED;
    if (!e) {
      if (this.count >= this.maxEntries) this.evictFairly();
      e = { vlan, mac, port: -1, expires: 0, prev: undefined, next: undefined };
      let m = this.byVlan.get(vlan);
      if (!m) {
        m = new Map();
        this.byVlan.set(vlan, m);
      }
      m.set(mac, e);
      this.counters.learned++;
      this.append(e);
    } else if (e !== this.tail) {
      this.unlink(e);
      this.append(e);
    }
    e.expires = t + this.idleTime;
    if (e.port !== port) {
      if (e.port !== -1) this.counters.moved++;
      e.port = port;
      return CHANGED;
    }
    return UNCHANGED;
  }

  /** `ovs-appctl fdb/add`: a static entry (never ages, never moves). */
  addStatic(vlan: number, mac: number, port: number): void {
    let e = this.find(vlan, mac);
    if (!e) {
      e = { vlan, mac, port, expires: Number.POSITIVE_INFINITY, prev: undefined, next: undefined };
      let m = this.byVlan.get(vlan);
      if (!m) {
        m = new Map();
        this.byVlan.set(vlan, m);
      }
      m.set(mac, e);
    } else {
      this.unlink(e);
      e.port = port;
      e.expires = Number.POSITIVE_INFINITY;
    }
    this.append(e);
  }

  /** evict_mac_entry_fairly: the oldest entry of the port with the most entries (ties: lowest port). */
  private evictFairly(): void {
    const count = new Map<number, number>();
    for (let e = this.head; e !== undefined; e = e.next) count.set(e.port, (count.get(e.port) ?? 0) + 1);
    let best = -1;
    let bestN = -1;
    for (const [p, n] of count) if (n > bestN || (n === bestN && p < best)) [best, bestN] = [p, n];
    for (let e = this.head; e !== undefined; e = e.next) {
      if (e.port === best) {
        this.remove(e);
        this.counters.evicted++;
        return;
      }
    }
  }

  /** mac_learning_lookup: the port `mac` was learned on in `vlan`, if alive at `now`. */
  lookup(vlan: number, mac: number, now: number): number | undefined {
    if (isMulticast(mac)) return undefined;
    const e = this.find(vlan, mac);
    if (!e || Math.floor(now) >= e.expires) return undefined;
    return e.port;
  }

  /** Forget everything learned on `port` (a port deleted or a link down), or everything. */
  flush(port?: number): void {
    for (let e = this.head; e !== undefined; ) {
      const next = e.next;
      if (e.expires !== Number.POSITIVE_INFINITY && (port === undefined || e.port === port)) this.remove(e);
      e = next;
    }
  }

  /** An independent copy (same entries, same LRU order, same counters). */
  clone(): MacTable {
    const t = new MacTable({ idleTime: this.idleTime, maxEntries: this.maxEntries });
    for (let e = this.head; e !== undefined; e = e.next) {
      const c: Entry = {
        vlan: e.vlan,
        mac: e.mac,
        port: e.port,
        expires: e.expires,
        prev: undefined,
        next: undefined,
      };
      let m = t.byVlan.get(c.vlan);
      if (!m) {
        m = new Map();
        t.byVlan.set(c.vlan, m);
      }
      m.set(c.mac, c);
      t.append(c);
    }
    t.counters = { ...this.counters };
    return t;
  }

  /** The live entries at `now`, least recently learned first (the order of `fdb/show`). */
  entries(now: number): readonly MacEntry[] {
    const t = Math.floor(now);
    const out: MacEntry[] = [];
    for (let e = this.head; e !== undefined; e = e.next) {
      if (t >= e.expires) continue;
      out.push({
        vlan: e.vlan,
        mac: e.mac,
        port: e.port,
        age: e.expires === Number.POSITIVE_INFINITY ? "static" : this.idleTime - (e.expires - t),
      });
    }
    return out;
  }

  /**
   * `ovs-appctl fdb/show` output. `portName` turns a port number into what OVS prints
   * (`ofputil_port_to_string` without a port map: the number, or LOCAL for 65534).
   */
  fdbShow(now: number, portName: (port: number) => string = defaultPortName): string {
    let s = " port  VLAN  MAC                Age\n";
    for (const e of this.entries(now)) {
      s += `${portName(e.port).padStart(5)}  ${String(e.vlan).padStart(4)}  ${formatMac(e.mac)}  `;
      s += e.age === "static" ? "static\n" : `${String(e.age).padStart(3)}\n`;
    }
    return s;
  }
}

function defaultPortName(port: number): string {
  switch (port) {
    case 0xfffe:
      return "LOCAL";
    case 0xfff8:
      return "IN_PORT";
    case 0xfffa:
      return "NORMAL";
    case 0xffff:
      return "NONE";
    default:
      return String(port);
  }
}

export { isMulticast as isMulticastMac };
