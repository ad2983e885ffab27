// @ovnsim/testing: load a scenario in one call, trace it, assert with vitest matchers, and
// property-test with fast-check arbitraries for topologies, flows and packets.
import { type Scenario, loadScenario, scenarioFromYaml } from "@ovnsim/kube";
import {
  type Simulation,
  type TraceDocument,
  type TraceInput,
  createSimulation,
  trace,
} from "@ovnsim/tracer";

export { ovnsimMatchers } from "./matchers.js";
export type { OvnsimMatchers } from "./matchers.js";
export { arbTopology, arbFlow, arbPacket, scenarioYaml } from "./arbitraries.js";
export type { TopologyParams } from "./arbitraries.js";

/** A loaded scenario with a ready simulation: `lab.trace()` runs the seed request (or any other). */
export interface Lab {
  readonly scenario: Scenario;
  readonly sim: Simulation;
  trace(input?: TraceInput): TraceDocument;
}

/**
 * Loads a scenario in one call: no argument = the built-in seed; file/directory paths; or a YAML
 * string (anything containing a newline).
 */
export function lab(source?: string | readonly string[]): Lab {
  const scenario =
    source === undefined
      ? loadScenario()
      : typeof source === "string"
        ? source.includes("\n")
          ? scenarioFromYaml(source)
          : loadScenario([source])
        : loadScenario(source);
  const sim = createSimulation(scenario);
  return { scenario, sim, trace: (input = {}) => trace(sim, input) };
}

/** One call: load and trace (the seed scenario's client → VIP by default). */
export function traceOnce(source?: string | readonly string[], input: TraceInput = {}): TraceDocument {
  return lab(source).trace(input);
}
