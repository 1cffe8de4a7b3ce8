/**
 * App-level webhook subscriptions (DESIGN §7): the ones a provider keeps for the whole app rather
 * than per person — Oura's per data type, which expire and must be renewed, and Strava's single
 * push subscription. Once a day, for every provider this deployment is configured for, they are
 * created when missing and renewed when close to expiry, so webhooks keep arriving without an
 * operator remembering to. Per-user subscriptions (Withings, Polar) are made at connection time
 * (./connect/finish.ts).
 */
import { errorName, log } from "../observability/log";
import type { ScheduledJob } from "../scheduled/handler";
import { configuredProviders, driverContextFor, getProvidersConfig } from "./config";
import type { ProviderDriver } from "./driver";
import { DRIVERS } from "./drivers";
import type { ProviderName } from "./registry";

export interface SubscriptionOutcome {
  provider: ProviderName;
  ok: boolean;
}

/** Ensures and renews each configured provider's app-level subscriptions; one failure stops no other. */
export async function maintainAppSubscriptions(
  env: Env,
  drivers: Readonly<Partial<Record<ProviderName, ProviderDriver>>> = DRIVERS,
): Promise<SubscriptionOutcome[]> {
  const config = getProvidersConfig(env);
  const outcomes: SubscriptionOutcome[] = [];
  for (const provider of configuredProviders(config)) {
    const driver = drivers[provider];
    const webhook = driver?.facts.webhook;
    if (!driver?.subscriptions || webhook?.subscriptionScope !== "app") continue;
    const context = driverContextFor(config, provider);
    try {
      await driver.subscriptions.ensure(context, null);
      if (webhook.subscriptionsExpire) await driver.subscriptions.renew(context);
      outcomes.push({ provider, ok: true });
    } catch (error) {
      log("warn", "app webhook subscription not maintained", { provider, error: errorName(error) });
      outcomes.push({ provider, ok: false });
    }
  }
  return outcomes;
}

export const maintainAppSubscriptionsJob: ScheduledJob = {
  name: "maintain-app-webhook-subscriptions",
  async run(env) {
    const failed = (await maintainAppSubscriptions(env)).filter((outcome) => !outcome.ok);
    if (failed.length > 0) throw new Error(`subscriptions not maintained for ${failed.map((o) => o.provider).join(", ")}`);
  },
};
