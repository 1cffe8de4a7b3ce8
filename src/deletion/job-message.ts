/** The SYNC queue message that runs an account deletion (./job.ts). */
import { z } from "zod";
import { idPattern } from "../db/ids";

export const accountDeleteMessageSchema = z.strictObject({
  type: z.literal("account.delete"),
  userId: z.string().regex(idPattern("usr")),
});
export type AccountDeleteMessage = z.infer<typeof accountDeleteMessageSchema>;

export async function enqueueAccountDeletion(env: Pick<Env, "SYNC">, userId: string): Promise<void> {
  const message: AccountDeleteMessage = { type: "account.delete", userId };
  await env.SYNC.send(message, { contentType: "json" });
}
