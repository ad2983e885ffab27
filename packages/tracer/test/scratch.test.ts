import { loadScenario } from "@ovnsim/kube";
import { it } from "vitest";
import { buildClusterWorld, traceCluster, renderText } from "../src/index.js";
it("x", () => {
  const s = loadScenario(["examples/cluster-pod-to-clusterip"]);
  const w = buildClusterWorld(s);
  for (const [from, to] of [["default/client", "10.96.100.10"], ["default/client", "10.17.0.3"], ["node2", "10.16.0.2"], ["default/client", "1.1.1.1"], ["default/client", "172.18.0.3"]] as const) {
    const { doc, frames } = traceCluster(w, { from, to });
    console.log(renderText(doc, { detailed: false }));
    console.log(frames.map((f) => f.link + " " + f.note).join("\n"));
  }
});
