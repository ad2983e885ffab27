/**
 * A property computed on first read and then kept, for the text renderings every layer's trace
 * carries (ofproto/trace and ovn-trace blocks, event texts) and that most callers never read.
 *
 * Why not an object-literal getter (`{ get text() { … } }`) or a per-object closure getter: V8
 * gives each such object its own hidden class, allocated in old space and holding the closure, so
 * the scavenger keeps every object the closure captures alive until the next full GC. Measured on
 * the two-way seed trace, about a third of all it allocated was promoted that way, and garbage
 * collection was a quarter of the time. Here the getter is one function per property name, shared
 * by every object, and the thunk, then its value, live in one private field per property name:
 * objects keep one shared hidden class, and JSON, spreads and equality see a plain enumerable
 * property (a private field is in none of them).
 *
 * The private field is put on the caller's plain object by a constructor whose base returns that
 * object (a class can stamp its private fields on any object so). It replaced a non-enumerable
 * symbol slot made with `Object.defineProperty`: that call, a runtime call each time, was the
 * larger half of a lazy property's cost on the seed trace; a private field is an inline store.
 */

/** A made value, in the slot that held its thunk (a thunk's result may itself be a function). */
class Made {
  constructor(readonly v: unknown) {}
}

interface Slots {
  /** Puts the thunk in `o`'s private slot for this name. */
  readonly stamp: (o: object, make: () => unknown) => void;
  readonly get: (this: object) => unknown;
}

/** A base whose constructor returns the object it is given: subclasses stamp their fields on it. */
class Returning {
  constructor(o: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the point (private fields on `o`)
    return o;
  }
}

const SLOTS = new Map<string, Slots>();

function slotsOf(key: string): Slots {
  let s = SLOTS.get(key);
  if (s === undefined) {
    // One class, so one private name, per property name: an object may have several.
    class Slot extends Returning {
      #m: unknown;
      constructor(o: object, make: () => unknown) {
        super(o);
        this.#m = make;
      }
      static read(o: object): unknown {
        if (!(#m in o)) return undefined;
        const m = (o as Slot).#m;
        if (m instanceof Made) return m.v;
        // The thunk (and all it captured) is let go once the value is made.
        const v = (m as () => unknown)();
        (o as Slot).#m = new Made(v);
        return v;
      }
    }
    s = {
      stamp: (o, make) => {
        new Slot(o, make);
      },
      get(this: object): unknown {
        return Slot.read(this);
      },
    };
    SLOTS.set(key, s);
  }
  return s;
}

/**
 * Defines `key` on `o` as an enumerable property whose value `make()` computes on first read.
 * `key` must not be on `o` yet (redefining a data property turns the object into a dictionary),
 * and `o` gets it once; define it where it belongs in the key order.
 */
export function lazyProperty<T extends object>(o: T, key: string, make: () => unknown): T {
  const s = slotsOf(key);
  s.stamp(o, make);
  Object.defineProperty(o, key, { get: s.get, enumerable: true, configurable: true });
  return o;
}
