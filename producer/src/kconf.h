/*
 * kconf.h -- extra librdkafka properties from a properties file, the
 * environment (STOCKPIPE_KAFKA_<NAME>) and -X flags, each with where it
 * came from, and the masking of secret values for logs.
 */
#ifndef STOCKPIPE_KCONF_H
#define STOCKPIPE_KCONF_H

#include <stddef.h>

#define KCONF_ENV_PREFIX "STOCKPIPE_KAFKA_"
#define KCONF_ENV_FILE "STOCKPIPE_KAFKA_CONFIG"
#define KCONF_FILE_MAX (1024 * 1024)	/* a properties file is a few lines */
#define KCONF_KEY_MAX 255
#define KCONF_HIDDEN "(hidden)"

struct kconf_prop
{
	char	   *key;
	char	   *value;
	char	   *origin;			/* "FILE:LINE", "environment NAME" or "-X" */
};

/* Properties in the order librdkafka must apply them: the last one wins. */
struct kconf
{
	struct kconf_prop *items;
	size_t		count;
};

int			kconf_set(struct kconf *c, const char *key, size_t keylen,
					  const char *value, size_t valuelen, const char *origin,
					  char *err, size_t errlen);
int			kconf_parse_flag(struct kconf *c, const char *arg, char *err, size_t errlen);
int			kconf_parse_text(struct kconf *c, const char *text, size_t len, const char *name,
							 char *err, size_t errlen);
int			kconf_env_key(const char *name, char *key, size_t size);
int			kconf_from_env(struct kconf *c, char *const *envp, char *err, size_t errlen);
int			kconf_merge(struct kconf *dst, struct kconf *src, char *err, size_t errlen);
const struct kconf_prop *kconf_find(const struct kconf *c, const char *key);
void		kconf_free(struct kconf *c);

int			kconf_is_secret(const char *key);
const char *kconf_shown_value(const struct kconf_prop *p);
void		kconf_redact(char *msg, size_t size, const char *secret);

/* The only function here that does I/O. */
int			kconf_read_file(struct kconf *c, const char *path, char *warning, size_t warnlen,
							char *err, size_t errlen);

#endif
