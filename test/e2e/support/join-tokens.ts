// The join tokens of a running cluster, for tests that add managers and agents.
import type { TestControl } from "./control-client.js";
import { waitUntil } from "./wait.js";

export interface JoinTokens {
  worker: string;
  manager: string;
}

export async function joinTokens(control: TestControl, addr: string): Promise<JoinTokens> {
  let tokens: JoinTokens | undefined;
  await waitUntil(`join tokens from ${addr}`, async () => {
    const { cluster } = await control.call(addr, "getCluster", { clusterId: "" }, 1000);
    const t = cluster?.rootJoinTokens;
    if (t?.worker && t.manager) tokens = { worker: t.worker, manager: t.manager };
    return tokens !== undefined;
  });
  return tokens!;
}
