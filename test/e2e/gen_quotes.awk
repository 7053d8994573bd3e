# gen_quotes.awk: N live quotes as "KEY<TAB>JSON" lines for kcat, one in 100
# of them malformed in one of 13 ways (cycling), all others valid with a
# distinct (symbol, ts), one a second from base (seconds since the epoch;
# pass a recent time: the consumers refuse quotes outside their time window).
# Usage: awk -v n=100000 -v base=$(date +%s) [-v first=0] -f gen_quotes.awk
BEGIN {
	if (base == "") { print "gen_quotes.awk: -v base=SECONDS is required" > "/dev/stderr"; exit 2 }
	pad1k = sprintf("%1000s", "");
	for (i = first; i < first + n; i++) {
		sym = sprintf("SYM%02d", i % 50);
		ts = base + i;
		good = sprintf("{\"symbol\":\"%s\",\"ts\":%d,\"price\":%.2f,\"volume\":%d,\"currency\":\"USD\",\"source\":\"test\"}",
			sym, ts, 100 + (i % 1000) / 100, i * 10);
		if (i % 100 != 99) {
			printf "%s\t%s\n", sym, good;
			continue;
		}
		k = int(i / 100) % 13;
		sym = sprintf("SYM%02d", int(i / 100) % 50);	# spread over partitions
		if (k == 0) bad = "not json at all";
		else if (k == 1) bad = substr(good, 1, 30);
		else if (k == 2) bad = "[1,2,3]";
		else if (k == 3) bad = sprintf("{\"ts\":%d,\"price\":1}", ts);
		else if (k == 4) bad = sprintf("{\"symbol\":\"sym\",\"ts\":%d,\"price\":1}", ts);
		else if (k == 5) bad = sprintf("{\"symbol\":\"%s\",\"price\":1}", sym);
		else if (k == 6) bad = sprintf("{\"symbol\":\"%s\",\"ts\":\"yesterday\",\"price\":1}", sym);
		else if (k == 7) bad = sprintf("{\"symbol\":\"%s\",\"ts\":%d,\"price\":-5}", sym, ts);
		else if (k == 8) bad = sprintf("{\"symbol\":\"%s\",\"ts\":%d,\"price\":\"5\"}", sym, ts);
		else if (k == 9) bad = sprintf("{\"symbol\":\"%s\",\"ts\":%d,\"price\":1e999}", sym, ts);
		else if (k == 10) bad = sprintf("{\"symbol\":\"%s\377\",\"ts\":%d,\"price\":1}", sym, ts);
		else if (k == 11) {
			# over stockpipe.max_message_bytes (64 kB): printed in pieces,
			# as mawk's sprintf stops at 8 kB
			printf "%s\t{\"symbol\":\"%s\",\"ts\":%d,\"price\":1,\"pad\":\"", sym, sym, ts;
			for (j = 0; j < 70; j++)
				printf "%s", pad1k;
			printf "\"}\n";
			continue;
		}
		else bad = sprintf("{\"symbol\":\"%s\",\"ts\":%d,\"price\":1,\"volume\":1.5}", sym, ts);
		printf "%s\t%s\n", sym, bad;
	}
}
