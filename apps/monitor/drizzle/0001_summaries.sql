CREATE TABLE `experiment_units` (
	`experiment` text NOT NULL,
	`unit_key` text NOT NULL,
	`deployment` text NOT NULL,
	`arm` text NOT NULL,
	`first_time` integer NOT NULL,
	PRIMARY KEY(`experiment`, `unit_key`)
);
--> statement-breakpoint
CREATE INDEX `experiment_units_first_time` ON `experiment_units` (`first_time`);--> statement-breakpoint
CREATE TABLE `outcomes` (
	`outcome_id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`unit_key` text NOT NULL,
	`deployment` text NOT NULL,
	`label` real,
	`kpi` text NOT NULL,
	`value` real NOT NULL,
	`time` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outcomes_request_id_time` ON `outcomes` (`request_id`,`time`);--> statement-breakpoint
CREATE INDEX `outcomes_kpi_deployment_unit` ON `outcomes` (`kpi`,`deployment`,`unit_key`);--> statement-breakpoint
CREATE INDEX `outcomes_time` ON `outcomes` (`time`);--> statement-breakpoint
CREATE TABLE `prediction_rollups` (
	`deployment` text NOT NULL,
	`variant` text NOT NULL,
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`shadow` integer NOT NULL,
	`minute` integer NOT NULL,
	`requests` integer NOT NULL,
	`errors` integer NOT NULL,
	`by_status` text NOT NULL,
	`latency` blob NOT NULL,
	PRIMARY KEY(`deployment`, `variant`, `model`, `version`, `shadow`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `prediction_rollups_deployment_minute` ON `prediction_rollups` (`deployment`,`minute`);--> statement-breakpoint
CREATE INDEX `prediction_rollups_minute` ON `prediction_rollups` (`minute`);