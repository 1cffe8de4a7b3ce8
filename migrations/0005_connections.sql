CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`provider` text NOT NULL,
	`provider_user_id` text,
	`status` text NOT NULL,
	`scopes` text NOT NULL,
	`access_token_ciphertext` text,
	`refresh_token_ciphertext` text,
	`access_expires_at` integer,
	`last_sync_at` integer,
	`last_error_code` text,
	`last_error_message` text,
	`sync_checkpoint` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "connections_status_check" CHECK(status IN ('active', 'reauth_required', 'revoked', 'sync_failed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connections_user_provider_live_unique` ON `connections` (`user_id`,`provider`) WHERE "connections"."status" <> 'revoked';--> statement-breakpoint
CREATE UNIQUE INDEX `connections_provider_account_live_unique` ON `connections` (`provider`,`provider_user_id`) WHERE "connections"."status" <> 'revoked' AND "connections"."provider_user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `connections_status_expiry_idx` ON `connections` (`status`,`access_expires_at`);--> statement-breakpoint
CREATE INDEX `connections_user_idx` ON `connections` (`user_id`,`created_at`);