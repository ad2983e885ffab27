/**
 * A property computed on first read and then kept, for the text renderings every layer's trace
 * carries (ofproto/trace and ovn-trace blocks, event texts) and that most callers never read.
 *
 * Why not an object-literal getter (`{ get text() { … } }`) or a per-object closure getter: V8
 * gives each such object its own hidden class, allocated in old space and holding the closure, so
 * the scavenger keeps every object the closure captures alive until the next full GC. Measured on
 * the two-way seed trace, about a third of all it allocated was promoted that way, and garbage
 * collection was a quarter of the time. Here the getter is one function per property name, shared
 * by every object, and the thunk, then its value, live in one non-enumerable symbol slot: objects
 * keep one shared hidden class, and JSON, spreads and equality see a plain enumerable property.
 */

/** A made value, in the slot that held its thunk (a thunk's result may itself be a function). */
class Made {
  constructor(readonly v: unknown) {}
}

interface Slots {
  readonly slot: symbol;
  readonly get: (this: Record<symbol, unknown>) => unknown;
}

const SLOTS = new Map<string, Slots>();

function slotsOf(key: string): Slots {
  let s = SLOTS.get(key);
  if (s === undefined) {
    const slot = Symbol(`${key}.lazy`);
    s = {
      slot,
      get(this: Record<symbol, unknown>): unknown {
        const m = this[slot];
        if (m instanceof Made) return m.v;
        // The thunk (and all it captured) is let go once the value is made.
        const v = (m as () => unknown)();
        this[slot] = new Made(v);
        return v;
      },
    };
    SLOTS.set(key, s);
  }
  return s;
}

/**
 * Defines `key` on `o` as an enumerable property whose value `make()` computes on first read.
 * `key` must not be on `o` yet (redefining a data property turns the object into a dictionary);
 * define it where it belongs in the key order.
 */
export function lazyProperty<T extends object>(o: T, key: string, make: () => unknown): T {
  const s = slotsOf(key);
  Object.defineProperty(o, s.slot, { value: make, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(o, key, { get: s.get, enumerable: true, configurable: true });
  return o;
}
