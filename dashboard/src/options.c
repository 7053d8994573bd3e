/*
 * options.c: the command line of stockpipe-dash (options.h): getopt_long,
 * each number within its bounds, --listen and --allowed-hosts parsed.
 */
#define _GNU_SOURCE
#include "options.h"

#include <getopt.h>
#include <string.h>
#include <arpa/inet.h>

#ifndef DASH_STATIC_DIR
#define DASH_STATIC_DIR "/usr/local/share/stockpipe-dash"
#endif

void
dash_options_usage(FILE *f)
{
	fprintf(f,
			"usage: stockpipe-dash [options]\n"
			"  --listen ADDR:PORT           address to serve on (default 127.0.0.1:8080)\n"
			"  --dsn CONNINFO               libpq connection string (default: PG* environment)\n"
			"  --static DIR                 web assets (default " DASH_STATIC_DIR ")\n"
			"  --allowed-hosts LIST         Host headers served: comma-separated NAME[:PORT], * for any\n"
			"                               (default: localhost, 127.0.0.1, [::1] and the listen\n"
			"                               address, with the listen port)\n"
			"  --max-clients N              most Server-Sent Events clients (default 100)\n"
			"  --max-connections-per-ip N   most connections of one client address, streams\n"
			"                               included (default 16, 0 for no limit)\n"
			"  --timeout SEC                close a connection idle this long (default 30, at least 2)\n"
			"  --request-timeout SEC        close a connection whose request head takes longer\n"
			"                               (default 10)\n"
			"  --statement-timeout MS       longest query (default 5000)\n"
			"  --max-refresh-rate N         most refresh queries a second, however many\n"
			"                               notifications arrive (default 10)\n");
}

/* A number option in [min, max]; false (said on err) when it is not. */
static bool
uint_option(const char *s, const char *name, unsigned min, unsigned max,
			unsigned *out, FILE *err)
{
	if (parse_uint_range(s, min, max, out))
		return true;
	fprintf(err, "stockpipe-dash: bad --%s %s (want a whole number from %u to %u)\n",
			name, s, min, max);
	return false;
}

static void
set_defaults(dash_options *o)
{
	memset(o, 0, sizeof *o);
	o->listen = "127.0.0.1:8080";
	o->dsn = "";
	o->static_dir = DASH_STATIC_DIR;
	o->allowed_hosts = NULL;
	o->max_clients = 100;
	o->per_ip = 16;
	o->timeout = 30;
	o->request_timeout = 10;
	o->statement_timeout_ms = 5000;
	o->max_refresh_rate = 10;
}

dash_options_result
dash_options_parse(dash_options *o, int argc, char **argv, FILE *err)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"dsn", required_argument, NULL, 'd'},
		{"static", required_argument, NULL, 's'},
		{"allowed-hosts", required_argument, NULL, 'H'},
		{"max-clients", required_argument, NULL, 'm'},
		{"max-connections-per-ip", required_argument, NULL, 'p'},
		{"timeout", required_argument, NULL, 't'},
		{"request-timeout", required_argument, NULL, 'r'},
		{"statement-timeout", required_argument, NULL, 'T'},
		{"max-refresh-rate", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *bad;
	bool		ok = true;
	int			c;

	set_defaults(o);
	optind = 0;					/* from the start, also on a second call */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'l': o->listen = optarg; break;
			case 'd': o->dsn = optarg; break;
			case 's': o->static_dir = optarg; break;
			case 'H': o->allowed_hosts = optarg; break;
			case 'm': ok = uint_option(optarg, "max-clients", 1, 100000, &o->max_clients, err); break;
			case 'p': ok = uint_option(optarg, "max-connections-per-ip", 0, 100000, &o->per_ip, err); break;
			case 't': ok = uint_option(optarg, "timeout", 2, 86400, &o->timeout, err); break;
			case 'r': ok = uint_option(optarg, "request-timeout", 1, 3600, &o->request_timeout, err); break;
			case 'T': ok = uint_option(optarg, "statement-timeout", 1, 1000000, &o->statement_timeout_ms, err); break;
			case 'R': ok = uint_option(optarg, "max-refresh-rate", 1, 1000, &o->max_refresh_rate, err); break;
			case 'h': return DASH_OPTIONS_HELP;
			default: return DASH_OPTIONS_BAD;	/* getopt_long said why */
		}
		if (!ok)
			return DASH_OPTIONS_BAD;
	}
	if (optind < argc)
	{
		fprintf(err, "stockpipe-dash: unexpected argument %s\n", argv[optind]);
		return DASH_OPTIONS_BAD;
	}
	if (!dash_validate_listen(o->listen, &o->listen_addr))
	{
		fprintf(err, "stockpipe-dash: bad --listen %s (want IPv4:PORT)\n", o->listen);
		return DASH_OPTIONS_BAD;
	}
	if (!o->allowed_hosts)
		dash_options_default_hosts(&o->hosts, &o->listen_addr);
	else if (!dash_hostlist_parse(&o->hosts, o->allowed_hosts, &bad))
	{
		fprintf(err, "stockpipe-dash: bad --allowed-hosts entry at \"%s\" "
				"(want NAME, NAME:PORT, [IPv6]:PORT or *, at most %d, comma-separated)\n",
				bad, DASH_HOSTLIST_MAX);
		return DASH_OPTIONS_BAD;
	}
	return DASH_OPTIONS_OK;
}

void
dash_options_default_hosts(dash_host_list *l, const struct sockaddr_in *sa)
{
	unsigned	port = ntohs(sa->sin_port);
	char		addr[INET_ADDRSTRLEN];
	char		entry[64];
	const char *names[] = {"localhost", "127.0.0.1", "[::1]", addr};
	int			n = 3;

	memset(l, 0, sizeof *l);
	/* 0.0.0.0 is no name a browser sends. */
	if (sa->sin_addr.s_addr != htonl(INADDR_ANY) && sa->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
	{
		inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof addr);
		n = 4;
	}
	for (int i = 0; i < n; i++)
	{
		if (port)
			snprintf(entry, sizeof entry, "%s:%u", names[i], port);
		else
			snprintf(entry, sizeof entry, "%s", names[i]);
		dash_hostlist_add(l, entry, strlen(entry));
	}
}

void
dash_options_describe_hosts(const dash_host_list *l, char *buf, size_t cap)
{
	size_t		len = 0;

	buf[0] = '\0';
	if (l->any)
		snprintf(buf, cap, "any");
	for (int i = 0; i < l->n && len < cap; i++)
	{
		int			k;

		if (l->e[i].port == DASH_PORT_ANY)
			k = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", l->e[i].name);
		else
			k = snprintf(buf + len, cap - len, "%s%s:%d", len ? ", " : "", l->e[i].name, l->e[i].port);
		len += k > 0 ? (size_t) k : 0;
	}
}
