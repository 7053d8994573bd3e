/*-------------------------------------------------------------------------
 *
 * bulk.c
 *	  Writing a batch of live quotes with PostgreSQL's own COPY machinery.
 *
 * COPY FROM inserts many rows per heap page and WAL record (multi-insert),
 * which an INSERT ... SELECT cannot, so the batch is serialised in COPY's
 * binary format in memory and fed to BeginCopyFrom()/CopyFrom() through a
 * data-source callback: no parsing of text, no client round trip.
 *
 * COPY has no ON CONFLICT.  A duplicate (symbol, ts) is rare (a quote sent
 * twice), so the COPY runs in a subtransaction; if it hits a unique
 * violation, the subtransaction is rolled back and the caller writes the
 * batch with INSERT ... ON CONFLICT DO NOTHING instead.  Any other error is
 * re-thrown and ends the batch's transaction as usual.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/copy.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "port/pg_bswap.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "writer.h"

/* The serialised batch being read by COPY; one COPY at a time per process. */
static StringInfo copy_buf = NULL;
static int	copy_pos = 0;

static int
copy_read(void *outbuf, int minread, int maxread)
{
	int			n = Min(maxread, copy_buf->len - copy_pos);

	memcpy(outbuf, copy_buf->data + copy_pos, n);
	copy_pos += n;
	return n;
}

static void
put_int16(StringInfo buf, int16 v)
{
	uint16		n = pg_hton16((uint16) v);

	appendBinaryStringInfo(buf, (char *) &n, 2);
}

static void
put_int32(StringInfo buf, int32 v)
{
	uint32		n = pg_hton32((uint32) v);

	appendBinaryStringInfo(buf, (char *) &n, 4);
}

static void
put_int64_field(StringInfo buf, int64 v)
{
	uint64		n = pg_hton64((uint64) v);

	put_int32(buf, 8);
	appendBinaryStringInfo(buf, (char *) &n, 8);
}

static void
put_float8_field(StringInfo buf, double v)
{
	union
	{
		double		d;
		int64		i;
	}			u;

	u.d = v;
	put_int64_field(buf, u.i);
}

static void
put_text_field(StringInfo buf, const char *s)
{
	int			len = strlen(s);

	put_int32(buf, len);
	appendBinaryStringInfo(buf, s, len);
}

/* One field of a message as a COPY binary field: length, then the value. */
static void
put_field(StringInfo buf, const sp_field *f, const void *msg, unsigned present)
{
	const char *v = (const char *) msg + f->offset;

	if (!sp_field_present(f, present))
	{
		put_int32(buf, -1);
		return;
	}
	switch (f->kind)
	{
		case SP_FIELD_SYMBOL:
		case SP_FIELD_TEXT:
		case SP_FIELD_SESSION:
			put_text_field(buf, v);
			break;
		case SP_FIELD_TS:
			put_int64_field(buf, sp_unix_us_to_timestamptz(*(const int64 *) v));
			break;
		case SP_FIELD_DATE:
			put_int32(buf, 4);
			put_int32(buf, sp_unix_days_to_date(*(const int32 *) v));
			break;
		case SP_FIELD_PRICE:
		case SP_FIELD_AMOUNT:
			put_float8_field(buf, *(const double *) v);
			break;
		case SP_FIELD_VOLUME:
			put_int64_field(buf, *(const int64 *) v);
			break;
	}
}

/* The rows in COPY's binary format, one field per column (fields.h). */
static void
serialise_quotes(StringInfo buf, const SpBatch *batch, const int *rows, int n)
{
	static const char signature[11] = "PGCOPY\n\377\r\n\0";
	int			i;
	int			c;

	appendBinaryStringInfo(buf, signature, sizeof(signature));
	put_int32(buf, 0);			/* flags */
	put_int32(buf, 0);			/* header extension length */
	for (i = 0; i < n; i++)
	{
		const sp_quote *q = &batch->msgs[rows[i]].u.q;

		put_int16(buf, SP_QUOTE_NFIELDS);
		for (c = 0; c < SP_QUOTE_NFIELDS; c++)
			put_field(buf, &sp_quote_fields[c], q, q->present);
	}
	put_int16(buf, -1);			/* trailer */
}

static void
copy_into_live_stock(void)
{
	Oid			nsp = get_namespace_oid("stockpipe", false);
	Oid			relid = get_relname_relid("live_stock", nsp);
	ParseState *pstate = make_parsestate(NULL);
	List	   *attnames = NIL;
	Relation	rel;
	CopyFromState cstate;
	int			i;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table stockpipe.live_stock does not exist")));
	for (i = 0; i < SP_QUOTE_NFIELDS; i++)
		attnames = lappend(attnames, makeString(pstrdup(sp_quote_fields[i].column)));

	rel = table_open(relid, RowExclusiveLock);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_read, attnames,
						   list_make1(makeDefElem("format", (Node *) makeString("binary"), -1)));
	(void) CopyFrom(cstate);
	EndCopyFrom(cstate);
	table_close(rel, NoLock);
	free_parsestate(pstate);
}

/*
 * COPY the given quotes into live_stock.  Returns false, having written
 * nothing, if a quote's (symbol, ts) is already stored or appears twice.
 */
bool
sp_copy_quotes(const SpBatch *batch, const int *rows, int n)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool duplicate = false;

	copy_buf = makeStringInfo();
	copy_pos = 0;
	serialise_quotes(copy_buf, batch, rows, n);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		copy_into_live_stock();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
		duplicate = true;
	}
	PG_END_TRY();

	pfree(copy_buf->data);
	pfree(copy_buf);
	copy_buf = NULL;
	return !duplicate;
}
