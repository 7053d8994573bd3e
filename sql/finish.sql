-- The install script (stockpipe--VERSION.sql), part 6, the last.  The
-- workers poll once a second for the extension; wake them when this
-- transaction commits, so that consuming starts within milliseconds of
-- CREATE EXTENSION (src/wake.c).
--
CREATE FUNCTION wake_workers()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_wake_workers';
COMMENT ON FUNCTION wake_workers() IS
	'Wake stockpipe''s workers when the calling transaction commits (the extension scripts call it last)';
REVOKE ALL ON FUNCTION wake_workers() FROM PUBLIC;

SELECT stockpipe.wake_workers();
