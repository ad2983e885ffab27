import { loadScenario } from "@ovnsim/kube";
import { scenarioYaml } from "@ovnsim/testing";
import { scenarioFromYaml } from "@ovnsim/kube";
import { reach, classMembers, concreteVerdict } from "./src/reach.ts";
const s = process.argv[2]
  ? scenarioFromYaml(
      scenarioYaml({
        nodes: 3,
        replicas: 4,
        etpLocal: true,
        preferLocal: true,
        ctSkip: true,
        dnatModDlDst: true,
        externalLb: true,
        release: "v1.15.20",
        vlan: 5,
      }),
    )
  : loadScenario([]);
for (const pod of s.pods) {
  const t = performance.now();
  const r = reach(s, { from: `${pod.namespace}/${pod.name}` });
  let bad = 0,
    n = 0,
    inexact = 0;
  r.doc.classes.forEach((c, i) => {
    if (!c.exact) {
      inexact++;
      return;
    }
    for (const f of classMembers(r.terms[i]!, 5, i)) {
      n++;
      const v = concreteVerdict(r.concrete, pod.lsp, f, c.ct, c.backend);
      if (v.delivered !== c.verdict.delivered || v.ports.join() !== c.verdict.ports.join()) {
        bad++;
        if (bad < 4) console.log("MISMATCH", c.id, c.header, c.verdict, v, f);
      }
    }
  });
  console.log(
    pod.name,
    r.doc.classes.length,
    "confirmed",
    r.doc.confirmed,
    "inexact",
    inexact,
    "members",
    n,
    "bad",
    bad,
    "ms",
    Math.round(performance.now() - t),
  );
}
