-- Alerts: the rule API and its validation, check_alerts() edge semantics
-- with cooldown, change and L30D conditions, the outbox, row-level security.
-- (The regress cluster's workers run in database 'postgres': no alert_check
-- job acts here; check_alerts() is called step by step.)
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

CREATE ROLE regress_alert_alice IN ROLE stockpipe_user;
CREATE ROLE regress_alert_bob IN ROLE stockpipe_user;
CREATE ROLE regress_alert_nobody;

-- Validation: symbol, condition, threshold, e-mail address, cooldown.
SET ROLE regress_alert_alice;
\set VERBOSITY sqlstate
SELECT stockpipe.set_alert('aapl', 'price_above', 190, 'alice@example.com');
\set VERBOSITY default
SELECT stockpipe.set_alert('aapl', 'price_above', 190, 'alice@example.com');
SELECT stockpipe.set_alert('ABCDEFGHIJKLMNOPQRSTU', 'price_above', 190, 'alice@example.com');
SELECT stockpipe.set_alert('AAPL;', 'price_above', 190, 'alice@example.com');
SELECT stockpipe.set_alert('', 'price_above', 190, 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_over', 190, 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_above', NULL, 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_above', 'NaN', 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'change_pct_above', 'Infinity', 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_below', -5, 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'above_l30d_high', 190, 'alice@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, E'alice@example.com\r\nBcc: all@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, E'alice@example.com\n');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, 'alice@example.com,bob@example.com');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, 'Alice <alice@example.com>');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, 'alice@example.com', cooldown => '-1 minute');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL);
-- Why addresses are refused.
SELECT e AS address, stockpipe.email_problem(e) AS problem
  FROM unnest(ARRAY['alice@example.com', 'a.b+c@mail.example.co.uk', 'ops@localhost',
					'alice example@example.com', 'alice@exa mple.com', E'alice\t@example.com',
					'"alice"@example.com', 'o''brien@example.com', 'alicé@example.com',
					'alice', 'alice@', '@example.com', 'alice@@example.com', 'a@b@example.com',
					'alice@example', 'alice@-example.com', 'alice@example..com', '.alice@example.com',
					'alice.@example.com', 'al..ice@example.com', 'alice@example.com.',
					repeat('a', 65) || '@example.com',
					'a@' || repeat('b', 60) || '.' || repeat('c', 60) || '.' || repeat('d', 60) || '.' || repeat('e', 60) || '.com']) e;
-- Nothing was created; users cannot write the table directly at all (and
-- its own checks would stop a bad row of a superuser's too).
SELECT count(*) FROM stockpipe.alert_rule;
INSERT INTO stockpipe.alert_rule (symbol, condition, threshold, email)
VALUES ('AAPL', 'price_above', 190, E'alice@example.com\r\nBcc: x@example.com');
INSERT INTO stockpipe.alert_rule (symbol, condition, threshold, email)
VALUES ('aapl', 'price_above', 190, 'alice@example.com');
INSERT INTO stockpipe.alert_rule (symbol, condition, threshold, email)
VALUES ('AAPL', 'price_above', NULL, 'alice@example.com');

-- Valid rules.
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, 'alice@example.com') AS aapl_above \gset
SELECT :aapl_above AS aapl_above;
SELECT stockpipe.set_alert('AAPL', 'price_below', 180, 'alice@example.com', cooldown => '0') AS aapl_below;
SELECT stockpipe.set_alert('MSFT', 'change_pct_above', 2, 'alice@example.com') AS msft_up \gset
SELECT :msft_up AS msft_up;
SELECT stockpipe.set_alert('IBM', 'change_pct_below', -3, 'alice@example.com') AS ibm_down;
SELECT stockpipe.set_alert('NVDA', 'above_l30d_high', NULL, 'alice@example.com', cooldown => '0') AS nvda_high;
SELECT stockpipe.set_alert('NVDA', 'below_l30d_low', NULL, 'alice@localhost', cooldown => '0') AS nvda_low;
SELECT stockpipe.set_alert('^GSPC', 'price_above', 7000, 'alice@example.com') AS no_quotes;
SELECT ruleid, symbol, condition, threshold, email, cooldown, enabled, state, last_fired_at, last_price, events
  FROM stockpipe.my_alerts ORDER BY ruleid;
RESET ROLE;

-- Quotes go straight into live_stock.
SELECT stockpipe.ensure_live_partitions(ARRAY['2026-11-27']::date[]);
CREATE FUNCTION pg_temp.quote(sym text, at text, px double precision, prev double precision DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close)
	VALUES (sym, ('2026-11-27 ' || at || '+00')::timestamptz, px, prev)
$$;
CREATE VIEW pg_temp.aapl AS
	SELECT r.ruleid, r.condition, r.armed, r.last_fired_at IS NOT NULL AS fired_once,
		   r.last_price, r.last_quote_ts,
		   (SELECT count(*) FROM stockpipe.alert_event e WHERE e.ruleid = r.ruleid) AS events
	  FROM stockpipe.alert_rule r WHERE r.symbol = 'AAPL' ORDER BY r.ruleid;

-- No quote yet: nothing to do.
SELECT stockpipe.check_alerts();
-- AAPL 185: neither above 190 nor below 180.
SELECT pg_temp.quote('AAPL', '15:00:00', 185);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- Crosses 190: one event, the rule disarms.
SELECT pg_temp.quote('AAPL', '15:00:01', 191);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- The same quote again: nothing changes, not even last_checked_at.
SELECT last_checked_at AS checked FROM stockpipe.alert_rule WHERE ruleid = :aapl_above \gset
SELECT stockpipe.check_alerts();
SELECT last_checked_at = :'checked' AS untouched FROM stockpipe.alert_rule WHERE ruleid = :aapl_above;
-- Stays above: no new event.
SELECT pg_temp.quote('AAPL', '15:00:02', 192);
SELECT stockpipe.check_alerts();
-- An older quote arriving late is not the latest: nothing changes.
SELECT pg_temp.quote('AAPL', '14:59:00', 170);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- Falls below 190: re-armed, no event.
SELECT pg_temp.quote('AAPL', '15:00:03', 189);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- Crosses again within the 15-minute cooldown: disarmed, no event.
SELECT pg_temp.quote('AAPL', '15:00:04', 190.5);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- Back below, then above again 14:59 of quote time after the firing: still
-- within the cooldown, which counts quote time (not when checks run).
SELECT pg_temp.quote('AAPL', '15:00:05', 188);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('AAPL', '15:15:00', 193);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- Back below, then above again 15:05 after the firing: one event.
SELECT pg_temp.quote('AAPL', '15:15:01', 188);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('AAPL', '15:15:06', 193.25);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
SELECT last_fired_quote_ts FROM stockpipe.alert_rule WHERE ruleid = :aapl_above;
-- price_below with no cooldown fires on every downward crossing.
SELECT pg_temp.quote('AAPL', '15:15:07', 179);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('AAPL', '15:15:08', 181);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('AAPL', '15:15:09', 178.5);
SELECT stockpipe.check_alerts();
SELECT * FROM pg_temp.aapl;
-- Every quote counts, in ts order, however the checks fall: down, up, down,
-- up, down between two checks is three crossings of price_below (three
-- events, at their quotes), and price_above, disarmed, re-arms and is
-- still disarmed at the end (its last quote, 192, holds; within cooldown).
SELECT pg_temp.quote('AAPL', '15:15:10', 185);
SELECT pg_temp.quote('AAPL', '15:15:11', 177);
SELECT pg_temp.quote('AAPL', '15:15:12', 186);
SELECT pg_temp.quote('AAPL', '15:15:13', 176);
SELECT pg_temp.quote('AAPL', '15:15:14', 187);
SELECT pg_temp.quote('AAPL', '15:15:15', 175);
SELECT pg_temp.quote('AAPL', '15:15:16', 192);
SELECT stockpipe.check_alerts();
SELECT e.condition, e.quote_ts, e.price
  FROM stockpipe.alert_event e WHERE e.symbol = 'AAPL' AND e.quote_ts >= '2026-11-27 15:15:10+00'
 ORDER BY e.quote_ts;
SELECT * FROM pg_temp.aapl;
-- One event per (rule, quote): the outbox refuses a second.
INSERT INTO stockpipe.alert_event (ruleid, owner, symbol, condition, threshold, email, price, quote_ts)
SELECT ruleid, owner, symbol, condition, threshold, email, price, quote_ts
  FROM stockpipe.alert_event WHERE symbol = 'AAPL' AND condition = 'price_below' ORDER BY eventid LIMIT 1;

-- change_pct against the quote's prev_close: +1 % no, +2.5 % yes.
SELECT pg_temp.quote('MSFT', '15:00:00', 101, 100);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('MSFT', '15:00:01', 102.5, 100);
SELECT stockpipe.check_alerts();
-- Without prev_close in the quote: the last daily close before the quote's
-- (New York) date, 200 on 2026-11-26, not the bar of 2026-11-27 itself.
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, close) VALUES
	('IBM', '2026-11-25', 210), ('IBM', '2026-11-26', 200), ('IBM', '2026-11-27', 150);
SELECT pg_temp.quote('IBM', '15:00:00', 196);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('IBM', '15:00:01', 193);
SELECT stockpipe.check_alerts();

-- L30D conditions against the newest l30d_summary row of the symbol.
INSERT INTO stockpipe.l30d_summary (symbol, as_of, days_used, window_start, window_end,
									last_close, first_close, change, avg_close, min_close, max_close,
									highest_high, lowest_low)
VALUES ('NVDA', '2026-11-25', 30, '2026-10-14', '2026-11-25', 140, 130, 10, 135, 125, 145, 160, 110),
	   ('NVDA', '2026-11-26', 30, '2026-10-15', '2026-11-26', 145, 130, 15, 136, 121, 148, 150, 120);
SELECT pg_temp.quote('NVDA', '15:00:00', 149);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('NVDA', '15:00:01', 150.5);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('NVDA', '15:00:02', 119.5);
SELECT stockpipe.check_alerts();
-- Without highest_high / lowest_low, max_close / min_close are the bounds.
UPDATE stockpipe.l30d_summary SET highest_high = NULL, lowest_low = NULL WHERE symbol = 'NVDA';
SELECT pg_temp.quote('NVDA', '15:00:03', 130);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('NVDA', '15:00:04', 148.5);
SELECT stockpipe.check_alerts();
SELECT pg_temp.quote('NVDA', '15:00:05', 120.5);
SELECT stockpipe.check_alerts();

-- The outbox: one row per firing, with what the e-mail needs.
SELECT eventid, ruleid, owner, symbol, condition, threshold, email, price, quote_ts,
	   prev_close, round(change_pct::numeric, 4) AS change_pct, status, attempts, sent_at
  FROM stockpipe.alert_event ORDER BY eventid;

-- A disabled rule is not evaluated; re-enabled, it is evaluated afresh.
-- The API acts for the current role only, superusers included.
SELECT stockpipe.enable_alert(:msft_up, false);
SET ROLE regress_alert_alice;
SELECT stockpipe.enable_alert(:msft_up, false);
RESET ROLE;
SELECT pg_temp.quote('MSFT', '15:00:02', 99, 100);
SELECT pg_temp.quote('MSFT', '15:00:03', 103, 100);
SELECT stockpipe.check_alerts();
SELECT ruleid, state, last_price FROM stockpipe.alert_rule r
  JOIN LATERAL (SELECT CASE WHEN NOT r.enabled THEN 'disabled' WHEN r.armed THEN 'armed' ELSE 'disarmed' END) s(state) ON true
 WHERE ruleid = :msft_up;
SET ROLE regress_alert_alice;
SELECT stockpipe.enable_alert(:msft_up, true);
RESET ROLE;
UPDATE stockpipe.alert_rule SET last_fired_at = NULL, last_fired_quote_ts = NULL WHERE ruleid = :msft_up;
SELECT stockpipe.check_alerts();
SET ROLE regress_alert_alice;
SELECT stockpipe.enable_alert(999, true);
RESET ROLE;

-- Row-level security: Bob sees only his own rules and events, changes only
-- his own through the API, and cannot write the tables directly.
SET ROLE regress_alert_bob;
SELECT stockpipe.set_alert('AAPL', 'price_above', 100, 'bob@example.com') AS bob_rule;
SELECT ruleid, symbol, state, events FROM stockpipe.my_alerts;
SELECT count(*) AS rules_seen FROM stockpipe.alert_rule;
SELECT count(*) AS events_seen FROM stockpipe.alert_event;
SELECT stockpipe.drop_alert(:aapl_above);
SELECT stockpipe.enable_alert(:aapl_above, false);
UPDATE stockpipe.alert_rule SET email = 'bob@example.com' WHERE ruleid = :aapl_above;
INSERT INTO stockpipe.alert_rule (owner, symbol, condition, threshold, email)
VALUES ('regress_alert_alice', 'AAPL', 'price_above', 1, 'bob@example.com');
UPDATE stockpipe.alert_rule SET owner = 'regress_alert_alice' WHERE owner = current_user;
-- Nor plant e-mails in the outbox, nor run the checker himself.
INSERT INTO stockpipe.alert_event (owner, symbol, condition, email, price, quote_ts)
VALUES ('regress_alert_bob', 'AAPL', 'price_above', 'victim@example.com', 1, now());
SELECT stockpipe.check_alerts();
-- The internal functions act only for a role the session may become (a
-- session of Bob's own, as when he logs in).
RESET ROLE;
SET SESSION AUTHORIZATION regress_alert_bob;
SELECT stockpipe._set_alert('regress_alert_alice', 'AAPL', 'price_above', 1, 'bob@example.com', '0', NULL);
SELECT stockpipe._drop_alert('regress_alert_alice', :aapl_above);
RESET SESSION AUTHORIZATION;
-- The built-in job's check sees Bob's rule: AAPL's latest quote (178.5) is above 100.
SELECT stockpipe.check_alerts();
SET ROLE regress_alert_bob;
SELECT ruleid, symbol, state, last_price, events FROM stockpipe.my_alerts;
SELECT owner, symbol, price FROM stockpipe.alert_event;
-- No secrets.
SHOW stockpipe.smtp_password;
RESET ROLE;
SET ROLE regress_alert_alice;
SELECT ruleid, symbol, condition, state, last_price, events FROM stockpipe.my_alerts ORDER BY ruleid;
-- drop_alert: true once, then false; the rule's events stay in the outbox.
SELECT stockpipe.drop_alert(:aapl_above);
SELECT stockpipe.drop_alert(:aapl_above);
SELECT count(*) AS orphan_events FROM stockpipe.alert_event WHERE ruleid IS NULL;
-- A role without stockpipe_user cannot use the API.
SET ROLE regress_alert_nobody;
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, 'nobody@example.com');
RESET ROLE;
-- The superuser sees all events.
SELECT owner, count(*) FROM stockpipe.alert_event GROUP BY owner ORDER BY owner;

-- check_alerts is one statement over all rules: a few hundred rules on a
-- few hundred symbols are checked in one call, and only once per quote.
INSERT INTO stockpipe.alert_rule (owner, symbol, condition, threshold, email)
SELECT 'regress_alert_alice', 'S' || i, 'price_above', 10, 'alice@example.com'
  FROM generate_series(1, 300) i;
INSERT INTO stockpipe.live_stock (symbol, ts, price)
SELECT 'S' || i, '2026-11-27 16:00+00', 10 + i % 2 FROM generate_series(1, 300) i;
SELECT stockpipe.check_alerts();
SELECT stockpipe.check_alerts();

-- Only the owner's functions tell the scheduler that rules changed
-- (alert_check is left out while nothing changed): users cannot call it.
SELECT has_function_privilege('stockpipe_user', 'stockpipe._alert_rules_changed()', 'EXECUTE') AS user_may_call,
       has_function_privilege('public', 'stockpipe._alert_rules_changed()', 'EXECUTE') AS public_may_call;

DROP VIEW pg_temp.aapl;
DROP EXTENSION stockpipe;
DROP ROLE regress_alert_alice, regress_alert_bob, regress_alert_nobody;
