/**
 * What ovn-northd would log as warnings about the NB database (`Failed to initialize LB VIP`,
 * unknown ip_port_mappings backends, …): each Load_Balancer row goes through the
 * load-balancer package's validation. northd skips the bad entry and carries on, and so does
 * `northd()`; these are reported, not thrown, so configurations real OVN accepts still compile.
 */
import { parseLoadBalancer } from "@ovnsim/lb";
import { type SimError, isSimError } from "@ovnsim/packet";
import type { NbDatabase } from "../nb/model.js";

/** One SimError per Load_Balancer row that the load-balancer model rejects. */
export function validateNb(db: NbDatabase): SimError[] {
  const out: SimError[] = [];
  for (const lb of db.loadBalancers) {
    try {
      parseLoadBalancer(lb);
    } catch (e) {
      if (isSimError(e)) out.push(e);
      else throw e;
    }
  }
  return out;
}
