/*-------------------------------------------------------------------------
 *
 * mailer.c
 *	  The mailer background worker: sends the alert e-mails waiting in the
 *	  stockpipe.alert_event outbox over SMTP with libcurl; each round it
 *	  also has hooks.c post the webhooks waiting in stockpipe.alert_delivery.
 *
 * Each round takes up to SP_MAIL_BATCH pending events that are due, in a
 * short transaction (FOR UPDATE SKIP LOCKED), copies them out and commits;
 * then sends them one by one with no transaction open, recording each
 * outcome in its own short transaction right after the send, so that a
 * crash or a shutdown can repeat at most the message being sent.  The
 * Message-ID is the alert's key (the rule and the crossing quote's time,
 * sp_alert_key) at the cluster's system identifier, so a repeat is
 * recognisable: after a crash, and after a promoted standby found the
 * same crossing again.
 *
 * Outcomes: delivered → 'sent'; the server unreachable or a temporary
 * error → still 'pending', attempts + 1, the error kept in last_error and
 * next_attempt_at pushed back (10 s doubling up to 10 minutes); the server
 * rejecting the recipient for good (550-554 after RCPT) or a message that
 * cannot be composed (bad address) → 'failed'.  After a temporary error
 * the round ends and the worker pauses SP_MAIL_PAUSE_MS, so that a server
 * that is down sees one attempt every few seconds, not one per event.
 *
 * Every value of the message is formatted by SQL (numbers, the Date
 * header, the quote time in stockpipe.market_timezone); mail.c builds the
 * text and refuses anything that could inject a header.  A recipient whose
 * domain stockpipe.mail_allowed_domains does not allow is 'failed' without
 * any connection: set_alert() checks the list too, but the list may have
 * changed since, and rows may come from elsewhere.
 *
 * Credentials never travel in clear text unless the operator says so:
 * with a user name, smtp:// requires STARTTLS (smtps:// is TLS from the
 * start) unless stockpipe.smtp_allow_plaintext_auth is on; a server that
 * offers no STARTTLS then gets no AUTH, and the e-mail stays pending with
 * the reason.  The server's certificate is always verified, against
 * stockpipe.smtp_ca_file if set.  The password comes from
 * stockpipe.smtp_password_file when that is set (read at start and on each
 * reload, so it never passes through a GUC value, which the server logs
 * when a reload changes it), else from stockpipe.smtp_password.  A password
 * file that cannot be read makes the mailer idle rather than send without
 * it.
 *
 * libcurl runs on this thread; its callbacks only copy memory (and read
 * ProcDiePending, to abort a transfer when the server shuts down).  One
 * easy handle is kept so that the SMTP connection is reused between
 * messages.  There is no PG_TRY here: an ERROR ends the worker and the
 * postmaster starts it again; the outbox loses nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mail.h"
#include "mailer.h"
#include "spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* Most events taken in one round. */
#define SP_MAIL_BATCH			20
/* Longest wait between two looks at the outbox. */
#define SP_MAIL_POLL_MS			1000
/* Pause after a temporary failure (equal to the first back-off step). */
#define SP_MAIL_PAUSE_MS		10000
#define SP_SMTP_CONNECT_TIMEOUT_MS 5000
#define SP_SMTP_TIMEOUT_MS		15000
/* Longest password read from stockpipe.smtp_password_file. */
#define SP_SMTP_PASSWORD_MAX	1024
/* One event to send, copied out of SPI memory. */
typedef struct PendingMail
{
	int64		eventid;
	int64		ruleid;			/* 0 when the rule was dropped */
	int64		quote_us;		/* the quote's ts: with ruleid, the alert's key */
	char	   *email;
	char	   *symbol;
	char	   *condition;
	char	   *threshold;
	char	   *price;
	char	   *quote_time;
	char	   *prev_close;
	char	   *change;
	char	   *change_pct;
	char	   *date;
} PendingMail;

/* What is wrong with the SMTP server, to log a change once. */
typedef enum SmtpProblem
{
	SMTP_FINE,
	SMTP_DOWN,					/* unreachable or a temporary error */
	SMTP_TLS_FAILED,			/* TLS handshake or certificate check failed */
	SMTP_NO_STARTTLS			/* TLS required for AUTH, but not offered */
} SmtpProblem;

/* Why the worker does not send, to log a change once. */
typedef enum MailerIdle
{
	IDLE_UNKNOWN,				/* at start */
	IDLE_NOT,					/* sending */
	IDLE_NO_URL,				/* stockpipe.smtp_url is empty */
	IDLE_BAD_FROM,				/* stockpipe.mail_from is not an address */
	IDLE_PASSWORD_FILE			/* stockpipe.smtp_password_file unusable */
} MailerIdle;

/* The message being uploaded by read_cb. */
typedef struct Upload
{
	const char *data;
	size_t		len;
	size_t		pos;
} Upload;

static CURL *curl = NULL;
static char curl_errbuf[CURL_ERROR_SIZE];
/*
 * Filled by debug_cb: the verb of the last command sent, the last reply,
 * and the first error reply (4xx or 5xx) of the transfer with the verb of
 * the command it answered; after an error libcurl still sends QUIT.
 */
static char smtp_command[16];
static char smtp_reply[256];
static char error_command[16];
static char error_reply[256];

static char mail_host[256];
static char mail_text[SP_MAIL_MAX];
MemoryContext sp_mailer_cxt = NULL;

/* Why the last delivery attempt failed temporarily (logged once). */
static SmtpProblem smtp_problem = SMTP_FINE;
/* No attempt before this time, after a temporary failure. */
static TimestampTz pause_until = 0;
static MailerIdle idle_reason = IDLE_UNKNOWN;

/*
 * The password read from stockpipe.smtp_password_file (in
 * TopMemoryContext, zeroed before it is freed), or NULL; and why that file
 * cannot be used, "" if it can: the text last warned about, so that a
 * reload that finds the same problem does not warn again.
 */
static char *file_password = NULL;
static char password_problem[SP_MAIL_ERROR_MAX];

/* Hand libcurl the next piece of the message; memory copies only. */
static size_t
read_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	Upload	   *up = (Upload *) userdata;
	size_t		room = size * nitems;
	size_t		n = up->len - up->pos;

	if (n > room)
		n = room;
	memcpy(buffer, up->data + up->pos, n);
	up->pos += n;
	return n;
}

/* Copy a line, stopping at CR or LF, replacing other control bytes. */
void
sp_mailer_copy_line(char *dst, size_t dstsize, const char *src, size_t len)
{
	size_t		i;

	for (i = 0; i < len && i + 1 < dstsize; i++)
	{
		unsigned char c = (unsigned char) src[i];

		if (c == '\r' || c == '\n')
			break;
		dst[i] = (c < 0x20 || c > 0x7E) ? '?' : (char) c;
	}
	dst[i] = '\0';
}

/*
 * Keep the server's replies and the verb of the last command we sent
 * (never its arguments: AUTH carries credentials).  Memory copies only.
 */
static int
debug_cb(CURL *handle, curl_infotype type, char *data, size_t size, void *userptr)
{
	if (type == CURLINFO_HEADER_IN)
	{
		sp_mailer_copy_line(smtp_reply, sizeof(smtp_reply), data, size);
		if (error_reply[0] == '\0' && (smtp_reply[0] == '4' || smtp_reply[0] == '5'))
		{
			memcpy(error_reply, smtp_reply, sizeof(error_reply));
			memcpy(error_command, smtp_command, sizeof(error_command));
		}
	}
	else if (type == CURLINFO_HEADER_OUT)
	{
		size_t		n = 0;

		while (n < size && n + 1 < sizeof(smtp_command) &&
			   data[n] >= 'A' && data[n] <= 'Z')
			n++;
		memcpy(smtp_command, data, n);
		smtp_command[n] = '\0';
	}
	return 0;
}

/* Abort a transfer when the worker is asked to exit. */
int
sp_mailer_progress_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	return ProcDiePending ? 1 : 0;
}

static void
cleanup_curl(int code, Datum arg)
{
	if (curl)
		curl_easy_cleanup(curl);
	curl = NULL;
	sp_hooks_cleanup();
	curl_global_cleanup();
}

/*
 * Start over with a new easy handle.  Done at each reload: the handle keeps
 * the SMTP connection open between messages, and a connection made under
 * the old settings (without TLS when TLS is now required, with another user
 * or CA) must not carry the next message.  A new handle also starts from
 * libcurl's default CA store, which is what an empty stockpipe.smtp_ca_file
 * means.
 */
static void
reset_curl(void)
{
	if (curl)
		curl_easy_cleanup(curl);
	curl = curl_easy_init();
	if (curl == NULL || !sp_hooks_reset())
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("stockpipe mailer: could not create a libcurl handle")));
}

static void
init_curl(void)
{
	CURLcode	rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("stockpipe mailer: could not initialise libcurl: %s",
						curl_easy_strerror(rc))));
	on_proc_exit(cleanup_curl, (Datum) 0);
	reset_curl();
}

/* Forget the password read from the file, leaving no copy of it behind. */
static void
forget_file_password(void)
{
	if (file_password)
	{
		explicit_bzero(file_password, strlen(file_password));
		pfree(file_password);
		file_password = NULL;
	}
}

/*
 * The first line of the file at path, without its line end (LF or CRLF),
 * in TopMemoryContext.  On failure returns NULL with the reason in problem
 * (SP_MAIL_ERROR_MAX bytes; it names the file, never its content) and the
 * errno of a failed system call, or 0, in *err_no.
 */
static char *
read_password_file(const char *path, char *problem, int *err_no)
{
	/* room for a password of the longest length, CR, LF and a NUL */
	char		buf[SP_SMTP_PASSWORD_MAX + 3];
	size_t		n = 0;
	size_t		len;
	char	   *nl = NULL;
	char	   *password = NULL;
	int			fd;

	*err_no = 0;
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		*err_no = errno;
		snprintf(problem, SP_MAIL_ERROR_MAX,
				 "could not open stockpipe.smtp_password_file \"%s\": %s",
				 path, strerror(*err_no));
		return NULL;
	}
	while (nl == NULL && n < sizeof(buf) - 1)
	{
		ssize_t		r = read(fd, buf + n, sizeof(buf) - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
		{
			*err_no = errno;
			snprintf(problem, SP_MAIL_ERROR_MAX,
					 "could not read stockpipe.smtp_password_file \"%s\": %s",
					 path, strerror(*err_no));
			break;
		}
		if (r == 0)
			break;
		nl = memchr(buf + n, '\n', r);
		n += r;
	}
	CloseTransientFile(fd);

	if (*err_no == 0)
	{
		len = nl ? (size_t) (nl - buf) : n;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
		if ((nl == NULL && n == sizeof(buf) - 1) || len > SP_SMTP_PASSWORD_MAX)
			snprintf(problem, SP_MAIL_ERROR_MAX,
					 "the first line of stockpipe.smtp_password_file \"%s\" is longer than %d bytes",
					 path, SP_SMTP_PASSWORD_MAX);
		else if (len == 0)
			snprintf(problem, SP_MAIL_ERROR_MAX,
					 "the first line of stockpipe.smtp_password_file \"%s\" is empty",
					 path);
		else if (memchr(buf, '\0', len) != NULL)
			snprintf(problem, SP_MAIL_ERROR_MAX,
					 "the first line of stockpipe.smtp_password_file \"%s\" contains a NUL byte",
					 path);
		else
		{
			password = MemoryContextAlloc(TopMemoryContext, len + 1);
			memcpy(password, buf, len);
			password[len] = '\0';
		}
	}
	explicit_bzero(buf, sizeof(buf));
	return password;
}

/*
 * (Re)read stockpipe.smtp_password_file: at start and after each reload.
 * The old password is zeroed first, so that a file that can no longer be
 * read leaves none behind (and the mailer idles, see settings_usable).
 * A problem is logged once, not again at each reload while it lasts.
 */
static void
load_password_file(void)
{
	char		problem[SP_MAIL_ERROR_MAX] = "";
	int			err_no = 0;

	forget_file_password();
	if (sp_smtp_password_file != NULL && sp_smtp_password_file[0] != '\0')
		file_password = read_password_file(sp_smtp_password_file, problem, &err_no);

	if (problem[0] != '\0' && strcmp(problem, password_problem) != 0)
	{
		sp_worker_set_error("%s", problem);
		errno = err_no;
		ereport(WARNING,
				(err_no != 0 ? errcode_for_file_access() : errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("stockpipe mailer: %s", problem),
				 errdetail("Alert e-mails wait in stockpipe.alert_event: the mailer does not send without the password."),
				 errhint("The file's first line is the SMTP password.  Make the file readable by the "
						 "server's operating system user, or correct stockpipe.smtp_password_file, "
						 "then reload.")));
	}
	strlcpy(password_problem, problem, sizeof(password_problem));
}

/*
 * The domain of Message-IDs, after "stockpipe.": the database system
 * identifier, which a primary and its standbys share (pg_basebackup copies
 * it), so that an e-mail sent again after a promotion has the Message-ID
 * the old primary gave it.  Not the machine's name: that changes with the
 * failover.
 */
static void
init_host_name(void)
{
	snprintf(mail_host, sizeof(mail_host), UINT64_FORMAT, GetSystemIdentifier());
}


/* Column col of a row as a string in sp_mailer_cxt, or NULL. */
char *
sp_mailer_copy_value(SPITupleTable *rows, uint64 row, int col)
{
	char	   *value = sp_col_text(rows, row, col);

	return value ? MemoryContextStrdup(sp_mailer_cxt, value) : NULL;
}

/*
 * Begin the round's transaction and run claim_sql, a SELECT ... FOR UPDATE
 * SKIP LOCKED of the due rows, into *rows; returns how many.  The session's
 * TimeZone is the market's for this transaction, so that the times claim_sql
 * formats for e-mails and webhooks are the market's.  The caller copies what
 * it needs and ends the transaction (sp_tx_end).  (claim_sql's unqualified
 * EXTRACT is SQL syntax for pg_catalog.extract, not a name looked up.)
 */
int
sp_mailer_claim(const char *what, const char *claim_sql, SPITupleTable **rows)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	sp_tx_begin(what);
	args[0] = CStringGetTextDatum(sp_market_timezone);
	sp_sql("SELECT pg_catalog.set_config('TimeZone', $1, true)",
		   1, argtypes, args, SPI_OK_SELECT, NULL);
	return (int) sp_sql(claim_sql, 0, NULL, NULL, SPI_OK_SELECT, rows);
}

/*
 * Record what became of one e-mail or webhook delivery: sql[outcome] is the
 * UPDATE for that outcome, with the row's id as $1, the error as $2 and the
 * HTTP status as $3 (0: none).  SEND_INTERRUPTED records nothing: the row
 * stays pending and is sent again.
 */
void
sp_mailer_record(const char *what, const char *const sql[SEND_INTERRUPTED],
			  int64 id, SendOutcome outcome, long http_status, const char *error)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, INT4OID};
	Datum		args[3];

	if (outcome >= SEND_INTERRUPTED)
		return;
	sp_tx_begin(what);
	args[0] = Int64GetDatum(id);
	args[1] = CStringGetTextDatum(error ? error : "");
	args[2] = Int32GetDatum((int32) http_status);
	sp_sql(sql[outcome], 3, argtypes, args, SPI_OK_UPDATE, NULL);
	sp_tx_end();
}

/*
 * Take up to SP_MAIL_BATCH pending events that are due, formatted for the
 * message, into mails (allocated in sp_mailer_cxt).  Returns how many.
 */
static int
claim_events(PendingMail **mails)
{
	static const char *const claim_sql =
		"SELECT e.eventid, coalesce(e.ruleid, 0), e.email, e.symbol, e.condition,"
		"       e.threshold::text, e.price::text,"
		"       to_char(e.quote_ts, 'YYYY-MM-DD HH24:MI:SS TZ'),"
		"       e.prev_close::text,"
		"       CASE WHEN e.prev_close > 0 THEN"
		"         CASE WHEN e.price >= e.prev_close THEN '+' ELSE '' END ||"
		"         trim_scale(round((e.price - e.prev_close)::numeric, 4))::text END,"
		"       CASE WHEN e.prev_close > 0 THEN"
		"         to_char((e.price / e.prev_close - 1) * 100, 'FMSG999999990.00') END,"
		"       to_char(e.created_at AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS \"+0000\"'),"
		"       (extract(epoch FROM e.quote_ts) * 1000000)::bigint"
		"  FROM stockpipe.alert_event e"
		" WHERE e.status = 'pending' AND e.next_attempt_at <= now()"
		" ORDER BY e.next_attempt_at, e.eventid"
		" LIMIT " CppAsString2(SP_MAIL_BATCH)
		" FOR UPDATE SKIP LOCKED";
	SPITupleTable *rows;
	uint64		i;
	int			n;

	n = sp_mailer_claim("stockpipe mailer: taking pending alert e-mails", claim_sql, &rows);
	*mails = MemoryContextAllocZero(sp_mailer_cxt, sizeof(PendingMail) * Max(n, 1));
	for (i = 0; i < (uint64) n; i++)
	{
		PendingMail *m = &(*mails)[i];

		m->eventid = sp_col_int64(rows, i, 1);
		m->ruleid = sp_col_int64(rows, i, 2);
		m->email = sp_mailer_copy_value(rows, i, 3);
		m->symbol = sp_mailer_copy_value(rows, i, 4);
		m->condition = sp_mailer_copy_value(rows, i, 5);
		m->threshold = sp_mailer_copy_value(rows, i, 6);
		m->price = sp_mailer_copy_value(rows, i, 7);
		m->quote_time = sp_mailer_copy_value(rows, i, 8);
		m->prev_close = sp_mailer_copy_value(rows, i, 9);
		m->change = sp_mailer_copy_value(rows, i, 10);
		m->change_pct = sp_mailer_copy_value(rows, i, 11);
		m->date = sp_mailer_copy_value(rows, i, 12);
		m->quote_us = sp_col_int64(rows, i, 13);
	}
	sp_tx_end();
	return n;
}

/* Record what became of one event. */
static void
record_outcome(int64 eventid, SendOutcome outcome, const char *error)
{
	static const char *const sql[SEND_INTERRUPTED] = {
		[SEND_OK] =
		"UPDATE stockpipe.alert_event"
		"   SET status = 'sent', sent_at = now(), attempts = attempts + 1"
		" WHERE eventid = $1",
		[SEND_RETRY] =
		"UPDATE stockpipe.alert_event"
		"   SET attempts = attempts + 1, last_error = $2,"
		"       next_attempt_at = now() + least(interval '10 seconds' * power(2, least(attempts, 10)),"
		"                                       interval '10 minutes')"
		" WHERE eventid = $1 AND status = 'pending'",
		[SEND_REJECTED] =
		"UPDATE stockpipe.alert_event"
		"   SET status = 'failed', attempts = attempts + 1, last_error = $2"
		" WHERE eventid = $1 AND status = 'pending'",
	};

	sp_mailer_record("stockpipe mailer: recording an alert e-mail outcome", sql,
				  eventid, outcome, 0, error);
}

/* Whether rc is libcurl's report of a failed TLS handshake or certificate check. */
static bool
tls_error(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_INVALIDCERTSTATUS:
			return true;
		default:
			return false;
	}
}

/*
 * The options of one SMTP transfer to rcpt of the message in *up, on the
 * shared handle (reset after every reload, see reset_curl).
 */
static void
set_transfer_options(struct curl_slist *rcpt, Upload *up, bool tls_required)
{
	bool		auth = sp_smtp_user[0] != '\0';
	const char *password = file_password ? file_password : sp_smtp_password;

	curl_easy_setopt(curl, CURLOPT_URL, sp_smtp_url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");

	/*
	 * smtps:// is TLS from the first byte.  On smtp://, credentials need
	 * STARTTLS: with CURLUSESSL_ALL libcurl gives up after EHLO if the
	 * server does not offer it, before any AUTH.  Without credentials there
	 * is nothing secret to protect beyond the alert itself, so STARTTLS is
	 * used when offered and plain SMTP otherwise, as most relays expect.
	 */
	curl_easy_setopt(curl, CURLOPT_USE_SSL,
					 (long) (tls_required ? CURLUSESSL_ALL : CURLUSESSL_TRY));
	/* never off: TLS without verification would hand the password to anyone */
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);

	/*
	 * With a CA file, trust that file alone, not the system's CA directory
	 * besides.  Without one, the handle keeps libcurl's defaults.
	 */
	if (sp_smtp_ca_file[0] != '\0')
	{
		curl_easy_setopt(curl, CURLOPT_CAINFO, sp_smtp_ca_file);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(curl, CURLOPT_USERNAME, auth ? sp_smtp_user : NULL);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, auth ? password : NULL);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, sp_mail_from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, up);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) SP_SMTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) SP_SMTP_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_errbuf);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, sp_mailer_progress_cb);
}

/*
 * What a failed transfer (libcurl's rc) means: the error text for the
 * event and the log, the problem with the server, and whether to retry.
 */
static SendOutcome
transfer_failure(CURLcode rc, bool smtps, bool tls_for_auth, char *error,
				 SmtpProblem *problem)
{
	const char *what = curl_errbuf[0] ? curl_errbuf : curl_easy_strerror(rc);
	long		code = 0;

	/*
	 * TLS was required for the credentials and the server did not offer
	 * STARTTLS (or refused it): libcurl stopped before AUTH.
	 */
	if (rc == CURLE_USE_SSL_FAILED && !smtps && tls_for_auth)
	{
		*problem = SMTP_NO_STARTTLS;
		snprintf(error, SP_MAIL_ERROR_MAX,
				 "%s (curl error %d): with stockpipe.smtp_user set, TLS is required "
				 "(stockpipe.smtp_allow_plaintext_auth is off), and the server did not "
				 "offer or accept STARTTLS; the credentials were not sent",
				 what, (int) rc);
		return SEND_RETRY;
	}
	if (tls_error(rc))
		*problem = SMTP_TLS_FAILED;

	/*
	 * Say what failed: libcurl's text and, if the server answered with an
	 * error, that first error reply (CURLINFO_RESPONSE_CODE may be the
	 * code of the QUIT that libcurl sends after it).
	 */
	if (error_reply[0])
	{
		code = strtol(error_reply, NULL, 10);
		snprintf(error, SP_MAIL_ERROR_MAX, "%s (curl error %d); SMTP reply to %s: %s",
				 what, (int) rc, error_command[0] ? error_command : "connect", error_reply);
	}
	else
		snprintf(error, SP_MAIL_ERROR_MAX, "%s (curl error %d)", what, (int) rc);

	/* a permanent refusal of the recipient will not get better */
	if (code >= 550 && code <= 554 && strcmp(error_command, "RCPT") == 0)
		return SEND_REJECTED;
	return SEND_RETRY;
}

/*
 * Send one composed message to m->email.  On failure, error (of
 * SP_MAIL_ERROR_MAX bytes) says what happened: libcurl's text and, when
 * the server answered, its reply code and line; after SEND_RETRY,
 * *problem says what kind of trouble it was.
 */
static SendOutcome
send_message(const PendingMail *m, const char *text, size_t len, char *error,
			 SmtpProblem *problem)
{
	Upload		up = {.data = text,.len = len,.pos = 0};
	struct curl_slist *rcpt;
	CURLcode	rc;
	bool		smtps = strncmp(sp_smtp_url, "smtps://", 8) == 0;
	bool		tls_for_auth = sp_smtp_user[0] != '\0' && !sp_smtp_allow_plaintext_auth;

	*problem = SMTP_DOWN;
	rcpt = curl_slist_append(NULL, m->email);
	if (rcpt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	curl_errbuf[0] = '\0';
	smtp_command[0] = '\0';
	smtp_reply[0] = '\0';
	error_command[0] = '\0';
	error_reply[0] = '\0';

	set_transfer_options(rcpt, &up, smtps || tls_for_auth);
	rc = curl_easy_perform(curl);

	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(curl, CURLOPT_READDATA, NULL);
	curl_slist_free_all(rcpt);

	if (rc == CURLE_OK)
		return SEND_OK;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return SEND_INTERRUPTED;
	return transfer_failure(rc, smtps, tls_for_auth, error, problem);
}

/* Log a new kind of trouble with the SMTP server, once while it lasts. */
static void
report_smtp_problem(const PendingMail *m, SmtpProblem problem, const char *error)
{
	switch (problem)
	{
		case SMTP_NO_STARTTLS:
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("stockpipe mailer: alert e-mail %lld not sent: the SMTP server offers no STARTTLS, and the credentials are sent only over TLS",
							(long long) m->eventid),
					 errdetail("%s.", error),
					 errhint("Enable STARTTLS on the SMTP server or use an smtps:// URL in stockpipe.smtp_url.  "
							 "To send the password in clear text anyway (trusted networks only), set "
							 "stockpipe.smtp_allow_plaintext_auth = on and reload.  The e-mail stays pending "
							 "in stockpipe.alert_event and is retried with back-off.")));
			break;
		case SMTP_TLS_FAILED:
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("stockpipe mailer: could not deliver alert e-mail %lld: TLS with the SMTP server failed",
							(long long) m->eventid),
					 errdetail("%s.", error),
					 errhint("The e-mail stays pending in stockpipe.alert_event and is retried with back-off.  "
							 "The server's certificate must be valid for the host of stockpipe.smtp_url and "
							 "signed by a CA of stockpipe.smtp_ca_file (the system's CA store when that is empty).")));
			break;
		default:
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("stockpipe mailer: could not deliver alert e-mail %lld",
							(long long) m->eventid),
					 errdetail("%s.", error),
					 errhint("The e-mail stays pending in stockpipe.alert_event and is retried "
							 "with back-off (10 s, doubling, up to 10 minutes).  Check the SMTP "
							 "server and stockpipe.smtp_url, smtp_user and smtp_password_file "
							 "(or smtp_password).")));
			break;
	}
}

/*
 * Compose the e-mail of m into mail_text (*len bytes).  False, with the
 * event marked failed and a WARNING that says why, when it cannot be sent
 * at all: an address the composer refuses, or a domain that
 * stockpipe.mail_allowed_domains no longer allows.
 */
static bool
compose(const PendingMail *m, size_t *len)
{
	sp_mail_alert a = {
		.event_id = m->eventid,
		.rule_id = m->ruleid,
		.quote_us = m->quote_us,
		.from = sp_mail_from,
		.to = m->email,
		.date = m->date,
		.host = mail_host,
		.symbol = m->symbol,
		.condition = m->condition,
		.threshold = m->threshold,
		.price = m->price,
		.quote_time = m->quote_time,
		.time_zone = sp_market_timezone,
		.prev_close = m->prev_close,
		.change = m->change,
		.change_pct = m->change_pct,
	};
	char		err[SP_MAIL_ERR_MAX];
	char		error[SP_MAIL_ERROR_MAX];

	if (!sp_mail_compose(&a, mail_text, sizeof(mail_text), len, err))
	{
		snprintf(error, sizeof(error), "message not sent: %s", err);
		record_outcome(m->eventid, SEND_REJECTED, error);
		sp_worker_set_error("alert e-mail %lld: %s", (long long) m->eventid, error);
		ereport(WARNING,
				(errmsg("stockpipe mailer: alert e-mail %lld cannot be composed; marked failed",
						(long long) m->eventid),
				 errdetail("%s.", err),
				 errhint("Check the e-mail address of the alert rule.")));
		return false;
	}

	/*
	 * The address is valid now (sp_mail_compose checked it), so its domain
	 * can be quoted.  set_alert() checks the list too, but the list may
	 * have been narrowed since the rule was made.
	 */
	if (!sp_mail_domain_allowed(m->email, sp_mail_allowed_domains))
	{
		const char *domain = strrchr(m->email, '@') + 1;

		snprintf(error, sizeof(error),
				 "message not sent: the recipient's domain \"%s\" is not in stockpipe.mail_allowed_domains",
				 domain);
		record_outcome(m->eventid, SEND_REJECTED, error);
		sp_worker_set_error("alert e-mail %lld: %s", (long long) m->eventid, error);
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("stockpipe mailer: alert e-mail %lld not sent: recipient domain \"%s\" is not allowed; marked failed",
						(long long) m->eventid, domain),
				 errdetail("stockpipe.mail_allowed_domains is \"%s\".", sp_mail_allowed_domains),
				 errhint("Correct the e-mail address of alert rule %lld, or add its domain to "
						 "stockpipe.mail_allowed_domains and reload.",
						 (long long) m->ruleid)));
		return false;
	}
	return true;
}

/*
 * Record what sending m gave, and say so once per change of the SMTP
 * server's state (down, TLS failing, fine again).
 */
static void
note_send_outcome(const PendingMail *m, SendOutcome outcome, SmtpProblem problem,
			const char *error)
{
	switch (outcome)
	{
		case SEND_OK:
			record_outcome(m->eventid, SEND_OK, NULL);
			sp_worker_count_batch(1);
			if (smtp_problem == SMTP_DOWN)
				ereport(LOG,
						(errmsg("stockpipe mailer: SMTP server reachable again; alert e-mail %lld delivered",
								(long long) m->eventid)));
			else if (smtp_problem != SMTP_FINE)
				ereport(LOG,
						(errmsg("stockpipe mailer: delivering again; alert e-mail %lld delivered",
								(long long) m->eventid)));
			smtp_problem = SMTP_FINE;
			break;
		case SEND_RETRY:
			record_outcome(m->eventid, SEND_RETRY, error);
			sp_worker_set_error("alert e-mail %lld: %s", (long long) m->eventid, error);
			if (problem != smtp_problem)
				report_smtp_problem(m, problem, error);
			smtp_problem = problem;
			break;
		case SEND_REJECTED:
			record_outcome(m->eventid, SEND_REJECTED, error);
			sp_worker_set_error("alert e-mail %lld: %s", (long long) m->eventid, error);
			ereport(WARNING,
					(errmsg("stockpipe mailer: SMTP server refused the recipient of alert e-mail %lld; marked failed",
							(long long) m->eventid),
					 errdetail("%s.", error),
					 errhint("Correct the e-mail address of alert rule %lld.",
							 (long long) m->ruleid)));
			if (smtp_problem != SMTP_FINE)
				ereport(LOG,
						(errmsg("stockpipe mailer: SMTP server reachable again")));
			smtp_problem = SMTP_FINE;
			break;
		case SEND_INTERRUPTED:
			break;
	}
}

/* Compose, send and record one event.  Returns what happened. */
static SendOutcome
deliver(const PendingMail *m)
{
	char		error[SP_MAIL_ERROR_MAX];
	size_t		len;
	SendOutcome outcome;
	SmtpProblem problem;

	if (!compose(m, &len))
		return SEND_REJECTED;
	pgstat_report_activity(STATE_RUNNING, "stockpipe mailer: sending an alert e-mail");
	sp_worker_set_state("sending");
	outcome = send_message(m, mail_text, len, error, &problem);
	note_send_outcome(m, outcome, problem, error);
	return outcome;
}

/*
 * Whether the settings allow sending; if not, say why once (the state of
 * stockpipe.workers shows it as long as it lasts).
 */
static bool
settings_usable(void)
{
	MailerIdle	reason = IDLE_NOT;

	if (sp_smtp_url == NULL || sp_smtp_url[0] == '\0')
		reason = IDLE_NO_URL;
	else if (!sp_mail_address_valid(sp_mail_from))
		reason = IDLE_BAD_FROM;
	else if (password_problem[0] != '\0')
		reason = IDLE_PASSWORD_FILE;
	if (reason == idle_reason)
		return reason == IDLE_NOT;

	switch (reason)
	{
		case IDLE_NO_URL:
			ereport(LOG,
					(errmsg("stockpipe mailer: stockpipe.smtp_url is not set; alert e-mails wait in stockpipe.alert_event")));
			sp_worker_set_state("idle: stockpipe.smtp_url is not set");
			break;
		case IDLE_BAD_FROM:
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stockpipe mailer: stockpipe.mail_from \"%s\" is not a valid e-mail address; alert e-mails wait",
							sp_mail_from),
					 errhint("Set stockpipe.mail_from to an address such as alerts@example.com and reload.")));
			sp_worker_set_state("idle: stockpipe.mail_from is not valid");
			break;
		case IDLE_PASSWORD_FILE:
			/* load_password_file() has logged why, and set last_error */
			sp_worker_set_state("idle: cannot use stockpipe.smtp_password_file");
			break;
		default:
			if (idle_reason != IDLE_UNKNOWN)
				ereport(LOG,
						(errmsg("stockpipe mailer: settings usable again, sending alert e-mails")));
			sp_worker_set_state("waiting for alerts");
			break;
	}
	idle_reason = reason;
	return reason == IDLE_NOT;
}

/* One round: claim due events and send them.  Returns how many were taken. */
static int
mail_round(void)
{
	PendingMail *mails;
	int			n;
	int			i;

	n = claim_events(&mails);
	for (i = 0; i < n; i++)
	{
		SendOutcome outcome = deliver(&mails[i]);

		CHECK_FOR_INTERRUPTS();
		if (outcome == SEND_RETRY)
		{
			/* the server is down or busy: the rest waits for the next round */
			pause_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													  SP_MAIL_PAUSE_MS);
			return 0;
		}
	}
	if (n > 0)
		sp_worker_set_state("waiting for alerts");
	return n;
}

void
stockpipe_mailer_main(Datum arg)
{
	TimestampTz started_at;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(sp_database, NULL, 0);
	pgstat_report_appname(MyBgworkerEntry->bgw_name);
	sp_worker_attach(SP_WORKER_MAILER, 0);
	sp_wait_for_extension(MyBgworkerEntry->bgw_name);

	sp_mailer_cxt = AllocSetContextCreate(TopMemoryContext, "stockpipe mailer",
									  ALLOCSET_DEFAULT_SIZES);
	init_curl();
	init_host_name();
	/* the settings may have been reloaded while waiting for the extension */
	load_password_file();

	started_at = GetCurrentTimestamp();
	for (;;)
	{
		int			n = 0;
		int			hooks;

		if (sp_worker_interrupts())
		{
			load_password_file();
			reset_curl();

			/*
			 * A reload is how an operator fixes the SMTP settings: no need to
			 * sit out the pause of the failure they have just fixed (each
			 * event keeps its own next_attempt_at).
			 */
			pause_until = 0;
		}
		MemoryContextReset(sp_mailer_cxt);

		/* a superseded server sends nothing (split-brain fence) */
		if (sp_fence_hold(MyBgworkerEntry->bgw_name, started_at))
			continue;

		if (settings_usable() && GetCurrentTimestamp() >= pause_until)
			n = mail_round();
		/* webhooks need no SMTP settings */
		MemoryContextReset(sp_mailer_cxt);
		hooks = sp_hook_round();
		if (n == SP_MAIL_BATCH || hooks == SP_HOOK_BATCH)
			continue;			/* more may be due */

		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 SP_MAIL_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
