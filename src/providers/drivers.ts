/**
 * The driver of each provider Pulse can connect (./driver.ts). A provider without a driver here
 * cannot be connected whatever the configuration says; one without credentials in
 * `PROVIDER_CREDENTIALS` (./config.ts) is not offered on that deployment.
 */
import { DomainError } from "../errors/domain-error";
import { dexcomDriver } from "./dexcom/driver";
import type { ProviderDriver } from "./driver";
import { googleHealthDriver } from "./google-health/driver";
import { ouraDriver } from "./oura/driver";
import { polarDriver } from "./polar/driver";
import { type ProviderName, providerFacts } from "./registry";
import { sandboxDriver } from "./sandbox/driver";
import { stravaDriver } from "./strava/driver";
import { terraDriver } from "./terra/driver";
import { whoopDriver } from "./whoop/driver";
import { withingsDriver } from "./withings/driver";

export const DRIVERS: Readonly<Partial<Record<ProviderName, ProviderDriver>>> = {
  sandbox: sandboxDriver,
  oura: ouraDriver,
  whoop: whoopDriver,
  dexcom: dexcomDriver,
  withings: withingsDriver,
  strava: stravaDriver,
  polar: polarDriver,
  terra: terraDriver,
  "google-health": googleHealthDriver,
};

export function driverFor(provider: ProviderName): ProviderDriver {
  const driver = DRIVERS[provider];
  if (!driver) throw new DomainError("NOT_FOUND", `${providerFacts(provider).displayName} cannot be connected yet.`);
  return driver;
}
