# gen.awk: N valid live quotes, written twice with the same values:
#   TSV "KEY<TAB>JSON" lines for kcat  (file tsv=...)
#   CSV rows for COPY into a live_stock-shaped table  (file csv=...)
# S symbols quote in turn, one quote per symbol every 5 s from
# 2026-11-26T22:00:00Z, so the rows span two UTC days (two day partitions)
# and every (symbol, ts) is distinct.
# Usage: awk -v n=1000000 -v s=500 -v tsv=F.tsv -v csv=F.csv -f gen.awk
function two(x) { return (x < 10 ? "0" : "") x }
BEGIN {
	if (s == "") s = 500;
	day0 = 26; sec0 = 22 * 3600;	# 2026-11-26T22:00:00Z
	for (i = 0; i < n; i++) {
		k = i % s; step = int(i / s);
		sym = sprintf("S%03d", k);
		t = sec0 + step * 5;
		d = day0 + int(t / 86400); t = t % 86400;
		ts = sprintf("2026-11-%02d T%s:%s:%sZ", d, two(int(t / 3600)), two(int(t / 60) % 60), two(t % 60));
		sub(/ /, "", ts);
		p = 50 + k + (step % 200) / 100;
		vol = 1000000 + step * 137 + k;
		o = 50 + k; h = p + 1.25; l = o - 0.75; pc = o - 0.5;
		printf "%s\t{\"symbol\":\"%s\",\"ts\":\"%s\",\"price\":%.2f,\"volume\":%d,\"open\":%.2f,\"high\":%.2f,\"low\":%.2f,\"prev_close\":%.2f,\"currency\":\"USD\",\"source\":\"bench\"}\n",
			sym, sym, ts, p, vol, o, h, l, pc > tsv;
		printf "%s,%s,%.2f,%d,%.2f,%.2f,%.2f,%.2f,USD,bench\n",
			sym, ts, p, vol, o, h, l, pc > csv;
	}
}
