/*
 * validate.c: request and option checks of stockpipe-dash (validate.h).
 */
#include "validate.h"

#include "civil.h"
#include "contract.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

/* The message contract's own rule (contract/): one definition of a symbol. */
bool
dash_validate_symbol(const char *s)
{
	return sp_valid_symbol(s);
}

dash_symlist_check
dash_validate_symbol_list(const char *s, int max, int *count)
{
	char		sym[SP_SYMBOL_MAX + 2];
	int			n = 0;

	if (!s || !*s)
		return DASH_SYMLIST_MISSING;
	for (;;)
	{
		const char *end = strchr(s, ',');
		size_t		len = end ? (size_t) (end - s) : strlen(s);

		if (++n > max)
			return DASH_SYMLIST_TOO_MANY;
		/* Longer than any symbol: refused without copying. */
		if (len >= sizeof sym)
			return DASH_SYMLIST_BAD_SYMBOL;
		memcpy(sym, s, len);
		sym[len] = '\0';
		if (!dash_validate_symbol(sym))
			return DASH_SYMLIST_BAD_SYMBOL;
		if (!end)
			break;
		s = end + 1;
	}
	if (count)
		*count = n;
	return DASH_SYMLIST_OK;
}

/* ------------------------------------------------------------------ times */

/* Read exactly n digits at *p into *v; advance *p. */
static bool
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++)
	{
		if (!isdigit((unsigned char) **p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

/* "Z", "+HH", "+HHMM" or "+HH:MM" (or '-') at *p: seconds east of UTC. */
static bool
parse_zone(const char **p, int *offset)
{
	int			sign,
				hh,
				mm = 0;

	if (**p == 'Z')
	{
		(*p)++;
		*offset = 0;
		return true;
	}
	sign = **p == '+' ? 1 : -1;
	(*p)++;
	if (!digits(p, 2, &hh))
		return false;
	if (**p == ':')
	{
		(*p)++;
		if (!digits(p, 2, &mm))
			return false;
	}
	else if (**p && !digits(p, 2, &mm))
		return false;
	/* PostgreSQL's bound is 15:59. */
	if (hh > 15 || mm > 59)
		return false;
	*offset = sign * (hh * 3600 + mm * 60);
	return true;
}

/* "HH:MM[:SS[.f+]]" at *p: seconds into the day. */
static bool
parse_clock(const char **p, int *secs)
{
	int			hh,
				mi,
				ss = 0;

	if (!digits(p, 2, &hh) || *(*p)++ != ':' || !digits(p, 2, &mi))
		return false;
	if (**p == ':')
	{
		(*p)++;
		if (!digits(p, 2, &ss))
			return false;
		if (**p == '.')
		{
			(*p)++;
			if (!isdigit((unsigned char) **p))
				return false;
			while (isdigit((unsigned char) **p))
				(*p)++;
		}
	}
	/* 60: a leap second, which PostgreSQL accepts (as the next minute). */
	if (hh > 23 || mi > 59 || ss > 60)
		return false;
	*secs = hh * 3600 + mi * 60 + ss;
	return true;
}

bool
dash_validate_iso_time(const char *s, int64_t *epoch, bool *has_zone)
{
	const char *p = s;
	int			y,
				m,
				d,
				secs = 0,
				offset = 0;
	bool		zone = false;

	if (!s || strlen(s) > 40)
		return false;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &m) ||
		*p++ != '-' || !digits(&p, 2, &d))
		return false;
	/* There is no year 0 in PostgreSQL's AD dates. */
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > sp_days_in_month(y, m))
		return false;
	if (*p == 'T' || *p == ' ')
	{
		p++;
		if (!parse_clock(&p, &secs))
			return false;
		if (*p == 'Z' || *p == '+' || *p == '-')
		{
			if (!parse_zone(&p, &offset))
				return false;
			zone = true;
		}
	}
	if (*p)
		return false;
	if (epoch)
		*epoch = sp_days_from_civil(y, m, d) * 86400 + secs - offset;
	if (has_zone)
		*has_zone = zone;
	return true;
}

dash_range_check
dash_validate_time_range(const char *from, const char *to)
{
	int64_t		t_from = 0,
				t_to = 0;
	bool		z_from = false,
				z_to = false;
	bool		has_from = from && *from,
				has_to = to && *to;

	if ((has_from && !dash_validate_iso_time(from, &t_from, &z_from)) ||
		(has_to && !dash_validate_iso_time(to, &t_to, &z_to)))
		return DASH_RANGE_BAD_TIME;
	if (has_from && has_to && z_from && z_to &&
		(t_from >= t_to || t_to - t_from > (int64_t) DASH_RANGE_MAX_DAYS * 86400))
		return DASH_RANGE_BAD_ORDER;
	return DASH_RANGE_OK;
}

/* ------------------------------------------------------------------ hosts */

/* "1".."65535", nothing else. */
static bool
parse_port(const char *s, size_t len, int *port)
{
	int			v = 0;

	if (len < 1 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = v;
	return true;
}

/* A DNS name or dotted address: labels of [a-z0-9_-], 1-63 chars each. */
static bool
valid_dns_name(const char *s, size_t len)
{
	size_t		label = 0;

	if (len < 1 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (label == 0)
				return false;
			label = 0;
		}
		else if (isalnum((unsigned char) s[i]) || s[i] == '-' || s[i] == '_')
		{
			if (++label > 63)
				return false;
		}
		else
			return false;
	}
	return label > 0;
}

/* The inside of "[...]": hex digits, ':' and '.' (an IPv4 tail). */
static bool
valid_ipv6_literal(const char *s, size_t len)
{
	if (len < 2 || len > 45 || !memchr(s, ':', len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char) s[i]) && s[i] != ':' && s[i] != '.')
			return false;
	return true;
}

bool
dash_validate_split_host(const char *s, size_t len, char *name, size_t cap, int *port)
{
	size_t		nlen;
	const char *rest;

	*port = DASH_PORT_ANY;
	if (len == 0)
		return false;
	if (s[0] == '[')
	{
		const char *close = memchr(s, ']', len);

		if (!close || !valid_ipv6_literal(s + 1, (size_t) (close - s - 1)))
			return false;
		nlen = (size_t) (close - s) + 1;
		rest = close + 1;
	}
	else
	{
		const char *colon = memchr(s, ':', len);

		nlen = colon ? (size_t) (colon - s) : len;
		rest = s + nlen;
		/* "localhost." is "localhost" (a fully qualified name). */
		if (nlen > 1 && s[nlen - 1] == '.' && s[nlen - 2] != '.')
			nlen--;
		if (!valid_dns_name(s, nlen))
			return false;
	}
	if (rest < s + len &&
		(*rest != ':' || !parse_port(rest + 1, (size_t) (s + len - rest - 1), port)))
		return false;
	if (nlen >= cap)
		return false;
	for (size_t i = 0; i < nlen; i++)
		name[i] = (char) tolower((unsigned char) s[i]);
	name[nlen] = '\0';
	return true;
}

bool
dash_hostlist_add(dash_host_list *l, const char *entry, size_t len)
{
	dash_host_entry  *e;

	if (l->n >= DASH_HOSTLIST_MAX)
		return false;
	e = &l->e[l->n];
	if (!dash_validate_split_host(entry, len, e->name, sizeof e->name, &e->port))
		return false;
	l->n++;
	return true;
}

bool
dash_hostlist_parse(dash_host_list *l, const char *spec, const char **bad)
{
	const char *p = spec;

	memset(l, 0, sizeof *l);
	for (;;)
	{
		size_t		n;

		while (*p == ' ')
			p++;
		n = strcspn(p, ",");
		*bad = p;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 1 && *p == '*')
			l->any = true;
		else if (!dash_hostlist_add(l, p, n))
			return false;
		p += strcspn(p, ",");
		if (!*p)
			return true;
		p++;
	}
}

bool
dash_hostlist_allows(const dash_host_list *l, const char *host)
{
	char		name[DASH_HOST_NAME_LEN + 1];
	int			port;

	if (l->any)
		return true;
	if (!host || !dash_validate_split_host(host, strlen(host), name, sizeof name, &port))
		return false;
	if (port == DASH_PORT_ANY)
		port = 80;
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name) &&
			(l->e[i].port == DASH_PORT_ANY || l->e[i].port == port))
			return true;
	return false;
}

/* ---------------------------------------------------------------- options */

bool
dash_validate_listen(const char *s, struct sockaddr_in *sa)
{
	char		host[64];
	const char *colon = strrchr(s, ':');
	unsigned	port;

	if (!colon || colon - s >= (long) sizeof host)
		return false;
	memcpy(host, s, (size_t) (colon - s));
	host[colon - s] = '\0';
	/* 0: a port the kernel picks (logged at start). */
	if (!parse_uint_range(colon + 1, 0, 65535, &port))
		return false;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t) port);
	if (!*host || !strcmp(host, "*"))
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return false;
	return true;
}

bool
parse_uint_range(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (!s || !*s || strlen(s) > 10)
		return false;
	for (; *s; s++)
	{
		if (!isdigit((unsigned char) *s))
			return false;
		v = v * 10 + (unsigned long) (*s - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (unsigned) v;
	return true;
}
