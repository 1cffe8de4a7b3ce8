CREATE TABLE `security_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`role` text NOT NULL,
	`action` text NOT NULL,
	`resource` text NOT NULL,
	`subject` text,
	`reason` text,
	`result` text NOT NULL,
	`request_id` text,
	`ip` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	CONSTRAINT "security_events_seq_check" CHECK(seq >= 1),
	CONSTRAINT "security_events_role_check" CHECK(role IN ('patient', 'clinician', 'researcher', 'admin', 'auditor', 'system', 'anonymous')),
	CONSTRAINT "security_events_result_check" CHECK(result IN ('success', 'failure', 'denied'))
);
--> statement-breakpoint
CREATE INDEX `security_events_subject_idx` ON `security_events` (`subject`,`seq`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`display_name` text NOT NULL,
	`role` text DEFAULT 'patient' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	CONSTRAINT "users_role_check" CHECK(role IN ('patient', 'clinician', 'researcher', 'admin', 'auditor'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (lower("username"));