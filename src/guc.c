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

char	   *sp_database = NULL;
char	   *sp_kafka_brokers = NULL;
char	   *sp_kafka_options = NULL;
char	   *sp_consumer_group = NULL;
char	   *sp_live_topic = NULL;
char	   *sp_daily_topic = NULL;
int			sp_consumer_workers = 1;
int			sp_batch_size = 10000;
int			sp_batch_max_wait_ms = 50;
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

/*
 * Reject option lists librdkafka would refuse now, at SET or reload time,
 * rather than leaving the workers to fail later with the same error.
 */
static bool
check_kafka_options(char **newval, void **extra, GucSource source)
{
	char		errbuf[512];

	if (!sp_kafka_check_options(*newval, errbuf, sizeof(errbuf)))
	{
		GUC_check_errdetail("%s", errbuf);
		GUC_check_errhint("Use a list of librdkafka properties such as "
						  "\"security.protocol=SASL_SSL; sasl.mechanisms=PLAIN\", "
						  "separated by semicolons.");
		return false;
	}
	return true;
}

static bool
check_kafka_brokers(char **newval, void **extra, GucSource source)
{
	const char *p;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("The broker list is empty.");
		GUC_check_errhint("Set it to host:port[,host:port...].");
		return false;
	}
	for (p = *newval; *p; p++)
	{
		if (*p == ' ' || *p == ';' || *p == '\t')
		{
			GUC_check_errdetail("Broker list \"%s\" contains a space or a semicolon.",
								*newval);
			GUC_check_errhint("Separate brokers with commas: host:port[,host:port...].");
			return false;
		}
	}
	return true;
}

/* Topic names as Kafka accepts them: [A-Za-z0-9._-], 1 to 249 characters. */
static bool
check_topic(char **newval, void **extra, GucSource source)
{
	const char *p;
	size_t		len = *newval ? strlen(*newval) : 0;

	if (len == 0 || len > 249 || len >= SP_TOPIC_LEN)
	{
		GUC_check_errdetail("A topic name must have 1 to %d characters.",
							SP_TOPIC_LEN - 1);
		return false;
	}
	for (p = *newval; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
		{
			GUC_check_errdetail("Topic name \"%s\" contains a character other than "
								"A-Z, a-z, 0-9, \".\", \"_\" and \"-\".", *newval);
			return false;
		}
	}
	return true;
}

/* A time zone PostgreSQL knows, e.g. America/New_York. */
static bool
check_timezone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || pg_tzset(*newval) == NULL)
	{
		GUC_check_errdetail("\"%s\" is not a time zone PostgreSQL knows.",
							*newval ? *newval : "");
		GUC_check_errhint("Use an IANA name such as America/New_York (see pg_timezone_names).");
		return false;
	}
	return true;
}

static bool
check_smtp_url(char **newval, void **extra, GucSource source)
{
	if (*newval && (*newval)[0] != '\0' &&
		strncmp(*newval, "smtp://", 7) != 0 && strncmp(*newval, "smtps://", 8) != 0)
	{
		GUC_check_errdetail("\"%s\" is not an smtp:// or smtps:// URL.", *newval);
		GUC_check_errhint("For example smtp://mail.example.com:587 (STARTTLS when offered) or smtps://mail.example.com:465.");
		return false;
	}
	return true;
}

void
sp_define_gucs(void)
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
							gettext_noop("They share the topic's partitions through the consumer group."),
							&sp_consumer_workers,
							1, 0, SP_MAX_CONSUMER_WORKERS,
							PGC_POSTMASTER,
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

	DefineCustomIntVariable("stockpipe.job_history_retention",
							gettext_noop("How long finished job runs are kept in stockpipe.job_run."),
							NULL,
							&sp_job_history_retention_s,
							30 * 86400, 3600, INT_MAX,
							PGC_SIGHUP,
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

	DefineCustomIntVariable("stockpipe.l30d_debounce",
							gettext_noop("Quiet time after new daily bars before the L30D summary is refreshed."),
							NULL,
							&sp_l30d_debounce_ms,
							10000, 0, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.smtp_url",
							   gettext_noop("SMTP server for alert e-mails, smtp://host:port or smtps://host:port."),
							   gettext_noop("Empty: alert e-mails wait in stockpipe.alert_event."),
							   &sp_smtp_url,
							   "",
							   PGC_SIGHUP,
							   0,
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

	DefineCustomStringVariable("stockpipe.mail_from",
							   gettext_noop("Sender address of alert e-mails."),
							   NULL,
							   &sp_mail_from,
							   "stockpipe@localhost",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stockpipe.market_timezone",
							   gettext_noop("Time zone in which alert e-mails show times."),
							   NULL,
							   &sp_market_timezone,
							   "America/New_York",
							   PGC_SIGHUP,
							   0,
							   check_timezone, NULL, NULL);

	MarkGUCPrefixReserved("stockpipe");
}
