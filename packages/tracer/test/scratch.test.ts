import { loadScenario } from "@ovnsim/kube";
import { it } from "vitest";
import { buildClusterWorld, traceCluster, renderText } from "../src/index.js";
it("x", () => {
  const s = loadScenario(["examples/cluster-pod-to-vip"]);
  const w = buildClusterWorld(s);
  console.log(s.pods.map((p) => `${p.name} ${p.node} ${p.ip}`).join("\n"));
  for (const [from, to] of [["default/deploy-169402624-0", "10.180.204.252"], ["default/overlay-client", "10.180.204.252"]] as const) {
    const { doc } = traceCluster(w, { from, to });
    console.log(renderText(doc, { detailed: false }));
  }
});
