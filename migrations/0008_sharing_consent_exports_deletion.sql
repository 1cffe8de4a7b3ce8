CREATE TABLE `audit_seals` (
	`chain` text NOT NULL,
	`first_seq` integer NOT NULL,
	`last_seq` integer NOT NULL,
	`r2_key` text NOT NULL,
	`content_hash` text NOT NULL,
	`last_event_hash` text NOT NULL,
	`prev_seal_hash` text NOT NULL,
	`seal_hash` text NOT NULL,
	`sealed_at` integer NOT NULL,
	PRIMARY KEY(`chain`, `first_seq`)
);
--> statement-breakpoint
CREATE INDEX `audit_seals_sealed_at_idx` ON `audit_seals` (`sealed_at`);--> statement-breakpoint
CREATE TABLE `account_deletions` (
	`pseudonym` text PRIMARY KEY NOT NULL,
	`step` text NOT NULL,
	`requested_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE TABLE `exports` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`r2_key` text,
	`byte_size` integer,
	`error_message` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "exports_status_check" CHECK(status IN ('queued', 'running', 'completed', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `exports_user_idx` ON `exports` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `exports_expiry_idx` ON `exports` (`expires_at`);--> statement-breakpoint
CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`document` text NOT NULL,
	`version` text NOT NULL,
	`accepted_at` integer NOT NULL,
	`withdrawn_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "consents_document_check" CHECK(document IN ('terms', 'privacy'))
);
--> statement-breakpoint
CREATE INDEX `consents_user_idx` ON `consents` (`user_id`,`document`,`accepted_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `consents_active_unique` ON `consents` (`user_id`,`document`,`version`) WHERE withdrawn_at IS NULL;--> statement-breakpoint
CREATE TABLE `grant_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`patient_id` text NOT NULL,
	`role` text NOT NULL,
	`categories` text NOT NULL,
	`data_since` integer,
	`data_until` integer,
	`grant_expires_at` integer NOT NULL,
	`note` text,
	`code_hash` text NOT NULL,
	`code_expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`redeemed_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`patient_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "grant_invitations_role_check" CHECK(role IN ('clinician', 'researcher'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `grant_invitations_code_hash_unique` ON `grant_invitations` (`code_hash`);--> statement-breakpoint
CREATE INDEX `grant_invitations_patient_idx` ON `grant_invitations` (`patient_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `grants` (
	`id` text PRIMARY KEY NOT NULL,
	`invitation_id` text NOT NULL,
	`patient_id` text NOT NULL,
	`grantee_id` text NOT NULL,
	`role` text NOT NULL,
	`categories` text NOT NULL,
	`data_since` integer,
	`data_until` integer,
	`expires_at` integer NOT NULL,
	`note` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_accessed_at` integer,
	FOREIGN KEY (`patient_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`grantee_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "grants_role_check" CHECK(role IN ('clinician', 'researcher'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `grants_invitation_unique` ON `grants` (`invitation_id`);--> statement-breakpoint
CREATE INDEX `grants_grantee_patient_idx` ON `grants` (`grantee_id`,`patient_id`);--> statement-breakpoint
CREATE INDEX `grants_patient_idx` ON `grants` (`patient_id`,`created_at`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_auth_flows` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`challenge` text NOT NULL,
	`user_id` text,
	`username` text,
	`display_name` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer,
	CONSTRAINT "auth_flows_kind_check" CHECK(kind IN ('register', 'login', 'add_passkey', 'delete_account'))
);
--> statement-breakpoint
INSERT INTO `__new_auth_flows`("id", "kind", "challenge", "user_id", "username", "display_name", "created_at", "expires_at", "consumed_at") SELECT "id", "kind", "challenge", "user_id", "username", "display_name", "created_at", "expires_at", "consumed_at" FROM `auth_flows`;--> statement-breakpoint
DROP TABLE `auth_flows`;--> statement-breakpoint
ALTER TABLE `__new_auth_flows` RENAME TO `auth_flows`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `auth_flows_expires_idx` ON `auth_flows` (`expires_at`);--> statement-breakpoint
ALTER TABLE `security_events` ADD `salt` text;--> statement-breakpoint
ALTER TABLE `security_events` ADD `erased_at` integer;--> statement-breakpoint
ALTER TABLE `uploads` ADD `raw_purged_at` integer;--> statement-breakpoint
CREATE INDEX `uploads_raw_retention_idx` ON `uploads` (`raw_purged_at`,`created_at`,`id`);