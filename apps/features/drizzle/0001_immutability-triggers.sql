-- Hand-written (drizzle-kit does not model triggers). Feature sets and views are referenced by
-- name and content hash from model versions and training runs, and the event log is the record
-- point-in-time reads are built from: the database itself refuses to rewrite any of them.
CREATE TRIGGER `feature_sets_no_update`
BEFORE UPDATE ON `feature_sets`
BEGIN
  SELECT RAISE(ABORT, 'feature sets are immutable: register a new version instead');
END;
--> statement-breakpoint
CREATE TRIGGER `feature_sets_no_delete`
BEFORE DELETE ON `feature_sets`
BEGIN
  SELECT RAISE(ABORT, 'feature sets cannot be deleted');
END;
--> statement-breakpoint
CREATE TRIGGER `feature_views_no_update`
BEFORE UPDATE ON `feature_views`
BEGIN
  SELECT RAISE(ABORT, 'feature views are immutable: register a view under a new name instead');
END;
--> statement-breakpoint
CREATE TRIGGER `feature_views_no_delete`
BEFORE DELETE ON `feature_views`
BEGIN
  SELECT RAISE(ABORT, 'feature views cannot be deleted');
END;
--> statement-breakpoint
CREATE TRIGGER `feature_events_no_update`
BEFORE UPDATE ON `feature_events`
BEGIN
  SELECT RAISE(ABORT, 'the feature event log is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `feature_events_no_delete`
BEFORE DELETE ON `feature_events`
BEGIN
  SELECT RAISE(ABORT, 'the feature event log is append-only');
END;
