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

/**
 * An interior node, as one array: `[bitmap, rbits, ...slots]`. `bitmap` says which of the
 * 2^BITS slots exist (the slots are packed in bit order), `rbits` which of them hold a key that
 * is its connection's reply tuple. No wrapper object: a commit copies one array per level.
 */
export type TrieNode = readonly (number | Slot)[];

/** Keys whose 32-bit hashes are all equal (below the last level): a short list, scanned. */
export class Collision {
  constructor(
    readonly entries: readonly CtEntry[],
    readonly replies: readonly boolean[],
  ) {}
}

type Slot = TrieNode | Collision | CtEntry;

/**
 * A node array of `length` elements. Every node is made here, so all have one elements kind
 * (holey, any values) and the loads that walk the trie see one array map, not three.
 */
function newNode(length: number): (number | Slot)[] {
  return new Array<number | Slot>(length);
}

export const EMPTY_NODE: TrieNode = newNode(2).fill(0);

const bitmapOf = (n: TrieNode): number => n[0] as number;
const rbitsOf = (n: TrieNode): number => n[1] as number;
const isNode = (s: Slot | number | undefined): s is TrieNode => Array.isArray(s);

/** Hash bits per level: each node has up to 2^BITS slots. */
const BITS = 4;
const FRAG = (1 << BITS) - 1;
/** The last level's shift (the levels above consume BITS bits each, the last what is left). */
const LAST_SHIFT = Math.floor(31 / BITS) * BITS;

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
  for (let shift = 0; ; shift += BITS) {
    const frag = (hash >>> shift) & FRAG;
    const bit = 1 << frag;
    const bitmap = bitmapOf(node);
    if ((bitmap & bit) === 0) return undefined;
    const s = node[2 + popcount(bitmap & ~(-1 << frag))] as Slot;
    if (isNode(s)) {
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
    const r = (rbitsOf(node) & bit) !== 0;
    if (!sameKey(s, r, zone, t)) return undefined;
    hit.reply = r;
    return s;
  }
}

/** A copy of `a` with element `i` replaced (the Collision lists). */
function replaced<T>(a: readonly T[], i: number, v: T): T[] {
  const out = a.slice();
  out[i] = v;
  return out;
}

/** A copy of `a` without element `i`. */
function removed<T>(a: readonly T[], i: number): T[] {
  const out = new Array<T>(a.length - 1);
  for (let j = 0; j < i; j++) out[j] = a[j]!;
  for (let j = i + 1; j < a.length; j++) out[j - 1] = a[j]!;
  return out;
}

/** A copy of node `n` with new bitmaps and slot `i` set to `v`. */
function withSlot(n: TrieNode, bitmap: number, rbits: number, i: number, v: Slot): TrieNode {
  const out = newNode(n.length);
  out[0] = bitmap;
  out[1] = rbits;
  for (let j = 2; j < n.length; j++) out[j] = n[j]!;
  out[2 + i] = v;
  return out;
}

/** A copy of node `n` with new bitmaps and `v` inserted as slot `i`. */
function withInserted(n: TrieNode, bitmap: number, rbits: number, i: number, v: Slot): TrieNode {
  const out = newNode(n.length + 1);
  out[0] = bitmap;
  out[1] = rbits;
  for (let j = 2; j < 2 + i; j++) out[j] = n[j]!;
  out[2 + i] = v;
  for (let j = 2 + i; j < n.length; j++) out[j + 1] = n[j]!;
  return out;
}

/** A copy of node `n` with new bitmaps and slot `i` removed. */
function withRemoved(n: TrieNode, bitmap: number, rbits: number, i: number): TrieNode {
  const out = newNode(n.length - 1);
  out[0] = bitmap;
  out[1] = rbits;
  for (let j = 2; j < 2 + i; j++) out[j] = n[j]!;
  for (let j = 3 + i; j < n.length; j++) out[j - 1] = n[j]!;
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
  const f1 = (h1 >>> shift) & FRAG;
  const f2 = (h2 >>> shift) & FRAG;
  if (f1 === f2) {
    const out = newNode(3);
    out[0] = 1 << f1;
    out[1] = 0;
    out[2] = pair(shift + BITS, h1, e1, r1, h2, e2, r2);
    return out;
  }
  const b1 = 1 << f1;
  const b2 = 1 << f2;
  const out = newNode(4);
  out[0] = b1 | b2;
  out[1] = (r1 ? b1 : 0) | (r2 ? b2 : 0);
  out[2] = f1 < f2 ? e1 : e2;
  out[3] = f1 < f2 ? e2 : e1;
  return out;
}

/** Set by {@link slotPut}: whether the slot it returned holds a reply-tuple key. */
let slotReply = false;

/**
 * What occupied slot `s` (a key whose direction is `r`, a child node or a collision list)
 * becomes with key (zone, t) → (e, reply) put into it at level `shift`.
 */
function slotPut(
  s: Slot,
  r: boolean,
  shift: number,
  hash: number,
  zone: number,
  t: CtTuple,
  e: CtEntry,
  reply: boolean,
): Slot {
  if (isNode(s)) {
    const n = triePut(s, shift + BITS, hash, zone, t, e, reply);
    slotReply = false; // (the call below set it for its own slot)
    return n;
  }
  slotReply = false;
  if (s instanceof Collision) {
    for (let i = 0; i < s.entries.length; i++) {
      if (sameKey(s.entries[i]!, s.replies[i]!, zone, t)) {
        return new Collision(replaced(s.entries, i, e), replaced(s.replies, i, reply));
      }
    }
    return new Collision([...s.entries, e], [...s.replies, reply]);
  }
  if (sameKey(s, r, zone, t)) {
    slotReply = reply;
    return e;
  }
  return pair(shift + BITS, keyHash(s.zone, keyTuple(s, r)), s, r, hash, e, reply);
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
  const frag = (hash >>> shift) & FRAG;
  const bit = 1 << frag;
  const bitmap = bitmapOf(node);
  const rbits = rbitsOf(node);
  const idx = popcount(bitmap & ~(-1 << frag));
  if ((bitmap & bit) === 0) return withInserted(node, bitmap | bit, rbits | (reply ? bit : 0), idx, e);
  const v = slotPut(node[2 + idx] as Slot, (rbits & bit) !== 0, shift, hash, zone, t, e, reply);
  return withSlot(node, bitmap, (rbits & ~bit) | (slotReply ? bit : 0), idx, v);
}

/**
 * A connection's two keys put at once ({@link triePut} twice): where their paths part, the
 * node is copied once with both slots changed (at the root, nearly always).
 */
export function triePut2(
  node: TrieNode,
  shift: number,
  h1: number,
  t1: CtTuple,
  h2: number,
  t2: CtTuple,
  zone: number,
  e: CtEntry,
): TrieNode {
  const f1 = (h1 >>> shift) & FRAG;
  const f2 = (h2 >>> shift) & FRAG;
  const bitmap = bitmapOf(node);
  const rbits = rbitsOf(node);
  const b1 = 1 << f1;
  const b2 = 1 << f2;
  if (f1 === f2) {
    const s = node[2 + popcount(bitmap & ~(-1 << f1))] as Slot;
    if ((bitmap & b1) === 0 || !isNode(s)) {
      return triePut(triePut(node, shift, h1, zone, t1, e, false), shift, h2, zone, t2, e, true);
    }
    const idx = popcount(bitmap & ~(-1 << f1));
    return withSlot(node, bitmap, rbits, idx, triePut2(s, shift + BITS, h1, t1, h2, t2, zone, e));
  }
  // Each key's new slot, then one copy of this node with both.
  let v1: Slot = e;
  let r1 = 0;
  if ((bitmap & b1) !== 0) {
    v1 = slotPut(
      node[2 + popcount(bitmap & ~(-1 << f1))] as Slot,
      (rbits & b1) !== 0,
      shift,
      h1,
      zone,
      t1,
      e,
      false,
    );
    r1 = slotReply ? b1 : 0;
  }
  let v2: Slot = e;
  let r2 = b2;
  if ((bitmap & b2) !== 0) {
    v2 = slotPut(
      node[2 + popcount(bitmap & ~(-1 << f2))] as Slot,
      (rbits & b2) !== 0,
      shift,
      h2,
      zone,
      t2,
      e,
      true,
    );
    r2 = slotReply ? b2 : 0;
  }
  const nb = bitmap | b1 | b2;
  const out = newNode(2 + popcount(nb));
  out[0] = nb;
  out[1] = (rbits & ~(b1 | b2)) | r1 | r2;
  let j = 2;
  let k = 2;
  for (let f = 0; f <= FRAG; f++) {
    const bit = 1 << f;
    if ((nb & bit) === 0) continue;
    const old = (bitmap & bit) !== 0 ? node[k++]! : undefined;
    out[j++] = bit === b1 ? v1 : bit === b2 ? v2 : old!;
  }
  return out;
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
  const frag = (hash >>> shift) & FRAG;
  const bit = 1 << frag;
  const bitmap = bitmapOf(node);
  const rbits = rbitsOf(node);
  if ((bitmap & bit) === 0) return node;
  const idx = popcount(bitmap & ~(-1 << frag));
  const s = node[2 + idx] as Slot;
  if (isNode(s)) {
    const n = trieDrop(s, shift + BITS, hash, zone, t, id);
    if (n === s) return node;
    if (bitmapOf(n) === 0) return withRemoved(node, bitmap & ~bit, rbits & ~bit, idx);
    const only = n[2] as Slot;
    if (n.length === 3 && !isNode(only) && !(only instanceof Collision)) {
      // A lone key moves up to this slot (a lookup stops at the first key on its path).
      return withSlot(node, bitmap, (rbits & ~bit) | (rbitsOf(n) !== 0 ? bit : 0), idx, only);
    }
    return withSlot(node, bitmap, rbits, idx, n);
  }
  if (s instanceof Collision) {
    for (let i = 0; i < s.entries.length; i++) {
      const e = s.entries[i]!;
      if (!sameKey(e, s.replies[i]!, zone, t)) continue;
      if (e.id !== id) return node;
      if (s.entries.length === 2) {
        const o = 1 - i;
        return withSlot(node, bitmap, (rbits & ~bit) | (s.replies[o] ? bit : 0), idx, s.entries[o]!);
      }
      return withSlot(node, bitmap, rbits, idx, new Collision(removed(s.entries, i), removed(s.replies, i)));
    }
    return node;
  }
  if (!sameKey(s, (rbits & bit) !== 0, zone, t) || s.id !== id) return node;
  return withRemoved(node, bitmap & ~bit, rbits & ~bit, idx);
}

/** Calls `f` with every key's connection and direction, in trie order. */
export function trieEach(node: TrieNode, f: (e: CtEntry, reply: boolean) => void): void {
  let b = bitmapOf(node);
  const rbits = rbitsOf(node);
  for (let i = 2; i < node.length; i++) {
    const bit = b & -b;
    b &= b - 1;
    const s = node[i] as Slot;
    if (isNode(s)) trieEach(s, f);
    else if (s instanceof Collision)
      for (let j = 0; j < s.entries.length; j++) f(s.entries[j]!, s.replies[j]!);
    else f(s, (rbits & bit) !== 0);
  }
}

/** Nodes and deepest level of a trie (for tests and the bench: the table stays shallow). */
export function trieStats(node: TrieNode, depth = 0): { nodes: number; depth: number; collisions: number } {
  let nodes = 1;
  let max = depth;
  let collisions = 0;
  for (let i = 2; i < node.length; i++) {
    const s = node[i] as Slot;
    if (isNode(s)) {
      const st = trieStats(s, depth + 1);
      nodes += st.nodes;
      max = Math.max(max, st.depth);
      collisions += st.collisions;
    } else if (s instanceof Collision) collisions++;
  }
  return { nodes, depth: max, collisions };
}
