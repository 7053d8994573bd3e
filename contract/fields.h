/*-------------------------------------------------------------------------
 *
 * fields.h
 *	  The fields of the two messages and the table columns they fill: the
 *	  one place that spells the quote row and the bar row.
 *
 * Each message field is one table column, in the table's column order, so
 * one list gives the decoder its checks, the encoder its output, the
 * consumers' COPY and INSERT their columns and sql/ingest.sql's tables their
 * shape (checked by the regression test message_fields, which compares this
 * list with pg_attribute through stockpipe.message_fields()).
 *
 * To add a field: add it to the struct in contract.h, to the list here, and
 * the column to the table in sql/ingest.sql and an upgrade script; see
 * CONTRIBUTING.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_FIELDS_H
#define STOCKPIPE_FIELDS_H

#include <stddef.h>

/*
 * What a field holds, which decides how it is checked, written and stored.
 * The four kinds before SP_FIELD_AMOUNT are required in every message.
 */
typedef enum sp_field_kind
{
	SP_FIELD_SYMBOL,			/* text: 1..SP_SYMBOL_MAX of A-Z 0-9 . - ^ = */
	SP_FIELD_TS,				/* timestamptz: RFC 3339 or epoch seconds */
	SP_FIELD_DATE,				/* date: YYYY-MM-DD */
	SP_FIELD_PRICE,				/* double precision: finite, > 0 */
	SP_FIELD_AMOUNT,			/* double precision: finite, >= 0; optional */
	SP_FIELD_VOLUME,			/* bigint: integral, 0 <= v < 2^63; optional */
	SP_FIELD_TEXT,				/* text: 1..max printable ASCII; optional */
	SP_FIELD_SESSION			/* text: "pre", "regular" or "post"; optional */
} sp_field_kind;

typedef struct sp_field
{
	const char *column;			/* the table column */
	const char *key;			/* the JSON member */
	sp_field_kind kind;
	unsigned	bit;			/* SP_HAS_* bit; 0 for a required field */
	size_t		offset;			/* of the value in sp_quote / sp_bar */
	size_t		max;			/* SP_FIELD_TEXT: most characters */
} sp_field;

/*
 * The lists.  X(column, JSON key, struct member, kind, SP_HAS_ bit, max):
 * table column order, which is also the order the encoder writes and the
 * decoder checks (the first bad field is the one an error names).
 */
#define SP_QUOTE_FIELDS(X) \
	X(symbol,		"symbol",		symbol,		SYMBOL, 0,					SP_SYMBOL_MAX) \
	X(ts,			"ts",			ts_us,		TS,		0,					0) \
	X(price,		"price",		price,		PRICE,	0,					0) \
	X(volume,		"volume",		volume,		VOLUME, SP_HAS_VOLUME,		0) \
	X(open,			"open",			open,		AMOUNT, SP_HAS_OPEN,		0) \
	X(high,			"high",			high,		AMOUNT, SP_HAS_HIGH,		0) \
	X(low,			"low",			low,		AMOUNT, SP_HAS_LOW,			0) \
	X(prev_close,	"prev_close",	prev_close, AMOUNT, SP_HAS_PREV_CLOSE,	0) \
	X(currency,		"currency",		currency,	TEXT,	SP_HAS_CURRENCY,	SP_CURRENCY_MAX) \
	X(source,		"source",		source,		TEXT,	SP_HAS_SOURCE,		SP_SOURCE_MAX) \
	X(exchange_tz,	"exchange_tz",	exchange_tz, TEXT,	SP_HAS_EXCHANGE_TZ, SP_TZ_MAX) \
	X(session,		"session",		session,	SESSION, SP_HAS_SESSION,	SP_SESSION_MAX)

#define SP_BAR_FIELDS(X) \
	X(symbol,		"symbol",		symbol,		SYMBOL, 0,					SP_SYMBOL_MAX) \
	X(trade_date,	"date",			date,		DATE,	0,					0) \
	X(open,			"open",			open,		AMOUNT, SP_HAS_OPEN,		0) \
	X(high,			"high",			high,		AMOUNT, SP_HAS_HIGH,		0) \
	X(low,			"low",			low,		AMOUNT, SP_HAS_LOW,			0) \
	X(close,		"close",		close,		PRICE,	0,					0) \
	X(adj_close,	"adj_close",	adj_close,	AMOUNT, SP_HAS_ADJ_CLOSE,	0) \
	X(volume,		"volume",		volume,		VOLUME, SP_HAS_VOLUME,		0)

#define SP_COUNT_FIELD(col, key, member, kind, bit, max) +1
#define SP_QUOTE_NFIELDS (0 SP_QUOTE_FIELDS(SP_COUNT_FIELD))
#define SP_BAR_NFIELDS (0 SP_BAR_FIELDS(SP_COUNT_FIELD))

extern const sp_field sp_quote_fields[];
extern const sp_field sp_bar_fields[];

/* The column's type as PostgreSQL's format_type() names it. */
extern const char *sp_field_sql_type(sp_field_kind kind);

/* Whether a message of this field list carries field f (required or set). */
static inline int
sp_field_present(const sp_field *f, unsigned present)
{
	return f->bit == 0 || (present & f->bit) != 0;
}

#endif							/* STOCKPIPE_FIELDS_H */
