/**
 * Kube-OVN's northd patches (kubeovn/kube-ovn dist/images/patches): placeholder, filled in below.
 */
import type { BuildContext, FlowSink, SwitchDatapath } from "./switch.js";

export function buildKubeOvnFlows(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  void ctx;
  void s;
  void od;
}
