/*-------------------------------------------------------------------------
 *
 * decode_sql.c
 *	  The message contract callable from SQL: decode_quote(), decode_bar()
 *	  and message_error().
 *
 * They run the very decoder the consumer workers run (contract.c), so what
 * a test or a user sees here is what ingestion does with the same bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/xact.h"
#include "contract.h"
#include "fields_pg.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "writer.h"

PG_FUNCTION_INFO_V1(stockpipe_decode_quote);
PG_FUNCTION_INFO_V1(stockpipe_decode_bar);
PG_FUNCTION_INFO_V1(stockpipe_message_error);

static void
report_bad_message(const char *topic_kind, const char *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid %s message: %s", topic_kind, err),
			 errhint("See the Kafka message contract in the stockpipe README.")));
}

/*
 * The row of a decoded message: its fields (fields.h) in column order, then
 * n_extra columns the message does not carry, set from extra.
 */
static Datum
message_row(FunctionCallInfo fcinfo, const sp_field *fields, int n,
			const void *msg, unsigned present, const Datum *extra, int n_extra)
{
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *nulls;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != n + n_extra)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the table has %d columns where the message contract has %d",
						tupdesc->natts, n + n_extra),
				 errhint("Run ALTER EXTENSION stockpipe UPDATE.")));
	values = palloc(sizeof(Datum) * (n + n_extra));
	nulls = palloc0(sizeof(bool) * (n + n_extra));
	for (i = 0; i < n; i++)
		values[i] = sp_field_datum(&fields[i], msg, present, &nulls[i]);
	for (i = 0; i < n_extra; i++)
		values[n + i] = extra[i];
	tupdesc = BlessTupleDesc(tupdesc);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * Decode payload as the consumer of kind would, into m; the time bounds
 * are checked against the statement's start, so that one statement gives
 * one answer.
 */
static bool
decode_as_consumer(SpWorkerKind kind, bytea *payload, SpMessage *m)
{
	memset(m, 0, sizeof(*m));
	m->payload = VARDATA_ANY(payload);
	m->len = VARSIZE_ANY_EXHDR(payload);
	sp_decode_message(kind, m, GetCurrentStatementStartTimestamp());
	return m->ok;
}

Datum
stockpipe_decode_quote(PG_FUNCTION_ARGS)
{
	bytea	   *payload = PG_GETARG_BYTEA_PP(0);
	SpMessage	m;

	if (!decode_as_consumer(SP_WORKER_LIVE, payload, &m))
		report_bad_message("quote", m.err);
	PG_RETURN_DATUM(message_row(fcinfo, sp_quote_fields, SP_QUOTE_NFIELDS,
								&m.u.q, m.u.q.present, NULL, 0));
}

Datum
stockpipe_decode_bar(PG_FUNCTION_ARGS)
{
	bytea	   *payload = PG_GETARG_BYTEA_PP(0);
	SpMessage	m;
	Datum		updated_at = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	if (!decode_as_consumer(SP_WORKER_DAILY, payload, &m))
		report_bad_message("daily bar", m.err);
	PG_RETURN_DATUM(message_row(fcinfo, sp_bar_fields, SP_BAR_NFIELDS,
								&m.u.b, m.u.b.present, &updated_at, 1));
}

Datum
stockpipe_message_error(PG_FUNCTION_ARGS)
{
	char	   *topic = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bytea	   *payload = PG_GETARG_BYTEA_PP(1);
	SpMessage	m;
	bool		ok;

	if (strcmp(topic, sp_live_topic) == 0)
		ok = decode_as_consumer(SP_WORKER_LIVE, payload, &m);
	else if (strcmp(topic, sp_daily_topic) == 0)
		ok = decode_as_consumer(SP_WORKER_DAILY, payload, &m);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a stockpipe topic", topic),
				 errdetail("The live topic is \"%s\" and the daily topic is \"%s\".",
						   sp_live_topic, sp_daily_topic),
				 errhint("Set stockpipe.live_topic or stockpipe.daily_topic to consume another topic.")));
	if (ok)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(m.err));
}
