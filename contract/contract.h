/*-------------------------------------------------------------------------
 *
 * contract.h
 *	  The Kafka message contract (see DESIGN.md): one JSON object per
 *	  message, `stock_live` quotes and `stock_daily` bars; decoding
 *	  (contract.c) and encoding (encode.c).
 *
 * Pure C11, no PostgreSQL and no I/O: one library that the extension, the
 * producer, the dashboard, the unit tests and the fuzzers all link, so
 * there is exactly one implementation of the contract.  Every field
 * the decoder accepts fits the table columns it is written to, so a decoded
 * message can never make the batch INSERT fail.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_CONTRACT_H
#define STOCKPIPE_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_SYMBOL_MAX	20		/* characters */
#define SP_CURRENCY_MAX 16
#define SP_SOURCE_MAX	32
#define SP_TZ_MAX		64		/* an IANA time zone name */
#define SP_SESSION_MAX	7		/* "pre", "regular", "post" */
#define SP_ERR_MAX		200		/* bytes of an error text, NUL included */

/* Optional-field bits of sp_quote.present and sp_bar.present */
#define SP_HAS_VOLUME		(1u << 0)
#define SP_HAS_OPEN			(1u << 1)
#define SP_HAS_HIGH			(1u << 2)
#define SP_HAS_LOW			(1u << 3)
#define SP_HAS_PREV_CLOSE	(1u << 4)
#define SP_HAS_CURRENCY		(1u << 5)
#define SP_HAS_SOURCE		(1u << 6)
#define SP_HAS_ADJ_CLOSE	(1u << 7)
#define SP_HAS_EXCHANGE_TZ	(1u << 8)
#define SP_HAS_SESSION		(1u << 9)

/* One stock_live message. */
typedef struct sp_quote
{
	char		symbol[SP_SYMBOL_MAX + 1];
	int64_t		ts_us;			/* microseconds since 1970-01-01 00:00 UTC */
	double		price;
	int64_t		volume;
	double		open;
	double		high;
	double		low;
	double		prev_close;
	char		currency[SP_CURRENCY_MAX + 1];
	char		source[SP_SOURCE_MAX + 1];
	char		exchange_tz[SP_TZ_MAX + 1];	/* the exchange's time zone */
	char		session[SP_SESSION_MAX + 1];	/* trading period of ts */
	unsigned	present;		/* SP_HAS_* bits */
} sp_quote;

/* One stock_daily message. */
typedef struct sp_bar
{
	char		symbol[SP_SYMBOL_MAX + 1];
	int32_t		date;			/* days since 1970-01-01 */
	double		open;
	double		high;
	double		low;
	double		close;
	double		adj_close;
	int64_t		volume;
	unsigned	present;		/* SP_HAS_* bits */
} sp_bar;

/*
 * Decode a payload of len bytes (not NUL-terminated).  On success return true
 * and fill *out; on failure return false and write a one-line, human-readable
 * reason into err (at most SP_ERR_MAX bytes), naming the field at fault.
 */
extern bool sp_decode_quote(const char *buf, size_t len, sp_quote *out,
							char *err);
extern bool sp_decode_bar(const char *buf, size_t len, sp_bar *out, char *err);

/*
 * The same decoders reading every payload through cJSON's tree, never the
 * fast path for flat objects: for the differential tests, which check that
 * both give the same answer to every payload.
 */
extern bool sp_decode_quote_tree(const char *buf, size_t len, sp_quote *out,
								 char *err);
extern bool sp_decode_bar_tree(const char *buf, size_t len, sp_bar *out,
							   char *err);

/*
 * Write a quote or a bar as its Kafka message into buf (size bytes, NUL
 * terminated).  Returns the message's length, or -1 with the reason in err
 * when the consumers would not store it exactly as given: the encoder
 * decodes what it wrote with the decoders above and compares, so what the
 * producer publishes is, by construction, what the consumers accept.
 * SP_MESSAGE_MAX bytes suffice for any message the consumers accept.
 */
#define SP_MESSAGE_MAX	512
extern int	sp_encode_quote(const sp_quote *q, char *buf, size_t size, char *err);
extern int	sp_encode_bar(const sp_bar *b, char *buf, size_t size, char *err);

/* Building blocks, exposed for the unit tests and the producer. */
extern bool sp_valid_symbol(const char *s);
extern bool sp_valid_currency(const char *s);
extern bool sp_valid_utf8(const char *buf, size_t len);
extern bool sp_parse_rfc3339(const char *s, int64_t *us);
extern bool sp_parse_date(const char *s, int32_t *days);
extern bool sp_json_short_escape(unsigned char c);

/* The fields of each message and the columns they fill (one list). */
#include "fields.h"

#endif							/* STOCKPIPE_CONTRACT_H */
