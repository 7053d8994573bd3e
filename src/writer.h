/*-------------------------------------------------------------------------
 *
 * writer.h
 *	  Storing a batch of Kafka messages exactly once through SPI.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_WRITER_H
#define STOCKPIPE_WRITER_H

#include "stockpipe.h"

#include "contract.h"
#include "utils/date.h"

/* One consumed message, decoded, with where it came from. */
typedef struct SpMessage
{
	int32		partition;
	int64		offset;
	const char *key;			/* not NUL-terminated; NULL if none */
	size_t		key_len;
	const char *payload;		/* not NUL-terminated; NULL if none */
	size_t		len;
	TimestampTz kafka_ts;		/* 0 if the message has no timestamp */
	bool		ok;				/* decoded; else err says why */
	char		err[SP_ERR_MAX];
	union
	{
		sp_quote	q;
		sp_bar		b;
	}			u;
} SpMessage;

typedef struct SpBatch
{
	SpWorkerKind kind;
	const char *topic;
	SpMessage  *msgs;
	int			n;
} SpBatch;

typedef struct SpBatchResult
{
	int64		stored;			/* messages written as rows */
	int64		dead;			/* messages written to dead_letter */
	int64		skipped;		/* already stored by an earlier transaction */
} SpBatchResult;

/* message.c */
extern bool sp_check_message(const char *buf, size_t len, char *err);
extern bool sp_check_quote_time(const sp_quote *q, TimestampTz now, char *err);
extern bool sp_check_bar_date(const sp_bar *b, TimestampTz now, char *err);
extern void sp_decode_message(SpWorkerKind kind, SpMessage *m, TimestampTz now);
extern TimestampTz sp_unix_us_to_timestamptz(int64 us);
extern DateADT sp_unix_days_to_date(int32 days);

extern void sp_ensure_partitions(const SpBatch *batch);
extern void sp_store_batch(const SpBatch *batch, SpBatchResult *result);
extern bool sp_copy_quotes(const SpBatch *batch, const int *rows, int n);
extern void sp_load_offsets(const char *topic, const int32 *partitions,
							int64 *offsets, int n);

#endif							/* STOCKPIPE_WRITER_H */
