/*
 * http.c -- fetches a batch of URLs concurrently with one libcurl multi
 * handle.
 *
 * The multi handle owns the connection cache, and the easy handles are
 * kept between batches, so connections (and TLS sessions, DNS answers)
 * are reused from one polling cycle to the next.  HTTP/2 is negotiated
 * over TLS when the server offers it; for https URLs PIPEWAIT makes
 * concurrent requests wait for that negotiation and then share one
 * multiplexed connection instead of opening many.  (Not for plain http:
 * there is no HTTP/2 to wait for, and waiting would serialise requests.)
 * Bodies arrive gzip/deflate/brotli-compressed when the server agrees and
 * are decoded by libcurl.  CURLOPT_NOSIGNAL keeps libcurl's timeouts from
 * using signals in this multi-threaded process.
 *
 * A body is never held beyond opt.max_body bytes: a hostile or broken
 * upstream once sent a 16 MB chart that cost the process 0.9 GB to decode.
 * The write callback sees the decoded bytes, so a small gzip body that
 * inflates past the limit is caught as well as a large plain one; a
 * declared Content-Length above the limit fails before any byte is read.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct http_client
{
	CURLM	   *multi;
	CURL	  **easy;			/* pool, grown to the largest batch */
	size_t		neasy;
	struct curl_slist *headers;
	struct http_options opt;
};

struct http_client *
http_client_new(const struct http_options *opt, char *err, size_t errlen)
{
	struct http_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->opt = *opt;
	c->multi = curl_multi_init();
	c->headers = curl_slist_append(NULL, "Accept: application/json,text/plain,*/*");
	if (c->multi == NULL || c->headers == NULL)
	{
		snprintf(err, errlen, "cannot initialise libcurl");
		http_client_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
	return c;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->neasy; i++)
		curl_easy_cleanup(c->easy[i]);
	free(c->easy);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	curl_slist_free_all(c->headers);
	free(c);
}

void
http_request_clear(struct http_request *r)
{
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
	r->status = 0;
	r->failed = 0;
	r->too_large = 0;
	r->error[0] = '\0';
	r->new_connections = 0;
}

/*
 * Appends decoded body bytes.  Past max_body it drops what it has (the
 * memory goes back at once) and returns 0, which makes libcurl abort the
 * transfer with CURLE_WRITE_ERROR.  The buffer doubles, but never beyond
 * max_body + 1, so the limit also bounds what is allocated.
 */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *r = userp;
	size_t		n = size * nmemb;

	if (n > r->max_body - r->len)
	{
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		r->too_large = 1;
		return 0;
	}
	if (r->len + n + 1 > r->cap)
	{
		size_t		cap = r->cap ? r->cap : 16384;
		char	   *grown;

		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > r->max_body + 1)
			cap = r->max_body + 1;
		grown = realloc(r->body, cap);
		if (grown == NULL)
			return 0;
		r->body = grown;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* An easy handle with every per-client option set once. */
static CURL *
new_easy(struct http_client *c)
{
	CURL	   *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->opt.user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");	/* every decoder built in */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) c->opt.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) c->opt.timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	/* a declared Content-Length above the limit fails before the body */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) c->opt.max_body);
	return e;
}

static int
grow_pool(struct http_client *c, size_t n)
{
	CURL	  **grown;

	if (n <= c->neasy)
		return 0;
	grown = realloc(c->easy, n * sizeof(CURL *));
	if (grown == NULL)
		return -1;
	c->easy = grown;
	while (c->neasy < n)
	{
		c->easy[c->neasy] = new_easy(c);
		if (c->easy[c->neasy] == NULL)
			return -1;
		c->neasy++;
	}

	/*
	 * Keep a connection per handle between cycles.  libcurl's default
	 * cache holds 4 per handle *added*, and the handles are removed one by
	 * one as their responses are handled: late in a cycle the cache
	 * shrank below the pool and closed connections the next cycle had to
	 * open again (about 340 of 2,000 per cycle in bench/producer).
	 */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long) c->neasy);
	return 0;
}

/* Files the outcome of one finished transfer into its request. */
static struct http_request *
finish(CURL *e, CURLcode result, const char *errbuf)
{
	struct http_request *r = NULL;
	long		conns = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **) &r);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
	r->new_connections = conns;
	if (result != CURLE_OK)
	{
		r->failed = 1;
		if (r->too_large || result == CURLE_FILESIZE_EXCEEDED)
		{
			r->too_large = 1;
			snprintf(r->error, sizeof(r->error),
					 "response larger than %zu bytes (--max-response-bytes); transfer aborted",
					 r->max_body);
		}
		else
			snprintf(r->error, sizeof(r->error), "%s",
					 errbuf[0] ? errbuf : curl_easy_strerror(result));
	}
	return r;
}

/*
 * Runs all N requests concurrently and returns when every one has finished
 * (or failed, or timed out), or early with -1 when *STOP becomes set.
 * DONE is called for each request as soon as it finishes, so that decoding
 * overlaps with the transfers still in flight.
 * Waits in curl_multi_poll, never spins; the poll is bounded so that a
 * stop request is noticed within 100 ms.
 */
int
http_fetch_all(struct http_client *c, struct http_request *reqs, size_t n,
			   volatile sig_atomic_t *stop, http_done_fn done, void *arg)
{
	char	  (*errbufs)[CURL_ERROR_SIZE];
	int			running = 0;
	int			rc = 0;

	if (n == 0)
		return 0;
	if (grow_pool(c, n) != 0)
		return -1;
	errbufs = calloc(n, sizeof(*errbufs));
	if (errbufs == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
	{
		http_request_clear(&reqs[i]);
		reqs[i].max_body = c->opt.max_body;
		curl_easy_setopt(c->easy[i], CURLOPT_URL, reqs[i].url);
		curl_easy_setopt(c->easy[i], CURLOPT_PIPEWAIT,
						 strncmp(reqs[i].url, "https:", 6) == 0 ? 1L : 0L);
		curl_easy_setopt(c->easy[i], CURLOPT_WRITEDATA, &reqs[i]);
		curl_easy_setopt(c->easy[i], CURLOPT_PRIVATE, (char *) &reqs[i]);
		curl_easy_setopt(c->easy[i], CURLOPT_ERRORBUFFER, errbufs[i]);
		curl_multi_add_handle(c->multi, c->easy[i]);
	}
	for (;;)
	{
		CURLMsg    *msg;
		int			left;

		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
		{
			rc = -1;
			break;
		}
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		{
			if (msg->msg == CURLMSG_DONE)
			{
				CURL	   *e = msg->easy_handle;
				CURLcode	result = msg->data.result;
				struct http_request *r = NULL;

				/* its request, hence its index: no search through the pool */
				curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **) &r);
				r = finish(e, result, errbufs[r - reqs]);
				curl_multi_remove_handle(c->multi, e);
				if (done)
					done(r, arg);
			}
		}
		if (running == 0)
			break;
		if (stop && *stop)
		{
			rc = -1;
			break;
		}
		if (curl_multi_poll(c->multi, NULL, 0, 100, NULL) != CURLM_OK)
		{
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
	{
		curl_multi_remove_handle(c->multi, c->easy[i]);
		curl_easy_setopt(c->easy[i], CURLOPT_ERRORBUFFER, NULL);
	}
	free(errbufs);
	return rc;
}
