CREATE TABLE `batch_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`schedule_id` integer NOT NULL,
	`schedule` text NOT NULL,
	`occurrence` text NOT NULL,
	`status` text NOT NULL,
	`job_json` text NOT NULL,
	`worker_id` text NOT NULL,
	`lease_expires_at` text,
	`attempts` integer NOT NULL,
	`skipped_occurrences` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`claimed_at` text NOT NULL,
	`finished_at` text,
	`rows_read` integer DEFAULT 0 NOT NULL,
	`rows_scored` integer DEFAULT 0 NOT NULL,
	`rows_rejected` integer DEFAULT 0 NOT NULL,
	`output_sha256` text DEFAULT '' NOT NULL,
	`message` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`schedule_id`) REFERENCES `batch_schedules`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "batch_runs_status_known" CHECK("batch_runs"."status" in ('pending', 'running', 'succeeded', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `batch_runs_schedule_occurrence` ON `batch_runs` (`schedule_id`,`occurrence`);--> statement-breakpoint
CREATE INDEX `batch_runs_schedule_name` ON `batch_runs` (`schedule`,`occurrence`);--> statement-breakpoint
CREATE INDEX `batch_runs_status` ON `batch_runs` (`status`,`occurrence`);--> statement-breakpoint
CREATE TABLE `batch_schedules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`cron` text NOT NULL,
	`job_json` text NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`start_at` text NOT NULL,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `batch_schedules_live_name` ON `batch_schedules` (`name`) WHERE "batch_schedules"."deleted_at" IS NULL;