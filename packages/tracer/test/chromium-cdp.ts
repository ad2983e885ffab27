// Debian's chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: the
// browser reads commands on fd 3 and writes answers on fd 4, each a JSON text ended by NUL), so a
// test can act on a page as a person would — click a hop's summary, read what the browser laid
// out, take a screenshot of what is then on screen — with no extra package and no network port.
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

/** One headless chromium with one page open on a file. */
export class CdpPage {
  private readonly proc: ChildProcess;
  private readonly out: Writable;
  private next = 1;
  private buf = "";
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: Array<{ method: string; resolve(): void }> = [];
  private session = "";
  /** What the page logged: console calls, uncaught exceptions, log entries (CSP refusals among them). */
  readonly messages: string[] = [];

  private constructor(width: number, height: number) {
    this.proc = spawn(
      "chromium",
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--remote-debugging-pipe",
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
    );
    this.out = this.proc.stdio[3] as Writable;
    const input = this.proc.stdio[4] as Readable;
    input.setEncoding("utf8");
    input.on("data", (chunk: string) => {
      this.buf += chunk;
      let i = this.buf.indexOf("\0");
      while (i >= 0) {
        this.onMessage(JSON.parse(this.buf.slice(0, i)) as Record<string, unknown>);
        this.buf = this.buf.slice(i + 1);
        i = this.buf.indexOf("\0");
      }
    });
    this.proc.on("exit", () => {
      for (const p of this.pending.values()) p.reject(new Error("chromium exited"));
      this.pending.clear();
    });
  }

  private onMessage(m: Record<string, unknown>): void {
    if (typeof m.id === "number") {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.error) p.reject(new Error(`CDP: ${JSON.stringify(m.error)}`));
      else p.resolve((m.result ?? {}) as Record<string, unknown>);
    } else if (typeof m.method === "string") {
      if (/^(Log\.entryAdded|Runtime\.consoleAPICalled|Runtime\.exceptionThrown)$/.test(m.method))
        this.messages.push(`${m.method} ${JSON.stringify(m.params)}`);
      for (let k = this.waiters.length - 1; k >= 0; k--)
        if (this.waiters[k]!.method === m.method) this.waiters.splice(k, 1)[0]!.resolve();
    }
  }

  /** One protocol command (on the page's session once attached). */
  send(
    method: string,
    params: Record<string, unknown> = {},
    browser = false,
  ): Promise<Record<string, unknown>> {
    const id = this.next++;
    const msg = { id, method, params, ...(browser || !this.session ? {} : { sessionId: this.session }) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.out.write(`${JSON.stringify(msg)}\0`);
    });
  }

  private event(method: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }

  /** Starts chromium and loads `file` in its page. */
  static async open(file: string, width: number, height: number): Promise<CdpPage> {
    const p = new CdpPage(width, height);
    const { targetInfos } = (await p.send("Target.getTargets", {}, true)) as {
      targetInfos: Array<{ targetId: string; type: string }>;
    };
    const page = targetInfos.find((t) => t.type === "page");
    if (!page) throw new Error("chromium opened no page");
    const { sessionId } = (await p.send(
      "Target.attachToTarget",
      { targetId: page.targetId, flatten: true },
      true,
    )) as { sessionId: string };
    p.session = sessionId;
    await p.send("Page.enable");
    await p.send("Runtime.enable");
    await p.send("Log.enable");
    await p.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const loaded = p.event("Page.loadEventFired");
    await p.send("Page.navigate", { url: `file://${file}` });
    await loaded;
    return p;
  }

  /** The value of a JavaScript expression in the page (the test's probe; the page has no script). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, returnByValue: true })) as {
      result: { value: T };
      exceptionDetails?: unknown;
    };
    if (r.exceptionDetails) throw new Error(`evaluate ${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value;
  }

  /** A real mouse click at page coordinates (what a person does to open a hop). */
  async click(x: number, y: number): Promise<void> {
    for (const type of ["mousePressed", "mouseReleased"])
      await this.send("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Buffer> {
    const { data } = (await this.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    return Buffer.from(data, "base64");
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      this.proc.once("exit", () => resolve());
      this.send("Browser.close", {}, true).catch(() => {});
      setTimeout(() => this.proc.kill("SIGKILL"), 10_000).unref();
    });
  }
}
