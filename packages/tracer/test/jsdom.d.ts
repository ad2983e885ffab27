// Minimal typing for the one jsdom use in the Mermaid test (jsdom ships no types).
declare module "jsdom" {
  export class JSDOM {
    constructor(html?: string);
    readonly window: Window & typeof globalThis;
  }
}
