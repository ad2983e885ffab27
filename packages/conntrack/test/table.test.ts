// The persistent table (./src/table.ts, a hash-array-mapped trie): lookups at 100k connections,
// old tables unchanged by later commits, and random put/drop sequences against a plain Map
// model, both through the public API and on the trie with chosen (colliding) hashes.
import { ETH_TYPE, IP_PROTO, TCP_FLAG, makeFlow } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Conntrack, type CtEntry, type CtTuple, tupleKey } from "../src/index.js";
import {
  EMPTY_NODE,
  type TrieNode,
  hit,
  keyHash,
  trieDrop,
  trieEach,
  trieFind,
  triePut,
  triePut2,
  trieStats,
} from "../src/table.js";

const VIP = 0x0a60000a;
const BACKEND = 0x0a100007;
const client = (i: number) => 0x0a100000 + 100 + (i >>> 14);
const cport = (i: number) => 1025 + (i & 0x3fff);
const syn = (i: number) =>
  makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: IP_PROTO.tcp,
    nw_src: client(i),
    nw_dst: VIP,
    tp_src: cport(i),
    tp_dst: 80,
    tcp_flags: TCP_FLAG.syn,
  });
const tuple = (src4: number, dst4: number, sport: number, dport: number): CtTuple => ({
  family: 4,
  proto: IP_PROTO.tcp,
  src4,
  dst4,
  src6: 0n,
  dst6: 0n,
  sport,
  dport,
  icmpType: -1,
});
const DNAT = { kind: "dnat", ip: BACKEND, port: 8080 } as const;

describe("persistent table", () => {
  it("finds each of 100k DNAT connections by both tuples and misses absent ones; stays shallow", {
    timeout: 120_000,
  }, () => {
    const N = 100_000;
    let t = Conntrack.empty();
    for (let i = 0; i < N; i++) t = t.process(syn(i), { zone: 3, commit: true, nat: DNAT, now: 1 }).table;
    const bad: number[] = [];
    for (let i = 0; i < N; i++) {
      const o = t.lookup(3, tuple(client(i), VIP, cport(i), 80), 2);
      const r = t.lookup(3, tuple(BACKEND, client(i), 8080, cport(i)), 2);
      const ok =
        o?.reply === false &&
        o.entry.id === i + 1 &&
        r?.reply === true &&
        r.entry === o.entry &&
        // Absent: another zone, another VIP port, the un-NATed reply, a client never seen.
        t.lookup(4, tuple(client(i), VIP, cport(i), 80), 2) === undefined &&
        t.lookup(3, tuple(client(i), VIP, cport(i), 81), 2) === undefined &&
        t.lookup(3, tuple(VIP, client(i), 80, cport(i)), 2) === undefined &&
        t.find(3, tuple(client(i) + 0x100000, VIP, cport(i), 80), 2) === undefined;
      if (!ok) bad.push(i);
    }
    expect(bad).toEqual([]);
    expect(t.size()).toBe(N);
    const st = trieStats((t as unknown as { root: TrieNode }).root);
    expect(st.depth).toBeLessThanOrEqual(8); // 200k keys: log16 ≈ 4.4 levels on average
    // Replies through the table: every one is un-NATed, the connections become established.
    for (let i = 0; i < N; i += 97) {
      const back = makeFlow({
        dl_type: ETH_TYPE.ip,
        nw_proto: IP_PROTO.tcp,
        nw_src: BACKEND,
        nw_dst: client(i),
        tp_src: 8080,
        tp_dst: cport(i),
        tcp_flags: TCP_FLAG.syn | TCP_FLAG.ack,
      });
      const r = t.process(back, { zone: 3, nat: {}, now: 2 });
      expect([r.natApplied, r.flow.nw_src, r.flow.tp_src, r.entry?.id]).toEqual(["snat", VIP, 80, i + 1]);
      t = r.table;
    }
    expect(t.size()).toBe(N);
  });

  it("old tables stay valid and unchanged after further commits, updates and removals", () => {
    const snaps: { t: Conntrack; json: string; n: number }[] = [];
    let t = Conntrack.empty();
    const dump = (x: Conntrack) =>
      JSON.stringify(x.entries(), (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
    for (let i = 0; i < 3000; i++) {
      t = t.process(syn(i), { zone: 3, commit: true, nat: DNAT, now: i }).table;
      if (i % 3 === 0) t = t.process(syn(i), { zone: 3, commit: true, mark: { value: i }, now: i }).table;
      if (i % 7 === 0) t = t.without(t.entries()[Math.floor(t.size() / 2)]!);
      if (i % 500 === 0) snaps.push({ t, json: dump(t), n: i });
    }
    t = t.flush(3);
    expect(t.size()).toBe(0);
    for (const s of snaps) {
      expect(dump(s.t)).toBe(s.json);
      for (const e of s.t.entries()) {
        expect(s.t.lookup(3, e.orig, e.created)?.entry).toBe(e);
        expect(s.t.lookup(3, e.reply, e.created)?.entry).toBe(e);
      }
    }
  });

  it("random with/without sequences agree with a Map model", () => {
    // A small pool of tuples, so keys are replaced, shared between connections and removed.
    const pool = [...Array(12)].map((_, i) => tuple(0x0a000001 + (i % 3), 0x0a000100, 1000 + (i % 4), 80));
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), o: fc.nat(11), r: fc.nat(11), zone: fc.nat(1) }),
      fc.record({ kind: fc.constant("update" as const), pick: fc.nat(), mark: fc.nat(7) }),
      fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let t = Conntrack.empty();
        const model = new Map<string, { e: CtEntry; reply: boolean }>();
        const made: CtEntry[] = [];
        const history: [Conntrack, Map<string, { e: CtEntry; reply: boolean }>][] = [];
        let id = 1;
        for (const o of ops) {
          if (o.kind === "add") {
            const e = entry(id++, o.zone, pool[o.o]!, pool[o.r]!);
            made.push(e);
            t = t.with(e);
            model.set(tupleKey(e.zone, e.orig), { e, reply: false });
            model.set(tupleKey(e.zone, e.reply), { e, reply: true });
          } else if (made.length > 0) {
            const e0 = made[o.pick % made.length]!;
            if (o.kind === "update") {
              const e = { ...e0, mark: o.mark };
              made[made.indexOf(e0)] = e;
              t = t.with(e);
              model.set(tupleKey(e.zone, e.orig), { e, reply: false });
              model.set(tupleKey(e.zone, e.reply), { e, reply: true });
            } else {
              t = t.without(e0);
              for (const k of [tupleKey(e0.zone, e0.orig), tupleKey(e0.zone, e0.reply)])
                if (model.get(k)?.e.id === e0.id) model.delete(k);
            }
          }
          history.push([t, new Map(model)]);
        }
        for (const [h, m] of history) check(h, m, pool);
      }),
      { numRuns: 300 },
    );
  });
});

function entry(id: number, zone: number, orig: CtTuple, reply: CtTuple): CtEntry {
  return {
    id,
    zone,
    orig,
    reply,
    nat: undefined,
    mark: 0,
    label: 0n,
    proto: { kind: "other", state: "FIRST" },
    created: 0,
    expires: 1e9,
  };
}

function check(t: Conntrack, m: Map<string, { e: CtEntry; reply: boolean }>, pool: readonly CtTuple[]) {
  for (const zone of [0, 1]) {
    for (const tu of pool) {
      const want = m.get(tupleKey(zone, tu));
      const got = t.lookup(zone, tu);
      expect(got && { e: got.entry, reply: got.reply }).toEqual(want && { e: want.e, reply: want.reply });
      if (want) expect(got?.entry).toBe(want.e);
    }
  }
  const ids = new Map<number, CtEntry>();
  for (const v of m.values()) ids.set(v.e.id, v.e);
  expect(t.entries().map((e) => e.id)).toEqual([...ids.keys()].sort((a, b) => a - b));
}

describe("trie with chosen hashes (deep paths, full-hash collisions, nodes collapsing)", () => {
  it("agrees with a Map model and leaves older tries unchanged", { timeout: 60_000 }, () => {
    // Real tuples whose hashes are equal (found by brute force: ~8 full 32-bit collisions
    // among 2^18 tuples) or share their low 25 bits (long common paths), plus a few others.
    const full = new Map<number, CtTuple[]>();
    const low = new Map<number, CtTuple[]>();
    let x = 0x2545f491; // xorshift32: a fixed pseudo-random sequence of addresses
    const rnd = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let i = 0; i < 1 << 18; i++) {
      const tu = tuple(rnd(), rnd(), 1024, 80);
      const h = keyHash(0, tu);
      full.set(h, [...(full.get(h) ?? []), tu]);
      low.set(h & 0x1ffffff, [...(low.get(h & 0x1ffffff) ?? []), tu]);
    }
    const collide = [...full.values()]
      .filter((g) => g.length > 1)
      .slice(0, 2)
      .flat();
    const near = [...low.values()]
      .filter((g) => g.length > 1)
      .slice(0, 3)
      .flat();
    expect(collide.length).toBeGreaterThanOrEqual(4);
    const tuples = [...collide, ...near, tuple(1, 2, 3, 4), tuple(5, 6, 7, 8)];
    const HASHES = tuples.map((tu) => keyHash(0, tu));
    let all: TrieNode = EMPTY_NODE;
    for (const tu of collide) all = triePut(all, 0, keyHash(0, tu), 0, tu, entry(1, 0, tu, tu), false);
    expect(trieStats(all).collisions).toBe(2);
    const key = (i: number) => i % tuples.length;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.boolean(), fc.nat(tuples.length - 1), fc.boolean(), fc.nat(5), fc.nat(tuples.length)),
          {
            maxLength: 50,
          },
        ),
        (ops) => {
          let root: TrieNode = EMPTY_NODE;
          const model = new Map<number, { e: CtEntry; reply: boolean }>();
          const history: [TrieNode, Map<number, { e: CtEntry; reply: boolean }>][] = [];
          for (const [add, k, reply, id, other] of ops) {
            const i = key(k);
            const tu = tuples[i]!;
            if (add && other < tuples.length) {
              // Both keys of one connection at once (as Conntrack.with puts them).
              const e = entry(id, 0, tu, tuples[other]!);
              root = triePut2(root, 0, HASHES[i]!, tu, HASHES[other]!, tuples[other]!, 0, e);
              model.set(i, { e, reply: false });
              model.set(other, { e, reply: true });
            } else if (add) {
              const e = entry(id, 0, reply ? tuples[0]! : tu, reply ? tu : tuples[0]!);
              root = triePut(root, 0, HASHES[i]!, 0, tu, e, reply);
              model.set(i, { e, reply });
            } else {
              const next = trieDrop(root, 0, HASHES[i]!, 0, tu, id);
              if (model.get(i)?.e.id === id) model.delete(i);
              else expect(next).toBe(root);
              root = next;
            }
            history.push([root, new Map(model)]);
          }
          for (const [r, m] of history) {
            for (let i = 0; i < tuples.length; i++) {
              const e = trieFind(r, HASHES[i]!, 0, tuples[i]!);
              expect(e).toBe(m.get(i)?.e);
              if (e) expect(hit.reply).toBe(m.get(i)!.reply);
              expect(trieFind(r, HASHES[i]!, 1, tuples[i]!)).toBeUndefined();
            }
            let n = 0;
            trieEach(r, () => n++);
            expect(n).toBe(m.size);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
