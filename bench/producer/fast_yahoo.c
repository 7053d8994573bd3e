/*
 * fast_yahoo.c -- a small, fast fake of Yahoo's v8 chart endpoint, for the
 * producer benchmark only (bench/producer/bench.py --server fast).
 *
 * Single-threaded epoll on 127.0.0.1, HTTP/1.1 with keep-alive (and
 * pipelining, one request at a time per connection).  Every
 *
 *     GET /v8/finance/chart/SYMBOL[?...]
 *
 * is answered 200 with the same fixture body (read once at start-up) after
 * --latency-ms; anything else gets 404 at once, a malformed request 400 and
 * the connection closed.  Waiting requests sit in a list sorted by due time
 * (the latency is constant, so appending keeps it sorted) and the event loop
 * sleeps in epoll_wait until the first one is due: no thread per request, no
 * sleeping.  With --gzip-body FILE (the same body, gzip-compressed), a request
 * whose Accept-Encoding names gzip gets that instead, with Content-Encoding:
 * gzip -- like Yahoo and producer/test/fake_yahoo.py.  The body is not
 * rewritten per symbol: the producer takes the symbol from its request, not
 * from meta.symbol.
 *
 * SIGTERM/SIGINT: closes everything, prints counters on stderr, exits 0.
 * No fault injection, no control API: use producer/test/fake_yahoo.py for that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BODY "/work/shared/fixtures/yahoo/chart_AAPL_1d_1m.json"
#define INBUF_MAX 8192			/* request head limit (431 above) */
#define CHART_PREFIX "/v8/finance/chart/"

enum state
{
	ST_READING,					/* waiting for (the rest of) a request head */
	ST_WAITING,					/* request parsed, in the due list */
	ST_WRITING					/* response partly sent, waiting for EPOLLOUT */
};

struct response
{
	const char *head;
	size_t		head_len;
	const char *body;
	size_t		body_len;
	int			close_after;
};

struct conn
{
	int			fd;
	enum state	state;
	uint32_t	events;			/* currently registered with epoll */
	char		in[INBUF_MAX];
	size_t		in_len;
	size_t		req_len;		/* bytes of IN taken by the current request */
	struct response resp;
	size_t		sent;
	int64_t		due_ns;
	struct conn *prev;			/* due list */
	struct conn *next;
	struct conn *all_prev;		/* every open connection */
	struct conn *all_next;
};

static struct
{
	int			epfd;
	int			lfd;
	int			sfd;
	int64_t		latency_ns;
	char	   *body;
	size_t		body_len;
	char	   *gz;
	size_t		gz_len;
	char		head_plain[256];
	size_t		head_plain_len;
	char		head_gz[256];
	size_t		head_gz_len;
	struct conn *due_first;
	struct conn *due_last;
	struct conn *all;
	long		nconns;
	/* counters */
	unsigned long requests;
	unsigned long gzipped;
	unsigned long other;
	unsigned long accepted;
	long		waiting;
	long		max_waiting;
	long		max_conns;
	int64_t		max_late_ns;	/* the latest a due response started */
	unsigned long blocked_writes;	/* responses that had to wait for EPOLLOUT */
} S;

static const char R404[] =
"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot Found";
static const char R400[] =
"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
"Connection: close\r\n\r\nBad Request";
static const char R431[] =
"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
"Connection: close\r\n\r\n";

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "fast_yahoo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static void
set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events == events)
		return;
	if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		die("epoll_ctl MOD");
	c->events = events;
}

static void
due_remove(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		S.due_first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		S.due_last = c->prev;
	c->prev = c->next = NULL;
	S.waiting--;
}

/* Appends C to the due list, keeping it sorted by due_ns. */
static void
due_add(struct conn *c)
{
	struct conn *after = S.due_last;

	while (after && after->due_ns > c->due_ns)	/* never with a constant latency */
		after = after->prev;
	c->prev = after;
	c->next = after ? after->next : S.due_first;
	if (c->next)
		c->next->prev = c;
	else
		S.due_last = c;
	if (after)
		after->next = c;
	else
		S.due_first = c;
	if (++S.waiting > S.max_waiting)
		S.max_waiting = S.waiting;
}

static void
conn_close(struct conn *c)
{
	if (c->state == ST_WAITING)
		due_remove(c);
	close(c->fd);				/* also removes it from the epoll set */
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		S.all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	S.nconns--;
	free(c);
}

static void
accept_all(void)
{
	for (;;)
	{
		int			fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int			one = 1;
		struct conn *c;
		struct epoll_event ev;

		if (fd < 0)
		{
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "fast_yahoo: accept: %s\n", strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL)
		{
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = ST_READING;
		c->events = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("epoll_ctl ADD");
		c->all_next = S.all;
		if (S.all)
			S.all->all_prev = c;
		S.all = c;
		S.accepted++;
		if (++S.nconns > S.max_conns)
			S.max_conns = S.nconns;
	}
}

/*
 * Does the comma-separated header value V (length N, followed by "\r\n")
 * list TOKEN, without q=0?
 */
static int
lists_token(const char *v, size_t n, const char *token)
{
	size_t		tl = strlen(token);
	size_t		i = 0;

	while (i < n)
	{
		size_t		b;
		size_t		e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		b = i;
		while (i < n && v[i] != ',' && v[i] != ';')
			i++;
		e = i;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - b == tl && strncasecmp(v + b, token, tl) == 0)
		{
			/* parameters up to the next comma: "gzip;q=0" refuses it */
			while (i < n && v[i] != ',')
			{
				if ((v[i] == 'q' || v[i] == 'Q') && i + 1 < n && v[i + 1] == '=' &&
					strtod(v + i + 2, NULL) == 0.0)
					return 0;
				i++;
			}
			return 1;
		}
		while (i < n && v[i] != ',')
			i++;
	}
	return 0;
}

/*
 * Parses the request head at C->in (complete: ends at HEAD_END) and sets
 * C->resp.  Returns 1 when the response must wait for the latency.
 */
static int
parse_request(struct conn *c, const char *head_end)
{
	const char *p = c->in;
	const char *eol = memmem(p, (size_t) (head_end - p) + 2, "\r\n", 2);
	const char *sp1 = memchr(p, ' ', (size_t) (eol - p));
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t) (eol - sp1 - 1)) : NULL;
	int			http10;
	int			close_after;
	int			gzip_ok = 0;
	int			has_body = 0;
	const char *target;
	size_t		target_len;

	memset(&c->resp, 0, sizeof(c->resp));
	if (sp1 == NULL || sp2 == NULL || eol - sp2 != 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		goto bad;
	http10 = sp2[8] == '0';
	close_after = http10;
	/* headers */
	for (const char *h = eol + 2; h < head_end;)
	{
		const char *e = memmem(h, (size_t) (head_end - h) + 2, "\r\n", 2);
		const char *colon = memchr(h, ':', (size_t) (e - h));
		const char *v;
		size_t		nl;
		size_t		vl;

		if (colon == NULL)
			goto bad;
		nl = (size_t) (colon - h);
		v = colon + 1;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		vl = (size_t) (e - v);
		if (nl == 10 && strncasecmp(h, "Connection", 10) == 0)
		{
			if (lists_token(v, vl, "close"))
				close_after = 1;
			else if (http10 && lists_token(v, vl, "keep-alive"))
				close_after = 0;
		}
		else if (nl == 15 && strncasecmp(h, "Accept-Encoding", 15) == 0)
			gzip_ok = lists_token(v, vl, "gzip");
		else if ((nl == 14 && strncasecmp(h, "Content-Length", 14) == 0 &&
				  strspn(v, "0") != vl) ||
				 (nl == 17 && strncasecmp(h, "Transfer-Encoding", 17) == 0))
			has_body = 1;
		h = e + 2;
	}
	if (has_body)				/* not needed by the producer: refuse */
		goto bad;
	c->resp.close_after = close_after;
	target = sp1 + 1;
	target_len = (size_t) (sp2 - target);
	{
		const char *q = memchr(target, '?', target_len);
		size_t		path_len = q ? (size_t) (q - target) : target_len;
		size_t		pl = sizeof(CHART_PREFIX) - 1;

		if (sp1 - p == 3 && strncmp(p, "GET", 3) == 0 && path_len > pl &&
			strncmp(target, CHART_PREFIX, pl) == 0 &&
			memchr(target + pl, '/', path_len - pl) == NULL)
		{
			S.requests++;
			if (gzip_ok && S.gz)
			{
				S.gzipped++;
				c->resp.head = S.head_gz;
				c->resp.head_len = S.head_gz_len;
				c->resp.body = S.gz;
				c->resp.body_len = S.gz_len;
			}
			else
			{
				c->resp.head = S.head_plain;
				c->resp.head_len = S.head_plain_len;
				c->resp.body = S.body;
				c->resp.body_len = S.body_len;
			}
			return 1;
		}
	}
	S.other++;
	c->resp.head = R404;
	c->resp.head_len = sizeof(R404) - 1;
	return 0;
bad:
	S.other++;
	c->resp.head = R400;
	c->resp.head_len = sizeof(R400) - 1;
	c->resp.close_after = 1;
	return 0;
}

static void start_response(struct conn *c);

/*
 * Looks for a complete request head in C->in; parses it and either queues it
 * (latency) or starts answering at once (which may close C).
 */
static void
next_request(struct conn *c)
{
	char	   *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;

	if (end == NULL)
	{
		if (c->in_len == sizeof(c->in))
		{
			memset(&c->resp, 0, sizeof(c->resp));
			c->resp.head = R431;
			c->resp.head_len = sizeof(R431) - 1;
			c->resp.close_after = 1;
			c->req_len = c->in_len;
			S.other++;
			start_response(c);
			return;
		}
		c->state = ST_READING;
		set_events(c, EPOLLIN);
		return;
	}
	c->req_len = (size_t) (end - c->in) + 4;
	if (parse_request(c, end) && S.latency_ns > 0)
	{
		c->state = ST_WAITING;
		c->due_ns = now_ns() + S.latency_ns;
		set_events(c, 0);		/* only EPOLLHUP/EPOLLERR until due */
		due_add(c);
		return;
	}
	start_response(c);
}

/* Writes what it can of C's response; on completion moves to the next request. */
static void
send_more(struct conn *c)
{
	for (;;)
	{
		struct iovec iov[2];
		int			n = 0;
		size_t		total = c->resp.head_len + c->resp.body_len;
		ssize_t		w;

		if (c->sent < c->resp.head_len)
		{
			iov[n].iov_base = (void *) (c->resp.head + c->sent);
			iov[n++].iov_len = c->resp.head_len - c->sent;
			if (c->resp.body_len)
			{
				iov[n].iov_base = (void *) c->resp.body;
				iov[n++].iov_len = c->resp.body_len;
			}
		}
		else
		{
			iov[n].iov_base = (void *) (c->resp.body + (c->sent - c->resp.head_len));
			iov[n++].iov_len = total - c->sent;
		}
		w = writev(c->fd, iov, n);
		if (w < 0)
		{
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
			{
				if (c->events != EPOLLOUT)
					S.blocked_writes++;
				c->state = ST_WRITING;
				set_events(c, EPOLLOUT);
				return;
			}
			conn_close(c);		/* EPIPE, ECONNRESET: the client went away */
			return;
		}
		c->sent += (size_t) w;
		if (c->sent == total)
			break;
	}
	if (c->resp.close_after)
	{
		conn_close(c);
		return;
	}
	memmove(c->in, c->in + c->req_len, c->in_len - c->req_len);
	c->in_len -= c->req_len;
	c->req_len = 0;
	next_request(c);			/* a pipelined request, or back to reading */
}

static void
start_response(struct conn *c)
{
	c->sent = 0;
	c->state = ST_WRITING;
	send_more(c);
}

static void
on_readable(struct conn *c)
{
	for (;;)
	{
		ssize_t		r;

		if (c->in_len == sizeof(c->in))
			break;
		r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (r > 0)
		{
			c->in_len += (size_t) r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(c);			/* EOF or error */
		return;
	}
	next_request(c);
}

static void
fire_due(void)
{
	int64_t		now = now_ns();

	while (S.due_first && S.due_first->due_ns <= now)
	{
		struct conn *c = S.due_first;

		if (now_ns() - c->due_ns > S.max_late_ns)
			S.max_late_ns = now_ns() - c->due_ns;
		due_remove(c);
		start_response(c);
	}
}

/* epoll_wait timeout in ms until the first due request, rounded up; -1 if none. */
static int
timeout_ms(void)
{
	int64_t		d;

	if (S.due_first == NULL)
		return -1;
	d = S.due_first->due_ns - now_ns();
	if (d <= 0)
		return 0;
	d = (d + 999999) / 1000000;
	return d > INT_MAX ? INT_MAX : (int) d;
}

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: fast_yahoo [--port N] [--port-file FILE] [--latency-ms N]\n"
			"                  [--body FILE] [--gzip-body FILE]\n"
			"  --body       fixture served for every chart request (default %s)\n"
			"  --gzip-body  the same, gzip-compressed: sent when Accept-Encoding has gzip\n"
			"  --latency-ms added to every chart request (default 100)\n",
			DEFAULT_BODY);
}

static int
make_head(char *buf, size_t cap, size_t len, int gz)
{
	int			n = snprintf(buf, cap,
							 "HTTP/1.1 200 OK\r\n"
							 "Content-Type: application/json;charset=utf-8\r\n"
							 "%s"
							 "Content-Length: %zu\r\n"
							 "\r\n",
							 gz ? "Content-Encoding: gzip\r\n" : "", len);

	return n > 0 && (size_t) n < cap ? n : -1;
}

int
main(int argc, char **argv)
{
	const char *body_path = DEFAULT_BODY;
	const char *gz_path = NULL;
	const char *port_file = NULL;
	long		port = 0;
	long		latency_ms = 100;
	struct sockaddr_in addr;
	socklen_t	alen = sizeof(addr);
	int			one = 1;
	sigset_t	mask;
	struct epoll_event ev;
	int			n;
	int			running = 1;

	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char	   *end;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		{
			usage(stdout);
			return 0;
		}
		if (v == NULL)
		{
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(a, "--body") == 0)
			body_path = v;
		else if (strcmp(a, "--gzip-body") == 0)
			gz_path = v;
		else if (strcmp(a, "--port-file") == 0)
			port_file = v;
		else if (strcmp(a, "--port") == 0 || strcmp(a, "--latency-ms") == 0)
		{
			long		x;

			errno = 0;
			x = strtol(v, &end, 10);
			if (errno || *end || x < 0 || x > (a[2] == 'p' ? 65535 : 3600000))
			{
				fprintf(stderr, "fast_yahoo: bad %s: %s\n", a, v);
				return 2;
			}
			if (a[2] == 'p')
				port = x;
			else
				latency_ms = x;
		}
		else
		{
			usage(stderr);
			return 2;
		}
	}

	S.latency_ns = (int64_t) latency_ms * 1000000;
	if ((S.body = read_file(body_path, &S.body_len)) == NULL)
		die(body_path);
	if (gz_path && (S.gz = read_file(gz_path, &S.gz_len)) == NULL)
		die(gz_path);
	if ((n = make_head(S.head_plain, sizeof(S.head_plain), S.body_len, 0)) < 0)
		return 1;
	S.head_plain_len = (size_t) n;
	if ((n = make_head(S.head_gz, sizeof(S.head_gz), S.gz_len, 1)) < 0)
		return 1;
	S.head_gz_len = (size_t) n;

	/* signals through a signalfd: handled in the loop, nothing async */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		die("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	if ((S.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd");

	if ((S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		die("socket");
	setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(S.lfd, (struct sockaddr *) &addr, sizeof(addr)) != 0)
		die("bind");
	if (listen(S.lfd, 4096) != 0)	/* 2,000 symbols connect at once */
		die("listen");
	if (getsockname(S.lfd, (struct sockaddr *) &addr, &alen) != 0)
		die("getsockname");
	port = ntohs(addr.sin_port);

	if ((S.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = &S.lfd;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.lfd, &ev) != 0)
		die("epoll_ctl listen");
	ev.events = EPOLLIN;
	ev.data.ptr = &S.sfd;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.sfd, &ev) != 0)
		die("epoll_ctl signalfd");

	if (port_file)
	{
		size_t		pl = strlen(port_file);
		char	   *tmp = malloc(pl + 5);
		FILE	   *f;

		if (tmp == NULL)
			die("malloc");
		memcpy(tmp, port_file, pl);
		memcpy(tmp + pl, ".tmp", 5);
		if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%ld\n", port) < 0 || fclose(f) != 0 ||
			rename(tmp, port_file) != 0)
			die(port_file);
		free(tmp);
	}
	fprintf(stderr, "fast_yahoo: listening on 127.0.0.1:%ld, %ld ms latency, body %zu bytes%s\n",
			port, latency_ms, S.body_len, S.gz ? " (gzip available)" : "");

	while (running)
	{
		struct epoll_event evs[256];

		n = epoll_wait(S.epfd, evs, 256, timeout_ms());
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++)
		{
			struct conn *c;

			if (evs[i].data.ptr == &S.lfd)
			{
				accept_all();
				continue;
			}
			if (evs[i].data.ptr == &S.sfd)
			{
				struct signalfd_siginfo si;

				while (read(S.sfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
					;
				running = 0;
				continue;
			}
			c = evs[i].data.ptr;
			/*
			 * A connection closed earlier in this batch is freed memory; we
			 * only close connections for events on themselves, handled once
			 * per batch, so C is valid here.
			 */
			if (c->state == ST_WAITING)
				conn_close(c);	/* only HUP/ERR are registered */
			else if (c->state == ST_WRITING)
			{
				if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					send_more(c);
			}
			else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(c);
		}
		fire_due();
	}

	while (S.all)
		conn_close(S.all);
	close(S.lfd);
	close(S.sfd);
	close(S.epfd);
	free(S.body);
	free(S.gz);
	{
		struct rusage ru;
		double		cpu_ms = 0;

		if (getrusage(RUSAGE_SELF, &ru) == 0)
			cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
				(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
		fprintf(stderr, "fast_yahoo: stopped; chart_requests=%lu gzip=%lu other=%lu "
				"connections=%lu max_connections=%ld max_in_flight=%ld "
				"max_late_ms=%.1f blocked_writes=%lu cpu_ms=%.0f\n",
				S.requests, S.gzipped, S.other, S.accepted, S.max_conns, S.max_waiting,
				S.max_late_ns / 1e6, S.blocked_writes, cpu_ms);
	}
	return 0;
}
