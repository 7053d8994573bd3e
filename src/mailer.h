/*-------------------------------------------------------------------------
 *
 * mailer.h
 *	  What the mailer worker's two senders share: e-mails (mailer.c, which
 *	  also runs the worker's loop) and webhooks (hooks.c).
 *
 * Both take their due rows in a short transaction, send outside any
 * transaction and record each outcome right after, in the same way; the
 * helpers below are that way, written once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_MAILER_H
#define STOCKPIPE_MAILER_H

#include <curl/curl.h>

#include "executor/spi.h"
#include "utils/memutils.h"

/* Longest last_error text stored. */
#define SP_MAIL_ERROR_MAX		512

typedef enum SendOutcome
{
	SEND_OK,					/* accepted by the server */
	SEND_RETRY,					/* temporary: try again later */
	SEND_REJECTED,				/* permanent: the recipient was refused */
	SEND_INTERRUPTED			/* aborted because the worker is exiting */
} SendOutcome;

/* The round's memory: reset at the start of each round of the worker. */
extern MemoryContext sp_mailer_cxt;

extern char *sp_mailer_copy_value(SPITupleTable *rows, uint64 row, int col);
extern void sp_mailer_copy_line(char *dst, size_t dstsize, const char *src, size_t len);
extern int	sp_mailer_claim(const char *what, const char *claim_sql, SPITupleTable **rows);
extern void sp_mailer_record(const char *what, const char *const sql[SEND_INTERRUPTED],
							 int64 id, SendOutcome outcome, long http_status,
							 const char *error);
extern int	sp_mailer_progress_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
								  curl_off_t ultotal, curl_off_t ulnow);

/* hooks.c */
/* Most webhook deliveries taken in one round. */
#define SP_HOOK_BATCH			10
extern bool sp_hooks_reset(void);
extern void sp_hooks_cleanup(void);
extern int	sp_hook_round(void);

#endif							/* STOCKPIPE_MAILER_H */
