CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`dedup_key` text NOT NULL,
	`event_type` text NOT NULL,
	`authenticity` text NOT NULL,
	`hints` text NOT NULL,
	`provider_user_id` text,
	`r2_key` text NOT NULL,
	`status` text NOT NULL,
	`user_id` text,
	`connection_id` text,
	`received_at` integer NOT NULL,
	`enqueued_at` integer,
	`sweeps` integer DEFAULT 0 NOT NULL,
	`processed_at` integer,
	CONSTRAINT "webhook_events_status_check" CHECK(status IN ('received', 'processed', 'dropped')),
	CONSTRAINT "webhook_events_authenticity_check" CHECK(authenticity IN ('signed', 'shared-secret', 'unsigned-hint'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_events_provider_dedup_unique` ON `webhook_events` (`provider`,`dedup_key`);--> statement-breakpoint
CREATE INDEX `webhook_events_status_enqueued_idx` ON `webhook_events` (`status`,`enqueued_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_received_idx` ON `webhook_events` (`received_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_provider_user_idx` ON `webhook_events` (`provider`,`user_id`);--> statement-breakpoint
CREATE INDEX `webhook_events_provider_account_idx` ON `webhook_events` (`provider`,`provider_user_id`);