/*
 * files.c: the static files (files.h).
 */
#define _GNU_SOURCE
#include "files.h"
#include "reply.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
dash_files_name_ok(const char *name)
{
	return *name && name[0] != '.' && strlen(name) <= 100 &&
		strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(name);
}

const char *
dash_files_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".ico"))
		return "image/x-icon";
	return "application/octet-stream";
}

enum MHD_Result
dash_files_serve(struct MHD_Connection *conn, const char *dir, const char *name, const char *cache)
{
	char		path[4096];
	struct stat st;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int			fd;

	if (!dash_files_name_ok(name))
		return dash_reply_error(conn, 404, "not found");
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dash_reply_error(conn, 404, "not found");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		return dash_reply_error(conn, 404, "not found");
	}
	r = MHD_create_response_from_fd((uint64_t) st.st_size, fd);
	if (!r)
	{
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", dash_files_content_type(name));
	MHD_add_response_header(r, "Cache-Control", cache);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (!strcmp(name, "index.html"))
	{
		MHD_add_response_header(r, "Content-Security-Policy",
								"default-src 'self'; style-src 'self' 'unsafe-inline'; "
								"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	}
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}
