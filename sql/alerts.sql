--
-- The install script (stockpipe--VERSION.sql), part 4: price alerts (issue 4; docs/scheduler-design.md).
-- Rules say when to e-mail whom; check_alerts(), run every 5 seconds by the
-- built-in job alert_check, writes one alert_event row per firing; the
-- mailer worker (src/mailer.c) sends those rows (the outbox) over SMTP.
--
-- Choices:
--   * Conditions price_above / price_below compare the latest quote's price
--     with threshold (strictly greater / less); change_pct_above /
--     change_pct_below compare 100 * (price - prev_close) / prev_close with
--     threshold (in percent: -2 means "down more than 2 %"), prev_close from
--     the quote, else the last daily close before the quote's date in
--     stockpipe.market_timezone; above_l30d_high / below_l30d_low compare
--     the price with the newest l30d_summary row of the symbol (highest_high,
--     else max_close / lowest_low, else min_close).  The two l30d conditions
--     take no threshold: it must be NULL.  Price thresholds must be > 0.
--   * Edges: a rule fires when its condition holds and it is armed; it is
--     then disarmed until the condition is false again (re-armed).  A firing
--     within cooldown of the last one, in quote time, only disarms, without
--     an event.  A new (or re-enabled) rule whose condition already holds
--     fires at the first check.  A condition that cannot be evaluated (no
--     prev_close, no L30D row) leaves the rule as it is.
--   * Every quote counts, in ts order: a rule is evaluated against each
--     quote of its symbol newer than the last one it saw (last_quote_ts),
--     so a price that crosses and comes back between two checks still
--     fires, and the firings are the same whenever the checks run (on a
--     promoted standby too).  Checking twice against the same quotes
--     changes nothing, and rules whose symbol got no new quote are not even
--     written, so a check every 5 s does not bloat alert_rule.  A quote
--     older than last_quote_ts that arrives late is not evaluated.
--   * Symbols must match the message contract (upper case, ^[A-Z0-9.^=-]{1,20}$):
--     'aapl' is an error, not silently 'AAPL'.
--   * E-mail addresses are checked strictly (email_problem()), by set_alert()
--     and by CHECK constraints of alert_rule and alert_event, so no address
--     written by any path can carry CR/LF or a second recipient into a header.
--   * drop_alert() of an unknown (or another role's) rule returns false;
--     enable_alert() of one is an error (42704).
--   * Users read their rules and events (row-level security) and write
--     them only through set_alert / drop_alert / enable_alert; only
--     check_alerts() writes the outbox.  What a user can make the system
--     send (docs/security.md): e-mails about their own rules, to addresses
--     in stockpipe.mail_allowed_domains (empty: any), at most
--     stockpipe.mail_rate_limit per role and hour (further firings are
--     recorded as 'suppressed', not sent); a role has at most 1000 rules;
--     cooldown is at most 30 days.
--   * Webhook channels (issue 12): a role's named channels (alert_channel:
--     a generic JSON POST, Slack or Microsoft Teams incoming webhook) made
--     with set_channel(); a rule goes to its e-mail address (optional when
--     it has channels) and to each of its channels (alert_rule.channels).
--     A firing creates, in the same transaction as its event, one
--     alert_delivery row per channel: the webhook outbox, sent by the same
--     mailer worker with the same back-off.  The URL is the secret (whoever
--     has it can post to the chat): users cannot read it back (column
--     privileges; my_channels shows scheme://host/...), error messages never
--     quote it, and it must be https:// (http:// to loopback only).  SSRF:
--     the host must be in stockpipe.webhook_allowed_hosts, or, when that is
--     empty, public (the mailer also refuses to connect to a non-public
--     address); docs/security.md.  stockpipe.mail_rate_limit bounds the
--     firings delivered per role and hour, e-mail and webhooks together; a
--     role has at most 20 channels, a rule at most 20.
--

--
-- Why an e-mail address is refused, or NULL if it is fine: the mailer's own
-- rule (sp_mail_address_problem() in src/mail.c), so that what the API and
-- the CHECK constraints accept is exactly what the mailer sends to.  One
-- address, printable ASCII, no white space, CR/LF, commas, angle brackets
-- or quotes, at most 254 characters, local part of dot-atoms (at most 64
-- characters), domain of DNS labels with at least one dot, or "localhost".
--
CREATE FUNCTION email_problem(email text)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_email_problem';
COMMENT ON FUNCTION email_problem(text) IS
	'Why stockpipe refuses an e-mail address, or NULL if it accepts it';

-- Why a webhook channel URL is refused, or NULL if it is fine: the
-- mailer's own rule (sp_webhook_url_problem() in src/webhook.c).  The
-- reason never quotes the URL, which is a secret.
CREATE FUNCTION webhook_url_problem(url text)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_webhook_url_problem';
COMMENT ON FUNCTION webhook_url_problem(text) IS
	'Why stockpipe refuses a webhook URL, or NULL if it accepts it (the reason never quotes the URL)';

-- Why stockpipe.webhook_allowed_hosts does not let webhooks go to the
-- host of this URL, or NULL if it does (the mailer's own rule, src/mailer.c).
CREATE FUNCTION webhook_host_problem(url text)
RETURNS text
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_webhook_host_problem';
COMMENT ON FUNCTION webhook_host_problem(text) IS
	'Why stockpipe.webhook_allowed_hosts does not let alert webhooks go to the host of this URL, or NULL';

-- A role's webhook channels.  url is a secret: users have no SELECT on it.
CREATE TABLE alert_channel (
	channelid		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner			name NOT NULL DEFAULT current_user,
	name			text NOT NULL
		CONSTRAINT alert_channel_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	kind			text NOT NULL
		CONSTRAINT alert_channel_kind_check CHECK (kind IN ('webhook', 'slack', 'teams')),
	url				text NOT NULL
		CONSTRAINT alert_channel_url_check CHECK (stockpipe.webhook_url_problem(url) IS NULL),
	created_at		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT alert_channel_owner_name_key UNIQUE (owner, name)
);
COMMENT ON TABLE alert_channel IS
	'Webhook channels of alert rules (webhook: JSON POST, slack, teams); url is a secret, readable by superusers only';

CREATE TABLE alert_rule (
	ruleid			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner			name NOT NULL DEFAULT current_user,
	symbol			text NOT NULL CHECK (symbol ~ '^[A-Z0-9.^=-]{1,20}$'),
	condition		text NOT NULL CHECK (condition IN ('price_above', 'price_below', 'change_pct_above',
													   'change_pct_below', 'above_l30d_high', 'below_l30d_low')),
	threshold		double precision,
	email			text CHECK (stockpipe.email_problem(email) IS NULL),
	cooldown		interval NOT NULL DEFAULT '15 minutes'
		CONSTRAINT alert_rule_cooldown_check CHECK (cooldown BETWEEN interval '0' AND interval '30 days'),
	enabled			boolean NOT NULL DEFAULT true,
	armed			boolean NOT NULL DEFAULT true,
	last_fired_at	timestamptz,
	last_checked_at	timestamptz,
	created_at		timestamptz NOT NULL DEFAULT now(),
	last_quote_ts	timestamptz,
	last_price		double precision,
	last_error		text,
	channels		text[] NOT NULL DEFAULT '{}',
	last_fired_quote_ts timestamptz,
	CONSTRAINT alert_rule_threshold_check CHECK (
		CASE WHEN condition IN ('above_l30d_high', 'below_l30d_low') THEN threshold IS NULL
			 ELSE coalesce(threshold > '-Infinity' AND threshold < 'Infinity', false) END),
	CONSTRAINT alert_rule_destination_check CHECK (email IS NOT NULL OR cardinality(channels) > 0),
	CONSTRAINT alert_rule_channels_check CHECK (
		cardinality(channels) <= 20 AND array_position(channels, NULL) IS NULL)
);
COMMENT ON TABLE alert_rule IS
	'Alert rules: e-mail email when condition holds for symbol; fires on the edge, re-arms when false';
COMMENT ON COLUMN alert_rule.armed IS
	'false while the condition holds (after a firing, or a disarm within cooldown)';
COMMENT ON COLUMN alert_rule.last_checked_at IS
	'When the rule was last evaluated against a new quote';
COMMENT ON COLUMN alert_rule.last_quote_ts IS
	'ts of the quote the rule was last evaluated against';
COMMENT ON COLUMN alert_rule.last_price IS
	'price of the quote the rule was last evaluated against';
COMMENT ON COLUMN alert_rule.last_error IS
	'Why check_alerts() could not evaluate the rule and disabled it, if it did';
COMMENT ON COLUMN alert_rule.last_fired_quote_ts IS
	'ts of the quote of the rule''s last firing: cooldown is counted from it, in quote time';
COMMENT ON COLUMN alert_rule.channels IS
	'Names of the owner''s webhook channels (alert_channel) the rule also goes to';

-- The e-mail outbox.
CREATE TABLE alert_event (
	eventid			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ruleid			bigint REFERENCES alert_rule ON DELETE SET NULL,
	owner			name NOT NULL,
	symbol			text NOT NULL,
	condition		text NOT NULL,
	threshold		double precision,
	email			text CHECK (stockpipe.email_problem(email) IS NULL),
	price			double precision NOT NULL,
	quote_ts		timestamptz NOT NULL,
	prev_close		double precision,
	change_pct		double precision,
	created_at		timestamptz NOT NULL DEFAULT now(),
	status			text NOT NULL DEFAULT 'pending'
		CONSTRAINT alert_event_status_check CHECK (status IN ('pending', 'sent', 'failed', 'suppressed', 'none')),
	attempts		integer NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	last_error		text,
	sent_at			timestamptz,
	-- One event per rule and quote (a crossing), whichever server found it;
	-- its index serves a rule's events and ON DELETE SET NULL of a rule.
	CONSTRAINT alert_event_ruleid_quote_ts_key UNIQUE (ruleid, quote_ts)
);
COMMENT ON TABLE alert_event IS
	'One row per alert firing: the e-mail outbox the mailer sends from (''suppressed'': over stockpipe.mail_rate_limit, not sent; ''none'': the rule has no e-mail address)';
-- The per-role hourly limit.
CREATE INDEX alert_event_owner_created_idx ON alert_event (owner, created_at);
-- The mailer's queue.
CREATE INDEX alert_event_pending_idx ON alert_event (next_attempt_at) WHERE status = 'pending';

-- The webhook outbox: one row per (event, channel), made with the event.
CREATE TABLE alert_delivery (
	deliveryid		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	eventid			bigint NOT NULL REFERENCES alert_event ON DELETE CASCADE,
	channelid		bigint REFERENCES alert_channel ON DELETE SET NULL,
	owner			name NOT NULL,
	channel			text NOT NULL,
	kind			text NOT NULL,
	status			text NOT NULL DEFAULT 'pending'
		CONSTRAINT alert_delivery_status_check CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
	attempts		integer NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	http_status		integer,
	last_error		text,
	created_at		timestamptz NOT NULL DEFAULT now(),
	sent_at			timestamptz,
	CONSTRAINT alert_delivery_event_channel_key UNIQUE (eventid, channelid)
);
COMMENT ON TABLE alert_delivery IS
	'One row per alert firing and webhook channel: the webhook outbox the mailer posts from';
COMMENT ON COLUMN alert_delivery.channel IS
	'The channel''s name when the alert fired';
COMMENT ON COLUMN alert_delivery.http_status IS
	'HTTP status of the last answer, NULL if none came';
-- The mailer's queue.
CREATE INDEX alert_delivery_pending_idx ON alert_delivery (next_attempt_at) WHERE status = 'pending';
-- ON DELETE SET NULL when a channel is dropped.
CREATE INDEX alert_delivery_channelid_idx ON alert_delivery (channelid);

ALTER TABLE alert_channel ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_channel_owner ON alert_channel
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

ALTER TABLE alert_delivery ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_delivery_owner ON alert_delivery
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

ALTER TABLE alert_rule ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_rule_owner ON alert_rule
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

ALTER TABLE alert_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_event_owner ON alert_event
	USING (owner = current_user)
	WITH CHECK (owner = current_user);

SELECT pg_catalog.pg_extension_config_dump('alert_rule', '');
SELECT pg_catalog.pg_extension_config_dump('alert_rule_ruleid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('alert_event', '');
SELECT pg_catalog.pg_extension_config_dump('alert_event_eventid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('alert_channel', '');
SELECT pg_catalog.pg_extension_config_dump('alert_channel_channelid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('alert_delivery', '');
SELECT pg_catalog.pg_extension_config_dump('alert_delivery_deliveryid_seq', '');

--
-- The SQL API: SECURITY INVOKER wrappers that pass current_user to internal
-- SECURITY DEFINER functions acting for that role alone (see the scheduler
-- part, acting_as()).
--

-- Whether mail may go to this address under stockpipe.mail_allowed_domains
-- (the mailer's own rule, src/mail.c).
CREATE FUNCTION mail_domain_allowed(email text)
RETURNS boolean
LANGUAGE c STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockpipe_mail_domain_allowed';
COMMENT ON FUNCTION mail_domain_allowed(text) IS
	'Whether stockpipe.mail_allowed_domains lets alert e-mails go to this address';

--
-- Webhook channels.  set_channel() creates a channel of the caller or
-- replaces its kind and URL; drop_channel() removes it from the caller's
-- rules and marks its pending deliveries failed.  The URL is never quoted
-- in a message: it is the secret.
--
CREATE FUNCTION _set_channel(caller name, name text, kind text, url text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- An error raised here is logged without the statement, which holds the URL.
SET log_min_error_statement = panic
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	problem	text;
	id		bigint;
BEGIN
	IF $2 IS NULL OR $2 !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid channel name "%"', coalesce(left(translate($2, E'\r\n', '  '), 80), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A channel name has 1 to 63 characters among letters, digits, "_", "." and "-", and starts with a letter or digit.',
				  HINT = 'For example ''ops-slack''.';
	END IF;
	IF $3 IS NULL OR $3 NOT IN ('webhook', 'slack', 'teams') THEN
		RAISE EXCEPTION 'invalid channel kind "%"', coalesce(left(translate($3, E'\r\n', '  '), 40), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use webhook (a JSON POST), slack or teams (their incoming webhooks).';
	END IF;
	problem := CASE WHEN $4 IS NULL THEN 'it is NULL' ELSE stockpipe.webhook_url_problem($4) END;
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid webhook URL for channel "%"', $2
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The URL is refused because %s.', problem),
				  HINT = 'Give the incoming-webhook URL as the chat service shows it, e.g. https://hooks.slack.com/services/...';
	END IF;
	problem := stockpipe.webhook_host_problem($4);
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'alert webhooks may not be sent to the host of channel "%"', $2
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = problem,
				  HINT = 'Use another host, or ask an administrator to add this one to stockpipe.webhook_allowed_hosts.';
	END IF;
	IF NOT EXISTS (SELECT FROM stockpipe.alert_channel c WHERE c.owner = who AND c.name = $2)
	   AND (SELECT count(*) FROM stockpipe.alert_channel c WHERE c.owner = who) >= 20 THEN
		RAISE EXCEPTION 'role "%" has 20 webhook channels already', who
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = 'Drop channels you no longer need with stockpipe.drop_channel().';
	END IF;

	INSERT INTO stockpipe.alert_channel AS c (owner, name, kind, url)
	VALUES (who, $2, $3, $4)
	ON CONFLICT ON CONSTRAINT alert_channel_owner_name_key
	DO UPDATE SET kind = excluded.kind, url = excluded.url
	RETURNING c.channelid INTO id;
	RETURN id;
END;
$$;

CREATE FUNCTION set_channel(name text, kind text, url text)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_channel(current_user, $1, $2, $3)
$$;
COMMENT ON FUNCTION set_channel(text, text, text) IS
	'Create a webhook channel of the current role (kind webhook, slack or teams), or replace its kind and URL; returns its channelid';

CREATE FUNCTION _drop_channel(caller name, name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	id		bigint;
	orphans	text;
BEGIN
	SELECT c.channelid INTO id FROM stockpipe.alert_channel c WHERE c.owner = who AND c.name = $2;
	IF id IS NULL THEN
		RETURN false;
	END IF;
	SELECT string_agg(r.ruleid::text, ', ' ORDER BY r.ruleid) INTO orphans
	  FROM stockpipe.alert_rule r
	 WHERE r.owner = who AND r.email IS NULL AND r.channels = ARRAY[$2];
	IF orphans IS NOT NULL THEN
		RAISE EXCEPTION 'channel "%" is the only destination of alert rules %', $2, orphans
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Give those rules another channel with stockpipe.set_alert_channels(), or drop them, first.';
	END IF;
	UPDATE stockpipe.alert_rule r SET channels = array_remove(r.channels, $2)
	 WHERE r.owner = who AND $2 = ANY (r.channels);
	UPDATE stockpipe.alert_delivery d
	   SET status = 'failed', last_error = 'not sent: the channel was dropped'
	 WHERE d.channelid = id AND d.status = 'pending';
	DELETE FROM stockpipe.alert_channel c WHERE c.channelid = id;
	RETURN true;
END;
$$;

CREATE FUNCTION drop_channel(name text)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._drop_channel(current_user, $1)
$$;
COMMENT ON FUNCTION drop_channel(text) IS
	'Delete a webhook channel of yours, remove it from your rules and fail its pending deliveries; false if there is no such channel of yours';

-- The channel list of a rule of role who: NULL is none, duplicates go,
-- every name must be a channel of who (so no rule reaches another role's
-- channel), at most 20.  Called by the SECURITY DEFINER functions only.
CREATE FUNCTION _alert_channels(who name, channels text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	list	text[] := '{}';
	ch		text;
BEGIN
	IF array_position($2, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'channel names must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOREACH ch IN ARRAY coalesce($2, '{}') LOOP
		IF NOT EXISTS (SELECT FROM stockpipe.alert_channel c WHERE c.owner = $1 AND c.name = ch) THEN
			RAISE EXCEPTION 'webhook channel "%" does not exist', left(translate(ch, E'\r\n', '  '), 80)
				USING ERRCODE = 'undefined_object',
					  DETAIL = format('Role %s has no channel of that name.', $1),
					  HINT = 'SELECT * FROM stockpipe.my_channels lists yours; stockpipe.set_channel() creates one.';
		END IF;
		IF ch <> ALL (list) THEN
			list := list || ch;
		END IF;
	END LOOP;
	IF cardinality(list) > 20 THEN
		RAISE EXCEPTION 'an alert rule has at most 20 channels'
			USING ERRCODE = 'program_limit_exceeded',
				  DETAIL = format('%s were given.', cardinality(list));
	END IF;
	RETURN list;
END;
$$;

-- Tells the scheduler, when the calling transaction commits, that a rule
-- was created or re-enabled, or that a check left quotes for the next one:
-- the built-in alert_check runs only when quotes were stored or this was
-- called since its last run (src/wake.c, src/scheduler.c).  Only the
-- SECURITY DEFINER functions below and _check_alerts() (as the owner) call
-- it.
CREATE FUNCTION _alert_rules_changed()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'stockpipe_alert_rules_changed';
COMMENT ON FUNCTION _alert_rules_changed() IS
	'Have the scheduler run the built-in alert_check when the calling transaction commits (called by _set_alert, _enable_alert and _check_alerts)';
REVOKE ALL ON FUNCTION _alert_rules_changed() FROM PUBLIC;

CREATE FUNCTION _set_alert(caller name, symbol text, condition text, threshold double precision,
						   email text, cooldown interval, channels text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	problem	text;
	id		bigint;
BEGIN
	IF $2 IS NULL OR $2 !~ '^[A-Z0-9.^=-]{1,20}$' THEN
		RAISE EXCEPTION 'invalid symbol "%"', coalesce(left($2, 40), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A symbol has 1 to 20 characters among A-Z, 0-9, ".", "-", "^" and "=".',
				  HINT = 'Write it as the quotes do, in upper case: ''AAPL'', ''BRK-B'', ''^GSPC'', ''EURUSD=X''.';
	END IF;
	IF $3 IS NULL OR $3 NOT IN ('price_above', 'price_below', 'change_pct_above',
								'change_pct_below', 'above_l30d_high', 'below_l30d_low') THEN
		RAISE EXCEPTION 'invalid alert condition "%"', coalesce(left($3, 40), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use price_above, price_below, change_pct_above, change_pct_below, above_l30d_high or below_l30d_low.';
	END IF;
	IF $3 IN ('above_l30d_high', 'below_l30d_low') THEN
		IF $4 IS NOT NULL THEN
			RAISE EXCEPTION 'condition % takes no threshold', $3
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'It compares the price with the newest 30-day high or low of stockpipe.l30d_summary.',
					  HINT = 'Pass NULL as the threshold.';
		END IF;
	ELSIF $4 IS NULL OR NOT ($4 > '-Infinity' AND $4 < 'Infinity') THEN
		RAISE EXCEPTION 'condition % needs a finite threshold', $3
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('threshold is %s.', coalesce($4::text, 'NULL')),
				  HINT = CASE WHEN $3 LIKE 'change_pct%'
							  THEN 'Give a change in percent against the previous close, e.g. 5 or -3.'
							  ELSE 'Give a price, e.g. 190.' END;
	ELSIF $3 LIKE 'price%' AND $4 <= 0 THEN
		RAISE EXCEPTION 'condition % needs a positive price as threshold', $3
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('threshold is %s.', $4),
				  HINT = 'Give a price, e.g. 190.';
	END IF;
	-- without channels, an e-mail address is required
	problem := CASE WHEN $5 IS NOT NULL THEN stockpipe.email_problem($5)
					WHEN cardinality($7) > 0 THEN NULL
					ELSE 'it is NULL' END;
	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid e-mail address "%"', coalesce(left(translate($5, E'\r\n', '  '), 300), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The address is refused because %s.', problem),
				  HINT = CASE WHEN $5 IS NULL
							  THEN 'Give one plain address such as ''alice@example.com'', or channels => ARRAY[''name''] of your webhook channels.'
							  ELSE 'Give one plain address such as ''alice@example.com''.' END;
	END IF;
	IF $5 IS NOT NULL AND NOT stockpipe.mail_domain_allowed($5) THEN
		RAISE EXCEPTION 'alert e-mails may not be sent to "%"', $5
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Its domain is not in stockpipe.mail_allowed_domains (%s).',
								  current_setting('stockpipe.mail_allowed_domains', true)),
				  HINT = 'Use an address of an allowed domain, or ask an administrator to allow it.';
	END IF;
	IF $6 IS NULL OR $6 < interval '0' OR $6 > interval '30 days' THEN
		RAISE EXCEPTION 'cooldown must be between 0 and 30 days'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('cooldown is %s.', coalesce($6::text, 'NULL')),
				  HINT = 'Give an interval such as ''15 minutes'', or ''0'' for none.';
	END IF;
	IF (SELECT count(*) FROM stockpipe.alert_rule r WHERE r.owner = who) >= 1000 THEN
		RAISE EXCEPTION 'role "%" has 1000 alert rules already', who
			USING ERRCODE = 'program_limit_exceeded',
				  HINT = 'Drop rules you no longer need with stockpipe.drop_alert().';
	END IF;

	INSERT INTO stockpipe.alert_rule AS r (owner, symbol, condition, threshold, email, cooldown, channels)
	VALUES (who, $2, $3, $4, $5, $6, stockpipe._alert_channels(who, $7))
	RETURNING r.ruleid INTO id;
	-- checked against the newest quote at the next alert_check
	PERFORM stockpipe._alert_rules_changed();
	RETURN id;
END;
$$;

CREATE FUNCTION set_alert(symbol text, condition text, threshold double precision, email text,
						  cooldown interval DEFAULT '15 minutes', channels text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_alert(current_user, $1, $2, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION set_alert(text, text, double precision, text, interval, text[]) IS
	'Create an alert rule of the current role, to an e-mail address (NULL: none) and webhook channels of yours; returns its ruleid';

CREATE FUNCTION _drop_alert(caller name, id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
BEGIN
	DELETE FROM stockpipe.alert_rule r WHERE r.ruleid = $2 AND r.owner = who;
	RETURN FOUND;
END;
$$;

CREATE FUNCTION drop_alert(id bigint)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._drop_alert(current_user, $1)
$$;
COMMENT ON FUNCTION drop_alert(bigint) IS
	'Delete an alert rule (its sent and pending events stay); false if there is no such rule of yours';

CREATE FUNCTION _enable_alert(caller name, id bigint, enabled boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
BEGIN
	IF $3 IS NULL THEN
		RAISE EXCEPTION 'enabled must be true or false'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Re-enabled: evaluated afresh, like a new rule (cooldown still applies).
	UPDATE stockpipe.alert_rule r SET
		enabled = $3,
		armed = CASE WHEN $3 AND NOT r.enabled THEN true ELSE r.armed END,
		last_quote_ts = CASE WHEN $3 AND NOT r.enabled THEN NULL ELSE r.last_quote_ts END,
		last_error = CASE WHEN $3 AND NOT r.enabled THEN NULL ELSE r.last_error END
	 WHERE r.ruleid = $2 AND r.owner = who;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'alert rule % does not exist', $2
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Role %s has no alert rule with that id.', who),
				  HINT = 'SELECT * FROM stockpipe.my_alerts lists your rules.';
	END IF;
	-- a re-enabled rule is checked against the newest quote at the next
	-- alert_check (enabling an enabled rule changes nothing: no matter)
	IF $3 THEN
		PERFORM stockpipe._alert_rules_changed();
	END IF;
END;
$$;

CREATE FUNCTION enable_alert(id bigint, enabled boolean DEFAULT true)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._enable_alert(current_user, $1, $2)
$$;
COMMENT ON FUNCTION enable_alert(bigint, boolean) IS
	'Enable or disable an alert rule of yours';

CREATE FUNCTION _set_alert_channels(caller name, id bigint, channels text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who		name := stockpipe.acting_as($1);
	list	text[] := stockpipe._alert_channels(who, $3);
	mail	text;
BEGIN
	SELECT r.email INTO mail FROM stockpipe.alert_rule r WHERE r.ruleid = $2 AND r.owner = who;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'alert rule % does not exist', $2
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Role %s has no alert rule with that id.', who),
				  HINT = 'SELECT * FROM stockpipe.my_alerts lists your rules.';
	END IF;
	IF mail IS NULL AND cardinality(list) = 0 THEN
		RAISE EXCEPTION 'alert rule % would have no destination', $2
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'It has no e-mail address.',
				  HINT = 'Give at least one channel, or drop the rule.';
	END IF;
	UPDATE stockpipe.alert_rule r SET channels = list WHERE r.ruleid = $2 AND r.owner = who;
END;
$$;

CREATE FUNCTION set_alert_channels(id bigint, channels text[])
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT stockpipe._set_alert_channels(current_user, $1, $2)
$$;
COMMENT ON FUNCTION set_alert_channels(bigint, text[]) IS
	'Set the webhook channels of an alert rule of yours (channel names; empty: e-mail only)';

-- The caller's rules and their state.
CREATE VIEW my_alerts WITH (security_invoker = true) AS
	SELECT r.ruleid, r.symbol, r.condition, r.threshold, r.email, r.cooldown, r.enabled,
		   CASE WHEN NOT r.enabled THEN 'disabled'
				WHEN r.armed THEN 'armed'
				ELSE 'disarmed' END AS state,
		   r.last_fired_at, r.last_price, r.last_quote_ts, r.last_checked_at,
		   (SELECT count(*) FROM alert_event e WHERE e.ruleid = r.ruleid) AS events,
		   r.created_at, r.last_error, r.channels
	  FROM alert_rule r
	 WHERE r.owner = current_user;
COMMENT ON VIEW my_alerts IS
	'The current role''s alert rules: state armed / disarmed (the condition holds) / disabled, last firing, last quote seen';

-- The caller's channels, the URL redacted to scheme://host[:port]/...: a
-- view with its owner's rights (users cannot read alert_channel.url), so
-- it filters on current_user itself, and a security barrier, so that no
-- function of the caller sees other roles' rows first.
CREATE VIEW my_channels WITH (security_barrier = true) AS
	SELECT c.channelid, c.name, c.kind,
		   substring(c.url FROM '^[a-z]+://[^/?]*') || '/...' AS url_redacted,
		   (SELECT count(*) FROM alert_rule r
			 WHERE r.owner = c.owner AND c.name = ANY (r.channels)) AS rules,
		   d.sent, d.pending, d.failed, d.last_error,
		   c.created_at
	  FROM alert_channel c
	  LEFT JOIN LATERAL (
		SELECT count(*) FILTER (WHERE x.status = 'sent') AS sent,
			   count(*) FILTER (WHERE x.status = 'pending') AS pending,
			   count(*) FILTER (WHERE x.status = 'failed') AS failed,
			   (array_agg(x.last_error ORDER BY x.deliveryid DESC)
					FILTER (WHERE x.last_error IS NOT NULL))[1] AS last_error
		  FROM alert_delivery x
		 WHERE x.channelid = c.channelid) d ON true
	 WHERE c.owner = current_user;
COMMENT ON VIEW my_channels IS
	'The current role''s webhook channels, URL redacted to scheme://host/..., with their rules and deliveries';

--
-- check_alerts: one set-based statement for every enabled rule, run by the
-- built-in job alert_check as the extension's owner.
--
-- Deterministic: a rule sees every quote of its symbol newer than the last
-- one it saw, oldest first, so what fires depends on the quotes alone, not
-- on when the checks run or how ingestion cut its batches.  A promoted
-- standby that re-reads from Kafka the quotes it lacked and checks them
-- finds the same crossings, at the same quotes, as the old primary did
-- (docs/operations.md, "Standbys and promotion"); the e-mail's Message-ID
-- and the webhook's Idempotency-Key are made of the rule and the quote's
-- time, so a crossing sent by both is one message to its receiver.
--
-- Per rule, walking its new quotes in ts order: the condition holds, does
-- not hold, or cannot be evaluated (no prev_close, no L30D row: the quote
-- changes nothing).  A quote where it holds while the rule is armed (the
-- previous evaluable quote did not hold; before any, the stored state) is
-- a crossing.  A crossing fires unless it falls within cooldown of the
-- rule's last firing, both in quote time (last_fired_quote_ts): a firing
-- within cooldown only disarms.  After the walk the rule is armed exactly
-- when its last evaluable quote did not hold.  A new or re-enabled rule
-- (last_quote_ts NULL) starts from the newest quote only.
--
-- Per symbol, at most 1000 quotes a check (the oldest new ones): after an
-- outage a backlog is worked through 1000 quotes every 5 seconds, in order
-- (a check that took 1000 quotes of a symbol has the next one run, even if
-- no quote arrives meanwhile: _alert_rules_changed()).
-- Index probes: one range scan of live_stock's primary key per symbol with
-- rules, one per quote without prev_close for the previous daily close, one
-- per symbol for the newest L30D row.  300 rules on 300 symbols, 30 daily
-- partitions: about 30 ms with 300 new quotes, 6 ms with none.
-- Rule updates and events commit together (the caller's transaction).  Two
-- checks at once take turns (a lock on alert_event, which only the owner
-- can take in that mode), so no quote fires twice; alert_event's unique
-- (ruleid, quote_ts) says so too.
--
-- Bounds: a firing beyond its role's stockpipe.mail_rate_limit in the last
-- hour (wall clock, by created_at) is recorded as 'suppressed' (not mailed,
-- not posted); one to an address outside stockpipe.mail_allowed_domains as
-- 'failed' (its channels still get it).  Each firing of a rule with
-- channels gets one alert_delivery row per channel that exists, in the
-- same statement.  The cooldown is compared as an interval (quote ts minus
-- last_fired_quote_ts), which cannot overflow.
--
-- _check_alerts(only_rule) is that statement, for every rule or for one.
-- It runs without JIT: each alert_check run is a new backend, and with the
-- statement's estimated cost PostgreSQL spent 150-290 ms compiling it for
-- a check that then takes 4 ms (with no rule at all).
-- If the statement fails for every rule, check_alerts() evaluates each rule
-- alone and disables (with last_error) the rules that fail: one bad rule
-- never stops the others.
--
CREATE FUNCTION _check_alerts(only_rule bigint)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	mtz		text := coalesce(nullif(current_setting('stockpipe.market_timezone', true), ''),
							 'America/New_York');
	hourly	integer := coalesce(nullif(current_setting('stockpipe.mail_rate_limit', true), '')::integer, 100);
	fired	integer;
	backlog	boolean;
BEGIN
	WITH RECURSIVE rules AS (
		SELECT r.ruleid, r.symbol, r.condition, r.threshold, r.armed, r.cooldown,
			   r.last_fired_quote_ts,
			   coalesce(r.last_quote_ts,
						(SELECT ls.ts - interval '1 microsecond' FROM stockpipe.live_stock ls
						  WHERE ls.symbol = r.symbol ORDER BY ls.ts DESC LIMIT 1)) AS since
		  FROM stockpipe.alert_rule r
		 WHERE r.enabled AND (only_rule IS NULL OR r.ruleid = only_rule)
	),
	syms AS (
		SELECT r.symbol, min(r.since) AS since, l.high_30d, l.low_30d
		  FROM rules r
		  LEFT JOIN LATERAL (
			SELECT coalesce(su.highest_high, su.max_close) AS high_30d,
				   coalesce(su.lowest_low, su.min_close) AS low_30d
			  FROM stockpipe.l30d_summary su
			 WHERE su.symbol = r.symbol
			 ORDER BY su.as_of DESC
			 LIMIT 1) l ON true
		 WHERE r.since IS NOT NULL
		 GROUP BY r.symbol, l.high_30d, l.low_30d
	),
	quote AS (
		SELECT s.symbol, q.ts, q.price, coalesce(q.prev_close, h.close) AS prev_close,
			   s.high_30d, s.low_30d
		  FROM syms s
		 CROSS JOIN LATERAL (
			SELECT ls.ts, ls.price, ls.prev_close
			  FROM stockpipe.live_stock ls
			 WHERE ls.symbol = s.symbol AND ls.ts > s.since
			 ORDER BY ls.ts
			 LIMIT 1000) q
		  LEFT JOIN LATERAL (
			SELECT hs.close
			  FROM stockpipe.historical_stock_data hs
			 WHERE q.prev_close IS NULL
			   AND hs.symbol = s.symbol
			   AND hs.trade_date < (q.ts AT TIME ZONE mtz)::date
			 ORDER BY hs.trade_date DESC
			 LIMIT 1) h ON true
	),
	evaluated AS (
		SELECT r.ruleid, q.ts, q.price, q.prev_close, c.change_pct,
			   CASE r.condition
					WHEN 'price_above' THEN q.price > r.threshold
					WHEN 'price_below' THEN q.price < r.threshold
					WHEN 'change_pct_above' THEN c.change_pct > r.threshold
					WHEN 'change_pct_below' THEN c.change_pct < r.threshold
					WHEN 'above_l30d_high' THEN q.price > q.high_30d
					WHEN 'below_l30d_low' THEN q.price < q.low_30d
			   END AS holds
		  FROM rules r
		  JOIN quote q ON q.symbol = r.symbol AND q.ts > r.since
		 CROSS JOIN LATERAL (
			SELECT CASE WHEN q.prev_close > 0
						THEN (q.price - q.prev_close) / q.prev_close * 100 END AS change_pct) c
	),
	-- The crossings: evaluable quotes that hold while the rule is armed.
	crossing AS (
		SELECT x.ruleid, x.ts, row_number() OVER (PARTITION BY x.ruleid ORDER BY x.ts) AS n
		  FROM (SELECT e.ruleid, e.ts, e.holds,
					   coalesce(NOT lag(e.holds) OVER (PARTITION BY e.ruleid ORDER BY e.ts), r.armed) AS armed
				  FROM evaluated e JOIN rules r ON r.ruleid = e.ruleid
				 WHERE e.holds IS NOT NULL) x
		 WHERE x.holds AND x.armed
	),
	-- Which crossings fire: the first outside cooldown of the last firing,
	-- then the next outside cooldown of that one, and so on.
	walk AS (
		SELECT c.ruleid, c.n, c.ts, f.fire,
			   CASE WHEN f.fire THEN c.ts ELSE r.last_fired_quote_ts END AS last_fired
		  FROM crossing c JOIN rules r ON r.ruleid = c.ruleid
		 CROSS JOIN LATERAL (
			SELECT r.last_fired_quote_ts IS NULL
				   OR c.ts - r.last_fired_quote_ts >= r.cooldown AS fire) f
		 WHERE c.n = 1
		UNION ALL
		SELECT c.ruleid, c.n, c.ts, f.fire,
			   CASE WHEN f.fire THEN c.ts ELSE w.last_fired END
		  FROM walk w
		  JOIN crossing c ON c.ruleid = w.ruleid AND c.n = w.n + 1
		  JOIN rules r ON r.ruleid = c.ruleid
		 CROSS JOIN LATERAL (
			SELECT w.last_fired IS NULL OR c.ts - w.last_fired >= r.cooldown AS fire) f
	),
	fires AS (
		SELECT w.ruleid, w.ts FROM walk w WHERE w.fire
	),
	-- Each evaluated rule's state after its last new quote.
	state AS (
		SELECT e.ruleid,
			   max(e.ts) AS last_ts,
			   (array_agg(e.price ORDER BY e.ts DESC))[1] AS last_price,
			   (array_agg(e.holds ORDER BY e.ts DESC) FILTER (WHERE e.holds IS NOT NULL))[1] AS last_holds,
			   (SELECT max(f.ts) FROM fires f WHERE f.ruleid = e.ruleid) AS last_fire
		  FROM evaluated e
		 GROUP BY e.ruleid
	),
	changed AS (
		UPDATE stockpipe.alert_rule r SET
			armed = CASE WHEN s.last_holds IS NULL THEN r.armed ELSE NOT s.last_holds END,
			last_fired_at = CASE WHEN s.last_fire IS NOT NULL THEN now() ELSE r.last_fired_at END,
			last_fired_quote_ts = coalesce(s.last_fire, r.last_fired_quote_ts),
			last_checked_at = now(),
			last_quote_ts = s.last_ts,
			last_price = s.last_price
		  FROM state s
		 WHERE r.ruleid = s.ruleid
		RETURNING r.ruleid, r.owner, r.symbol, r.condition, r.threshold, r.email, r.channels
	),
	-- A firing counts against the hourly limit when it goes somewhere: to
	-- an allowed address or to a channel.
	firing AS (
		SELECT a.*,
			   row_number() OVER (PARTITION BY a.owner, a.counted ORDER BY a.ts, a.ruleid) AS nth,
			   (SELECT count(*) FROM stockpipe.alert_event x
				 WHERE x.owner = a.owner AND x.created_at > now() - interval '1 hour'
				   AND (x.status IN ('pending', 'sent', 'none')
						OR EXISTS (SELECT FROM stockpipe.alert_delivery y
									WHERE y.eventid = x.eventid AND y.status IN ('pending', 'sent'))))
				   AS last_hour
		  FROM (SELECT c.*, e.price, e.ts, e.prev_close, e.change_pct,
					   m.allowed, m.allowed OR m.targets > 0 AS counted
				  FROM changed c
				  JOIN fires f ON f.ruleid = c.ruleid
				  JOIN evaluated e ON e.ruleid = f.ruleid AND e.ts = f.ts
				 CROSS JOIN LATERAL (
					SELECT c.email IS NOT NULL AND stockpipe.mail_domain_allowed(c.email) AS allowed,
						   (SELECT count(*) FROM stockpipe.alert_channel ch
							 WHERE ch.owner = c.owner AND ch.name = ANY (c.channels)) AS targets) m) a
	),
	limited AS (
		SELECT f.*, f.counted AND f.last_hour + f.nth > hourly AS over,
			   format('not sent: role %s reached stockpipe.mail_rate_limit (%s alerts an hour)',
					  f.owner, hourly) AS over_error
		  FROM firing f
	),
	events AS (
		INSERT INTO stockpipe.alert_event (ruleid, owner, symbol, condition, threshold, email,
										   price, quote_ts, prev_close, change_pct, status, last_error)
		SELECT f.ruleid, f.owner, f.symbol, f.condition, f.threshold, f.email,
			   f.price, f.ts, f.prev_close, f.change_pct,
			   CASE WHEN f.email IS NULL THEN CASE WHEN f.over THEN 'suppressed' ELSE 'none' END
					WHEN NOT f.allowed THEN 'failed'
					WHEN f.over THEN 'suppressed'
					ELSE 'pending' END,
			   CASE WHEN f.email IS NULL THEN CASE WHEN f.over THEN f.over_error END
					WHEN NOT f.allowed
					THEN 'not sent: the domain of the address is not in stockpipe.mail_allowed_domains'
					WHEN f.over THEN f.over_error END
		  FROM limited f
		 ORDER BY f.ts, f.ruleid
		RETURNING eventid, ruleid, quote_ts
	),
	-- One delivery per channel of the rule, in the event's transaction.
	deliveries AS (
		INSERT INTO stockpipe.alert_delivery (eventid, channelid, owner, channel, kind, status, last_error)
		SELECT e.eventid, ch.channelid, f.owner, ch.name, ch.kind,
			   CASE WHEN f.over THEN 'suppressed' ELSE 'pending' END,
			   CASE WHEN f.over THEN f.over_error END
		  FROM events e
		  JOIN limited f ON f.ruleid = e.ruleid AND f.ts = e.quote_ts
		  JOIN stockpipe.alert_channel ch ON ch.owner = f.owner AND ch.name = ANY (f.channels)
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM events),
		   EXISTS (SELECT 1 FROM quote q GROUP BY q.symbol HAVING count(*) >= 1000)
	  INTO fired, backlog;

	-- A symbol may have more new quotes than the 1000 taken: the next check
	-- must run even if no quote arrives meanwhile.
	IF backlog THEN
		PERFORM stockpipe._alert_rules_changed();
	END IF;
	RETURN fired;
END;
$$;
COMMENT ON FUNCTION _check_alerts(bigint) IS
	'check_alerts() for every enabled rule (NULL) or for one; returns the number of alert events created';

CREATE FUNCTION check_alerts()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	fired	integer := 0;
	rule	bigint;
	msg		text;
BEGIN
	LOCK TABLE stockpipe.alert_event IN SHARE ROW EXCLUSIVE MODE;
	BEGIN
		RETURN stockpipe._check_alerts(NULL);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RAISE WARNING 'stockpipe: checking all alert rules at once failed: %', msg
			USING HINT = 'Each rule is now checked alone; rules that fail are disabled with the reason in last_error.';
	END;
	FOR rule IN SELECT r.ruleid FROM stockpipe.alert_rule r WHERE r.enabled ORDER BY r.ruleid LOOP
		BEGIN
			fired := fired + stockpipe._check_alerts(rule);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			UPDATE stockpipe.alert_rule r
			   SET enabled = false, last_error = left(msg, 500), last_checked_at = now()
			 WHERE r.ruleid = rule;
			RAISE WARNING 'stockpipe: alert rule % disabled: %', rule, msg;
		END;
	END LOOP;
	RETURN fired;
END;
$$;
COMMENT ON FUNCTION check_alerts() IS
	'Evaluate the enabled alert rules against the newest quotes; returns the number of alert events created';

--
-- Privileges.  Users read their own rules and events and the market data;
-- they write rules only through the functions above, and only
-- check_alerts() (the built-in job, as the extension's owner) writes the
-- outbox.
--
GRANT SELECT ON alert_rule, alert_event TO stockpipe_user;
GRANT SELECT ON my_alerts TO stockpipe_user;
GRANT SELECT ON live_stock, historical_stock_data, l30d_summary TO stockpipe_user;
REVOKE ALL ON FUNCTION set_alert(text, text, double precision, text, interval, text[]),
	drop_alert(bigint), enable_alert(bigint, boolean),
	_set_alert(name, text, text, double precision, text, interval, text[]),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	check_alerts(), _check_alerts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_alert(text, text, double precision, text, interval, text[]),
	drop_alert(bigint), enable_alert(bigint, boolean),
	_set_alert(name, text, text, double precision, text, interval, text[]),
	_drop_alert(name, bigint), _enable_alert(name, bigint, boolean),
	email_problem(text), mail_domain_allowed(text)
	TO stockpipe_user;
-- Webhook channels: everything but the URL, and the deliveries, within
-- row-level security.
GRANT SELECT (channelid, owner, name, kind, created_at) ON alert_channel TO stockpipe_user;
GRANT SELECT ON alert_delivery, my_channels TO stockpipe_user;
REVOKE ALL ON FUNCTION set_channel(text, text, text), drop_channel(text),
	set_alert_channels(bigint, text[]),
	_set_channel(name, text, text, text), _drop_channel(name, text),
	_set_alert_channels(name, bigint, text[]), _alert_channels(name, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_channel(text, text, text), drop_channel(text),
	set_alert_channels(bigint, text[]),
	_set_channel(name, text, text, text), _drop_channel(name, text),
	_set_alert_channels(name, bigint, text[]),
	webhook_url_problem(text), webhook_host_problem(text)
	TO stockpipe_user;
