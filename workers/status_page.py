"""The monitor's HTML status page: feeds and their health, workers, streams, throughput."""

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from schemas.status import Status

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok,.healthy,.online{background:#dcf5e3;color:#14622f} .backing_off,.reconnecting{background:#fff1c9;color:#7a5200}
.failing,.offline,.stalled,.no{background:#fde0e0;color:#8b1c1c} .disabled,.stopped{background:#e6e8ec;color:#4a5161}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0001;min-width:600px}
th,td{padding:6px 12px;border-bottom:1px solid #eceef2;text-align:left;vertical-align:top}
th{background:#fafbfc;font-weight:600;font-size:12px;text-transform:uppercase;color:#5b6475}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:12px;flex-wrap:wrap} .card{background:#fff;padding:12px 16px;box-shadow:0 1px 2px #0001;min-width:140px}
.card b{display:block;font-size:22px} .muted{color:#6b7384}
.chart{display:flex;align-items:flex-end;gap:2px;height:80px;background:#fff;padding:8px;width:600px;box-shadow:0 1px 2px #0001}
.chart div{flex:1;background:#4c7bd9;min-height:1px}
"""


def ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    seconds = now - ts
    if seconds < 0:
        return f"in {-seconds:.0f}s" if seconds > -120 else f"in {-seconds / 60:.0f}m"
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def _badge(kind: str, text: str | None = None) -> str:
    return f'<span class="badge {escape(kind)}">{escape(text or kind.replace("_", " "))}</span>'


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


def render(status: Status, feeds: Sequence[tuple[str, str, int, str, str, str]]) -> str:
    """`feeds`: (url, health, errors, last status, last poll, next poll) for the feeds table."""
    now = status.generated_at or time.time()
    ready = (
        _badge("ok", "ready")
        if status.ready
        else _badge("no", "not ready: " + "; ".join(status.reasons))
    )
    f = status.feeds
    stream = status.streams[0] if status.streams else None
    per_minute = stream.per_minute if stream else []
    peak = max(per_minute or [0]) or 1
    bars = "".join(
        f'<div title="{n} articles" style="height:{100 * n / peak:.0f}%"></div>' for n in per_minute
    )
    cards = [
        ("articles on stream", str(stream.length) if stream else "0"),
        ("last hour", str(sum(per_minute))),
        ("workers online", f"{sum(w.online for w in status.workers)}/{len(status.workers)}"),
        ("feeds healthy", f"{f.healthy}/{f.total}"),
        ("queued", str(sum(q.length for q in status.queues))),
    ]
    workers = [
        [_td(escape(w.name)), _td(_badge(w.state)), _td(str(w.active), "num"), _td(str(w.processed), "num"),
         _td(str(w.pool), "num"), _td(str(w.restarts), "num"), _td(escape(ago(w.last_heartbeat, now)))]
        for w in status.workers
    ]  # fmt: skip
    feed_rows = [
        [_td(f'<a href="{escape(url)}">{escape(url)}</a>'), _td(_badge(health)), _td(str(errors), "num"),
         _td(escape(last)), _td(escape(polled)), _td(escape(due))]
        for url, health, errors, last, polled, due in feeds
    ]  # fmt: skip
    groups = [
        [_td(escape(g.name)), _td(str(g.consumers), "num"), _td(str(g.pending), "num"),
         _td("?" if g.lag is None else str(g.lag), "num")]
        for g in (stream.groups if stream else [])
    ]  # fmt: skip
    generated = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    scheduler = status.scheduler
    sched = (_badge("ok", "active") if scheduler.fresh else _badge("no", "no heartbeat")) + (
        f' <span class="muted">{escape(scheduler.active_instance or "none")}, '
        f"last tick {escape(ago(scheduler.last_tick, now))}</span>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newswire status</title>
<meta http-equiv="refresh" content="10"><style>{STYLE}</style></head>
<body>
<h1>newswire {ready}</h1>
<p class="muted">{generated} · stream <code>{escape(stream.name if stream else "")}</code></p>
<div class="cards">{"".join(f'<div class="card"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in cards)}</div>
<h2>Throughput (articles per minute, last hour)</h2>
<div class="chart" id="throughput">{bars}</div>
<h2>Workers</h2>
<div id="workers">{_table(["Worker", "State", "Active", "Processed", "Pool", "Restarts", "Heartbeat"], workers, "no worker has reported yet")}</div>
<h2>Scheduler</h2><p id="scheduler">{sched}</p>
<h2>Queues</h2><p>{" · ".join(f"{escape(q.name)}: <b>{q.length}</b>" for q in status.queues)} · entries in flight: <b>{status.pending_entries}</b></p>
<h2>Consumer groups</h2>
{_table(["Group", "Consumers", "Pending", "Lag"], groups, "no consumer groups yet")}
<h2>Feeds ({f.healthy} healthy, {f.backing_off} backing off, {f.failing} failing, {f.disabled} disabled)</h2>
<div id="feeds">{_table(["Feed", "Health", "Errors", "Last status", "Last poll", "Next poll"], feed_rows, "no feeds registered")}</div>
</body></html>"""
