/*
 * kconf.c -- the extra librdkafka properties: where they come from and
 * how they are shown.
 *
 * -X flags are visible to every local user in ps and /proc/PID/cmdline, so
 * secrets (sasl.password, ssl.key.password...) also come from a properties
 * file (--kafka-config, or STOCKPIPE_KAFKA_CONFIG) or from environment
 * variables STOCKPIPE_KAFKA_<NAME>.  Precedence, lowest first: file,
 * environment, -X; a later setting of a property replaces the earlier one
 * and moves to the end, so that applying the list in order to librdkafka
 * gives that precedence even for aliases (bootstrap.servers and
 * metadata.broker.list are the same property).
 *
 * Everything but kconf_read_file() is pure, so the unit tests cover the
 * parsing, the environment mapping and the precedence without touching the
 * process.  Values are wiped from memory when freed: they may be secrets.
 */
#include "kconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names under STOCKPIPE_KAFKA_ that are not librdkafka properties. */
static const char *const reserved_env[] = {
	"CONFIG",					/* the properties file, read separately */
	"BROKERS", "OPTIONS"		/* the PostgreSQL image's settings (docker/) */
};

static void
prop_free(struct kconf_prop *p)
{
	if (p->value)
		explicit_bzero(p->value, strlen(p->value));
	free(p->key);
	free(p->value);
	free(p->origin);
	p->key = p->value = p->origin = NULL;
}

/* Appends P (taking ownership), replacing an earlier setting of its key. */
static int
put(struct kconf *c, struct kconf_prop p)
{
	struct kconf_prop *grown;

	for (size_t i = 0; i < c->count; i++)
	{
		if (strcmp(c->items[i].key, p.key) == 0)
		{
			prop_free(&c->items[i]);
			memmove(&c->items[i], &c->items[i + 1], (c->count - i - 1) * sizeof(p));
			c->count--;
			break;
		}
	}
	grown = realloc(c->items, (c->count + 1) * sizeof(p));
	if (grown == NULL)
	{
		prop_free(&p);
		return -1;
	}
	c->items = grown;
	c->items[c->count++] = p;
	return 0;
}

/* A property name: 1-255 printable characters, no white space. */
static int
valid_key(const char *key, size_t len)
{
	if (len == 0 || len > KCONF_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char) key[i]))
			return 0;
	return 1;
}

/* Sets KEY (KEYLEN bytes) to VALUE (VALUELEN bytes), remembering ORIGIN. */
int
kconf_set(struct kconf *c, const char *key, size_t keylen, const char *value,
		  size_t valuelen, const char *origin, char *err, size_t errlen)
{
	struct kconf_prop p;

	p.key = strndup(key, keylen);
	p.value = strndup(value, valuelen);
	p.origin = strdup(origin);
	if (p.key == NULL || p.value == NULL || p.origin == NULL)
	{
		prop_free(&p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (put(c, p) != 0)			/* frees p */
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * One -X argument, "key=value".  Error messages never repeat the argument:
 * a mistyped one may well be a password.
 */
int
kconf_parse_flag(struct kconf *c, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL)
	{
		snprintf(err, errlen, "-X: expected KEY=VALUE (the argument has no \"=\")");
		return -1;
	}
	if (!valid_key(arg, (size_t) (eq - arg)))
	{
		snprintf(err, errlen, "-X: expected KEY=VALUE (the key is empty, too long or has "
				 "white space)");
		return -1;
	}
	return kconf_set(c, arg, (size_t) (eq - arg), eq + 1, strlen(eq + 1), "-X", err, errlen);
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Narrows [*s, *e) to its part without leading and trailing blanks. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

/* One non-blank, non-comment line of a properties file. */
static int
parse_line(struct kconf *c, const char *s, const char *e, const char *name, int lineno,
		   char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', (size_t) (e - s));
	const char *ke = eq;
	const char *vs = eq ? eq + 1 : NULL;
	char		origin[4096 + 16];

	if (eq == NULL || memchr(s, '\0', (size_t) (e - s)) != NULL)
	{
		/* the line itself is not shown: it may be a secret */
		snprintf(err, errlen, "%s:%d: expected key=value", name, lineno);
		return -1;
	}
	trim(&s, &ke);
	trim(&vs, &e);
	if (!valid_key(s, (size_t) (ke - s)))
	{
		snprintf(err, errlen, "%s:%d: expected key=value (the key is empty, too long or has "
				 "white space)", name, lineno);
		return -1;
	}
	snprintf(origin, sizeof(origin), "%s:%d", name, lineno);
	return kconf_set(c, s, (size_t) (ke - s), vs, (size_t) (e - vs), origin, err, errlen);
}

/*
 * A librdkafka properties file held in TEXT (LEN bytes; NAME for messages):
 * "key=value" lines, surrounding white space trimmed, blank lines and lines
 * starting with '#' ignored.  The value is everything after the first '='
 * ('#' included: passwords may contain it).  A bad line is an error naming
 * NAME and the line number.
 */
int
kconf_parse_text(struct kconf *c, const char *text, size_t len, const char *name,
				 char *err, size_t errlen)
{
	const char *p = text;
	const char *end = text + len;
	int			lineno = 0;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *le = nl ? nl : end;
		const char *s = p;

		lineno++;
		p = nl ? nl + 1 : end;
		trim(&s, &le);
		if (s == le || *s == '#')
			continue;
		if (parse_line(c, s, le, name, lineno, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/*
 * Maps the NAME of STOCKPIPE_KAFKA_<NAME> to a property: lower case,
 * '_' -> '.' ("SASL_PASSWORD" -> "sasl.password").  NAME must be upper-case
 * letters, digits and single inner underscores.  0, or -1 if not a name.
 */
int
kconf_env_key(const char *name, char *key, size_t size)
{
	size_t		len = strlen(name);

	if (len == 0 || len >= size || len > KCONF_KEY_MAX ||
		name[0] == '_' || name[len - 1] == '_' || strstr(name, "__") != NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		char		ch = name[i];

		if (ch == '_')
			key[i] = '.';
		else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
			key[i] = (char) tolower((unsigned char) ch);
		else
			return -1;
	}
	key[len] = '\0';
	return 0;
}

static int
reserved(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(reserved_env) / sizeof(reserved_env[0]); i++)
		if (strlen(reserved_env[i]) == len && memcmp(reserved_env[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * Adds a property for every STOCKPIPE_KAFKA_<NAME>=VALUE of ENVP (an
 * environ-style array), except the reserved names and empty values (an
 * empty variable is how compose files and shells say "not set").
 */
int
kconf_from_env(struct kconf *c, char *const *envp, char *err, size_t errlen)
{
	const size_t plen = strlen(KCONF_ENV_PREFIX);

	for (; envp && *envp; envp++)
	{
		const char *var = *envp;
		const char *eq = strchr(var, '=');
		char		name[KCONF_KEY_MAX + 2];
		char		key[KCONF_KEY_MAX + 2];
		char		origin[sizeof(name) + 32];
		size_t		nlen;

		if (eq == NULL || strncmp(var, KCONF_ENV_PREFIX, plen) != 0 || eq[1] == '\0')
			continue;
		nlen = (size_t) (eq - var) - plen;
		if (reserved(var + plen, nlen))
			continue;
		if (nlen >= sizeof(name))
			nlen = sizeof(name) - 1;	/* too long: kconf_env_key refuses it */
		memcpy(name, var + plen, nlen);
		name[nlen] = '\0';
		if (kconf_env_key(name, key, sizeof(key)) != 0)
		{
			snprintf(err, errlen, "environment variable %s%.40s: not a librdkafka property "
					 "(expected %s and the property name in upper case, \"_\" for \".\", "
					 "e.g. %sSASL_PASSWORD)", KCONF_ENV_PREFIX, name, KCONF_ENV_PREFIX,
					 KCONF_ENV_PREFIX);
			return -1;
		}
		snprintf(origin, sizeof(origin), "environment %s%s", KCONF_ENV_PREFIX, name);
		if (kconf_set(c, key, strlen(key), eq + 1, strlen(eq + 1), origin, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Moves every property of SRC, in order, over DST's; SRC ends up empty. */
int
kconf_merge(struct kconf *dst, struct kconf *src, char *err, size_t errlen)
{
	int			rc = 0;

	for (size_t i = 0; i < src->count; i++)
	{
		if (rc == 0 && put(dst, src->items[i]) != 0)
		{
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		else if (rc != 0)
			prop_free(&src->items[i]);
	}
	free(src->items);
	src->items = NULL;
	src->count = 0;
	return rc;
}

const struct kconf_prop *
kconf_find(const struct kconf *c, const char *key)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->items[i].key, key) == 0)
			return &c->items[i];
	return NULL;
}

void
kconf_free(struct kconf *c)
{
	for (size_t i = 0; i < c->count; i++)
		prop_free(&c->items[i]);
	free(c->items);
	c->items = NULL;
	c->count = 0;
}

/*
 * Whether KEY's value must never be shown: any name with password, secret,
 * key (ssl.key.*, keystore, keytab), token or credential in it, and the
 * OAUTHBEARER config string, which carries credentials.  Errs on the side
 * of hiding: a hidden path costs little, a shown password a lot.
 */
int
kconf_is_secret(const char *key)
{
	static const char *const words[] = {
		"password", "secret", "key", "token", "credential", "sasl.oauthbearer.config"
	};
	char		lower[KCONF_KEY_MAX + 1];
	size_t		i;

	for (i = 0; key[i] && i < KCONF_KEY_MAX; i++)
		lower[i] = (char) tolower((unsigned char) key[i]);
	lower[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]) != NULL)
			return 1;
	return 0;
}

/* The value to print for P: itself, or KCONF_HIDDEN for a secret. */
const char *
kconf_shown_value(const struct kconf_prop *p)
{
	return kconf_is_secret(p->key) ? KCONF_HIDDEN : p->value;
}

/*
 * Replaces every occurrence of SECRET in MSG (a buffer of SIZE bytes) by
 * "***": librdkafka quotes a refused value in its error message.
 */
void
kconf_redact(char *msg, size_t size, const char *secret)
{
	size_t		slen = secret ? strlen(secret) : 0;
	char	   *out;
	size_t		n = 0;
	const char *p = msg;
	const char *hit;

	if (slen == 0 || size == 0 || strstr(msg, secret) == NULL)
		return;
	out = malloc(size);
	if (out == NULL)
	{
		snprintf(msg, size, "(message hidden: it contained a secret value)");
		return;
	}
	for (;;)
	{
		size_t		keep;

		hit = strstr(p, secret);
		keep = hit ? (size_t) (hit - p) : strlen(p);
		if (keep > size - 1 - n)
			keep = size - 1 - n;
		memcpy(out + n, p, keep);
		n += keep;
		if (hit == NULL)
			break;
		keep = size - 1 - n < 3 ? size - 1 - n : 3;
		memcpy(out + n, "***", keep);
		n += keep;
		p = hit + slen;
	}
	out[n] = '\0';
	memcpy(msg, out, n + 1);
	explicit_bzero(out, size);
	free(out);
}

/* Frees a buffer that may hold secrets. */
static void
free_wiped(char *b, size_t cap)
{
	if (b)
		explicit_bzero(b, cap);
	free(b);
}

/*
 * Reads all of FD into *BUF (NUL-terminated).  Returns 0, -1 on a read
 * error (errno says why) or -2 past MAX bytes.  Buffers it drops are wiped.
 */
static int
read_all(int fd, char **buf, size_t *len, size_t max)
{
	size_t		cap = 4096;
	char	   *b = malloc(cap);
	ssize_t		got;

	*len = 0;
	for (;;)
	{
		if (b == NULL)
		{
			errno = ENOMEM;
			return -1;
		}
		if (*len > max)
		{
			free_wiped(b, cap);
			return -2;
		}
		if (*len + 1 >= cap)
		{
			char	   *bigger = malloc(cap * 2);

			if (bigger)
				memcpy(bigger, b, *len);
			free_wiped(b, cap);
			b = bigger;
			cap *= 2;
			continue;
		}
		got = read(fd, b + *len, cap - *len - 1);
		if (got == 0)
			break;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
		{
			free_wiped(b, cap);
			return -1;
		}
		*len += (size_t) got;
	}
	b[*len] = '\0';
	*buf = b;
	return 0;
}

/*
 * Reads the properties file at PATH into C.  A file that group or others
 * may read or write is accepted, but WARNING (empty otherwise) says so:
 * it is where the secrets are.  Pipes (--kafka-config <(vault ...)) work.
 */
int
kconf_read_file(struct kconf *c, const char *path, char *warning, size_t warnlen,
				char *err, size_t errlen)
{
	struct stat st;
	char	   *text = NULL;
	size_t		len = 0;
	int			fd;
	int			rc;

	warning[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		snprintf(err, errlen, "cannot read Kafka properties file \"%s\": %s", path,
				 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
	{
		snprintf(err, errlen, "cannot read Kafka properties file \"%s\": is a directory", path);
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)))
		snprintf(warning, warnlen, "Kafka properties file \"%s\" is readable or writable by "
				 "group or others (mode %03o); it may hold secrets: chmod 600 it",
				 path, (unsigned) (st.st_mode & 0777));
	rc = read_all(fd, &text, &len, KCONF_FILE_MAX);
	if (rc != 0)
	{
		snprintf(err, errlen, "cannot read Kafka properties file \"%s\": %s", path,
				 rc == -2 ? "larger than 1 MiB" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	rc = kconf_parse_text(c, text, len, path, err, errlen);
	free_wiped(text, len);
	return rc;
}
