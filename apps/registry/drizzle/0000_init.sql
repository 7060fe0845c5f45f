CREATE TABLE `aliases` (
	`model` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text NOT NULL,
	PRIMARY KEY(`model`, `alias`),
	FOREIGN KEY (`model`,`version`) REFERENCES `model_versions`(`model`,`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `audit_head` (
	`id` integer PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	CONSTRAINT "audit_head_single_row" CHECK("audit_head"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`time` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`before_json` text NOT NULL,
	`after_json` text NOT NULL,
	`reason` text NOT NULL,
	`trace_id` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_target` ON `audit_log` (`target`);--> statement-breakpoint
CREATE INDEX `audit_log_action` ON `audit_log` (`action`);--> statement-breakpoint
CREATE TABLE `changes` (
	`revision` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`payload_json` text,
	`time` text NOT NULL,
	CONSTRAINT "changes_kind" CHECK("changes"."kind" in ('deployment', 'endpoint'))
);
--> statement-breakpoint
CREATE TABLE `deployment_history` (
	`name` text NOT NULL,
	`revision` integer NOT NULL,
	`deployment_json` text NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text NOT NULL,
	PRIMARY KEY(`name`, `revision`)
);
--> statement-breakpoint
CREATE TABLE `deployments` (
	`name` text PRIMARY KEY NOT NULL,
	`revision` integer NOT NULL,
	`deployment_json` text NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `endpoints` (
	`worker_id` text PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`versions_json` text NOT NULL,
	`labels_json` text NOT NULL,
	`lease_expires_at` text NOT NULL,
	`registered_at` text NOT NULL,
	`last_heartbeat_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `endpoints_lease_expires_at` ON `endpoints` (`lease_expires_at`);--> statement-breakpoint
CREATE TABLE `model_versions` (
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`artifact_sha256` text NOT NULL,
	`artifact_size` integer NOT NULL,
	`signature_json` text NOT NULL,
	`lineage_json` text NOT NULL,
	`reference_profile` blob NOT NULL,
	`parent_version` integer,
	`description` text DEFAULT '' NOT NULL,
	`tags_json` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	PRIMARY KEY(`model`, `version`),
	FOREIGN KEY (`model`) REFERENCES `models`(`name`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`model`,`parent_version`) REFERENCES `model_versions`(`model`,`version`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "model_versions_version_positive" CHECK("model_versions"."version" >= 1),
	CONSTRAINT "model_versions_sha256_hex" CHECK(length("model_versions"."artifact_sha256") = 64)
);
--> statement-breakpoint
CREATE INDEX `model_versions_artifact_sha256` ON `model_versions` (`artifact_sha256`);--> statement-breakpoint
CREATE TABLE `models` (
	`name` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
