-- Alert webhook channels (issue 12): the channel API and its validation
-- (kind, URL rule, length, white space, http:// off loopback, private hosts
-- and stockpipe.webhook_allowed_hosts, 20 per role), the URL kept secret
-- (no SELECT on it, my_channels redacted, never in a message), row-level
-- security, rules with channels (e-mail optional), and check_alerts()
-- making one delivery per channel per firing, rate limit included.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

CREATE ROLE regress_hook_alice IN ROLE stockpipe_user;
CREATE ROLE regress_hook_bob IN ROLE stockpipe_user;
CREATE ROLE regress_hook_nobody;

SET ROLE regress_hook_alice;
-- Validation: name, kind, URL.
\set VERBOSITY sqlstate
SELECT stockpipe.set_channel('ops', 'discord', 'https://hooks.example.com/T1/secret-token');
\set VERBOSITY default
SELECT stockpipe.set_channel('ops', 'discord', 'https://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel('ops', NULL, 'https://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel('', 'slack', 'https://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel('ops slack', 'slack', 'https://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel(repeat('n', 64), 'slack', 'https://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel('ops', 'slack', NULL);
SELECT stockpipe.set_channel('ops', 'slack', 'ftp://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel('ops', 'slack', 'http://hooks.example.com/T1/secret-token');
SELECT stockpipe.set_channel('ops', 'slack', 'https://hooks.example.com/T1/secret token');
SELECT stockpipe.set_channel('ops', 'slack', E'https://hooks.example.com/T1/secret-token\r\nX-Evil: 1');
SELECT stockpipe.set_channel('ops', 'slack', 'https://hooks.example.com/' || repeat('x', 2030));
SELECT stockpipe.set_channel('ops', 'slack', 'https://user:secret-token@hooks.example.com/');
SELECT stockpipe.set_channel('ops', 'slack', 'https://hooks/secret-token');
SELECT stockpipe.set_channel('ops', 'slack', 'https://0x7f000001/secret-token');
SELECT stockpipe.set_channel('ops', 'slack', 'https://hooks.example.com:99999/secret-token');
-- Loopback and private hosts need stockpipe.webhook_allowed_hosts.
SHOW stockpipe.webhook_allowed_hosts;
SELECT stockpipe.set_channel('ops', 'webhook', 'http://127.0.0.1:8080/secret-token');
SELECT stockpipe.set_channel('ops', 'webhook', 'https://169.254.169.254/latest/meta-data');
SELECT stockpipe.set_channel('ops', 'webhook', 'https://10.0.0.7/secret-token');
SELECT stockpipe.set_channel('ops', 'webhook', 'https://localhost/secret-token');
-- No message quoted a URL.  Why URLs are refused:
SELECT u AS url, stockpipe.webhook_url_problem(u) AS problem
  FROM unnest(ARRAY['https://hooks.slack.com/services/T0/B0/x', 'http://127.0.0.1:9/x', 'http://[::1]/x',
					'https://example.com', 'https://example.com/a#b', 'https://a..example.com/',
					'https://256.1.1.1/', 'https://[fe80::1]/', 'HTTPS://example.com/']) u;
-- Nothing was created.
SELECT count(*) FROM stockpipe.my_channels;

-- Valid channels; set_channel() again replaces kind and URL.
SELECT stockpipe.set_channel('ops-slack', 'slack', 'https://hooks.slack.com/services/T0/B0/alice-secret-1') AS slack_id \gset
SELECT stockpipe.set_channel('ops-teams', 'teams', 'https://example.webhook.office.com/webhookb2/alice-secret-2') AS teams_id \gset
SELECT stockpipe.set_channel('hook', 'webhook', 'https://hooks.example.com:8443/alice-secret-3?sig=x') AS hook_id \gset
SELECT stockpipe.set_channel('hook', 'webhook', 'https://hooks.example.com:8443/alice-secret-4?sig=y') = :hook_id AS replaced;
-- Redacted: scheme, host and port only.
SELECT name, kind, url_redacted, rules, sent, pending, failed FROM stockpipe.my_channels ORDER BY channelid;
-- The URL cannot be read back, not even by its owner.
SELECT url FROM stockpipe.alert_channel;
SELECT channelid = :slack_id AS mine, name, kind FROM stockpipe.alert_channel ORDER BY channelid LIMIT 1;
-- Nor written directly.
INSERT INTO stockpipe.alert_channel (name, kind, url) VALUES ('x', 'slack', 'https://hooks.example.com/x');
UPDATE stockpipe.alert_channel SET name = 'x';

-- Rules with channels: e-mail optional with a channel, not without one.
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL);
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL, channels => '{}');
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL, channels => ARRAY['nope']);
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL, channels => ARRAY['ops-slack', NULL]);
SELECT stockpipe.set_alert('AAPL', 'price_above', 190, NULL, cooldown => '0',
						   channels => ARRAY['ops-slack', 'ops-teams', 'hook', 'ops-slack']) AS chat_rule \gset
SELECT stockpipe.set_alert('AAPL', 'price_above', 195, 'alice@example.com', cooldown => '0',
						   channels => ARRAY['hook']) AS both_rule \gset
SELECT stockpipe.set_alert('MSFT', 'price_above', 400, 'alice@example.com') AS mail_rule \gset
SELECT ruleid = :chat_rule AS chat, email, channels FROM stockpipe.my_alerts ORDER BY ruleid;
-- set_alert_channels.
SELECT stockpipe.set_alert_channels(:chat_rule, '{}');
SELECT stockpipe.set_alert_channels(:mail_rule, ARRAY['nope']);
SELECT stockpipe.set_alert_channels(999999, ARRAY['hook']);
SELECT stockpipe.set_alert_channels(:mail_rule, ARRAY['ops-teams']);
SELECT stockpipe.set_alert_channels(:mail_rule, NULL);
SELECT ruleid = :mail_rule AS mail_rule, channels FROM stockpipe.my_alerts WHERE ruleid = :mail_rule;
RESET ROLE;

-- Row-level security: Bob sees none of Alice's channels, cannot use her
-- channel names (they name nothing of his), cannot change or drop them.
SET ROLE regress_hook_bob;
SELECT count(*) AS channels_seen FROM stockpipe.my_channels;
SELECT count(*) AS channels_seen FROM stockpipe.alert_channel;
SELECT stockpipe.set_alert('AAPL', 'price_above', 1, NULL, channels => ARRAY['ops-slack']);
SELECT stockpipe.set_alert_channels(:chat_rule, ARRAY['hook']);
SELECT stockpipe.drop_channel('ops-slack');
-- His own channel of the same name is his alone.
SELECT stockpipe.set_channel('ops-slack', 'slack', 'https://hooks.slack.com/services/T9/B9/bob-secret') AS bob_slack \gset
SELECT stockpipe.set_alert('AAPL', 'price_above', 1, NULL, cooldown => '0', channels => ARRAY['ops-slack']) AS bob_rule \gset
SELECT name, url_redacted FROM stockpipe.my_channels;
RESET ROLE;
-- The internal functions act only for a role the session may become.
SET SESSION AUTHORIZATION regress_hook_bob;
SELECT stockpipe._set_channel('regress_hook_alice', 'ops-slack', 'slack', 'https://hooks.slack.com/services/bob');
SELECT stockpipe._drop_channel('regress_hook_alice', 'ops-slack');
SELECT stockpipe._set_alert_channels('regress_hook_alice', :chat_rule, ARRAY['ops-slack']);
RESET SESSION AUTHORIZATION;
-- A role without stockpipe_user cannot use the API.
SET ROLE regress_hook_nobody;
SELECT stockpipe.set_channel('x', 'slack', 'https://hooks.slack.com/services/x');
RESET ROLE;

-- check_alerts: one delivery per channel per firing, in the event's transaction.
SELECT stockpipe.ensure_live_partitions(ARRAY['2026-11-27']::date[]);
INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close) VALUES ('AAPL', '2026-11-27 15:00:00+00', 191, 188);
SELECT stockpipe.check_alerts();
SELECT e.ruleid = :chat_rule AS chat_rule, e.ruleid = :bob_rule AS bob_rule, e.email, e.status
  FROM stockpipe.alert_event e ORDER BY e.eventid;
SELECT d.owner, e.ruleid = :chat_rule AS chat_rule, d.channel, d.kind, d.status, d.attempts,
	   d.channelid = CASE d.channel WHEN 'hook' THEN :hook_id WHEN 'ops-teams' THEN :teams_id
							ELSE CASE d.owner WHEN 'regress_hook_bob' THEN :bob_slack ELSE :slack_id END END AS right_channel
  FROM stockpipe.alert_delivery d JOIN stockpipe.alert_event e USING (eventid)
 ORDER BY d.owner, d.channel;
-- Over 195 too: the mixed rule fires, to its e-mail and its channel.
INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close) VALUES ('AAPL', '2026-11-27 15:00:01+00', 196, 188);
SELECT stockpipe.check_alerts();
SELECT e.ruleid = :both_rule AS both_rule, e.email, e.status, d.channel, d.status AS delivery
  FROM stockpipe.alert_event e JOIN stockpipe.alert_delivery d USING (eventid)
 WHERE e.ruleid = :both_rule;
-- Each role sees its own deliveries only.
SET ROLE regress_hook_bob;
SELECT owner, channel, status FROM stockpipe.alert_delivery;
SELECT name, rules, sent, pending, failed FROM stockpipe.my_channels;
RESET ROLE;

-- The hourly limit counts firings that go somewhere, e-mail or channels:
-- with 2 an hour, Alice's rules (2 firings so far) are now suppressed on
-- every channel.
ALTER SYSTEM SET stockpipe.mail_rate_limit = 2;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close) VALUES ('AAPL', '2026-11-27 15:00:02+00', 180, 188);
SELECT stockpipe.check_alerts();
INSERT INTO stockpipe.live_stock (symbol, ts, price, prev_close) VALUES ('AAPL', '2026-11-27 15:00:03+00', 197, 188);
SELECT stockpipe.check_alerts();
SELECT e.owner, e.status, d.channel, d.status AS delivery, d.last_error
  FROM stockpipe.alert_event e JOIN stockpipe.alert_delivery d USING (eventid)
 WHERE e.quote_ts = '2026-11-27 15:00:03+00'
 ORDER BY e.owner, e.eventid, d.channel;
ALTER SYSTEM RESET stockpipe.mail_rate_limit;
SELECT pg_reload_conf();

-- drop_channel: not while it is a rule's only destination; otherwise it
-- leaves the rules, and its pending deliveries fail.
SET ROLE regress_hook_alice;
SELECT stockpipe.set_alert_channels(:chat_rule, ARRAY['hook']);
SELECT stockpipe.drop_channel('hook');
SELECT stockpipe.set_alert_channels(:chat_rule, ARRAY['ops-slack', 'hook']);
SELECT stockpipe.drop_channel('hook');
SELECT stockpipe.drop_channel('hook');
SELECT ruleid = :chat_rule AS chat_rule, channels FROM stockpipe.my_alerts WHERE ruleid IN (:chat_rule, :both_rule) ORDER BY ruleid;
SELECT channel, channelid IS NULL AS channel_gone, status, last_error FROM stockpipe.alert_delivery
 WHERE channel = 'hook' ORDER BY deliveryid;
-- At most 20 channels per role.
SELECT stockpipe.set_channel('c' || i, 'webhook', 'https://hooks.example.com/c' || i) > 0 AS made
  FROM generate_series(1, 18) i;
SELECT count(*) FROM stockpipe.my_channels;
SELECT stockpipe.set_channel('c19', 'webhook', 'https://hooks.example.com/c19');
-- Replacing one of them is not a 21st.
SELECT stockpipe.set_channel('c1', 'slack', 'https://hooks.example.com/c1-new') > 0 AS replaced;
RESET ROLE;

-- stockpipe.webhook_allowed_hosts: only listed hosts (and subdomains), and
-- then a listed private host is allowed.
ALTER SYSTEM SET stockpipe.webhook_allowed_hosts = 'slack.com, 127.0.0.1';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SET ROLE regress_hook_bob;
SELECT stockpipe.set_channel('relay', 'webhook', 'http://127.0.0.1:8080/bob-secret') > 0 AS loopback_listed;
SELECT stockpipe.set_channel('slack2', 'slack', 'https://hooks.slack.com/services/bob2') > 0 AS subdomain_listed;
SELECT stockpipe.set_channel('teams', 'teams', 'https://example.webhook.office.com/bob');
SELECT stockpipe.set_channel('evil', 'slack', 'https://badslack.com/bob');
RESET ROLE;
ALTER SYSTEM RESET stockpipe.webhook_allowed_hosts;
SELECT pg_reload_conf();
-- A bad list is refused.
ALTER SYSTEM SET stockpipe.webhook_allowed_hosts = 'hooks.slack.com/services';

-- Nothing written to the tables carries a URL but alert_channel.url.
SELECT count(*) AS urls_elsewhere FROM stockpipe.alert_delivery d
 WHERE d.last_error ~ 'secret' OR d.channel ~ 'secret';

DROP EXTENSION stockpipe;
DROP ROLE regress_hook_alice, regress_hook_bob, regress_hook_nobody;
