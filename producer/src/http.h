/*
 * http.h -- concurrent HTTP GETs over one libcurl multi handle.
 */
#ifndef STOCKPIPE_HTTP_H
#define STOCKPIPE_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct http_options
{
	int64_t		connect_timeout_ms;
	int64_t		timeout_ms;
	const char *user_agent;
	size_t		max_body;		/* largest body accepted, decompressed */
};

struct http_request
{
	const char *url;			/* in: owned by the caller */
	long		status;			/* out: HTTP status, 0 if no response */
	int			failed;			/* out: transport error (see error) */
	int			too_large;		/* out: failed because the body passed max_body */
	char		error[256];		/* out: why, when failed */
	char	   *body;			/* out: NUL-terminated response body */
	size_t		len;
	size_t		cap;
	long		new_connections;	/* out: connections opened for it */
	size_t		max_body;		/* internal: the client's limit */
};

struct http_client;

/* Called for each request as soon as it has finished (in the caller's thread). */
typedef void (*http_done_fn) (struct http_request *r, void *arg);

struct http_client *http_client_new(const struct http_options *opt, char *err, size_t errlen);
void		http_client_free(struct http_client *c);
int			http_fetch_all(struct http_client *c, struct http_request *reqs, size_t n,
						   volatile sig_atomic_t *stop, http_done_fn done, void *arg);
void		http_request_clear(struct http_request *r);

#endif
