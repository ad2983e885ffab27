/**
 * How every ovnsim command reads its command line: `--name value` or `--name=value`, as
 * ovs-appctl and ovn-trace users type them; a word without `--` is a positional argument.
 */
import { SimError } from "@ovnsim/packet";

/**
 * Calls `each` once per item: its option name (or the positional word), a reader for the option's
 * value (the text after `=`, else the next word, which it consumes) and the item as written.
 */
export function walkArgs(
  args: readonly string[],
  each: (name: string, value: () => string, item: string) => void,
): void {
  for (let i = 0; i < args.length; i++) {
    const item = args[i]!;
    const eq = item.indexOf("=");
    const inline = item.startsWith("--") && eq > 0;
    const name = inline ? item.slice(0, eq) : item;
    each(
      name,
      () => {
        if (inline) return item.slice(eq + 1);
        const v = args[++i];
        if (v === undefined) throw new SimError("BAD_VALUE", `${name} needs a value`);
        return v;
      },
      item,
    );
  }
}

/** An option's value that must be one of `allowed`: `--format: "x" is not text, json or html`. */
export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const list = allowed.length > 1 ? `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}` : allowed[0];
  throw new SimError("BAD_VALUE", `${option}: "${value}" is not ${list}`);
}
