-- The Kafka message contract, through the same decoder the workers use.
CREATE EXTENSION stockpipe;
SET timezone = 'UTC';
-- The recorded examples below carry fixed dates; accept any age for them
-- (the time window has its own tests at the end).
SET stockpipe.quote_max_age = 2147483647;

-- A full quote, as the producer sends it.
SELECT * FROM stockpipe.decode_quote(convert_to(
  '{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":189.23,"volume":51234567,'
  '"open":188.10,"high":190.00,"low":187.50,"prev_close":188.00,"currency":"USD","source":"yahoo"}', 'UTF8'));

-- The minimum; epoch seconds; an offset; unknown fields and nulls are fine.
SELECT * FROM stockpipe.decode_quote(convert_to('{"symbol":"BRK-B","ts":"2026-11-27T14:30:01.25-05:00","price":1}', 'UTF8'));
SELECT * FROM stockpipe.decode_quote(convert_to('{"symbol":"^GSPC","ts":1796239801,"price":6000.5,"volume":null,"exchange":"SNP"}', 'UTF8'));
SELECT * FROM stockpipe.decode_quote(convert_to('{"symbol":"EURUSD=X","ts":1796239801.5,"price":1.05,"extra":{"a":[1,2]}}', 'UTF8'));

-- Every way a quote can break the contract; NULL means it would be stored.
SELECT label, stockpipe.message_error('stock_live', payload) AS error
FROM (VALUES
  ('good',             convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":189.23}', 'UTF8')),
  ('not json',         convert_to('hello', 'UTF8')),
  ('truncated',        convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","pri', 'UTF8')),
  ('array',            convert_to('[1,2,3]', 'UTF8')),
  ('empty',            ''::bytea),
  ('no symbol',        convert_to('{"ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('lower symbol',     convert_to('{"symbol":"aapl","ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('long symbol',      convert_to('{"symbol":"ABCDEFGHIJKLMNOPQRSTU","ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('symbol number',    convert_to('{"symbol":42,"ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('no ts',            convert_to('{"symbol":"AAPL","price":1}', 'UTF8')),
  ('ts no offset',     convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01","price":1}', 'UTF8')),
  ('ts bad date',      convert_to('{"symbol":"AAPL","ts":"2026-02-30T19:30:01Z","price":1}', 'UTF8')),
  ('ts bool',          convert_to('{"symbol":"AAPL","ts":true,"price":1}', 'UTF8')),
  ('no price',         convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z"}', 'UTF8')),
  ('price zero',       convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":0}', 'UTF8')),
  ('price negative',   convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":-3}', 'UTF8')),
  ('price string',     convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":"189"}', 'UTF8')),
  ('price infinite',   convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1e999}', 'UTF8')),
  ('volume fraction',  convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1,"volume":1.5}', 'UTF8')),
  ('volume negative',  convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1,"volume":-1}', 'UTF8')),
  ('currency number',  convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1,"currency":1}', 'UTF8')),
  ('invalid utf8',     '\x7b2273796d626f6c223a22ff227d'::bytea)
) AS t(label, payload);

-- Strict JSON (RFC 8259): payloads a lenient parser reads something from
-- are bad messages too, with the fault and its byte offset named.
SELECT label, stockpipe.message_error('stock_live', payload) AS error
FROM (VALUES
  ('bad \u escape',    convert_to('{"symbol":"AAPL\uZZZZX","ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('raw NUL',          '\x7b00'::bytea || convert_to('"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('vertical tab',     convert_to('{"symbol":"AAPL",' || chr(11) || '"ts":"2026-11-27T19:30:01Z","price":1}', 'UTF8')),
  ('leading zero',     convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":01}', 'UTF8')),
  ('no fraction',      convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1.}', 'UTF8')),
  ('no integer',       convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":.5}', 'UTF8')),
  ('plus sign',        convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":+1}', 'UTF8')),
  ('lone surrogate',   convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1,"x":"\ud800"}', 'UTF8')),
  ('exponent',         convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":1.5e2}', 'UTF8'))
) AS t(label, payload);

-- Payloads over stockpipe.max_message_bytes (64 kB) are refused before parsing.
SHOW stockpipe.max_message_bytes;
SELECT stockpipe.message_error('stock_live',
  convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":189.23,"pad":"' || repeat('x', 70000) || '"}', 'UTF8'));

-- decode_quote raises the same text, with SQLSTATE 22P02.
SELECT * FROM stockpipe.decode_quote(convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":-3}', 'UTF8'));
\set VERBOSITY sqlstate
SELECT * FROM stockpipe.decode_quote(convert_to('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":-3}', 'UTF8'));
\set VERBOSITY default

-- Daily bars.
SELECT symbol, trade_date, open, high, low, close, adj_close, volume
  FROM stockpipe.decode_bar(convert_to(
  '{"symbol":"AAPL","date":"2026-11-27","open":188.1,"high":190.0,"low":187.5,'
  '"close":189.2,"adj_close":189.2,"volume":51234567}', 'UTF8'));
SELECT label, stockpipe.message_error('stock_daily', payload) AS error
FROM (VALUES
  ('good',        convert_to('{"symbol":"AAPL","date":"2024-02-29","close":1}', 'UTF8')),
  ('no close',    convert_to('{"symbol":"AAPL","date":"2024-02-29"}', 'UTF8')),
  ('no leap day', convert_to('{"symbol":"AAPL","date":"2023-02-29","close":1}', 'UTF8')),
  ('date format', convert_to('{"symbol":"AAPL","date":"2024/02/28","close":1}', 'UTF8')),
  ('bad open',    convert_to('{"symbol":"AAPL","date":"2024-02-28","close":1,"open":"x"}', 'UTF8'))
) AS t(label, payload);

-- Times must be plausible now, whatever the day the test runs: a quote's ts
-- within stockpipe.quote_max_age before now (default: live_retention, 90
-- days) and stockpipe.message_max_future (1 day) after it; a bar's date
-- from 1900-01-01 to the same future bound.  Such quotes once made a
-- partition each and stayed "latest" for ever.
RESET stockpipe.quote_max_age;
SELECT label, stockpipe.message_error('stock_live',
		convert_to(format('{"symbol":"AAPL","ts":%s,"price":1}',
						  extract(epoch FROM now() + off)::bigint), 'UTF8')) IS NULL AS accepted
FROM (VALUES ('now', interval '0'), ('89 days ago', interval '-89 days'),
			 ('91 days ago', interval '-91 days'), ('23 hours ahead', interval '23 hours'),
			 ('25 hours ahead', interval '25 hours')) AS t(label, off);
SELECT stockpipe.message_error('stock_live', convert_to('{"symbol":"AAPL","ts":"9999-12-31T00:00:00Z","price":1}', 'UTF8'));
SELECT stockpipe.message_error('stock_live', convert_to('{"symbol":"AAPL","ts":"1990-01-01T00:00:00Z","price":1}', 'UTF8'));
SET stockpipe.quote_max_age = '1h';
SELECT stockpipe.message_error('stock_live',
		convert_to(format('{"symbol":"AAPL","ts":%s,"price":1}',
						  extract(epoch FROM now() - interval '2 hours')::bigint), 'UTF8')) IS NOT NULL AS older_than_1h;
RESET stockpipe.quote_max_age;
SELECT label, stockpipe.message_error('stock_daily',
		convert_to(format('{"symbol":"AAPL","date":"%s","close":1}', d), 'UTF8')) ~ 'outside the range' AS refused
FROM (VALUES ('1900-01-01', '1900-01-01'), ('1899-12-31', '1899-12-31'),
			 ('today', to_char(current_date, 'YYYY-MM-DD')),
			 ('in 3 days', to_char(current_date + 3, 'YYYY-MM-DD')), ('9999-12-31', '9999-12-31')) AS t(label, d);
-- Ordinary users may not widen the window.
CREATE ROLE regress_decode_user;
SET ROLE regress_decode_user;
SET stockpipe.quote_max_age = 2147483647;
RESET ROLE;
DROP ROLE regress_decode_user;

-- The exchange's time zone and the trading period (optional fields).
SET stockpipe.quote_max_age = 2147483647;
SELECT symbol, exchange_tz, session FROM stockpipe.decode_quote(convert_to(
  '{"symbol":"WSU.DE","ts":"2026-11-27T08:00:00Z","price":14.5,'
  '"exchange_tz":"Europe/Berlin","session":"pre"}', 'UTF8'));
SELECT stockpipe.message_error('stock_live', convert_to(
  '{"symbol":"AAPL","ts":"2026-11-27T08:00:00Z","price":1,"session":"lunch"}', 'UTF8'));
SELECT stockpipe.message_error('stock_live', convert_to(
  '{"symbol":"AAPL","ts":"2026-11-27T08:00:00Z","price":1,"exchange_tz":""}', 'UTF8'));
RESET stockpipe.quote_max_age;

-- Topics other than the two configured ones are refused.
SELECT stockpipe.message_error('other_topic', convert_to('{}', 'UTF8'));

DROP EXTENSION stockpipe;
