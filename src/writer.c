/*-------------------------------------------------------------------------
 *
 * writer.c
 *	  Storing a batch of Kafka messages exactly once through SPI.
 *
 * One transaction per batch locks the kafka_offsets rows of the partitions
 * in the batch, drops the messages an earlier transaction already stored
 * (offset below the stored next offset), writes the rows and the dead
 * letters, and advances the offsets.  Whatever happens to the worker, the
 * broker or the server, a message is thus stored once: either the whole
 * transaction committed, and its offsets say so, or none of it did.
 *
 * Quotes go in through COPY's machinery (bulk.c); bars, dead letters and
 * quotes that repeat a stored (symbol, ts) go in with one prepared statement
 * per table whose parameters are arrays (INSERT ... SELECT FROM unnest(...)):
 * one executor start per batch instead of one per row.
 *
 * The same transaction keeps stockpipe.latest_quote, the newest stored
 * quote of each symbol (sql/ingest.sql), for the reporting views: one
 * upsert per batch whose arrays hold one row per distinct symbol of the
 * batch, so its cost grows with the symbols of a batch, not its rows.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "fields_pg.h"
#include "spi.h"
#include "writer.h"

/* Days between the Unix epoch and PostgreSQL's (2000-01-01). */
#define SP_EPOCH_DIFF_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

/* Longest NOTIFY payload we send; the server's limit is 8000 bytes. */
#define SP_NOTIFY_MAX 7900

/* Per partition of the batch being stored. */
typedef struct PartState
{
	int32		partition;
	int64		next_offset;	/* as stored, locked */
	int64		max_offset;
	int64		messages;
	int64		rows;
	int64		dead;
	TimestampTz last_ts;
} PartState;

/* A column of array parameters being filled. */
typedef struct Col
{
	Oid			type;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *values;
	bool	   *nulls;
} Col;

static SPIPlanPtr plan_lock = NULL;
static SPIPlanPtr plan_init = NULL;
static SPIPlanPtr plan_advance = NULL;
static SPIPlanPtr plan_live = NULL;
static SPIPlanPtr plan_latest = NULL;
static SPIPlanPtr plan_daily = NULL;
static SPIPlanPtr plan_dead = NULL;
static SPIPlanPtr plan_partitions = NULL;


TimestampTz
sp_unix_us_to_timestamptz(int64 us)
{
	return (TimestampTz) (us - SP_EPOCH_DIFF_DAYS * USECS_PER_DAY);
}

DateADT
sp_unix_days_to_date(int32 days)
{
	return (DateADT) (days - SP_EPOCH_DIFF_DAYS);
}

static void
col_init(Col *c, Oid type, int capacity)
{
	c->type = type;
	get_typlenbyvalalign(type, &c->typlen, &c->typbyval, &c->typalign);
	c->values = palloc(sizeof(Datum) * Max(capacity, 1));
	c->nulls = palloc(sizeof(bool) * Max(capacity, 1));
}

static inline void
col_set(Col *c, int i, Datum value, bool isnull)
{
	c->values[i] = value;
	c->nulls[i] = isnull;
}

static Datum
col_array(Col *c, int n)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(c->values, c->nulls, 1, dims, lbs,
											  c->type, c->typlen, c->typbyval,
											  c->typalign));
}

static Datum
bytes_datum(const char *buf, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), buf, len);
	return PointerGetDatum(b);
}

static int32
int32_array_datum(const int32 *v, int n, Datum *out)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int32GetDatum(v[i]);
	*out = PointerGetDatum(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
	return n;
}

/*
 * Create the kafka_offsets rows of partitions that have none, reading from
 * the start of the partition.
 */
static void
init_offsets(Datum topic, Datum partitions)
{
	static const Oid types[2] = {TEXTOID, INT4ARRAYOID};
	Datum		args[2] = {topic, partitions};

	sp_sql_plan(sp_sql_prepare(&plan_init,
					"INSERT INTO stockpipe.kafka_offsets (topic, partition, next_offset) "
					"SELECT $1, p, 0 FROM unnest($2) AS p "
					"ON CONFLICT (topic, partition) DO NOTHING",
					2, types),
			args, SPI_OK_INSERT, NULL);
}

/*
 * Lock and read the stored next offsets of the given partitions: rows of
 * (partition, next_offset) into *rows; returns how many.
 */
static int
lock_offsets(Datum topic, Datum partitions, SPITupleTable **rows)
{
	static const Oid types[2] = {TEXTOID, INT4ARRAYOID};
	Datum		args[2] = {topic, partitions};

	return (int) sp_sql_plan(sp_sql_prepare(&plan_lock,
											"SELECT partition, next_offset FROM stockpipe.kafka_offsets "
											"WHERE topic = $1 AND partition = ANY ($2) "
											"ORDER BY partition FOR UPDATE",
											2, types),
							 args, SPI_OK_SELECT, rows);
}

static PartState *
find_part(PartState *parts, int nparts, int32 partition)
{
	int			i;

	for (i = 0; i < nparts; i++)
		if (parts[i].partition == partition)
			return &parts[i];
	return NULL;
}

/*
 * Fill parts[] with the partitions of the batch and their locked next
 * offsets; returns how many.
 */
static int
lock_batch_partitions(const SpBatch *batch, PartState *parts)
{
	int			nparts = 0;
	int32	   *ids = palloc(sizeof(int32) * batch->n);
	Datum		topic = CStringGetTextDatum(batch->topic);
	Datum		idarray;
	SPITupleTable *rows;
	int			found;
	uint64		i;

	for (i = 0; i < (uint64) batch->n; i++)
	{
		if (find_part(parts, nparts, batch->msgs[i].partition) == NULL)
		{
			memset(&parts[nparts], 0, sizeof(PartState));
			parts[nparts].partition = batch->msgs[i].partition;
			parts[nparts].max_offset = -1;
			ids[nparts++] = batch->msgs[i].partition;
		}
	}
	int32_array_datum(ids, nparts, &idarray);
	found = lock_offsets(topic, idarray, &rows);
	if (found < nparts)
	{
		init_offsets(topic, idarray);
		found = lock_offsets(topic, idarray, &rows);
		if (found < nparts)
			elog(ERROR, "kafka_offsets rows of topic \"%s\" vanished", batch->topic);
	}
	for (i = 0; i < (uint64) found; i++)
	{
		PartState  *ps = find_part(parts, nparts, sp_col_int32(rows, i, 1));

		ps->next_offset = sp_col_int64(rows, i, 2);
	}
	return nparts;
}

/*
 * One array parameter per message field (fields.h), rows 0..n-1 of which
 * are filled by set_row().
 */
static void
fields_init(Col *cols, Oid *types, const sp_field *fields, int nfields, int n)
{
	int			c;

	for (c = 0; c < nfields; c++)
	{
		col_init(&cols[c], sp_field_type_oid(fields[c].kind), n);
		types[c] = get_array_type(cols[c].type);
	}
}

static void
set_row(Col *cols, int row, const sp_field *fields, int nfields,
		const void *msg, unsigned present)
{
	int			c;

	for (c = 0; c < nfields; c++)
		cols[c].values[row] = sp_field_datum(&fields[c], msg, present,
											 &cols[c].nulls[row]);
}

/*
 * The distinct symbols of a batch's quotes, in the order of their first
 * quote, each with its newest quote and the time of its oldest.
 */
typedef struct SymEntry
{
	char		symbol[SP_SYMBOL_MAX + 1];	/* hash key */
	int			newest;			/* index in batch->msgs */
	int64		first_us;		/* oldest ts of the symbol in the batch */
} SymEntry;

typedef struct SymList
{
	SymEntry  **syms;
	int			n;
} SymList;

static void
batch_symbols(const SpBatch *batch, const int *rows, int n, SymList *list)
{
	HASHCTL		ctl;
	HTAB	   *seen;
	int			i;

	/* the decoder zero-fills the symbol's array: compared as bytes */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = SP_SYMBOL_MAX + 1;
	ctl.entrysize = sizeof(SymEntry);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("stockpipe symbols", Max(n, 16), &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	list->syms = palloc(sizeof(SymEntry *) * Max(n, 1));
	list->n = 0;
	for (i = 0; i < n; i++)
	{
		const sp_quote *q = &batch->msgs[rows[i]].u.q;
		bool		found;
		SymEntry   *e = hash_search(seen, q->symbol, HASH_ENTER, &found);

		if (!found)
		{
			e->newest = rows[i];
			e->first_us = q->ts_us;
			list->syms[list->n++] = e;	/* dynahash never moves an entry */
		}
		else
		{
			/* equal ts: the first wins, as in live_stock */
			if (q->ts_us > batch->msgs[e->newest].u.q.ts_us)
				e->newest = rows[i];
			e->first_us = Min(e->first_us, q->ts_us);
		}
	}
	/* the entries stay until the transaction's memory goes */
}

/* The name of the first field of kind kind (the key: symbol, ts). */
static const char *
quote_column(sp_field_kind kind)
{
	int			c;

	for (c = 0; c < SP_QUOTE_NFIELDS; c++)
		if (sp_quote_fields[c].kind == kind)
			return sp_quote_fields[c].column;
	elog(ERROR, "the quote message has no field of kind %d", (int) kind);
	return NULL;				/* keep compiler quiet */
}

/*
 * INSERT INTO stockpipe.latest_quote (fields..., first_ts) followed by
 * source, a SELECT of those columns in that order; a symbol's row changes
 * only for a newer quote (its columns) or an older first_ts.
 */
static char *
latest_quote_sql(const char *source)
{
	StringInfoData sql;
	const char *sym = quote_identifier(quote_column(SP_FIELD_SYMBOL));
	const char *ts = quote_identifier(quote_column(SP_FIELD_TS));
	int			c;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "INSERT INTO stockpipe.latest_quote AS lq (");
	for (c = 0; c < SP_QUOTE_NFIELDS; c++)
		appendStringInfo(&sql, "%s, ", quote_identifier(sp_quote_fields[c].column));
	appendStringInfo(&sql, "first_ts) %s ON CONFLICT (%s) DO UPDATE SET ", source, sym);
	for (c = 0; c < SP_QUOTE_NFIELDS; c++)
	{
		const char *col = quote_identifier(sp_quote_fields[c].column);

		if (sp_quote_fields[c].kind != SP_FIELD_SYMBOL)
			appendStringInfo(&sql,
							 "%s = CASE WHEN excluded.%s > lq.%s THEN excluded.%s ELSE lq.%s END, ",
							 col, ts, ts, col, col);
	}
	appendStringInfo(&sql,
					 "first_ts = least(lq.first_ts, excluded.first_ts) "
					 "WHERE excluded.%s > lq.%s OR excluded.first_ts < lq.first_ts",
					 ts, ts);
	return sql.data;
}

/*
 * After the COPY stored every quote of the batch: each symbol's newest
 * quote and oldest time into latest_quote.
 */
static void
update_latest_quotes(const SpBatch *batch, const SymList *syms)
{
	Col			cols[SP_QUOTE_NFIELDS + 1];
	Oid			types[SP_QUOTE_NFIELDS + 1];
	Datum		args[SP_QUOTE_NFIELDS + 1];
	int			i;
	int			c;

	fields_init(cols, types, sp_quote_fields, SP_QUOTE_NFIELDS, syms->n);
	col_init(&cols[SP_QUOTE_NFIELDS], TIMESTAMPTZOID, syms->n);
	types[SP_QUOTE_NFIELDS] = TIMESTAMPTZARRAYOID;
	for (i = 0; i < syms->n; i++)
	{
		const sp_quote *q = &batch->msgs[syms->syms[i]->newest].u.q;

		set_row(cols, i, sp_quote_fields, SP_QUOTE_NFIELDS, q, q->present);
		col_set(&cols[SP_QUOTE_NFIELDS], i,
				TimestampTzGetDatum(sp_unix_us_to_timestamptz(syms->syms[i]->first_us)),
				false);
	}
	for (c = 0; c <= SP_QUOTE_NFIELDS; c++)
		args[c] = col_array(&cols[c], syms->n);

	if (plan_latest == NULL)
	{
		StringInfoData source;

		initStringInfo(&source);
		appendStringInfoString(&source, "SELECT * FROM unnest(");
		for (c = 0; c <= SP_QUOTE_NFIELDS; c++)
			appendStringInfo(&source, "%s$%d", c ? ", " : "", c + 1);
		appendStringInfoChar(&source, ')');
		sp_sql_prepare(&plan_latest, latest_quote_sql(source.data),
					   SP_QUOTE_NFIELDS + 1, types);
	}
	sp_sql_plan(plan_latest, args, SPI_OK_INSERT, NULL);
}

/*
 * The batch with INSERT ... ON CONFLICT DO NOTHING (the COPY met a stored
 * (symbol, ts)), and latest_quote from the rows it did insert (RETURNING),
 * so that a quote live_stock ignored changes nothing there either.
 */
static void
insert_quotes(const SpBatch *batch, const int *rows, int n)
{
	Col			cols[SP_QUOTE_NFIELDS];
	Oid			types[SP_QUOTE_NFIELDS];
	Datum		args[SP_QUOTE_NFIELDS];
	int			i;
	int			c;

	fields_init(cols, types, sp_quote_fields, SP_QUOTE_NFIELDS, n);
	for (i = 0; i < n; i++)
	{
		const sp_quote *q = &batch->msgs[rows[i]].u.q;

		set_row(cols, i, sp_quote_fields, SP_QUOTE_NFIELDS, q, q->present);
	}
	for (c = 0; c < SP_QUOTE_NFIELDS; c++)
		args[c] = col_array(&cols[c], n);

	if (plan_live == NULL)
	{
		StringInfoData columns;
		const char *sym = quote_identifier(quote_column(SP_FIELD_SYMBOL));
		const char *ts = quote_identifier(quote_column(SP_FIELD_TS));

		initStringInfo(&columns);
		for (c = 0; c < SP_QUOTE_NFIELDS; c++)
			appendStringInfo(&columns, "%s%s", c ? ", " : "",
							 quote_identifier(sp_quote_fields[c].column));
		/* A duplicate (symbol, ts) keeps the first row. */
		sp_sql_prepare(&plan_live,
					   psprintf("WITH stored AS (%s RETURNING %s) %s",
								sp_fields_insert_sql("stockpipe.live_stock", sp_quote_fields,
													 SP_QUOTE_NFIELDS, false, NULL),
								columns.data,
								latest_quote_sql(psprintf("SELECT DISTINCT ON (%s) %s, "
														  "min(%s) OVER (PARTITION BY %s) "
														  "FROM stored ORDER BY %s, %s DESC",
														  sym, columns.data, ts, sym,
														  sym, ts))),
					   SP_QUOTE_NFIELDS, types);
	}
	sp_sql_plan(plan_live, args, SPI_OK_INSERT, NULL);
}

typedef struct BarKey
{
	char		symbol[SP_SYMBOL_MAX + 1];
	int32		date;
} BarKey;

typedef struct BarEntry
{
	BarKey		key;
	int			slot;
} BarEntry;

/*
 * A later bar of the same (symbol, date) replaces an earlier one, also
 * within one batch: ON CONFLICT DO UPDATE may not touch a row twice, so the
 * batch keeps only the last bar of each day (partition order is Kafka's).
 */
static void
upsert_bars(const SpBatch *batch, const int *rows, int n)
{
	Col			cols[SP_BAR_NFIELDS];
	Oid			types[SP_BAR_NFIELDS];
	Datum		args[SP_BAR_NFIELDS];
	HASHCTL		ctl;
	HTAB	   *seen;
	int			nslots = 0;
	int			i;
	int			c;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(BarKey);
	ctl.entrysize = sizeof(BarEntry);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("stockpipe bars", Max(n, 16), &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	fields_init(cols, types, sp_bar_fields, SP_BAR_NFIELDS, n);
	for (i = 0; i < n; i++)
	{
		const sp_bar *b = &batch->msgs[rows[i]].u.b;
		BarKey		key;
		BarEntry   *e;
		bool		found;

		memset(&key, 0, sizeof(key));
		strlcpy(key.symbol, b->symbol, sizeof(key.symbol));
		key.date = b->date;
		e = hash_search(seen, &key, HASH_ENTER, &found);
		if (!found)
			e->slot = nslots++;
		set_row(cols, e->slot, sp_bar_fields, SP_BAR_NFIELDS, b, b->present);
	}
	for (c = 0; c < SP_BAR_NFIELDS; c++)
		args[c] = col_array(&cols[c], nslots);

	sp_sql_prepare(&plan_daily,
				   sp_fields_insert_sql("stockpipe.historical_stock_data",
										sp_bar_fields, SP_BAR_NFIELDS, true,
										"updated_at = now()"),
				   SP_BAR_NFIELDS, types);
	sp_sql_plan(plan_daily, args, SPI_OK_INSERT, NULL);
	hash_destroy(seen);
}

/*
 * Run the statement of *cache (prepared from sql on first use) with the
 * batch's topic as $1 and rows 0..n-1 of the ncols columns as arrays $2...
 */
static void
run_for_topic(SPIPlanPtr *cache, const char *sql, const Oid *types,
			  const char *topic, Col *cols, int ncols, int n, int expected)
{
	Datum	   *args = palloc(sizeof(Datum) * (ncols + 1));
	int			c;

	args[0] = CStringGetTextDatum(topic);
	for (c = 0; c < ncols; c++)
		args[c + 1] = col_array(&cols[c], n);
	sp_sql_plan(sp_sql_prepare(cache, sql, ncols + 1, types), args, expected, NULL);
}

static void
insert_dead_letters(const SpBatch *batch, const int *rows, int n)
{
	static const Oid types[7] = {TEXTOID, INT4ARRAYOID, INT8ARRAYOID,
	BYTEAARRAYOID, BYTEAARRAYOID, TEXTARRAYOID, INT4ARRAYOID};
	static const Oid elem[6] = {INT4OID, INT8OID, BYTEAOID, BYTEAOID, TEXTOID, INT4OID};
	Col			cols[6];
	int			i;
	int			c;

	for (c = 0; c < 6; c++)
		col_init(&cols[c], elem[c], n);
	for (i = 0; i < n; i++)
	{
		const SpMessage *m = &batch->msgs[rows[i]];
		/* a bad message costs at most max_message_bytes, however large */
		size_t		keep = Min(m->len, (size_t) sp_max_message_bytes);
		size_t		keep_key = Min(m->key_len, (size_t) sp_max_message_bytes);

		col_set(&cols[0], i, Int32GetDatum(m->partition), false);
		col_set(&cols[1], i, Int64GetDatum(m->offset), false);
		col_set(&cols[2], i, m->key ? bytes_datum(m->key, keep_key) : (Datum) 0,
				m->key == NULL);
		col_set(&cols[3], i, m->payload ? bytes_datum(m->payload, keep) : (Datum) 0,
				m->payload == NULL);
		col_set(&cols[4], i, CStringGetTextDatum(m->err), false);
		col_set(&cols[5], i, Int32GetDatum((int32) Min(m->len, (size_t) PG_INT32_MAX)), false);
	}
	run_for_topic(&plan_dead,
				  "INSERT INTO stockpipe.dead_letter "
				  "(topic, partition, kafka_offset, key, payload, error, payload_bytes) "
				  "SELECT $1, * FROM unnest($2, $3, $4, $5, $6, $7)",
				  types, batch->topic, cols, 6, n, SPI_OK_INSERT);
}

static void
advance_offsets(const SpBatch *batch, const PartState *parts, int nparts)
{
	static const Oid types[7] = {TEXTOID, INT4ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
	static const Oid elem[6] = {INT4OID, INT8OID, INT8OID, INT8OID, INT8OID,
	TIMESTAMPTZOID};
	Col			cols[6];
	int			n = 0;
	int			i;
	int			c;

	for (c = 0; c < 6; c++)
		col_init(&cols[c], elem[c], nparts);
	for (i = 0; i < nparts; i++)
	{
		const PartState *ps = &parts[i];

		if (ps->messages == 0)
			continue;
		col_set(&cols[0], n, Int32GetDatum(ps->partition), false);
		col_set(&cols[1], n, Int64GetDatum(ps->max_offset + 1), false);
		col_set(&cols[2], n, Int64GetDatum(ps->messages), false);
		col_set(&cols[3], n, Int64GetDatum(ps->rows), false);
		col_set(&cols[4], n, Int64GetDatum(ps->dead), false);
		col_set(&cols[5], n, TimestampTzGetDatum(ps->last_ts), ps->last_ts == 0);
		n++;
	}
	if (n == 0)
		return;
	run_for_topic(&plan_advance,
				  "UPDATE stockpipe.kafka_offsets o SET "
				  "next_offset = u.next_offset, messages = o.messages + u.messages, "
				  "rows_stored = o.rows_stored + u.rows, "
				  "dead_letters = o.dead_letters + u.dead, "
				  "last_message_at = greatest(o.last_message_at, u.last_at), "
				  "updated_at = now() "
				  "FROM unnest($2, $3, $4, $5, $6, $7) "
				  "AS u(partition, next_offset, messages, rows, dead, last_at) "
				  "WHERE o.topic = $1 AND o.partition = u.partition",
				  types, batch->topic, cols, 6, n, SPI_OK_UPDATE);
}

/*
 * Tell listeners (dashboards) which symbols got new quotes.  The payload is
 * a comma-separated list; a long list is split over several notifications.
 */
static void
notify_symbols(const SymList *syms)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < syms->n; i++)
	{
		const char *symbol = syms->syms[i]->symbol;

		if (buf.len > 0 && buf.len + 1 + strlen(symbol) > SP_NOTIFY_MAX)
		{
			Async_Notify("stockpipe_live", buf.data);
			resetStringInfo(&buf);
		}
		if (buf.len > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, symbol);
	}
	if (buf.len > 0)
		Async_Notify("stockpipe_live", buf.data);
}

void
sp_store_batch(const SpBatch *batch, SpBatchResult *result)
{
	PartState  *parts;
	int		   *rows;
	int		   *dead;
	SymList		syms = {NULL, 0};
	int			nparts;
	int			nrows = 0;
	int			ndead = 0;
	int			i;

	memset(result, 0, sizeof(*result));
	if (batch->n == 0)
		return;

	sp_tx_begin(batch->kind == SP_WORKER_LIVE ? "stockpipe: storing live quotes"
			 : "stockpipe: storing daily bars");

	/*
	 * A live batch does not wait for its WAL flush (SET LOCAL
	 * synchronous_commit = off) unless stockpipe.live_synchronous_commit is
	 * on.  Exactly once still holds: the rows and their offsets are in this
	 * one transaction, so a crash loses both and the messages are read
	 * again.  Any transaction that does wait (an alert event, a job run)
	 * flushes the WAL before its own, so nothing durable rests on a quote
	 * that could still be lost.  At 1,000 quotes/s a batch is a few quotes
	 * and the flush was 15 % of the worker's CPU (bench/ingest).
	 */
	if (batch->kind == SP_WORKER_LIVE && !sp_live_synchronous_commit)
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	parts = palloc(sizeof(PartState) * batch->n);
	rows = palloc(sizeof(int) * batch->n);
	dead = palloc(sizeof(int) * batch->n);
	nparts = lock_batch_partitions(batch, parts);

	for (i = 0; i < batch->n; i++)
	{
		const SpMessage *m = &batch->msgs[i];
		PartState  *ps = find_part(parts, nparts, m->partition);

		if (m->offset < ps->next_offset)
		{
			result->skipped++;
			continue;
		}
		if (m->offset > ps->next_offset && ps->max_offset < 0)
			ereport(LOG,
					(errmsg("stockpipe: %s [%d]: offsets " INT64_FORMAT " to " INT64_FORMAT " were never received",
							batch->topic, m->partition, ps->next_offset, m->offset - 1),
					 errdetail("Kafka no longer had them (retention or compaction) or they were skipped.")));
		ps->messages++;
		ps->max_offset = Max(ps->max_offset, m->offset);
		if (m->kafka_ts > ps->last_ts)
			ps->last_ts = m->kafka_ts;
		if (m->ok)
		{
			rows[nrows++] = i;
			ps->rows++;
		}
		else
		{
			dead[ndead++] = i;
			ps->dead++;
		}
	}

	/*
	 * COPY is fastest; a duplicate (symbol, ts) falls back to ON CONFLICT.
	 * Either way latest_quote follows in this transaction.
	 */
	if (nrows > 0 && batch->kind == SP_WORKER_LIVE)
	{
		batch_symbols(batch, rows, nrows, &syms);
		if (sp_copy_quotes(batch, rows, nrows))
			update_latest_quotes(batch, &syms);
		else
		{
			ereport(DEBUG1,
					(errmsg("stockpipe: batch has a quote already stored; inserting it with ON CONFLICT DO NOTHING")));
			insert_quotes(batch, rows, nrows);
		}
	}
	else if (nrows > 0)
		upsert_bars(batch, rows, nrows);
	if (ndead > 0)
		insert_dead_letters(batch, dead, ndead);
	advance_offsets(batch, parts, nparts);
	if (nrows > 0 && batch->kind == SP_WORKER_LIVE)
		notify_symbols(&syms);
	sp_tx_end();

	result->stored = nrows;
	result->dead = ndead;
}

/* Most partitions created in one transaction: bounds the locks it holds. */
#define SP_PARTITIONS_PER_TX 16

/* Whether live_stock has the partition of this day (a syscache lookup). */
static bool
partition_exists(Oid nsp, int32 day)
{
	char		name[NAMEDATALEN];
	struct pg_tm tm;

	j2date(day + UNIX_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	snprintf(name, sizeof(name), "live_stock_p%04d%02d%02d",
			 tm.tm_year, tm.tm_mon, tm.tm_mday);
	return OidIsValid(get_relname_relid(name, nsp));
}

/* The distinct UTC days of the batch's quotes, into days; returns how many. */
static int
batch_days(const SpBatch *batch, int32 *days)
{
	int			ndays = 0;
	int			i;

	for (i = 0; i < batch->n; i++)
	{
		const SpMessage *m = &batch->msgs[i];
		int64		d;
		int			j;

		if (!m->ok)
			continue;
		d = m->u.q.ts_us / USECS_PER_DAY;
		if (m->u.q.ts_us < 0 && m->u.q.ts_us % USECS_PER_DAY != 0)
			d--;
		for (j = 0; j < ndays && days[j] != (int32) d; j++)
			;
		if (j == ndays)
			days[ndays++] = (int32) d;
	}
	return ndays;
}

static void
create_partitions(const int32 *days, int ndays)
{
	static const Oid types[1] = {DATEARRAYOID};
	Datum	   *d;
	Datum		args[1];
	int			i;

	sp_tx_begin("stockpipe: creating live_stock partitions");
	d = palloc(sizeof(Datum) * ndays);
	for (i = 0; i < ndays; i++)
		d[i] = DateADTGetDatum(sp_unix_days_to_date(days[i]));
	args[0] = PointerGetDatum(construct_array(d, ndays, DATEOID, 4, true, TYPALIGN_INT));
	sp_sql_plan(sp_sql_prepare(&plan_partitions,
					"SELECT stockpipe.ensure_live_partitions($1)", 1, types),
			args, SPI_OK_SELECT, NULL);
	sp_tx_end();
}

/*
 * Make sure live_stock has a partition for every day of the batch's quotes,
 * in short transactions of their own (at most SP_PARTITIONS_PER_TX days
 * each) so that DDL locks are not held while the batch is written.  The
 * days are bounded by the quotes' time window (message.c).  Nothing is
 * remembered between batches: a partition the upkeep job dropped is
 * simply made again if a quote still needs it.
 */
void
sp_ensure_partitions(const SpBatch *batch)
{
	int32	   *days;
	int32	   *missing;
	int			ndays;
	int			nmissing = 0;
	int			i;
	Oid			nsp;
	MemoryContext cxt;

	if (batch->kind != SP_WORKER_LIVE || batch->n == 0)
		return;
	cxt = CurrentMemoryContext;
	days = palloc(sizeof(int32) * batch->n);
	missing = palloc(sizeof(int32) * batch->n);
	ndays = batch_days(batch, days);

	StartTransactionCommand();
	nsp = get_namespace_oid("stockpipe", false);
	for (i = 0; i < ndays; i++)
		if (!partition_exists(nsp, days[i]))
			missing[nmissing++] = days[i];
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	for (i = 0; i < nmissing; i += SP_PARTITIONS_PER_TX)
		create_partitions(missing + i, Min(SP_PARTITIONS_PER_TX, nmissing - i));
	pfree(days);
	pfree(missing);
}

/*
 * Read where to resume each assigned partition: the stored next offset,
 * created as 0 (the beginning) for a partition never seen before.
 */
void
sp_load_offsets(const char *topic, const int32 *partitions, int64 *offsets, int n)
{
	Datum		topic_d;
	Datum		ids;
	SPITupleTable *rows;
	uint64		nrows;
	uint64		i;
	int			j;

	sp_tx_begin("stockpipe: reading stored Kafka offsets");
	topic_d = CStringGetTextDatum(topic);
	int32_array_datum(partitions, n, &ids);
	init_offsets(topic_d, ids);
	nrows = lock_offsets(topic_d, ids, &rows);
	for (j = 0; j < n; j++)
		offsets[j] = 0;
	for (i = 0; i < nrows; i++)
	{
		int32		p = sp_col_int32(rows, i, 1);
		int64		next = sp_col_int64(rows, i, 2);

		for (j = 0; j < n; j++)
			if (partitions[j] == p)
				offsets[j] = next;
	}
	sp_tx_end();
}
