-- stockpipe 1.1 -> 1.2: one definition of each thing (issue 11).  Run by
-- ALTER EXTENSION stockpipe UPDATE; test/sql/upgrade.sql checks that the
-- result equals a fresh CREATE EXTENSION of 1.2, from 1.0 and from 1.1.
--
--   * message_fields(): the message fields and the columns they fill, as
--     the workers know them (contract/fields.h), for the regression test
--     that compares them with the tables;
--   * email_problem() is the mailer's own address rule (C), no longer a
--     second copy of it in SQL: ' and ` are refused as quotes by both, and
--     a domain whose last label is all digits by both.

\echo Use "ALTER EXTENSION stockpipe UPDATE TO '1.2'" to load this file. \quit

--
-- Ingestion
--
CREATE FUNCTION message_fields(
	OUT message text,
	OUT table_name text,
	OUT ordinal integer,
	OUT column_name text,
	OUT json_key text,
	OUT column_type text,
	OUT required boolean)
RETURNS SETOF record
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_message_fields';
COMMENT ON FUNCTION message_fields() IS
	'The fields of the quote and bar messages and the table columns they fill, in column order';

--
-- Alerts
--
CREATE OR REPLACE FUNCTION email_problem(email text)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_email_problem';
