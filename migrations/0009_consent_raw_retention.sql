ALTER TABLE `uploads` ADD `raw_purged_at` integer;--> statement-breakpoint
CREATE INDEX `uploads_raw_retention_idx` ON `uploads` (`raw_purged_at`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `consents_active_unique` ON `consents` (`user_id`,`document`,`version`) WHERE withdrawn_at IS NULL;