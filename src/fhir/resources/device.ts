/**
 * Devices and apps that recorded data. Pulse stores a device only as the name the source gave
 * (`Pixel Watch 2`, `com.ouraring.oura`), so a Device's id is derived from that name: the same
 * name always gives the same id, in every request and every export, with nothing to store.
 */
import type { Device, Reference } from "@medplum/fhirtypes";
import { type FhirContext, subjectOf } from "./common";

export interface DeviceFacts {
  /** The device or source app name as stored. */
  name: string;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
const DEVICE_ID = /^dev-[0-9a-f]{16}$/;

/**
 * `dev-<16 hex>`: 64-bit FNV-1a of the name's UTF-8 bytes. Synchronous (WebCrypto digests are
 * not), and not a secret: the Device resource shows the name anyway. A person has a handful of
 * device names, so two colliding in one store (about 2⁻⁶⁴ per pair) is not a practical concern.
 */
export function deviceId(name: string): string {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(name)) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  }
  return `dev-${hash.toString(16).padStart(16, "0")}`;
}

/** True when the id has the shape `deviceId` gives (the route still has to find the name). */
export function isDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export function deviceReference(name: string): Reference<Device> {
  return { reference: `Device/${deviceId(name)}`, display: name };
}

export function deviceResource(facts: DeviceFacts, ctx: FhirContext): Device {
  return {
    resourceType: "Device",
    id: deviceId(facts.name),
    deviceName: [{ name: facts.name, type: "user-friendly-name" }],
    type: { text: "Device or app that recorded health data" },
    patient: subjectOf(ctx),
  };
}
