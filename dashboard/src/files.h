/*
 * files.h: the static files of stockpipe-dash (GET / and GET /static/NAME):
 * the page, its script and style, and the charting library, read from the
 * --static folder.
 */
#ifndef DASH_FILES_H
#define DASH_FILES_H

#include <stdbool.h>
#include <microhttpd.h>

/* A file name that may be served: [A-Za-z0-9_.-]{1,100}, not starting with '.'. */
bool		dash_files_name_ok(const char *name);

/* The Content-Type of a file, by its extension. */
const char *dash_files_content_type(const char *name);

/*
 * Answer with file name of folder dir (404 when the name may not be served
 * or is no regular file there), with Cache-Control cache; index.html also
 * gets the page's Content-Security-Policy.
 */
enum MHD_Result dash_files_serve(struct MHD_Connection *conn, const char *dir, const char *name,
								 const char *cache);

#endif
