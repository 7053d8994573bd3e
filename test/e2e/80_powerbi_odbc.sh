#!/usr/bin/env bash
# The BI views through a real ODBC client, as Power BI's ODBC path would use
# them: Debian's psqlODBC driver (odbc-postgresql) under unixODBC's isql,
# over TCP, logged in as a login role granted stockpipe_reader.  Every view
# of stockpipe_bi returns the expected rows for known data; reads of the
# tables, writes and secrets are refused by the server; the e-mail
# addresses of alert rules stay hidden; scripts/pbids.sh writes a valid
# .pbids file for this very server and database.
#
# The ODBC configuration lives in the test's folder (ODBCSYSINI, ODBCINI):
# nothing is written to /etc.
. "$(dirname "$0")/common.sh"

command -v isql >/dev/null || { not_ok "isql (unixodbc) is installed"; exit 1; }
DRIVER=$(ls /usr/lib/*/odbc/psqlodbcw.so 2>/dev/null | head -n 1)
[ -n "$DRIVER" ] || { not_ok "psqlODBC (odbc-postgresql) is installed"; exit 1; }

e2e_start

# No scheduled job may change the known data while the test reads it.
q "SELECT stockpipe.alter_job('alert_check', enabled => false), stockpipe.alter_job('upkeep', enabled => false)" >/dev/null

sp_psql >/dev/null <<'SQL'
SELECT stockpipe.ensure_live_partitions(ARRAY['2025-06-04', '2025-06-05', '2025-06-06',
	(now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date]::date[]);
INSERT INTO stockpipe.historical_stock_data (symbol, trade_date, open, high, low, close, adj_close, volume) VALUES
	('AAPL', '2025-06-02', 199, 201, 198, 200, 199.5, 1000),
	('AAPL', '2025-06-03', 200, 203, 199, 202, 201.5, 1100),
	('AAPL', '2025-06-04', 202, 202.5, 200, 201, 200.5, 900),
	('MSFT', '2025-06-03', 398, 401, 397, 400, 400, 2000),
	('MSFT', '2025-06-04', 401, 411, 400, 410, 410, 2100),
	('IBM', '2025-06-04', 249, 251, 248, 250, NULL, NULL);
INSERT INTO stockpipe.live_stock (symbol, ts, price, volume, open, high, low, prev_close, currency, source) VALUES
	('AAPL', '2025-06-05 13:30:00+00', 201.5, 100, 201.2, 201.5, 201.2, 201, 'USD', 'yahoo'),
	('AAPL', '2025-06-05 19:59:59+00', 203, 5000, 201.2, 203.5, 200.8, 201, 'USD', 'yahoo'),
	('AAPL', '2025-06-06 01:00:00+00', 204, 5100, 201.2, 204, 200.8, 201, 'USD', 'yahoo'),
	('MSFT', '2025-06-04 15:00:00+00', 409, 700, 401, 409, 400, 400, 'USD', 'yahoo'),
	('MSFT', '2025-06-05 14:00:00+00', 405, 300, 408, 408, 404, NULL, 'USD', 'yahoo'),
	('NEWCO', now() - interval '1 hour', 12.5, 10, NULL, NULL, NULL, 10, 'EUR', 'yahoo');
-- Quotes written by hand, not by the consumers: latest_quote (what the BI
-- views read) is made to follow them, as the documentation says to.
SELECT stockpipe.rebuild_latest_quote();
SELECT stockpipe.refresh_l30d('2025-06-03'), stockpipe.refresh_l30d('2025-06-04');

CREATE ROLE alice IN ROLE stockpipe_user;
CREATE ROLE bob IN ROLE stockpipe_user;
INSERT INTO stockpipe.alert_rule (owner, symbol, condition, threshold, email, enabled, armed)
OVERRIDING SYSTEM VALUE VALUES
	('alice', 'AAPL', 'price_above', 203, 'alice@example.com', true, false),
	('bob', 'MSFT', 'change_pct_below', -1, 'bob@example.com', false, true);
INSERT INTO stockpipe.alert_event (ruleid, owner, symbol, condition, threshold, email, price, quote_ts,
								   prev_close, change_pct, status, attempts, last_error) VALUES
	(1, 'alice', 'AAPL', 'price_above', 203, 'alice@example.com', 203.5, '2025-06-05 19:59:58+00',
	 201, 1.2438, 'sent', 1, NULL),
	(2, 'bob', 'MSFT', 'change_pct_below', -1, 'bob@example.com', 405, '2025-06-05 14:00:00+00',
	 410, -1.2195, 'pending', 2, '550 <bob@example.com>: mailbox unavailable');

-- What Power BI logs in as: over TCP with a password (production adds a
-- hostssl line in pg_hba.conf, docs/powerbi.md).
CREATE ROLE powerbi LOGIN IN ROLE stockpipe_reader;
ALTER ROLE powerbi SET timezone = 'UTC';
SQL
[ $? -eq 0 ] && ok "known data, alert rules and the powerbi login role are in place" ||
	{ not_ok "known data, alert rules and the powerbi login role are in place"; exit 1; }
# Its password reaches the driver (libpq) through PGPASSFILE.
sp_pg_allow_login powerbi "pbi-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"

# The DSN, in the test's own folder.
ODBC_DIR=$E2E_DIR/odbc
mkdir -p "$ODBC_DIR"
cat >"$ODBC_DIR/odbcinst.ini" <<EOF
[PostgreSQL Unicode]
Description = PostgreSQL ODBC driver (Unicode)
Driver = $DRIVER
EOF
cat >"$ODBC_DIR/odbc.ini" <<EOF
[stockpipe_bi]
Description = stockpipe reporting views
Driver = PostgreSQL Unicode
Servername = 127.0.0.1
Port = $PGPORT
Database = stockpipe
Username = powerbi
SSLmode = disable
ReadOnly = 0
EOF
export ODBCSYSINI=$ODBC_DIR ODBCINI=$ODBC_DIR/odbc.ini

# odbc SQL: run one statement through isql; rows as "a|b|c", errors as
# "[SQLSTATE]message".  (isql exits 0 even when a statement fails.)
# (isql reads one statement a line: the SQL is put on one line.)
odbc() { printf '%s\n' "$(printf '%s' "$1" | tr '\n\t' '  ')" | isql -b -v -d'|' stockpipe_bi 2>&1 |
	grep -v '^\[ISQL\]ERROR: Could not SQLExecute$'; }
# check_rows DESCRIPTION EXPECTED_LINES SQL: rows compared joined by ";".
check_rows() { check_eq "$1" "$(printf '%s\n' "$2" | paste -sd';')" "$(odbc "$3" | paste -sd';')"; }
# odbc_fails SQL SQLSTATE: the statement is refused with that SQLSTATE.
odbc_fails() { odbc "$1" | grep -q "^\[$2\]"; }

check_eq "isql connects over TCP as powerbi, who is a stockpipe_reader" "powerbi|1|0" \
	"$(odbc "SELECT current_user, pg_has_role('stockpipe_reader', 'USAGE')::int, (SELECT rolsuper::int FROM pg_roles WHERE rolname = current_user)")"

# (NEWCO's times are the test's own: left out)
check_rows "dim_symbol: every symbol with daily bars or a recent quote" \
"AAPL|2025-06-02|2025-06-05|2025-06-05 13:30:00|2025-06-06 01:00:00|USD|1|1
IBM|2025-06-04|2025-06-04||||0|1
MSFT|2025-06-03|2025-06-05|2025-06-04 15:00:00|2025-06-05 14:00:00|USD|1|1
NEWCO|||||EUR|1|0" \
	"SELECT symbol, CASE WHEN symbol <> 'NEWCO' THEN first_seen END,
	               CASE WHEN symbol <> 'NEWCO' THEN last_seen END,
	               CASE WHEN symbol <> 'NEWCO' THEN first_quote_at END,
	               CASE WHEN symbol <> 'NEWCO' THEN last_quote_at END,
	               currency, has_live::int, has_daily::int
	          FROM stockpipe_bi.dim_symbol ORDER BY symbol"

check_rows "fact_latest_quote: the newest quote, day change against the previous close" \
"AAPL|2025-06-06 01:00:00|2025-06-05 21:00:00|2025-06-05|204|5100|201|3|1.4925|USD
MSFT|2025-06-05 14:00:00|2025-06-05 10:00:00|2025-06-05|405|300|410|-5|-1.2195|USD
NEWCO||||12.5|10|10|2.5|25.0000|EUR" \
	"SELECT symbol, CASE WHEN symbol <> 'NEWCO' THEN ts END,
	               CASE WHEN symbol <> 'NEWCO' THEN ts_market END,
	               CASE WHEN symbol <> 'NEWCO' THEN day END,
	               price, volume, prev_close, day_change, round(day_change_pct::numeric, 4), currency
	          FROM stockpipe_bi.fact_latest_quote ORDER BY symbol"

check_rows "fact_intraday: the quotes of a time range, market day in New York time" \
"AAPL|2025-06-05 13:30:00|2025-06-05 09:30:00|2025-06-05|201.5|100
AAPL|2025-06-05 19:59:59|2025-06-05 15:59:59|2025-06-05|203|5000
AAPL|2025-06-06 01:00:00|2025-06-05 21:00:00|2025-06-05|204|5100
MSFT|2025-06-05 14:00:00|2025-06-05 10:00:00|2025-06-05|405|300" \
	"SELECT symbol, ts, ts_market, day, price, volume FROM stockpipe_bi.fact_intraday
	          WHERE ts >= '2025-06-05 00:00+00' AND ts < '2025-06-07 00:00+00' ORDER BY symbol, ts"

check_rows "fact_daily: bars with the change against the previous close" \
"AAPL|2025-06-02|199|201|198|200|199.5|1000|||
AAPL|2025-06-03|200|203|199|202|201.5|1100|200|2|1.0000
AAPL|2025-06-04|202|202.5|200|201|200.5|900|202|-1|-0.4950
IBM|2025-06-04|249|251|248|250|||||
MSFT|2025-06-03|398|401|397|400|400|2000|||
MSFT|2025-06-04|401|411|400|410|410|2100|400|10|2.5000" \
	"SELECT symbol, trade_date, open, high, low, close, adj_close, volume, prev_close, change,
	               round(change_pct::numeric, 4)
	          FROM stockpipe_bi.fact_daily ORDER BY symbol, trade_date"

check_rows "fact_latest_bar: the latest bar of each symbol, its change, whether it has live quotes" \
"AAPL|2025-06-04|201|900|202|-1|-0.4950|2025-06-02|1
IBM|2025-06-04|250|||||2025-06-04|0
MSFT|2025-06-04|410|2100|400|10|2.5000|2025-06-03|1" \
	"SELECT symbol, trade_date, close, volume, prev_close, change, round(change_pct::numeric, 4),
	               first_trade_date, has_live::int
	          FROM stockpipe_bi.fact_latest_bar ORDER BY symbol"

check_rows "fact_l30d: the summary rows of both as-of dates" \
"AAPL|2025-06-03|2|202|200|1.0000|203|198
AAPL|2025-06-04|3|201|200|0.5000|203|198
IBM|2025-06-04|1|250|250|0.0000|251|248
MSFT|2025-06-03|1|400|400|0.0000|401|397
MSFT|2025-06-04|2|410|400|2.5000|411|397" \
	"SELECT symbol, as_of, days_used, last_close, first_close, round(change_pct::numeric, 4),
	               highest_high, lowest_low
	          FROM stockpipe_bi.fact_l30d ORDER BY symbol, as_of"

check_rows "alert_rules: every rule (row-level security does not hide them), no address" \
"1|alice|AAPL|price_above|203||900|1|disarmed
2|bob|MSFT|change_pct_below|-1||900|0|disabled" \
	"SELECT ruleid, owner, symbol, condition, threshold, email, cooldown_seconds, enabled::int, state
	          FROM stockpipe_bi.alert_rules ORDER BY ruleid"

check_rows "fired_alerts: every firing and its delivery status" \
"1|1|alice|AAPL|price_above|203.5|2025-06-05 19:59:58|sent|1
2|2|bob|MSFT|change_pct_below|405|2025-06-05 14:00:00|pending|2" \
	"SELECT eventid, ruleid, owner, symbol, condition, price, quote_ts, status, attempts
	          FROM stockpipe_bi.fired_alerts ORDER BY eventid"

# SELECT * of each view, as Power BI's navigator does: every column type
# converts through the driver, and nothing anywhere carries an address.
for v in dim_symbol fact_latest_quote fact_latest_bar fact_intraday fact_daily fact_l30d alert_rules fired_alerts; do
	out=$(odbc "SELECT * FROM stockpipe_bi.$v")
	n=$(q "SELECT count(*) FROM stockpipe_bi.$v")
	if [ "$(printf '%s\n' "$out" | grep -vc '^\[')" = "$n" ] && ! grep -q '^\[' <<<"$out" && [ "$n" -gt 0 ]; then
		ok "SELECT * FROM stockpipe_bi.$v through ODBC: $n rows"
	else
		not_ok "SELECT * FROM stockpipe_bi.$v through ODBC: $n rows (got: $(head -c 300 <<<"$out"))"
	fi
	check "no e-mail address in stockpipe_bi.$v" bash -c '! grep -q "@example.com" <<<"$1"' _ "$out"
done
check_eq "the ODBC catalog lists the eight views of stockpipe_bi" \
	"alert_rules dim_symbol fact_daily fact_intraday fact_l30d fact_latest_bar fact_latest_quote fired_alerts" \
	"$(odbc "SELECT string_agg(table_name::text, ' ' ORDER BY table_name) FROM information_schema.views WHERE table_schema = 'stockpipe_bi'")"

# Refused by the server, through ODBC too.
check "SELECT on stockpipe.live_stock is refused (42501)" odbc_fails "SELECT count(*) FROM stockpipe.live_stock" 42501
check "SELECT on stockpipe.alert_rule is refused (42501)" odbc_fails "SELECT email FROM stockpipe.alert_rule" 42501
check "INSERT into stockpipe.live_stock is refused (42501)" odbc_fails \
	"INSERT INTO stockpipe.live_stock (symbol, ts, price) VALUES ('AAPL', '2025-06-05 15:00+00', 1)" 42501
check "INSERT into a view is refused (42501)" odbc_fails \
	"INSERT INTO stockpipe_bi.fact_l30d (symbol, as_of, days_used, window_start, window_end, last_close, first_close, change, avg_close, min_close, max_close, computed_at) VALUES ('AAPL', '2025-06-05', 1, '2025-06-05', '2025-06-05', 1, 1, 0, 1, 1, 1, now())" 42501
check "UPDATE of a view is refused (42501)" odbc_fails "UPDATE stockpipe_bi.alert_rules SET threshold = 1" 42501
check "DELETE from a view is refused (42501)" odbc_fails "DELETE FROM stockpipe_bi.fired_alerts" 42501
check "CREATE in stockpipe_bi is refused (42501)" odbc_fails "CREATE TABLE stockpipe_bi.mine (x int)" 42501
check "the SMTP password is hidden (42501)" odbc_fails "SHOW stockpipe.smtp_password" 42501
check "the Kafka options are hidden (42501)" odbc_fails "SHOW stockpipe.kafka_options" 42501
check_eq "nothing was written" "6|5|0|2" \
	"$(q "SELECT (SELECT count(*) FROM stockpipe.live_stock), (SELECT count(*) FROM stockpipe.l30d_summary),
	             (SELECT count(*) FROM stockpipe.alert_rule WHERE threshold = 1),
	             (SELECT count(*) FROM stockpipe.alert_event)" | tr -d ' ')"

# The .pbids connection file of this server.
PBIDS=$E2E_DIR/stockpipe.pbids
check "scripts/pbids.sh writes a file" bash "$SP_ROOT/scripts/pbids.sh" --host 127.0.0.1 --port "$PGPORT" \
	--database stockpipe --out "$PBIDS"
json_ok() { /usr/bin/python3 -m json.tool "$1" >/dev/null; }
check "the .pbids is valid JSON" json_ok "$PBIDS"
pbids_fields() {
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
c = d["connections"]
assert len(c) == 1, c
a = c[0]["details"]["address"]
print(d["version"], c[0]["details"]["protocol"], a["server"], a["database"], c[0]["mode"])' "$1"
}
check_eq "the .pbids names this server and database, DirectQuery" \
	"0.1 postgresql 127.0.0.1:$PGPORT stockpipe DirectQuery" "$(pbids_fields "$PBIDS")"
PGHOST=127.0.0.1 PGDATABASE=stockpipe bash "$SP_ROOT/scripts/pbids.sh" --mode Import >"$E2E_DIR/import.pbids" 2>/dev/null
check_eq "defaults from PGHOST/PGPORT/PGDATABASE, Import mode" \
	"0.1 postgresql 127.0.0.1:$PGPORT stockpipe Import" "$(pbids_fields "$E2E_DIR/import.pbids")"
bash "$SP_ROOT/scripts/pbids.sh" --mode Live >/dev/null 2>&1
check_eq "a bad flag value exits 2" 2 $?
bash "$SP_ROOT/scripts/pbids.sh" --no-such-flag >/dev/null 2>&1
check_eq "an unknown flag exits 2" 2 $?

exit $SP_TEST_FAILED
