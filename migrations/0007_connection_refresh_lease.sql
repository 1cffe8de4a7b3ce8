ALTER TABLE `connections` ADD `refresh_lease_until` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `refresh_lease_id` text;