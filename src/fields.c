/*-------------------------------------------------------------------------
 *
 * fields.c
 *	  The message fields (contract/fields.h) as PostgreSQL values: their
 *	  types, their Datums, the statements that store them, and
 *	  stockpipe.message_fields() for the regression test that checks the
 *	  list against the tables.
 *
 * The COPY path (bulk.c), the INSERT path (writer.c) and decode_quote() /
 * decode_bar() (decode_sql.c) all go through here, so the row of a quote or
 * a bar is spelled once, in fields.h.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "catalog/pg_type.h"
#include "fields_pg.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "writer.h"

PG_FUNCTION_INFO_V1(stockpipe_message_fields);

Oid
sp_field_type_oid(sp_field_kind kind)
{
	switch (kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
		case SP_FIELD_SESSION:
			return TEXTOID;
		case SP_FIELD_TS:
			return TIMESTAMPTZOID;
		case SP_FIELD_DATE:
			return DATEOID;
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
			return FLOAT8OID;
		case SP_FIELD_VOLUME:
			return INT8OID;
	}
	elog(ERROR, "unknown message field kind %d", (int) kind);
	return InvalidOid;			/* keep compiler quiet */
}

/*
 * The value of field f of the decoded message msg (an sp_quote or sp_bar),
 * NULL when the message does not carry it.  Text is palloc'd.
 */
Datum
sp_field_datum(const sp_field *f, const void *msg, unsigned present,
			   bool *isnull)
{
	const char *v = (const char *) msg + f->offset;

	*isnull = !sp_field_present(f, present);
	if (*isnull)
		return (Datum) 0;
	switch (f->kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
		case SP_FIELD_SESSION:
			return CStringGetTextDatum(v);
		case SP_FIELD_TS:
			return TimestampTzGetDatum(sp_unix_us_to_timestamptz(*(const int64 *) v));
		case SP_FIELD_DATE:
			return DateADTGetDatum(sp_unix_days_to_date(*(const int32 *) v));
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
			return Float8GetDatum(*(const double *) v);
		case SP_FIELD_VOLUME:
			return Int64GetDatum(*(const int64 *) v);
	}
	elog(ERROR, "unknown message field kind %d", (int) f->kind);
	return (Datum) 0;			/* keep compiler quiet */
}

/* The key of the table: the symbol and the time or date. */
static bool
is_key(const sp_field *f)
{
	return f->kind == SP_FIELD_SYMBOL || f->kind == SP_FIELD_TS ||
		f->kind == SP_FIELD_DATE;
}

static void
append_columns(StringInfo sql, const sp_field *fields, int n, bool key_only)
{
	bool		first = true;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (key_only && !is_key(&fields[i]))
			continue;
		appendStringInfo(sql, "%s%s", first ? "" : ", ",
						 quote_identifier(fields[i].column));
		first = false;
	}
}

/*
 * INSERT INTO table (columns) SELECT * FROM unnest($1, ..., $n) with one
 * array parameter per field.  On a key that is already stored, the first
 * row is kept (live quotes) or the new one replaces it (daily bars), and
 * the replacement also sets extra_set (e.g. "updated_at = now()").
 */
char *
sp_fields_insert_sql(const char *table, const sp_field *fields, int n,
					 bool replace, const char *extra_set)
{
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (", table);
	append_columns(&sql, fields, n, false);
	appendStringInfoString(&sql, ") SELECT * FROM unnest(");
	for (i = 0; i < n; i++)
		appendStringInfo(&sql, "%s$%d", i ? ", " : "", i + 1);
	appendStringInfoString(&sql, ") ON CONFLICT (");
	append_columns(&sql, fields, n, true);
	if (!replace)
	{
		appendStringInfoString(&sql, ") DO NOTHING");
		return sql.data;
	}
	appendStringInfoString(&sql, ") DO UPDATE SET ");
	for (i = 0; i < n; i++)
	{
		const char *c = quote_identifier(fields[i].column);

		if (!is_key(&fields[i]))
			appendStringInfo(&sql, "%s = excluded.%s, ", c, c);
	}
	appendStringInfoString(&sql, extra_set);
	return sql.data;
}

/*
 * stockpipe.message_fields(): the list of fields.h, for the regression
 * test that compares it with the tables' columns.
 */
Datum
stockpipe_message_fields(PG_FUNCTION_ARGS)
{
	static const struct
	{
		const char *message;
		const char *table;
		const sp_field *fields;
		int			n;
	}			lists[] = {
		{"quote", "live_stock", sp_quote_fields, SP_QUOTE_NFIELDS},
		{"bar", "historical_stock_data", sp_bar_fields, SP_BAR_NFIELDS},
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			l;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (l = 0; l < lengthof(lists); l++)
	{
		for (i = 0; i < lists[l].n; i++)
		{
			const sp_field *f = &lists[l].fields[i];
			Datum		values[7];
			bool		nulls[7] = {0};

			values[0] = CStringGetTextDatum(lists[l].message);
			values[1] = CStringGetTextDatum(lists[l].table);
			values[2] = Int32GetDatum(i + 1);
			values[3] = CStringGetTextDatum(f->column);
			values[4] = CStringGetTextDatum(f->key);
			values[5] = CStringGetTextDatum(sp_field_sql_type(f->kind));
			values[6] = BoolGetDatum(f->bit == 0);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
