/**
 * A property computed on first read and then kept, for the text renderings every layer's trace
 * carries (ofproto/trace and ovn-trace blocks, event texts) and that most callers never read.
 *
 * Why not an object-literal getter (`{ get text() { … } }`) or a per-object closure getter: V8
 * gives each such object its own hidden class, allocated in old space and holding the closure, so
 * the scavenger keeps every object the closure captures alive until the next full GC. Measured on
 * the two-way seed trace, about a third of all it allocated was promoted that way, and garbage
 * collection was a quarter of the time. Here the getter is one function per property name, shared
 * by every object, and the thunk and its value live in two non-enumerable symbol slots: objects
 * keep one shared hidden class, and JSON, spreads and equality see a plain enumerable property.
 */

interface Slots {
  readonly make: symbol;
  readonly value: symbol;
  readonly get: (this: Record<symbol, unknown>) => unknown;
}

const SLOTS = new Map<string, Slots>();

function slotsOf(key: string): Slots {
  let s = SLOTS.get(key);
  if (s === undefined) {
    const make = Symbol(`${key}.make`);
    const value = Symbol(`${key}.value`);
    s = {
      make,
      value,
      get(this: Record<symbol, unknown>): unknown {
        const m = this[make] as (() => unknown) | undefined;
        if (m !== undefined) {
          this[value] = m();
          // The thunk (and all it captured) is let go once the value is made.
          this[make] = undefined;
        }
        return this[value];
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
  Object.defineProperty(o, s.make, { value: make, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(o, s.value, {
    value: undefined,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(o, key, { get: s.get, enumerable: true, configurable: true });
  return o;
}
