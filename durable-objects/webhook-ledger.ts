/**
 * The webhook event ledger, sharded (docs/scale.md): every verified provider delivery becomes one
 * event row in the shard its `(provider, dedupKey)` hashes to, addressed as
 * `WEBHOOK_LEDGER.getByName("shard:<n>")`. A shard is the unit that recognises a re-delivery (the
 * dedup key is unique within it), keeps the delivery history and sweeps its own unsent or
 * unprocessed events — so the write rate of deliveries spreads over the shards instead of landing
 * on D1's single writer. src/providers/webhooks/events.ts is the only caller.
 */
import { DurableObject } from "cloudflare:workers";

export class WebhookLedger extends DurableObject<Env> {}
