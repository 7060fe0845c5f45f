CREATE TABLE `feature_events` (
	`view` text NOT NULL,
	`entity_id` text NOT NULL,
	`event_time` integer NOT NULL,
	`values_json` text NOT NULL,
	`written_at` integer NOT NULL,
	PRIMARY KEY(`view`, `entity_id`, `event_time`)
);
--> statement-breakpoint
CREATE TABLE `feature_sets` (
	`name` text NOT NULL,
	`version` integer NOT NULL,
	`content_hash` text NOT NULL,
	`fitted_json` text NOT NULL,
	`registered_at` text NOT NULL,
	`registered_by` text NOT NULL,
	PRIMARY KEY(`name`, `version`),
	CONSTRAINT "feature_sets_version_positive" CHECK("feature_sets"."version" >= 1),
	CONSTRAINT "feature_sets_hash_hex" CHECK(length("feature_sets"."content_hash") = 64)
);
--> statement-breakpoint
CREATE TABLE `feature_views` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`entity_key` text NOT NULL,
	`fields_json` text NOT NULL,
	`ttl_seconds` integer NOT NULL,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	CONSTRAINT "feature_views_ttl_non_negative" CHECK("feature_views"."ttl_seconds" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `feature_views_name_unique` ON `feature_views` (`name`);--> statement-breakpoint
CREATE TABLE `latest_values` (
	`view` text NOT NULL,
	`entity_id` text NOT NULL,
	`event_time` integer NOT NULL,
	`values_json` text NOT NULL,
	`written_at` integer NOT NULL,
	PRIMARY KEY(`view`, `entity_id`)
);
