/**
 * Per-table agreement between two `ovs-ofctl --no-stats dump-flows` texts, line for line as a
 * multiset (OVS prints a table's flows in classifier order, which carries no meaning here).
 */
export interface TableAgreement {
  readonly table: number;
  /** Lines in the expected dump. */
  readonly expected: number;
  /** Lines of the expected dump also produced by the model. */
  readonly identical: number;
  /** Lines the model produced that the expected dump lacks. */
  readonly extra: number;
}

export interface Agreement {
  readonly tables: readonly TableAgreement[];
  readonly expected: number;
  readonly identical: number;
  readonly extra: number;
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
}

const tableOf = (line: string): number => {
  const m = /\btable=(\d+)/.exec(line);
  return m ? Number(m[1]) : 0;
};

/** Flow lines of a dump (header and blank lines dropped, text kept byte for byte). */
export function flowLines(text: string): string[] {
  return text.split("\n").filter((l) => l.includes("actions="));
}

export function compareDumps(expected: readonly string[], actual: readonly string[]): Agreement {
  const pool = new Map<string, number>();
  for (const l of actual) pool.set(l, (pool.get(l) ?? 0) + 1);
  const per = new Map<number, { expected: number; identical: number; extra: number }>();
  const row = (t: number) => {
    let r = per.get(t);
    if (!r) {
      r = { expected: 0, identical: 0, extra: 0 };
      per.set(t, r);
    }
    return r;
  };
  const missing: string[] = [];
  for (const l of expected) {
    const r = row(tableOf(l));
    r.expected++;
    const n = pool.get(l) ?? 0;
    if (n > 0) {
      r.identical++;
      pool.set(l, n - 1);
    } else missing.push(l);
  }
  const unexpected: string[] = [];
  for (const [l, n] of pool)
    for (let i = 0; i < n; i++) {
      row(tableOf(l)).extra++;
      unexpected.push(l);
    }
  const tables = [...per].sort(([a], [b]) => a - b).map(([table, r]) => ({ table, ...r }));
  const sum = (k: "expected" | "identical" | "extra"): number => tables.reduce((a, t) => a + t[k], 0);
  return {
    tables,
    expected: sum("expected"),
    identical: sum("identical"),
    extra: sum("extra"),
    missing,
    unexpected,
  };
}
