#!/usr/bin/env bash
# Daily bars: stored, a revised bar replaces the old one (across batches and
# within one batch), a bad bar goes to dead_letter.
. "$(dirname "$0")/common.sh"

e2e_start

bar() { printf '%s\t{"symbol":"%s","date":"%s","open":%s,"high":%s,"low":%s,"close":%s,"adj_close":%s,"volume":%s}\n' "$1" "$1" "$2" "$3" "$4" "$5" "$6" "$6" "$7"; }
{
	bar AAPL 2026-11-25 100 102 99 101 1000
	bar AAPL 2026-11-26 101 103 100 102 2000
	bar MSFT 2026-11-26 400 410 395 405 3000
	printf 'MSFT\t{"symbol":"MSFT","date":"2026-13-01","close":1}\n'
} | produce stock_daily
wait_for 30 "4 daily messages" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_daily'" 4
check_eq "bars stored" "AAPL|2026-11-25|101 AAPL|2026-11-26|102 MSFT|2026-11-26|405" \
	"$(q "SELECT symbol || '|' || trade_date || '|' || close FROM stockpipe.historical_stock_data ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"
check_eq "bad bar dead-lettered" 'stock_daily|field "date" must be a calendar date YYYY-MM-DD' \
	"$(q "SELECT topic || '|' || error FROM stockpipe.dead_letter")"

# A revision in a later batch replaces the bar.
bar AAPL 2026-11-26 101 104 100 103.5 2500 | produce stock_daily
wait_for 30 "revision stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_daily'" 5
check_eq "revised bar replaced the old one" "1|103.5|104|2500" \
	"$(q "SELECT count(*) || '|' || max(close) || '|' || max(high) || '|' || max(volume) FROM stockpipe.historical_stock_data WHERE symbol = 'AAPL' AND trade_date = '2026-11-26'")"

# Three revisions in one batch: the last one wins.
{
	bar NVDA 2026-11-26 10 11 9 10.1 1
	bar NVDA 2026-11-26 10 11 9 10.2 2
	bar NVDA 2026-11-26 10 11 9 10.3 3
} | produce stock_daily
wait_for 30 "3 revisions stored" query_is \
	"SELECT sum(next_offset) FROM stockpipe.kafka_offsets WHERE topic = 'stock_daily'" 8
check_eq "last of several revisions in one batch wins" "10.3|3" \
	"$(q "SELECT close || '|' || volume FROM stockpipe.historical_stock_data WHERE symbol = 'NVDA'")"

# pg_dump keeps the rows (the tables are registered as extension config).
pg_dump -d stockpipe >"$E2E_DIR/dump.sql"
check_eq "pg_dump has the bars, dead letters and offsets" "3" \
	"$(grep -cE '^COPY stockpipe\.(historical_stock_data|dead_letter|kafka_offsets) ' "$E2E_DIR/dump.sql")"
check "pg_dump has the revised AAPL bar" grep -qP '^AAPL\t2026-11-26\t101\t104\t100\t103.5\t' "$E2E_DIR/dump.sql"
exit $SP_TEST_FAILED
