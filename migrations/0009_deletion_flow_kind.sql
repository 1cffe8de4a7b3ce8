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
CREATE INDEX `auth_flows_expires_idx` ON `auth_flows` (`expires_at`);