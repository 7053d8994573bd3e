#!/usr/bin/python3
"""Write the seed corpora of the fuzz harnesses into test/fuzz/corpus/<harness>/.

Run by hand when a seed should change (test/fuzz/run.sh does not run it); the
seeds are committed.  They come from the unit tests' cases and, for the
contract harness, from the recorded Yahoo responses: messages shaped like
the producer's output (producer/src/message.c: shortest %.15g-%.17g
numbers, RFC 3339 UTC times with milliseconds when non-zero).

    /usr/bin/python3 test/fuzz/make_corpus.py [FIXTURES_DIR]

FIXTURES_DIR defaults to ../shared/fixtures/yahoo beside the repository.
Debian's python3, standard library only.
"""

import datetime
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, '..', '..', '..', 'shared', 'fixtures', 'yahoo')


def write(harness, data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    d = os.path.join(HERE, 'corpus', harness)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def producer_number(v):
    """The producer's format_double: the shortest of %.15g..%.17g that reads back."""
    for prec in (15, 16, 17):
        s = '%.*g' % (prec, v)
        if float(s) == v:
            return s
    return s


def producer_time(secs):
    t = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc)
    s = t.strftime('%Y-%m-%dT%H:%M:%S')
    ms = int(round((secs - int(secs)) * 1000))
    return s + ('.%03dZ' % ms if ms else 'Z')


def quote_message(symbol, secs, price, volume=None, open_=None, high=None,
                  low=None, prev_close=None, currency=None, source='yahoo'):
    parts = ['"symbol":%s' % json.dumps(symbol), '"ts":"%s"' % producer_time(secs),
             '"price":%s' % producer_number(price)]
    if volume is not None:
        parts.append('"volume":%d' % volume)
    for name, v in (('open', open_), ('high', high), ('low', low), ('prev_close', prev_close)):
        if v is not None:
            parts.append('"%s":%s' % (name, producer_number(v)))
    if currency:
        parts.append('"currency":%s' % json.dumps(currency))
    if source:
        parts.append('"source":%s' % json.dumps(source))
    return '{' + ','.join(parts) + '}'


def bar_message(symbol, date, o, h, l, c, adj, volume):
    parts = ['"symbol":%s' % json.dumps(symbol), '"date":"%s"' % date]
    for name, v in (('open', o), ('high', h), ('low', l), ('close', c), ('adj_close', adj)):
        if v is not None:
            parts.append('"%s":%s' % (name, producer_number(v)))
    if volume is not None:
        parts.append('"volume":%d' % volume)
    return '{' + ','.join(parts) + '}'


def contract_seeds():
    # From the recorded charts: the latest quote of each, and a few bars.
    for path in sorted(os.listdir(FIXTURES)):
        if not path.startswith('chart_') or not path.endswith('.json'):
            continue
        with open(os.path.join(FIXTURES, path)) as f:
            chart = json.load(f)['chart']
        if not chart.get('result'):
            continue
        res = chart['result'][0]
        meta = res['meta']
        write('contract', quote_message(
            meta['symbol'], meta['regularMarketTime'], meta['regularMarketPrice'],
            meta.get('regularMarketVolume'), None, meta.get('regularMarketDayHigh'),
            meta.get('regularMarketDayLow'),
            meta.get('previousClose', meta.get('chartPreviousClose')), meta.get('currency')))
        stamps = res.get('timestamp') or []
        q = (res.get('indicators', {}).get('quote') or [{}])[0]
        adj = (res.get('indicators', {}).get('adjclose') or [{}])[0].get('adjclose')
        daily = meta.get('dataGranularity') == '1d'
        for i in (0, len(stamps) // 2, len(stamps) - 1)[:len(stamps)]:
            if q.get('close') is None or q['close'][i] is None:
                continue
            if daily:
                day = datetime.datetime.fromtimestamp(
                    stamps[i] + meta.get('gmtoffset', 0), datetime.timezone.utc).date()
                write('contract', bar_message(
                    meta['symbol'], day.isoformat(), q['open'][i], q['high'][i], q['low'][i],
                    q['close'][i], adj[i] if adj else None, q['volume'][i]))
            else:
                write('contract', quote_message(
                    meta['symbol'], stamps[i] + 0.25 * (i % 2), q['close'][i], q['volume'][i],
                    q['open'][i], q['high'][i], q['low'][i], None, meta.get('currency')))

    # From the unit tests and DESIGN.md: good messages and the faults of issue 10.
    for s in (
        '{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":189.23,"volume":51234567,'
        '"open":188.10,"high":190.00,"low":187.50,"prev_close":188.00,"currency":"USD","source":"yahoo"}',
        '{"symbol":"AAPL","date":"2026-11-27","open":188.1,"high":190.0,"low":187.5,'
        '"close":189.2,"adj_close":189.2,"volume":51234567}',
        '{"symbol":"^GSPC","ts":1796239801,"price":6000.5,"volume":null,"exchange":"SNP"}',
        '{"symbol":"EURUSD=X","ts":1796239801.5,"price":1.05,"extra":{"a":[1,{"b":null}],"c":"d"}}',
        '{"symbol":"BRK-B","ts":"2026-11-27T14:30:01.25-05:00","price":1,"x":true,"y":false}',
        '\ufeff {"symbol":"AAPL","ts":-1.5e3,"price":1E+2,"open":-0.0,"low":0.5e-3} \r\n',
        '{"symbol":"AAPL","ts":0,"price":1,"source":"\\u0041b\\"c\\\\\\/\\b\\f\\n\\r\\t","esc":"\\ud83d\\ude00"}',
        '{"symbol":"AAPL\\uZZZZX","ts":0,"price":1}',
        '{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z\\uZZZZX","price":1,"currency":"US\\uZZZZD"}',
        '{"symbol":"AAPL\\u0000X","ts":0,"price":1}',
        '{"symbol":"AAPL","ts":0,"price":01,"open":0.,"high":-0.,"low":.5,"prev_close":1.e5,"volume":+1}',
        '{"symbol":"AAPL","ts":0,"price":1,"x":"\\ud800","y":"\\udc00\\ud800"}',
        '[{"symbol":"AAPL"}]',
        '{"symbol":"AAPL","symbol":"MSFT","ts":0,"price":1e999,"volume":9223372036854775808}',
        '{"symbol":"AAPL","date":"2024-02-29","close":1,"volume":1.5}',
        '{"symbol":"AAPL","ts":"9999-12-31T23:59:59.999999Z","price":1,"currency":"ABCDEFGHIJKLMNOP"}',
    ):
        write('contract', s)
    write('contract', b'{\x00"symbol":"AAPL","ts":0,"price":1}')
    write('contract', b'{"symbol":"AAPL","ts":0,"price":1,"source":"a\tb"}\x0b')
    write('contract', b'{"symbol":"AAPL","ts":0,"price":1,"name":"Soci\xc3\xa9t\xc3\xa9","x":"\xc0\xaf"}')
    write('contract', '{"symbol":"AAPL","ts":0,"price":1,"x":' + '[' * 999 + ']' * 999 + '}')


def schedule_seeds():
    for s in (
        '* * * * *', '*/15 9-16 * * 1-5', '0-10/5 9-17 * * *', '1,2,3-5,59 0,23 1,31 1,12 0,6',
        '0 9 * jan-MAR/2 sun,SAT', '0 0 * * 5-7', '0 0 29 2 *', '0 0 30 2 1', '0 0 1,15 * FRI',
        '0 0 */2 * MON', '30 2 * * *', '30 1 * * *', '59 23 31 12 *', '@hourly', '@weekly',
        '  @DAILY ', ' 7   SECONDS ', '59 seconds', '0 0 31 4,6,9,11 *', '* * * * */8',
        '1-5/ * * * *', '\x01\x7f\xc3\xa9 * * * *', '8 9 */7 6 MON', '0 0 13 * */5',
    ):
        write('schedule', s)
    # with the instant picked after a NUL: the New York DST changes, moved a little
    write('schedule', b'*/15 * * * *\x00\x00\x2c\x01\x00\x00')
    write('schedule', b'30 1 * * *\x00\x01\x3f\x01\x00\x00')
    write('schedule', b'0 0 1 1 *\x00\x04')
    write('schedule', b'@daily\x00\x05\x00\x00\x00\x80')


def mail_seeds():
    known = ['alerts@stockpipe.test', 'trader@example.com', 'Fri, 27 Nov 2026 19:30:05 +0000',
             'db1.example.com', 'AAPL', 'price_above', '190', '190.25', '2026-11-27 14:30:01 EST',
             'America/New_York', '188', '+2.25', '+1.20']

    def seed(changes=None, tail=None):
        v = list(known)
        for i, s in (changes or {}).items():
            v[i] = s
        write('mail', '\0'.join(v + (tail or [])))

    seed()
    seed(tail=['example.com, .example.org.', '42 7 16384'])
    seed({6: '', 9: '', 10: '', 11: '', 12: ''}, ['', '9000000000 0 400'])
    seed({0: 'a@localhost', 1: "!#$%&'*+-/=?^_`{|}~@x1.io", 3: 'localhost'})
    seed({1: 'x@y@example.com'}, ['example.com'])
    seed({1: 'trader@example.com\r\nBcc: victim@example.org'})
    seed({4: 'AAPL\r\nX-Injected: 1', 2: 'Fri\n'})
    seed({5: 'x' * 990})
    seed({3: '-bad-.example'}, ['', '-1 -1 0'])
    seed({1: 'trader@1.2.3.4'}, ['EXAMPLE.COM example.org'])
    write('mail', b'alerts@stockpipe.test\x00tr\xc3\xa4der@example.com')


if __name__ == '__main__':
    contract_seeds()
    schedule_seeds()
    mail_seeds()
