-- The message fields the workers know (contract/fields.h, through
-- stockpipe.message_fields()) against the tables they fill: same columns,
-- same order, same types.  A field added to the contract without its
-- column, or a column added without its field, shows up here.
CREATE EXTENSION stockpipe;

SELECT message, table_name, ordinal, column_name, json_key, column_type, required
  FROM stockpipe.message_fields()
 ORDER BY message DESC, ordinal;

-- Every field is the table's column of the same position and type; the
-- one other column is historical_stock_data.updated_at, set by the server ...
SELECT f.message, f.column_name, a.attname, a.attnum,
       format_type(a.atttypid, a.atttypmod) AS table_type, f.column_type
  FROM stockpipe.message_fields() f
  FULL JOIN (SELECT c.relname, a.*
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              WHERE c.relnamespace = 'stockpipe'::regnamespace
                AND c.relname IN ('live_stock', 'historical_stock_data')
                AND a.attnum > 0 AND NOT a.attisdropped) a
    ON a.relname = f.table_name AND a.attnum = f.ordinal
 WHERE f.column_name IS DISTINCT FROM a.attname::text
    OR f.column_type IS DISTINCT FROM format_type(a.atttypid, a.atttypmod)
 ORDER BY 1, 4;

-- ... a required field is a NOT NULL column ...
SELECT f.message, f.column_name, f.required, a.attnotnull
  FROM stockpipe.message_fields() f
  JOIN pg_attribute a ON a.attrelid = ('stockpipe.' || f.table_name)::regclass
                     AND a.attname = f.column_name
 WHERE f.required <> a.attnotnull;

-- ... and decode_quote()/decode_bar() fill the columns by name.
SELECT (stockpipe.decode_quote(convert_to(
  '{"symbol":"AAPL","ts":"2026-11-27T15:00:00Z","price":190.5,"volume":10,'
  '"open":189,"high":191,"low":188.5,"prev_close":188,"currency":"USD","source":"yahoo"}',
  'UTF8'))).*;
SELECT symbol, trade_date, open, high, low, close, adj_close, volume
  FROM stockpipe.decode_bar(convert_to(
  '{"symbol":"AAPL","date":"2026-11-27","open":189,"high":191,"low":188.5,'
  '"close":190.5,"adj_close":190.4,"volume":1000}', 'UTF8'));

DROP EXTENSION stockpipe;
