/**
 * The part of a header-space walk both symbolic datapaths share (reach.ts: OVN's logical
 * pipelines; ofreach.ts: ovs-vswitchd's OpenFlow tables): a path is a term (HSA cube minus the
 * cubes that shadow it) with a state and a continuation stack; at each table the path is split
 * by the rules highest priority first, and the work list runs depth first until every path has
 * left (a leaf) or the class budget is spent. What a rule's match means in terms of the entering
 * packet (`translate`) is each datapath's own.
 */
import { type Cube, type Term, termAnd, termMinus, witness } from "./hs.js";

/** A continuation stack: the frame to run next, then the rest. */
export interface Stack<F> {
  readonly f: F;
  readonly next: Stack<F> | null;
}

/** Pushes frames so that the first one runs first. */
export function push<F>(s: Stack<F> | null, ...fs: F[]): Stack<F> | null {
  let out = s;
  for (let i = fs.length - 1; i >= 0; i--) out = { f: fs[i]!, next: out };
  return out;
}

/** A term with at least one packet in it. */
export const nonEmpty = (t: Term): boolean => witness(t, []) !== null;

/** What a split needs of a path: its header set, its state, and why it is not exact. */
export interface SplitPath<S> {
  readonly term: Term;
  readonly st: S;
  readonly approx: string | null;
}

/**
 * Splits a path by a match given as a union of state-level cubes: the paths (one per cube) where
 * it holds, and what is left where it does not. `translate` turns a cube over the current state
 * into one over the entering packet (`opaque`: a field bit the state cannot follow, so the
 * classes become approximate, said by `opaqueWhy`).
 */
export function splitBy<S, C, P extends SplitPath<S>>(
  p: P,
  conds: readonly C[],
  translate: (st: S, c: C) => { cube: Cube | null; opaque: boolean },
  opaqueWhy: string,
): { yes: P[]; no: P | null } {
  const yes: P[] = [];
  let miss: Term | null = p.term;
  let approx = p.approx;
  for (const c of conds) {
    const { cube, opaque } = translate(p.st, c);
    if (opaque) approx ??= opaqueWhy;
    if (!cube) continue;
    const hit = termAnd(p.term, cube);
    if (hit && nonEmpty(hit)) yes.push({ ...p, term: hit, approx: opaque ? approx : p.approx });
    if (miss) miss = termMinus(miss, cube);
  }
  return { yes, no: miss && nonEmpty(miss) ? { ...p, term: miss, approx } : null };
}

/**
 * The work loop: depth first from `start`, each path stepped until its stack is empty (a leaf).
 * Returns true when it stopped at `max` leaves (truncated).
 */
export function runPaths<P extends { readonly stack: unknown }>(
  start: P,
  step: (p: P) => P[],
  leaf: (p: P) => void,
  leaves: () => number,
  max: number,
): boolean {
  const work: P[] = [start];
  while (work.length > 0) {
    if (leaves() >= max) return true;
    const p = work.pop()!;
    if (!p.stack) {
      leaf(p);
      continue;
    }
    const next = step(p);
    for (let i = next.length - 1; i >= 0; i--) work.push(next[i]!);
  }
  return false;
}
