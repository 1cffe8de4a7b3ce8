import { ANALYST_VERSION, analyze } from "../analyst/analyst.ts";
import type { AnalystAnswer, AnalystInput } from "../analyst/types.ts";
import type { ModelIdentity } from "../identity.ts";
import type { ModelProvider } from "./provider.ts";

/** The built-in deterministic analyst as a provider: offline, exact, and the default. */
export class AnalystProvider implements ModelProvider {
  readonly name = "analyst";
  readonly identity: ModelIdentity = { id: `pulse-analyst@${ANALYST_VERSION}`, kind: "analyst", confidential: true };

  async answer(input: AnalystInput): Promise<AnalystAnswer> {
    return analyze(input);
  }
}
