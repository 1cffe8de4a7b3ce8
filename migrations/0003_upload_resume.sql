ALTER TABLE `uploads` ADD `resume_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `uploads_status_updated_idx` ON `uploads` (`status`,`updated_at`,`id`);