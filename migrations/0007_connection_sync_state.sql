ALTER TABLE `connections` ADD `time_zone` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `refresh_lease_until` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `refresh_lease_id` text;