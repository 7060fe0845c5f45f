CREATE TABLE `prediction_records` (
	`request_id` text NOT NULL,
	`variant` text NOT NULL,
	`deployment` text NOT NULL,
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`features` blob NOT NULL,
	`outputs` blob NOT NULL,
	`latency_ms` real NOT NULL,
	`status` text NOT NULL,
	`time` integer NOT NULL,
	`experiment` text NOT NULL,
	`experiment_arm` text NOT NULL,
	`unit_key` text NOT NULL,
	`source` text NOT NULL,
	`shadow` integer NOT NULL,
	`feature_set_hash` text NOT NULL,
	`entity_keys` text NOT NULL,
	`error` text NOT NULL,
	PRIMARY KEY(`request_id`, `variant`)
);
--> statement-breakpoint
CREATE INDEX `prediction_records_deployment_time` ON `prediction_records` (`deployment`,`time`);--> statement-breakpoint
CREATE INDEX `prediction_records_deployment_variant_time` ON `prediction_records` (`deployment`,`variant`,`time`);--> statement-breakpoint
CREATE INDEX `prediction_records_time` ON `prediction_records` (`time`);