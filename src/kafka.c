/*-------------------------------------------------------------------------
 *
 * kafka.c
 *	  librdkafka configuration for the consumer workers.
 *
 * stockpipe.kafka_options passes any librdkafka property through (SASL, TLS,
 * timeouts), so that a secured production cluster needs no code change.
 * Every rd_kafka_conf_set() result is checked and reported with the key.
 *
 * stockpipe.kafka_options_file gives the same properties from a file, one
 * key=value a line.  It is the place for passwords: the value of a GUC is
 * written to the server log whenever a reload changes it, a file's content
 * never is.  So nothing here ever puts a value from the file into an error
 * text (librdkafka's own messages sometimes quote the value, so they are
 * not passed on either), and the buffers that held it are zeroed.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hashfn.h"
#include "kafka.h"
#include "storage/fd.h"

#define SP_OPTION_MAX 4096
/* Largest options file read: far more than any set of properties needs. */
#define SP_OPTIONS_FILE_MAX (1024 * 1024)

static bool
set_one(rd_kafka_conf_t *conf, const char *key, const char *value,
		char *errbuf, size_t errlen)
{
	char		why[512];

	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
	{
		snprintf(errbuf, errlen, "librdkafka property \"%s\": %s", key, why);
		return false;
	}
	return true;
}

/* Copy [start, end) without surrounding white space into dst. */
static void
copy_trimmed(char *dst, const char *start, const char *end)
{
	while (start < end && (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	memcpy(dst, start, end - start);
	dst[end - start] = '\0';
}

bool
sp_kafka_apply_options(rd_kafka_conf_t *conf, const char *options,
					   char *errbuf, size_t errlen)
{
	const char *p = options ? options : "";

	while (*p)
	{
		const char *end = p;
		const char *eq = NULL;
		char		key[SP_OPTION_MAX];
		char		value[SP_OPTION_MAX];

		while (*end && *end != ';' && *end != '\n')
		{
			if (*end == '=' && eq == NULL)
				eq = end;
			end++;
		}
		if (end - p >= SP_OPTION_MAX)
		{
			snprintf(errbuf, errlen, "an option is longer than %d bytes", SP_OPTION_MAX - 1);
			return false;
		}
		copy_trimmed(key, p, eq ? eq : end);
		if (eq == NULL)
		{
			if (key[0] != '\0')
			{
				snprintf(errbuf, errlen, "option \"%s\" has no \"=value\"", key);
				return false;
			}
		}
		else
		{
			copy_trimmed(value, eq + 1, end);
			if (key[0] == '\0')
			{
				snprintf(errbuf, errlen, "an option has an empty key");
				return false;
			}
			if (conf && !set_one(conf, key, value, errbuf, errlen))
				return false;
		}
		p = *end ? end + 1 : end;
	}
	return true;
}

bool
sp_kafka_check_options(const char *options, char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	bool		ok;

	ok = sp_kafka_apply_options(conf, options, errbuf, errlen);
	rd_kafka_conf_destroy(conf);
	return ok;
}

/*
 * Read the whole file at path into a palloc'd buffer (NUL-terminated; zero
 * it before freeing).  On failure returns NULL with the reason in errbuf.
 */
static char *
read_options_file(const char *path, size_t *len, char *errbuf, size_t errlen)
{
	int			fd;
	struct stat st;
	char	   *data;
	size_t		size;
	size_t		n = 0;
	int			save_errno = 0;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		snprintf(errbuf, errlen, "cannot open stockpipe.kafka_options_file \"%s\": %s",
				 path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0)
	{
		save_errno = errno;
		CloseTransientFile(fd);
		snprintf(errbuf, errlen, "cannot read stockpipe.kafka_options_file \"%s\": %s",
				 path, strerror(save_errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\" is not a regular file",
				 path);
		return NULL;
	}
	if (st.st_size > SP_OPTIONS_FILE_MAX)
	{
		CloseTransientFile(fd);
		snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\" is larger than %d bytes",
				 path, SP_OPTIONS_FILE_MAX);
		return NULL;
	}

	/*
	 * Room for one byte more than the file had, to notice a file that grew
	 * while it was read (an editor writing it): a partial file is no
	 * configuration.  The caller retries later, as after any error.
	 */
	size = (size_t) st.st_size;
	data = palloc(size + 2);
	for (;;)
	{
		ssize_t		r = read(fd, data + n, size + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			save_errno = errno;
		if (r <= 0)
			break;
		n += r;
		if (n > size)
			break;
	}
	CloseTransientFile(fd);
	if (save_errno != 0 || n != size)
	{
		explicit_bzero(data, n);
		pfree(data);
		if (save_errno != 0)
			snprintf(errbuf, errlen, "cannot read stockpipe.kafka_options_file \"%s\": %s",
					 path, strerror(save_errno));
		else
			snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\" changed while it was read",
					 path);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

/*
 * Apply the lines of an options file (data, len bytes) to conf.  The error
 * texts name the file and the line, and at most the key: never the value.
 */
static bool
apply_file_lines(rd_kafka_conf_t *conf, const char *path, const char *data,
				 size_t len, char *errbuf, size_t errlen)
{
	const char *p = data;
	const char *stop = data + len;
	int			lineno = 0;
	char		key[SP_OPTION_MAX];
	char		value[SP_OPTION_MAX];
	char		why[512];
	bool		ok = true;

	while (ok && p < stop)
	{
		const char *end = memchr(p, '\n', stop - p);
		const char *eq;
		const char *k;

		if (end == NULL)
			end = stop;
		lineno++;
		if (memchr(p, '\0', end - p) != NULL)
		{
			snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: contains a NUL byte",
					 path, lineno);
			ok = false;
			break;
		}
		if (end - p >= SP_OPTION_MAX)
		{
			snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: longer than %d bytes",
					 path, lineno, SP_OPTION_MAX - 1);
			ok = false;
			break;
		}
		eq = memchr(p, '=', end - p);
		copy_trimmed(key, p, eq ? eq : end);
		if (key[0] == '\0' && eq == NULL)
			;					/* blank line */
		else if (key[0] == '#')
			;					/* comment, even if it holds a "=" */
		else if (eq == NULL)
		{
			snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: not of the form key=value",
					 path, lineno);
			ok = false;
		}
		else if (key[0] == '\0')
		{
			snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: no property name before \"=\"",
					 path, lineno);
			ok = false;
		}
		else
		{
			copy_trimmed(value, eq + 1, end);
			for (k = key; *k; k++)
			{
				/* property names are ASCII words; anything else is no key */
				if (*k <= ' ' || *k > '~')
					break;
			}
			if (*k != '\0')
			{
				snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: the property name contains white space or a non-ASCII byte",
						 path, lineno);
				ok = false;
			}
			else
			{
				switch (rd_kafka_conf_set(conf, key, value, why, sizeof(why)))
				{
					case RD_KAFKA_CONF_OK:
						break;
					case RD_KAFKA_CONF_UNKNOWN:
						snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: unknown librdkafka property \"%s\"",
								 path, lineno, key);
						ok = false;
						break;
					default:
						snprintf(errbuf, errlen, "stockpipe.kafka_options_file \"%s\", line %d: librdkafka refuses the value of property \"%s\" (the value is not shown)",
								 path, lineno, key);
						ok = false;
						break;
				}
			}
			explicit_bzero(value, sizeof(value));
			explicit_bzero(why, sizeof(why));
		}
		p = end < stop ? end + 1 : stop;
	}
	explicit_bzero(key, sizeof(key));
	return ok;
}

bool
sp_kafka_apply_options_file(rd_kafka_conf_t *conf, const char *path,
							char *errbuf, size_t errlen)
{
	char	   *data;
	size_t		len;
	bool		ok;

	if (path == NULL || path[0] == '\0')
		return true;
	data = read_options_file(path, &len, errbuf, errlen);
	if (data == NULL)
		return false;
	ok = apply_file_lines(conf, path, data, len, errbuf, errlen);
	explicit_bzero(data, len);
	pfree(data);
	return ok;
}

char *
sp_kafka_options_file_fingerprint(void)
{
	const char *path = sp_kafka_options_file ? sp_kafka_options_file : "";
	char		errbuf[512];
	char	   *data;
	size_t		len;
	uint64		hash;

	if (path[0] == '\0')
		return pstrdup("");
	data = read_options_file(path, &len, errbuf, sizeof(errbuf));
	if (data == NULL)
	{
		/* unreadable now: differs from any content, and from other errors */
		return psprintf("%s|%s", path, errbuf);
	}
	hash = hash_bytes_extended((const unsigned char *) data, (int) len, 0);
	explicit_bzero(data, len);
	pfree(data);
	return psprintf("%s|%zu|" UINT64_FORMAT, path, len, hash);
}

rd_kafka_conf_t *
sp_kafka_consumer_conf(const char *client_id, int fetch_wait_ms,
					   char *errbuf, size_t errlen)
{
	/* Defaults a user may override through stockpipe.kafka_options(_file). */
	static const char *const defaults[][2] = {
		{"auto.offset.reset", "earliest"},
		/* a crashed worker's partitions move on after 6 s, not 45 s */
		{"session.timeout.ms", "6000"},
		{"heartbeat.interval.ms", "500"},
		{"topic.metadata.refresh.interval.ms", "10000"},
		{"reconnect.backoff.max.ms", "2000"},
		{"log.connection.close", "false"},

		/*
		 * Prefetch at most 80,000 messages (librdkafka's default is
		 * 100,000): under a 1,000,000-message backlog a live worker's
		 * private memory went to 66 MB, about 470 bytes a queued message
		 * over 18 MB; with 80,000, 55 MB (bench/market-day).  Less costs
		 * throughput: at 50,000 one worker caught up at 95,000 rows/s
		 * instead of 165,000 (bench/ingest), waiting for fetches.
		 */
		{"queued.min.messages", "80000"},
	};

	/*
	 * What ingestion relies on: offsets live in stockpipe.kafka_offsets, so
	 * librdkafka must never commit or store positions on its own; logs and
	 * errors are served on the worker's own thread through its queue.
	 */
	static const char *const required[][2] = {
		{"enable.auto.commit", "false"},
		{"enable.auto.offset.store", "false"},
		{"enable.partition.eof", "false"},
		{"log.queue", "true"},
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char		fetch_wait[16];
	int			i;

	for (i = 0; i < (int) lengthof(defaults); i++)
		if (!set_one(conf, defaults[i][0], defaults[i][1], errbuf, errlen))
			goto fail;
	snprintf(fetch_wait, sizeof(fetch_wait), "%d", fetch_wait_ms);
	if (!set_one(conf, "fetch.wait.max.ms", fetch_wait, errbuf, errlen))
		goto fail;
	if (!set_one(conf, "client.id", client_id, errbuf, errlen) ||
		!set_one(conf, "bootstrap.servers", sp_kafka_brokers, errbuf, errlen) ||
		!set_one(conf, "group.id", sp_consumer_group, errbuf, errlen))
		goto fail;
	if (!sp_kafka_apply_options(conf, sp_kafka_options, errbuf, errlen))
		goto fail;
	if (!sp_kafka_apply_options_file(conf, sp_kafka_options_file, errbuf, errlen))
		goto fail;
	for (i = 0; i < (int) lengthof(required); i++)
		if (!set_one(conf, required[i][0], required[i][1], errbuf, errlen))
			goto fail;
	return conf;

fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}
