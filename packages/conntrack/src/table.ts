/**
 * The connection table's storage: what OVS userspace conntrack keeps in its `conns` cmap (one
 * node per direction of a connection, `struct conn_key_node`), here as a persistent value. A
 * hash-array-mapped trie on the 32-bit hash of (zone, tuple): each node has up to 32 slots
 * selected by 5 bits of the hash (a bitmap says which are present, the slots are packed), a
 * slot holds either a key or a child node, and two keys meeting in a slot push each other one
 * level down. So a lookup reads one key after a few bitmap steps however many connections
 * there are (a fixed bucket count made every lookup scan a bucket that grew with the table),
 * and a commit copies only the short path of small nodes to its key: every older table stays
 * valid and unchanged, sharing all the rest.
 *
 * A key is the connection itself plus one bit (per slot, in the node's `rbits`) saying whether
 * it is keyed by its original or its reply tuple; no key object is allocated per commit. Keys
 * whose whole 32-bit hashes are equal share a {@link Collision} list at the bottom.
 */
import type { CtEntry } from "./conntrack.js";
import { type CtTuple, tuplesEqual } from "./tuple.js";

/** An interior node: `bitmap` says which of the 32 slots exist, `slots` holds them in order. */
export class TrieNode {
  constructor(
    readonly bitmap: number,
    /** Per slot bit: the key stored there is its connection's reply tuple. */
    readonly rbits: number,
    readonly slots: readonly Slot[],
  ) {}
}

/** Keys whose 32-bit hashes are all equal (below the last level): a short list, scanned. */
export class Collision {
  constructor(
    readonly entries: readonly CtEntry[],
    readonly replies: readonly boolean[],
  ) {}
}

type Slot = TrieNode | Collision | CtEntry;

export const EMPTY_NODE = new TrieNode(0, 0, []);

/** Levels consume 5 hash bits at shifts 0, 5, …, 30 (the last level has only 2). */
const LAST_SHIFT = 30;

/** The hash of a key: a zone and a tuple, mixed from their numbers (murmur3's finaliser last). */
export function keyHash(zone: number, t: CtTuple): number {
  let h = Math.imul(zone ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ t.proto, 0xcc9e2d51);
  if (t.family === 4) {
    h = Math.imul(h ^ t.src4, 0x1b873593);
    h = Math.imul(h ^ t.dst4, 0x85ebca6b);
  } else {
    h = Math.imul(h ^ Number(BigInt.asUintN(32, t.src6 ^ (t.src6 >> 64n))), 0x1b873593);
    h = Math.imul(h ^ Number(BigInt.asUintN(32, t.dst6 ^ (t.dst6 >> 64n))), 0x85ebca6b);
  }
  h = Math.imul(h ^ ((t.sport << 16) | t.dport), 0xcc9e2d51);
  h = Math.imul(h ^ t.icmpType, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

const keyTuple = (e: CtEntry, reply: boolean): CtTuple => (reply ? e.reply : e.orig);
const sameKey = (e: CtEntry, reply: boolean, zone: number, t: CtTuple): boolean =>
  e.zone === zone && tuplesEqual(reply ? e.reply : e.orig, t);

/** Set by {@link trieFind} when it finds a key: whether that key is the reply tuple. */
export const hit = { reply: false };

/** The connection keyed by (zone, t), if any ({@link hit} says in which direction). */
export function trieFind(root: TrieNode, hash: number, zone: number, t: CtTuple): CtEntry | undefined {
  let node = root;
  for (let shift = 0; ; shift += 5) {
    const frag = (hash >>> shift) & 31;
    const bit = 1 << frag;
    if ((node.bitmap & bit) === 0) return undefined;
    const s = node.slots[popcount(node.bitmap & ~(-1 << frag))]!;
    if (s instanceof TrieNode) {
      node = s;
      continue;
    }
    if (s instanceof Collision) {
      for (let i = 0; i < s.entries.length; i++) {
        const e = s.entries[i]!;
        const r = s.replies[i]!;
        if (sameKey(e, r, zone, t)) {
          hit.reply = r;
          return e;
        }
      }
      return undefined;
    }
    const r = (node.rbits & bit) !== 0;
    if (!sameKey(s, r, zone, t)) return undefined;
    hit.reply = r;
    return s;
  }
}

function replaced<T>(a: readonly T[], i: number, v: T): T[] {
  const out = a.slice();
  out[i] = v;
  return out;
}

function inserted<T>(a: readonly T[], i: number, v: T): T[] {
  const out = new Array<T>(a.length + 1);
  for (let j = 0; j < i; j++) out[j] = a[j]!;
  out[i] = v;
  for (let j = i; j < a.length; j++) out[j + 1] = a[j]!;
  return out;
}

function removed<T>(a: readonly T[], i: number): T[] {
  const out = new Array<T>(a.length - 1);
  for (let j = 0; j < i; j++) out[j] = a[j]!;
  for (let j = i + 1; j < a.length; j++) out[j - 1] = a[j]!;
  return out;
}

/** A node holding two keys that met in one slot, `shift` being the level below that slot. */
function pair(
  shift: number,
  h1: number,
  e1: CtEntry,
  r1: boolean,
  h2: number,
  e2: CtEntry,
  r2: boolean,
): Slot {
  if (shift > LAST_SHIFT) return new Collision([e1, e2], [r1, r2]);
  const f1 = (h1 >>> shift) & 31;
  const f2 = (h2 >>> shift) & 31;
  if (f1 === f2) return new TrieNode(1 << f1, 0, [pair(shift + 5, h1, e1, r1, h2, e2, r2)]);
  const b1 = 1 << f1;
  const b2 = 1 << f2;
  return new TrieNode(b1 | b2, (r1 ? b1 : 0) | (r2 ? b2 : 0), f1 < f2 ? [e1, e2] : [e2, e1]);
}

/** The trie with key (zone, t) → (e, reply) added, or replacing the key of the same tuple and zone. */
export function triePut(
  node: TrieNode,
  shift: number,
  hash: number,
  zone: number,
  t: CtTuple,
  e: CtEntry,
  reply: boolean,
): TrieNode {
  const frag = (hash >>> shift) & 31;
  const bit = 1 << frag;
  const rb = reply ? bit : 0;
  const idx = popcount(node.bitmap & ~(-1 << frag));
  if ((node.bitmap & bit) === 0) {
    return new TrieNode(node.bitmap | bit, node.rbits | rb, inserted(node.slots, idx, e));
  }
  const s = node.slots[idx]!;
  if (s instanceof TrieNode) {
    return new TrieNode(
      node.bitmap,
      node.rbits,
      replaced(node.slots, idx, triePut(s, shift + 5, hash, zone, t, e, reply)),
    );
  }
  if (s instanceof Collision) {
    let c: Collision | undefined;
    for (let i = 0; i < s.entries.length; i++) {
      if (sameKey(s.entries[i]!, s.replies[i]!, zone, t)) {
        c = new Collision(replaced(s.entries, i, e), replaced(s.replies, i, reply));
        break;
      }
    }
    c ??= new Collision([...s.entries, e], [...s.replies, reply]);
    return new TrieNode(node.bitmap, node.rbits, replaced(node.slots, idx, c));
  }
  const r = (node.rbits & bit) !== 0;
  if (sameKey(s, r, zone, t)) {
    return new TrieNode(node.bitmap, (node.rbits & ~bit) | rb, replaced(node.slots, idx, e));
  }
  const sub = pair(shift + 5, keyHash(s.zone, keyTuple(s, r)), s, r, hash, e, reply);
  return new TrieNode(node.bitmap, node.rbits & ~bit, replaced(node.slots, idx, sub));
}

/** The trie without key (zone, t) if it belongs to connection `id`; `node` itself when unchanged. */
export function trieDrop(
  node: TrieNode,
  shift: number,
  hash: number,
  zone: number,
  t: CtTuple,
  id: number,
): TrieNode {
  const frag = (hash >>> shift) & 31;
  const bit = 1 << frag;
  if ((node.bitmap & bit) === 0) return node;
  const idx = popcount(node.bitmap & ~(-1 << frag));
  const s = node.slots[idx]!;
  if (s instanceof TrieNode) {
    const n = trieDrop(s, shift + 5, hash, zone, t, id);
    if (n === s) return node;
    if (n.bitmap === 0) return new TrieNode(node.bitmap & ~bit, node.rbits & ~bit, removed(node.slots, idx));
    const only = n.slots[0];
    if (n.slots.length === 1 && !(only instanceof TrieNode) && !(only instanceof Collision)) {
      // A lone key moves up to this slot (a lookup stops at the first key on its path).
      const rb = n.rbits !== 0 ? bit : 0;
      return new TrieNode(node.bitmap, (node.rbits & ~bit) | rb, replaced(node.slots, idx, only!));
    }
    return new TrieNode(node.bitmap, node.rbits, replaced(node.slots, idx, n));
  }
  if (s instanceof Collision) {
    for (let i = 0; i < s.entries.length; i++) {
      const e = s.entries[i]!;
      if (!sameKey(e, s.replies[i]!, zone, t)) continue;
      if (e.id !== id) return node;
      if (s.entries.length === 2) {
        const o = 1 - i;
        const rb = s.replies[o] ? bit : 0;
        return new TrieNode(node.bitmap, (node.rbits & ~bit) | rb, replaced(node.slots, idx, s.entries[o]!));
      }
      const c = new Collision(removed(s.entries, i), removed(s.replies, i));
      return new TrieNode(node.bitmap, node.rbits, replaced(node.slots, idx, c));
    }
    return node;
  }
  if (!sameKey(s, (node.rbits & bit) !== 0, zone, t) || s.id !== id) return node;
  return new TrieNode(node.bitmap & ~bit, node.rbits & ~bit, removed(node.slots, idx));
}

/** Calls `f` with every key's connection and direction, in trie order. */
export function trieEach(node: TrieNode, f: (e: CtEntry, reply: boolean) => void): void {
  let b = node.bitmap;
  for (let i = 0; i < node.slots.length; i++) {
    const bit = b & -b;
    b &= b - 1;
    const s = node.slots[i]!;
    if (s instanceof TrieNode) trieEach(s, f);
    else if (s instanceof Collision)
      for (let j = 0; j < s.entries.length; j++) f(s.entries[j]!, s.replies[j]!);
    else f(s, (node.rbits & bit) !== 0);
  }
}

/** Nodes and deepest level of a trie (for tests and the bench: the table stays shallow). */
export function trieStats(node: TrieNode, depth = 0): { nodes: number; depth: number; collisions: number } {
  let nodes = 1;
  let max = depth;
  let collisions = 0;
  for (const s of node.slots) {
    if (s instanceof TrieNode) {
      const st = trieStats(s, depth + 1);
      nodes += st.nodes;
      max = Math.max(max, st.depth);
      collisions += st.collisions;
    } else if (s instanceof Collision) collisions++;
  }
  return { nodes, depth: max, collisions };
}
