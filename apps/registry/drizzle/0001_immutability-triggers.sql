-- Hand-written (drizzle-kit does not model triggers). The database itself refuses to rewrite
-- history, whatever code or tool holds the connection; only someone who drops these triggers
-- first (i.e. who has the file) can, and the audit hash chain exists to catch that.

-- Model versions: only description and tags may change; versions are never deleted.
CREATE TRIGGER `model_versions_immutable`
BEFORE UPDATE ON `model_versions`
WHEN NEW.`model` IS NOT OLD.`model`
  OR NEW.`version` IS NOT OLD.`version`
  OR NEW.`artifact_sha256` IS NOT OLD.`artifact_sha256`
  OR NEW.`artifact_size` IS NOT OLD.`artifact_size`
  OR NEW.`signature_json` IS NOT OLD.`signature_json`
  OR NEW.`lineage_json` IS NOT OLD.`lineage_json`
  OR NEW.`reference_profile` IS NOT OLD.`reference_profile`
  OR NEW.`parent_version` IS NOT OLD.`parent_version`
  OR NEW.`created_at` IS NOT OLD.`created_at`
  OR NEW.`created_by` IS NOT OLD.`created_by`
BEGIN
  SELECT RAISE(ABORT, 'model versions are immutable: only description and tags can change (register a new version instead)');
END;
--> statement-breakpoint
CREATE TRIGGER `model_versions_no_delete`
BEFORE DELETE ON `model_versions`
BEGIN
  SELECT RAISE(ABORT, 'model versions cannot be deleted');
END;
--> statement-breakpoint
-- Audit log: append-only.
CREATE TRIGGER `audit_log_no_update`
BEFORE UPDATE ON `audit_log`
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete`
BEFORE DELETE ON `audit_log`
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted');
END;
--> statement-breakpoint
-- The head only moves forward and always exists.
CREATE TRIGGER `audit_head_forward_only`
BEFORE UPDATE ON `audit_head`
WHEN NEW.`seq` <= OLD.`seq` OR NEW.`id` IS NOT OLD.`id`
BEGIN
  SELECT RAISE(ABORT, 'the audit head only moves forward');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_head_no_delete`
BEFORE DELETE ON `audit_head`
BEGIN
  SELECT RAISE(ABORT, 'the audit head cannot be deleted');
END;
--> statement-breakpoint
INSERT INTO `audit_head` (`id`, `seq`, `hash`)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
--> statement-breakpoint
-- Deployment history is a record, not state: never rewritten.
CREATE TRIGGER `deployment_history_no_update`
BEFORE UPDATE ON `deployment_history`
BEGIN
  SELECT RAISE(ABORT, 'deployment history is immutable');
END;
--> statement-breakpoint
CREATE TRIGGER `deployment_history_no_delete`
BEFORE DELETE ON `deployment_history`
BEGIN
  SELECT RAISE(ABORT, 'deployment history is immutable');
END;
--> statement-breakpoint
-- Changes are deleted by compaction only, never rewritten: a watcher may already have seen them.
CREATE TRIGGER `changes_no_update`
BEFORE UPDATE ON `changes`
BEGIN
  SELECT RAISE(ABORT, 'changes are immutable');
END;
