/**
 * What test/support/enclave-bridge.global.ts provides to the workerd tests: where the real
 * enclave-bridge listens and what the Worker must pin to trust it.
 */
export interface EnclaveBridgeFixture {
  url: string;
  /** A bridge whose enclave restarts (new HPKE key, same image) on `POST restartUrl`. */
  restartableUrl: string;
  restartUrl: string;
  /** A misbehaving parent: `${hostileUrl}/huge` answers 2 MiB, `${hostileUrl}/garbage` a non-CBOR document. */
  hostileUrl: string;
  /** A bridge whose enclave asks a non-attested OpenAI-compatible model (identity kind "remote"). */
  nonConfidentialUrl: string;
  /** What that model answers to every question. */
  nonConfidentialAnswer: string;
  /** A bridge whose enclave attests but answers every query BUSY. */
  busyUrl: string;
  token: string;
  pcrs: { 0: string; 1: string; 2: string };
  rootSha256: string;
  /** The development root as base64 DER (one line, as `ENCLAVE_ROOT_CERTIFICATE` accepts). */
  rootCertificate: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    enclaveBridge: EnclaveBridgeFixture;
  }
}
