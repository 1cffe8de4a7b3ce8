import { analyze } from "../analyst/analyst.ts";
import type { AnalystAnswer, AnalystInput } from "../analyst/types.ts";
import type { ModelProvider } from "./provider.ts";

/** The built-in deterministic analyst as a provider: offline, exact, and the default. */
export class AnalystProvider implements ModelProvider {
  readonly name = "analyst";

  async answer(input: AnalystInput): Promise<AnalystAnswer> {
    return analyze(input);
  }
}
