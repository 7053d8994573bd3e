/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  The stockpipe.* configuration parameters.
 *
 * Settings the workers can pick up while running are PGC_SIGHUP: a worker
 * re-reads them on SIGHUP and rebuilds its Kafka client when a Kafka setting
 * changed.  The database and the number of workers fix the background
 * workers registered at start-up, so they are PGC_POSTMASTER.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <limits.h>

#include "kafka.h"
#include "pgtime.h"
#include "utils/guc.h"

/* The ASCII letters and digits, for strspn(). */
#define SP_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

char	   *sp_database = NULL;
char	   *sp_kafka_brokers = NULL;
char	   *sp_kafka_options = NULL;
char	   *sp_consumer_group = NULL;
char	   *sp_live_topic = NULL;
char	   *sp_daily_topic = NULL;
int			sp_consumer_workers = 1;
bool		sp_consumer_group_subscribe = false;
int			sp_batch_size = 10000;
int			sp_batch_max_wait_ms = 50;
bool		sp_live_synchronous_commit = false;
int			sp_max_message_bytes = 65536;
int			sp_poll_interval_ms = 100;
int			sp_job_history_retention_s = 30 * 86400;
int			sp_live_retention_s = 90 * 86400;
int			sp_l30d_debounce_ms = 10000;
char	   *sp_smtp_url = NULL;
char	   *sp_smtp_user = NULL;
char	   *sp_smtp_password = NULL;
char	   *sp_mail_from = NULL;
char	   *sp_market_timezone = NULL;
char	   *sp_kafka_options_file = NULL;
char	   *sp_smtp_password_file = NULL;
char	   *sp_smtp_ca_file = NULL;
bool		sp_smtp_allow_plaintext_auth = false;
char	   *sp_mail_allowed_domains = NULL;
int			sp_mail_rate_limit = 100;
char	   *sp_webhook_allowed_hosts = NULL;
int			sp_quote_max_age_s = -1;
int			sp_message_max_future_s = 86400;
int			sp_dead_letter_retention_s = 30 * 86400;
int			sp_max_job_runs = 8;
int			sp_max_job_runs_per_role = 2;

/*
 * A check hook's refusal: the message the user sees gets detail (and hint
 * when there is one).  Returns false, for "return refuse(...)".
 */
static bool
refuse(const char *detail, const char *hint)
{
	GUC_check_errdetail("%s", detail);
	if (hint)
		GUC_check_errhint("%s", hint);
	return false;
}

/*
 * Reject option lists librdkafka would refuse now, at SET or reload time,
 * rather than leaving the workers to fail later with the same error.
 */
static bool
check_kafka_options(char **newval, void **extra, GucSource source)
{
	char		errbuf[512];

	if (!sp_kafka_check_options(*newval, errbuf, sizeof(errbuf)))
		return refuse(errbuf,
					  "Use a list of librdkafka properties such as "
					  "\"security.protocol=SASL_SSL; sasl.mechanisms=PLAIN\", "
					  "separated by semicolons.");
	return true;
}

static bool
check_kafka_brokers(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return refuse("The broker list is empty.",
					  "Set it to host:port[,host:port...].");
	if (strpbrk(*newval, " ;\t") != NULL)
		return refuse(psprintf("Broker list \"%s\" contains a space or a semicolon.",
							   *newval),
					  "Separate brokers with commas: host:port[,host:port...].");
	return true;
}

/* Topic names as Kafka accepts them: [A-Za-z0-9._-], 1 to 249 characters. */
static bool
check_topic(char **newval, void **extra, GucSource source)
{
	size_t		len = *newval ? strlen(*newval) : 0;

	if (len == 0 || len > 249 || len >= SP_TOPIC_LEN)
		return refuse(psprintf("A topic name must have 1 to %d characters.",
							   SP_TOPIC_LEN - 1), NULL);
	if (strspn(*newval, SP_ALNUM "._-") != len)
		return refuse(psprintf("Topic name \"%s\" contains a character other than "
							   "A-Z, a-z, 0-9, \".\", \"_\" and \"-\".", *newval), NULL);
	return true;
}

/* A time zone PostgreSQL knows, e.g. America/New_York. */
static bool
check_timezone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || pg_tzset(*newval) == NULL)
		return refuse(psprintf("\"%s\" is not a time zone PostgreSQL knows.",
							   *newval ? *newval : ""),
					  "Use an IANA name such as America/New_York (see pg_timezone_names).");
	return true;
}

static bool
check_smtp_url(char **newval, void **extra, GucSource source)
{
	if (*newval && (*newval)[0] != '\0' &&
		strncmp(*newval, "smtp://", 7) != 0 && strncmp(*newval, "smtps://", 8) != 0)
		return refuse(psprintf("\"%s\" is not an smtp:// or smtps:// URL.", *newval),
					  "For example smtp://mail.example.com:587 (STARTTLS when offered) "
					  "or smtps://mail.example.com:465.");
	return true;
}

/*
 * A comma-separated list of domain names ("example.com, example.org"), or
 * empty.  Labels as DNS has them; a leading "." is not needed: a domain
 * also allows its subdomains.
 */
static bool
check_domain_list(char **newval, void **extra, GucSource source)
{
	const char *p = *newval ? *newval : "";

	while (*p)
	{
		size_t		len;

		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (strspn(p, SP_ALNUM ".-") < len)
			return refuse(psprintf("Domain list \"%s\" contains the character \"%c\".",
								   *newval, p[strspn(p, SP_ALNUM ".-")]),
						  "List domain names separated by commas, "
						  "e.g. \"example.com, example.org\".");
		if (len > 253)
			return refuse("A domain name has at most 253 characters.", NULL);
		p += len;
	}
	return true;
}

/* A file the server can name: an absolute path, or empty. */
static bool
check_secret_file(char **newval, void **extra, GucSource source)
{
	if (*newval && (*newval)[0] != '\0' && (*newval)[0] != '/')
		return refuse(psprintf("\"%s\" is not an absolute path.", *newval),
					  "Give the full path of a file the server's operating system user "
					  "can read, e.g. /etc/postgresql/stockpipe/smtp_password.");
	return true;
}

/* Where the workers connect, what they consume and how they store it. */
static void
define_ingest_gucs(void)
{
	DefineCustomStringVariable("stockpipe.database",
							   gettext_noop("Database in which the stockpipe workers run."),
							   gettext_noop("The extension must be created in this database."),
							   &sp_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.kafka_brokers",
							   gettext_noop("Kafka bootstrap servers, host:port[,host:port...]."),
							   NULL,
							   &sp_kafka_brokers,
							   "localhost:9092",
							   PGC_SIGHUP,
							   0,
							   check_kafka_brokers, NULL, NULL);

	DefineCustomStringVariable("stockpipe.kafka_options",
							   gettext_noop("Extra librdkafka properties, \"key=value; key=value\"."),
							   gettext_noop("Passed to the Kafka client as they are, e.g. for SASL and TLS; "
											"visible to superusers only, as it may hold passwords."),
							   &sp_kafka_options,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_kafka_options, NULL, NULL);

	DefineCustomStringVariable("stockpipe.kafka_options_file",
							   gettext_noop("File of extra librdkafka properties, one key=value a line."),
							   gettext_noop("Read by the workers at start and on reload; the way to give Kafka "
											"passwords, since values of stockpipe.kafka_options are logged on reload."),
							   &sp_kafka_options_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_secret_file, NULL, NULL);

	DefineCustomStringVariable("stockpipe.consumer_group",
							   gettext_noop("Kafka consumer group of the stockpipe workers."),
							   NULL,
							   &sp_consumer_group,
							   "stockpipe",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.live_topic",
							   gettext_noop("Kafka topic of live quotes, stored in stockpipe.live_stock."),
							   NULL,
							   &sp_live_topic,
							   "stock_live",
							   PGC_SIGHUP,
							   0,
							   check_topic, NULL, NULL);

	DefineCustomStringVariable("stockpipe.daily_topic",
							   gettext_noop("Kafka topic of daily bars, stored in stockpipe.historical_stock_data."),
							   NULL,
							   &sp_daily_topic,
							   "stock_daily",
							   PGC_SIGHUP,
							   0,
							   check_topic, NULL, NULL);

	DefineCustomIntVariable("stockpipe.consumer_workers",
							gettext_noop("Number of workers consuming the live topic."),
							gettext_noop("Worker i of N takes the partitions p with p mod N = i, "
										 "or the consumer group shares them (stockpipe.consumer_group_subscribe)."),
							&sp_consumer_workers,
							1, 0, SP_MAX_CONSUMER_WORKERS,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("stockpipe.consumer_group_subscribe",
							 gettext_noop("Whether the consumer workers join stockpipe.consumer_group and let "
										  "Kafka's group coordinator share the partitions."),
							 gettext_noop("Off: each worker takes its partitions itself (p mod N), with no "
										  "group join or rebalance pause; stockpipe.kafka_offsets fences them either way."),
							 &sp_consumer_group_subscribe,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.batch_size",
							gettext_noop("Most messages written in one transaction."),
							NULL,
							&sp_batch_size,
							10000, 1, 1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.batch_max_wait",
							gettext_noop("Longest time a batch keeps collecting messages while more keep arriving."),
							gettext_noop("A batch is written at once when no message is waiting."),
							&sp_batch_max_wait_ms,
							50, 0, 10000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("stockpipe.live_synchronous_commit",
							 gettext_noop("Whether a batch of live quotes waits for its WAL flush before its quotes count as stored."),
							 gettext_noop("Off (the default) commits live batches as synchronous_commit = off does: a crash can lose "
										  "the last batches' rows together with their Kafka offsets, and they are read again from "
										  "Kafka. On follows the server's synchronous_commit. Daily bars always wait."),
							 &sp_live_synchronous_commit,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.max_message_bytes",
							gettext_noop("Largest message payload accepted; larger ones go to dead_letter."),
							NULL,
							&sp_max_message_bytes,
							65536, 64, 64 * 1024 * 1024,
							PGC_SIGHUP,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.poll_interval",
							gettext_noop("Longest time a worker waits before rechecking its state."),
							gettext_noop("Messages and signals wake the worker at once; this bounds housekeeping delays."),
							&sp_poll_interval_ms,
							100, 10, 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.quote_max_age",
							gettext_noop("Oldest quote accepted, as an age against the current time; -1: stockpipe.live_retention."),
							gettext_noop("Older quotes go to stockpipe.dead_letter."),
							&sp_quote_max_age_s,
							-1, -1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.message_max_future",
							gettext_noop("How far in the future a quote's ts or a bar's date may lie."),
							gettext_noop("Later ones go to stockpipe.dead_letter."),
							&sp_message_max_future_s,
							86400, 0, 31 * 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.live_retention",
							gettext_noop("Age after which live_stock partitions are dropped by the upkeep job."),
							NULL,
							&sp_live_retention_s,
							90 * 86400, 86400, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.dead_letter_retention",
							gettext_noop("How long rows of stockpipe.dead_letter are kept."),
							gettext_noop("The upkeep job deletes older ones."),
							&sp_dead_letter_retention_s,
							30 * 86400, 3600, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* The scheduler, its built-in jobs and the market's calendar. */
static void
define_scheduler_gucs(void)
{
	DefineCustomStringVariable("stockpipe.market_timezone",
							   gettext_noop("Time zone in which alert e-mails show times."),
							   NULL,
							   &sp_market_timezone,
							   "America/New_York",
							   PGC_SIGHUP,
							   0,
							   check_timezone, NULL, NULL);

	DefineCustomIntVariable("stockpipe.job_history_retention",
							gettext_noop("How long finished job runs are kept in stockpipe.job_run."),
							NULL,
							&sp_job_history_retention_s,
							30 * 86400, 3600, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.l30d_debounce",
							gettext_noop("Quiet time after new daily bars before the L30D summary is refreshed."),
							NULL,
							&sp_l30d_debounce_ms,
							10000, 0, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.max_job_runs",
							gettext_noop("Most runs of users' jobs at once; built-in jobs are not counted."),
							gettext_noop("Keeps background-worker slots free for the built-in jobs; "
										 "max_worker_processes must leave room for it."),
							&sp_max_job_runs,
							8, 1, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stockpipe.max_job_runs_per_role",
							gettext_noop("Most runs of one role's jobs at once."),
							gettext_noop("Runs beyond it wait for one of the role's runs to finish."),
							&sp_max_job_runs_per_role,
							2, 1, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/* The mailer: SMTP server, credentials, sender and limits on what users can send. */
static void
define_mail_gucs(void)
{
	DefineCustomStringVariable("stockpipe.smtp_url",
							   gettext_noop("SMTP server for alert e-mails, smtp://host:port or smtps://host:port."),
							   gettext_noop("Empty: alert e-mails wait in stockpipe.alert_event."),
							   &sp_smtp_url,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_smtp_url, NULL, NULL);

	DefineCustomStringVariable("stockpipe.smtp_user",
							   gettext_noop("SMTP user name; empty for no authentication."),
							   NULL,
							   &sp_smtp_user,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.smtp_password",
							   gettext_noop("SMTP password."),
							   NULL,
							   &sp_smtp_password,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.smtp_password_file",
							   gettext_noop("File holding the SMTP password (its first line)."),
							   gettext_noop("Read by the mailer at start and on reload; preferred over "
											"stockpipe.smtp_password, whose value is logged on reload."),
							   &sp_smtp_password_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_secret_file, NULL, NULL);

	DefineCustomStringVariable("stockpipe.smtp_ca_file",
							   gettext_noop("CA certificates (PEM) that the SMTP server's certificate is checked against."),
							   gettext_noop("Empty: the system's CA store."),
							   &sp_smtp_ca_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_secret_file, NULL, NULL);

	DefineCustomBoolVariable("stockpipe.smtp_allow_plaintext_auth",
							 gettext_noop("Allow SMTP authentication without TLS."),
							 gettext_noop("Off: with a user name, the mailer requires STARTTLS or smtps:// "
										  "and never sends the password in clear text."),
							 &sp_smtp_allow_plaintext_auth,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.mail_from",
							   gettext_noop("Sender address of alert e-mails."),
							   NULL,
							   &sp_mail_from,
							   "stockpipe@localhost",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.mail_allowed_domains",
							   gettext_noop("Domains alert e-mails may be sent to, comma-separated; empty: any."),
							   gettext_noop("A domain allows its subdomains too.  set_alert() refuses other "
											"addresses and the mailer does not send to them."),
							   &sp_mail_allowed_domains,
							   "",
							   PGC_SIGHUP,
							   0,
							   check_domain_list, NULL, NULL);

	DefineCustomIntVariable("stockpipe.mail_rate_limit",
							gettext_noop("Most alert firings (e-mails and webhooks) the rules of one role may cause per hour."),
							gettext_noop("Further firings are recorded in stockpipe.alert_event and alert_delivery as 'suppressed'."),
							&sp_mail_rate_limit,
							100, 1, 1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.webhook_allowed_hosts",
							   gettext_noop("Hosts alert webhooks may be posted to, comma-separated; empty: any public host."),
							   gettext_noop("A name allows its subdomains too.  Only a listed host may be loopback or "
											"private (e.g. 127.0.0.1 for a local relay).  set_channel() refuses other "
											"hosts and the mailer does not post to them."),
							   &sp_webhook_allowed_hosts,
							   "",
							   PGC_SIGHUP,
							   0,
							   check_domain_list, NULL, NULL);
}

void
sp_define_gucs(void)
{
	define_ingest_gucs();
	define_scheduler_gucs();
	define_mail_gucs();
	MarkGUCPrefixReserved("stockpipe");
}
