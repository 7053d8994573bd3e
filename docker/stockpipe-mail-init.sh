#!/bin/bash
# Runs once, when the official postgres image initialises a new data
# directory (mounted into /docker-entrypoint-initdb.d/ by docker-compose.yml,
# after 10-stockpipe.sh): points the stockpipe mailer at an SMTP server.
#
# Environment: STOCKPIPE_SMTP_URL (smtp://host:port or smtps://host:port;
# unset or empty: alert e-mails wait in stockpipe.alert_event),
# STOCKPIPE_MAIL_FROM, and optionally STOCKPIPE_SMTP_USER,
# STOCKPIPE_SMTP_PASSWORD.  Like 10-stockpipe.sh it only appends to
# postgresql.conf; change the settings later with ALTER SYSTEM and
# SELECT pg_reload_conf().
#
# Written to work whether the entrypoint executes it or sources it (a mount
# that lost its executable bit): no exit, no set -u.
set -e

# A postgresql.conf string literal: single quotes doubled.
sp_conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

{
	[ -n "${STOCKPIPE_SMTP_URL:-}" ] && echo "stockpipe.smtp_url = $(sp_conf_quote "$STOCKPIPE_SMTP_URL")"
	[ -n "${STOCKPIPE_MAIL_FROM:-}" ] && echo "stockpipe.mail_from = $(sp_conf_quote "$STOCKPIPE_MAIL_FROM")"
	[ -n "${STOCKPIPE_SMTP_USER:-}" ] && echo "stockpipe.smtp_user = $(sp_conf_quote "$STOCKPIPE_SMTP_USER")"
	[ -n "${STOCKPIPE_SMTP_PASSWORD:-}" ] && echo "stockpipe.smtp_password = $(sp_conf_quote "$STOCKPIPE_SMTP_PASSWORD")"
	true
} >>"$PGDATA/postgresql.conf"
