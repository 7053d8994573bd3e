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

static Datum
opt_float(double v, unsigned present, unsigned bit, bool *isnull)
{
	*isnull = (present & bit) == 0;
	return Float8GetDatum(v);
}

static Datum
opt_int64(int64 v, unsigned present, unsigned bit, bool *isnull)
{
	*isnull = (present & bit) == 0;
	return Int64GetDatum(v);
}

static Datum
opt_text(const char *v, unsigned present, unsigned bit, bool *isnull)
{
	*isnull = (present & bit) == 0;
	return *isnull ? (Datum) 0 : CStringGetTextDatum(v);
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
	TupleDesc	tupdesc;
	SpMessage	m;
	const sp_quote *q = &m.u.q;
	Datum		values[10];
	bool		nulls[10] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!decode_as_consumer(SP_WORKER_LIVE, payload, &m))
		report_bad_message("quote", m.err);

	values[0] = CStringGetTextDatum(q->symbol);
	values[1] = TimestampTzGetDatum(sp_unix_us_to_timestamptz(q->ts_us));
	values[2] = Float8GetDatum(q->price);
	values[3] = opt_int64(q->volume, q->present, SP_HAS_VOLUME, &nulls[3]);
	values[4] = opt_float(q->open, q->present, SP_HAS_OPEN, &nulls[4]);
	values[5] = opt_float(q->high, q->present, SP_HAS_HIGH, &nulls[5]);
	values[6] = opt_float(q->low, q->present, SP_HAS_LOW, &nulls[6]);
	values[7] = opt_float(q->prev_close, q->present, SP_HAS_PREV_CLOSE, &nulls[7]);
	values[8] = opt_text(q->currency, q->present, SP_HAS_CURRENCY, &nulls[8]);
	values[9] = opt_text(q->source, q->present, SP_HAS_SOURCE, &nulls[9]);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

Datum
stockpipe_decode_bar(PG_FUNCTION_ARGS)
{
	bytea	   *payload = PG_GETARG_BYTEA_PP(0);
	TupleDesc	tupdesc;
	SpMessage	m;
	const sp_bar *b = &m.u.b;
	Datum		values[9];
	bool		nulls[9] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!decode_as_consumer(SP_WORKER_DAILY, payload, &m))
		report_bad_message("daily bar", m.err);

	values[0] = CStringGetTextDatum(b->symbol);
	values[1] = DateADTGetDatum(sp_unix_days_to_date(b->date));
	values[2] = opt_float(b->open, b->present, SP_HAS_OPEN, &nulls[2]);
	values[3] = opt_float(b->high, b->present, SP_HAS_HIGH, &nulls[3]);
	values[4] = opt_float(b->low, b->present, SP_HAS_LOW, &nulls[4]);
	values[5] = Float8GetDatum(b->close);
	values[6] = opt_float(b->adj_close, b->present, SP_HAS_ADJ_CLOSE, &nulls[6]);
	values[7] = opt_int64(b->volume, b->present, SP_HAS_VOLUME, &nulls[7]);
	values[8] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
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
