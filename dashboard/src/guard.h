/*
 * guard.h: the request-head deadline of stockpipe-dash.
 *
 * libmicrohttpd's connection timeout (--timeout) is an idle timeout: a
 * client that sends one byte of its request every few seconds (slowloris)
 * is never idle and would hold its connection, and its thread, for ever.
 * The guard closes a connection whose request line and headers have not
 * all arrived within --request-timeout of the connection opening, or of
 * the previous response on a kept-alive connection.  Responses, event
 * streams included, are not limited: only waiting for a request head is.
 */
#ifndef DASH_GUARD_H
#define DASH_GUARD_H

#include <stdbool.h>
#include <microhttpd.h>

/* Start the reaper thread; timeout_sec > 0. */
bool		dash_guard_start(unsigned timeout_sec);

/* Stop it (after MHD_stop_daemon: no connection is left). */
void		dash_guard_stop(void);

/* MHD_OPTION_NOTIFY_CONNECTION: track a connection from accept to close. */
void		dash_guard_on_connection(void *cls, struct MHD_Connection *conn,
									 void **socket_context,
									 enum MHD_ConnectionNotificationCode toe);

/* MHD_OPTION_NOTIFY_COMPLETED: the next request's head is due. */
void		dash_guard_on_completed(void *cls, struct MHD_Connection *conn,
									void **req_cls, enum MHD_RequestTerminationCode toe);

/* The access handler's first call: the request head is complete. */
void		dash_guard_request_begun(struct MHD_Connection *conn);

/* The client's address, for log lines ("" if unknown). */
void		dash_guard_peer_name(struct MHD_Connection *conn, char *buf, size_t cap);

/* Connections closed for a late request head, since start. */
unsigned long dash_guard_closed(void);

#endif
