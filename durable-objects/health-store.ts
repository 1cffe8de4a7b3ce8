import { DurableObject } from "cloudflare:workers";

/** One per user (DESIGN §5). Filled in by the storage foundation. */
export class HealthStore extends DurableObject<Env> {}
