/*
 * http.h: the HTTP server of stockpipe-dash (libmicrohttpd, a thread per
 * connection): its limits, the checks every request passes (Host, method)
 * and the routes.
 */
#ifndef DASH_HTTP_H
#define DASH_HTTP_H

#include <microhttpd.h>

#include "options.h"

#define DASH_HTTP_EXTRA_CONNECTIONS 64	/* connections beyond --max-clients streams */

/*
 * Listen on o->listen_addr and serve until MHD_stop_daemon; NULL when it
 * cannot.  o is used until then.
 */
struct MHD_Daemon *dash_http_start(const dash_options *o);

#endif
