-- test/upgrade/catalog.sql: everything a user can observe of the installed
-- extension, one fact a line, sorted and stored in the psql variable named
-- by :catvar.  test/sql/upgrade.sql compares an upgraded installation with
-- a fresh one through it: the same objects, definitions, privileges,
-- policies, comments, configuration dumps and built-in rows.
-- Definitions are shown as md5 sums; a differing one is best compared with
-- pg_get_functiondef() / pg_get_viewdef() by hand.  Privileges are sorted:
-- GRANT order does not matter.
\set ECHO none
SELECT string_agg(line, E'\n' ORDER BY line) AS :"catvar" FROM (
	SELECT 'member: ' || pg_describe_object(d.classid, d.objid, 0) AS line
	  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND e.extname = 'stockpipe'
	UNION ALL
	SELECT format('function: %s acl=%s def=%s comment=%s', p.oid::regprocedure,
				  coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(p.proacl) x), 'default'), md5(pg_get_functiondef(p.oid)),
				  coalesce(obj_description(p.oid, 'pg_proc'), '-'))
	  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE n.nspname IN ('stockpipe', 'stockpipe_bi')
	UNION ALL
	SELECT format('relation: %s.%s kind=%s acl=%s rls=%s/%s comment=%s', n.nspname, c.relname,
				  c.relkind, coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(c.relacl) x), 'default'), c.relrowsecurity,
				  c.relforcerowsecurity, coalesce(obj_description(c.oid, 'pg_class'), '-'))
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname IN ('stockpipe', 'stockpipe_bi') AND NOT c.relispartition
	UNION ALL
	SELECT format('column: %s.%s #%s %s %s %s notnull=%s default=%s identity=%s acl=%s comment=%s',
				  n.nspname, c.relname,
				  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
				  a.attname, format_type(a.atttypid, a.atttypmod), a.attcollation,
				  a.attnotnull, coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-'), a.attidentity,
				  coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a.attacl) x), 'default'),
				  coalesce(col_description(c.oid, a.attnum), '-'))
	  FROM pg_attribute a
	  JOIN pg_class c ON c.oid = a.attrelid
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	 WHERE n.nspname IN ('stockpipe', 'stockpipe_bi') AND NOT c.relispartition
	   AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT format('index: %s', pg_get_indexdef(i.indexrelid))
	  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'stockpipe' AND NOT c.relispartition
	UNION ALL
	SELECT format('view: %s def=%s', c.oid::regclass, md5(pg_get_viewdef(c.oid)))
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname IN ('stockpipe', 'stockpipe_bi') AND c.relkind = 'v'
	UNION ALL
	SELECT format('view option: %s %s', c.oid::regclass, c.reloptions)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname IN ('stockpipe', 'stockpipe_bi') AND c.reloptions IS NOT NULL
	UNION ALL
	SELECT format('constraint: %s %s %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid))
	  FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
	 WHERE n.nspname = 'stockpipe' AND co.conrelid <> 0
	   AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = co.conrelid AND c.relispartition)
	UNION ALL
	SELECT format('trigger: %s', pg_get_triggerdef(t.oid))
	  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'stockpipe' AND NOT t.tgisinternal
	UNION ALL
	SELECT format('policy: %s.%s %s %s roles=%s using=%s check=%s', p.schemaname, p.tablename,
				  p.policyname, p.cmd, p.roles, p.qual, p.with_check)
	  FROM pg_policies p WHERE p.schemaname = 'stockpipe'
	UNION ALL
	SELECT format('schema: %s owner-is-extension-owner=%s acl=%s comment=%s', n.nspname,
				  n.nspowner = e.extowner,
				  (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(n.nspacl) x), coalesce(obj_description(n.oid, 'pg_namespace'), '-'))
	  FROM pg_namespace n, pg_extension e
	 WHERE n.nspname IN ('stockpipe', 'stockpipe_bi') AND e.extname = 'stockpipe'
	UNION ALL
	SELECT format('config dump: %s %s', x.rel::regclass, x.cond)
	  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond)
	 WHERE e.extname = 'stockpipe'
	UNION ALL
	SELECT format('role: %s login=%s', r.rolname, r.rolcanlogin)
	  FROM pg_roles r WHERE r.rolname IN ('stockpipe_user', 'stockpipe_reader')
	UNION ALL
	SELECT format('builtin job: %s %s %s %s holidays=%s calendar=%s catch_up=%s retries=%s delay=%s timeout=%s',
				  j.name, j.schedule, j.command, j.timezone, j.skip_holidays, j.calendar, j.catch_up,
				  j.max_retries, j.retry_delay, j.timeout)
	  FROM stockpipe.job j WHERE j.builtin
	UNION ALL
	SELECT format('builtin calendar: %s %s %s', c.calendar, c.name, c.timezone)
	  FROM stockpipe.market_calendar c WHERE c.builtin
	UNION ALL
	SELECT format('builtin holiday: %s %s %s', h.calendar, h.day, h.name)
	  FROM stockpipe.market_holiday h WHERE h.builtin
) facts
\gset
\set ECHO all
