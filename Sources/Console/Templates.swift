/// The console's Mustache templates (swift-mustache), one per page, and the layout around them.
/// Kept in the binary so the image needs no template directory. `{{x}}` escapes HTML; `{{{x}}}`
/// is used only for HTML the console rendered itself (the page inside the layout, SVG charts).
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "login": login, "overview": overview, "search": search, "event": event,
        "tenants": tenants, "check": check, "dead-letters": deadLetters, "plan": plan, "result": result, "error": error,
    ]

    static let layout = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · AuroraBridge console</title>
    <style>
    :root { --fg:#1d2330; --muted:#5d6679; --line:#d9dde5; --bg:#f6f7f9; --accent:#1f5fbf; --bad:#b3261e; --ok:#1e7b34; --warn:#9a6700; }
    * { box-sizing: border-box; }
    body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
    header { display:flex; align-items:center; gap:1.25rem; padding:.6rem 1.5rem; background:#18202e; color:#fff; }
    header .brand { font-weight:600; margin-right:1rem; }
    header nav a { color:#cfd6e4; text-decoration:none; padding:.35rem .6rem; border-radius:4px; }
    header nav a[aria-current=page], header nav a:hover, header nav a:focus { color:#fff; background:#2c3850; outline:none; }
    header .who { margin-left:auto; color:#cfd6e4; display:flex; gap:.75rem; align-items:center; }
    main { max-width:1200px; margin:0 auto; padding:1.25rem 1.5rem 3rem; }
    h1 { font-size:1.35rem; margin:.2rem 0 1rem; } h2 { font-size:1.05rem; margin:1.6rem 0 .6rem; }
    table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
    th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
    th { font-size:.8rem; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); background:#fafbfc; }
    td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
    code, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.85em; }
    a { color:var(--accent); } a:focus-visible, button:focus-visible, input:focus-visible { outline:3px solid #8fb4ff; outline-offset:1px; }
    input[type=search], input[type=password] { font:inherit; padding:.45rem .6rem; border:1px solid #b9c0cc; border-radius:4px; min-width:22rem; }
    button { font:inherit; padding:.42rem .9rem; border-radius:4px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
    button.secondary { background:#fff; color:var(--accent); }
    header button { background:transparent; border-color:#56627a; color:#cfd6e4; padding:.2rem .6rem; }
    .muted { color:var(--muted); } .bad { color:var(--bad); } .ok { color:var(--ok); } .warn { color:var(--warn); }
    .pill { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.8rem; border:1px solid currentColor; }
    .card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:1rem 1.2rem; margin-bottom:1rem; }
    .grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(320px, 1fr)); gap:1rem; }
    ol.timeline { list-style:none; padding:0; margin:0; border-left:3px solid var(--line); }
    ol.timeline li { position:relative; margin:0 0 .9rem 1.1rem; background:#fff; border:1px solid var(--line); border-radius:6px; padding:.6rem .9rem; }
    ol.timeline li::before { content:""; position:absolute; left:-1.55rem; top:.9rem; width:.7rem; height:.7rem; border-radius:50%; background:var(--muted); }
    ol.timeline li[data-kind=outcome]::before { background:var(--ok); } ol.timeline li[data-kind=dead-letter]::before { background:var(--bad); }
    ol.timeline li[data-kind=attempt-failed]::before, ol.timeline li[data-kind=retry-wait]::before { background:var(--warn); }
    .when { color:var(--muted); font-size:.85rem; } dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:0; }
    dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
    #error { border-left:4px solid var(--bad); }
    svg text { font-size:11px; fill:var(--muted); }
    </style></head>
    <body>
    {{#session}}
    <header><span class="brand">AuroraBridge</span>
    <nav aria-label="Console">
      <a id="nav-overview" href="/" {{#overview}}aria-current="page"{{/overview}}>Overview</a>
      <a id="nav-search" href="/search" {{#searching}}aria-current="page"{{/searching}}>Search</a>
      <a id="nav-tenants" href="/tenants" {{#tenantsPage}}aria-current="page"{{/tenantsPage}}>Tenants</a>
      <a id="nav-dead-letters" href="/dead-letters" {{#deadLettersPage}}aria-current="page"{{/deadLettersPage}}>Dead letters</a>
    </nav>
    <span class="who"><span id="operator">{{name}} · {{role}}</span>
      <form id="logout" method="post" action="/logout"><input type="hidden" name="_csrf" value="{{csrf}}"><button id="logout-submit" type="submit">Log out</button></form>
    </span></header>
    {{/session}}
    <main>{{{body}}}</main>
    </body></html>
    """#

    static let login = #"""
    <div class="card" style="max-width:28rem;margin:4rem auto;">
    <h1>AuroraBridge console</h1>
    {{#error}}<p id="error" class="card bad" role="alert">{{error}}</p>{{/error}}
    <form id="login" method="post" action="/login">
      <input type="hidden" name="_csrf" value="{{csrf}}">
      <p><label for="token">Operator token</label><br><input id="token" name="token" type="password" autocomplete="current-password" autofocus required></p>
      <p><button id="login-submit" type="submit">Log in</button></p>
    </form>
    <p class="muted">Tokens come from <code>aurora-bridge operators add</code>.</p>
    </div>
    """#

    static let overview = #"""
    <h1>Overview</h1>
    <p class="muted">Last {{hours}} hours, per minute (UTC). {{events}} events indexed{{^ready}}; <strong class="warn">the index is still catching up with the topics</strong>{{/ready}}.</p>
    <div class="grid">
      <div class="card"><h2>Events per minute</h2>{{{eventsChart}}}<p class="muted">received <span style="color:#1f5fbf">━</span> · finished <span style="color:#1e7b34">━</span> · dead letters <span style="color:#b3261e">━</span></p></div>
      <div class="card"><h2>Latency, receipt to outcome</h2>{{{latencyChart}}}<p class="muted">p50 <span style="color:#1f5fbf">━</span> · p99 <span style="color:#9a6700">━</span> (ms)</p></div>
    </div>
    <h2>Lag per partition</h2>
    {{#lagError}}<p class="bad">{{lagError}}</p>{{/lagError}}
    <table id="lag"><thead><tr><th>Topic</th><th class="num">Partition</th><th class="num">End offset</th><th class="num">Workers' lag</th><th class="num">Console's lag</th></tr></thead>
    <tbody>{{#lag}}<tr><td class="mono">{{topic}}</td><td class="num">{{partition}}</td><td class="num">{{end}}</td><td class="num">{{workers}}</td><td class="num">{{console}}</td></tr>{{/lag}}</tbody></table>
    <p class="muted">Workers' lag: records of the worker group ({{workerGroup}}) not yet committed; console's: records not yet indexed.</p>
    """#

    static let search = #"""
    <h1>Where is my project?</h1>
    <form id="search-form" method="get" action="/search" role="search">
      <input id="q" name="q" type="search" value="{{q}}" placeholder="customer name or email, Aurora project or agreement id, Coperniq id, event id, tenant" aria-label="Search" autofocus>
      <button id="search-submit" type="submit">Search</button>
    </form>
    {{#searched}}
    {{#hasResults}}
    <h2>{{resultCount}} event(s)</h2>
    <table id="results"><thead><tr><th>Received</th><th>Customer / project</th><th>Tenant</th><th>Aurora project</th><th>State</th><th class="num">Attempts</th><th>Event</th></tr></thead><tbody>
    {{#results}}<tr class="result"><td class="when">{{received}}</td><td class="title">{{title}}</td><td>{{tenant}}</td><td class="mono">{{auroraProjectID}}</td>
      <td><span class="pill {{stateClass}}">{{state}}</span></td><td class="num">{{attempts}}</td><td><a class="event-link mono" href="/events/{{eventID}}">{{eventID}}</a></td></tr>{{/results}}
    </tbody></table>
    {{/hasResults}}
    {{^hasResults}}<p id="no-results" class="card">Nothing matches “{{q}}”. Names and emails are known once the project exists in Coperniq; ids always.</p>{{/hasResults}}
    {{/searched}}
    """#

    static let event = #"""
    <p class="muted"><a href="/search?q={{summary.auroraProjectID}}">Other events of Aurora project {{summary.auroraProjectID}}</a></p>
    <h1 id="event-id">Event <span class="mono">{{summary.eventID}}</span></h1>
    <div class="card"><dl class="facts">
      <dt>State</dt><dd><span id="state" class="pill {{stateClass}}">{{summary.state}}</span>{{#summary.errorClass}} <code>{{summary.errorClass}}</code>{{/summary.errorClass}}</dd>
      <dt>Customer / project</dt><dd>{{summary.title}}{{^summary.title}}<span class="muted">not known yet (no project)</span>{{/summary.title}}{{#summary.email}} · {{summary.email}}{{/summary.email}}</dd>
      <dt>Tenant</dt><dd><a href="/search?q={{summary.tenant}}">{{summary.tenant}}</a></dd>
      <dt>Aurora</dt><dd class="mono">project {{summary.auroraProjectID}} · agreement {{summary.agreementID}} · status {{summary.status}}</dd>
      {{#summary.coperniqProjectID}}<dt>Coperniq</dt><dd><a href="{{coperniqURL}}">project {{summary.coperniqProjectID}}</a></dd>{{/summary.coperniqProjectID}}
      <dt>Trace</dt><dd class="mono">{{summary.traceID}}</dd>
      {{#latency}}<dt>Receipt to outcome</dt><dd>{{latency}}</dd>{{/latency}}
    </dl></div>
    <h2>Timeline</h2>
    <ol id="timeline" class="timeline">
    {{#entries}}<li class="entry" data-kind="{{kind}}"><div class="when">{{when}} · {{source}}</div><div><strong>{{headline}}</strong></div>
      {{#detail}}<div>{{detail}}</div>{{/detail}}
      {{#hasSteps}}<ul>{{#steps}}<li>{{.}}</li>{{/steps}}</ul>{{/hasSteps}}
      {{#link}}<div><a class="coperniq-link" href="{{link}}">Open Coperniq project {{projectID}}</a></div>{{/link}}
    </li>{{/entries}}
    </ol>
    """#

    static let tenants = #"""
    <h1>Tenants</h1>
    <p class="muted">Today (UTC, since {{day}}): events received and what they came to, dead letters, latency from receipt to outcome.</p>
    <table id="tenants"><thead><tr><th>Tenant</th><th>Last webhook</th><th class="num">Today</th><th class="num">Created</th><th class="num">Updated</th><th class="num">Skipped</th><th class="num">Dead letters</th><th class="num">p50</th><th class="num">p99</th><th>Check</th></tr></thead><tbody>
    {{#rows}}<tr class="tenant" data-tenant="{{slug}}"><td><a href="/search?q={{slug}}">{{slug}}</a>{{^configured}} <span class="muted">(not in the tenants file)</span>{{/configured}}</td><td class="when">{{last}}</td>
      <td class="num">{{received}}</td><td class="num">{{created}}</td><td class="num">{{updated}}</td><td class="num">{{skipped}}</td><td class="num {{#deadLetters}}bad{{/deadLetters}}">{{deadLetters}}</td>
      <td class="num">{{p50}}</td><td class="num">{{p99}}</td><td>{{#configured}}<a href="/tenants/{{slug}}/check">run tenants check</a>{{/configured}}</td></tr>{{/rows}}
    </tbody></table>
    """#

    static let check = #"""
    <h1>tenants check: {{slug}}</h1>
    <p class="muted">Against the live APIs with the tenant's keys (never shown){{#agreement}}, reading agreement <code>{{agreement}}</code>{{/agreement}}.</p>
    <table id="check"><thead><tr><th></th><th>Check</th><th>Result</th><th>Fix</th></tr></thead><tbody>
    {{#items}}<tr class="check-item"><td class="{{class}}">{{mark}}</td><td>{{name}}</td><td>{{detail}}</td><td>{{fix}}</td></tr>{{/items}}
    </tbody></table>
    <p id="check-summary" class="{{#failed}}bad{{/failed}}{{^failed}}ok{{/failed}}">{{summary}}</p>
    """#

    static let deadLetters = #"""
    <h1>Dead letters</h1>
    {{#hasGroups}}
    <table id="groups"><thead><tr><th>Error class</th><th>Tenant</th><th class="num">Not replayed</th><th>Fix</th></tr></thead><tbody>
    {{#groups}}<tr><td><a href="/dead-letters?class={{errorClass}}&tenant={{tenant}}"><code>{{errorClass}}</code></a></td><td>{{tenant}}</td><td class="num">{{count}}</td><td>{{fix}}</td></tr>{{/groups}}
    </tbody></table>
    {{/hasGroups}}
    {{^hasGroups}}<p class="card ok">No dead letter waits for a replay.</p>{{/hasGroups}}
    <h2>{{#filtered}}{{filter}} · <a href="/dead-letters">all</a>{{/filtered}}{{^filtered}}Newest{{/filtered}}</h2>
    {{#mayReplay}}<form id="replay-form" method="post" action="/dead-letters/replay"><input type="hidden" name="_csrf" value="{{csrf}}">{{/mayReplay}}
    {{^mayReplay}}<p id="read-only-note" class="muted">Your role is read-only: replaying needs the replay role.</p>{{/mayReplay}}
    <table id="dead-letters"><thead><tr>{{#mayReplay}}<th><span class="muted">Replay</span></th>{{/mayReplay}}<th>Dead-lettered</th><th>Tenant</th><th>Error</th><th class="num">Attempts</th><th>Event</th><th>Replayed</th></tr></thead><tbody>
    {{#letters}}<tr class="dead-letter" data-event-id="{{eventID}}" {{#replayedBy}}data-replayed="true"{{/replayedBy}}>
      {{#mayReplay}}<td><input class="select" type="checkbox" name="key" value="{{key}}" aria-label="replay {{eventID}}"></td>{{/mayReplay}}
      <td class="when">{{at}}</td><td>{{tenant}}</td><td><code>{{errorClass}}</code><div class="muted">{{message}}</div></td><td class="num">{{attempts}}</td>
      <td><a class="event-link mono" href="/events/{{eventID}}">{{eventID}}</a></td><td>{{#replayedBy}}{{replayedAt}} by {{replayedBy}}{{/replayedBy}}</td></tr>{{/letters}}
    </tbody></table>
    {{#mayReplay}}<p><button id="dry-run" type="submit">Dry run: what would be replayed</button> <span class="muted">Nothing is written before you confirm.</span></p></form>{{/mayReplay}}
    """#

    static let plan = #"""
    <h1>Replay: dry run</h1>
    <div id="plan" class="card">
    {{#hasReplay}}<p>{{replayCount}} dead letter(s) would go back to <code>{{target}}</code> with the attempt count reset, each with its ledger entry, in one Kafka transaction per batch (as <code>aurora-bridge dlq replay</code>).</p>{{/hasReplay}}
    <ul>{{#toReplay}}<li class="would-replay"><a class="event-link mono" href="/events/{{eventID}}">{{eventID}}</a> · {{tenant}} · Aurora project <span class="mono">{{auroraProjectID}}</span> · <code>{{errorClass}}</code></li>{{/toReplay}}
    {{#already}}<li class="already-replayed"><a class="event-link mono" href="/events/{{eventID}}">{{eventID}}</a> was replayed already at {{at}}{{#by}} by {{by}}{{/by}} (replay {{replayID}}): left out</li>{{/already}}</ul>
    {{^hasReplay}}<p>Nothing to replay.</p>{{/hasReplay}}
    </div>
    {{#hasReplay}}
    <form id="confirm-form" method="post" action="/dead-letters/replay/confirm"><input type="hidden" name="_csrf" value="{{csrf}}">
    {{#keys}}<input type="hidden" name="key" value="{{.}}">{{/keys}}
    <button id="confirm-replay" type="submit">Replay {{replayCount}} dead letter(s)</button> <a href="/dead-letters">Cancel</a></form>
    {{/hasReplay}}
    """#

    static let result = #"""
    <h1>Replay done</h1>
    <div id="replay-result" class="card">
    <p>Replay <code id="replay-id">{{replayID}}</code> by {{by}}: {{replayedCount}} replayed, {{failedCount}} failed{{#fenced}}; another replay of the topic took over and this one stopped{{/fenced}}.</p>
    <ul>{{#replayed}}<li class="replayed"><a class="event-link mono" href="/events/{{eventID}}">{{eventID}}</a> · ledger entry at {{at}}</li>{{/replayed}}
    {{#failed}}<li class="replay-failed bad">{{eventID}}: {{error}}</li>{{/failed}}</ul>
    {{#hasFailed}}<p>Replay the failed ones again: nothing was written for them.</p>{{/hasFailed}}
    </div>
    <p><a href="/dead-letters">Back to the dead letters</a></p>
    """#

    static let error = #"""
    <div id="error" class="card"><h1>{{status}}</h1><p>{{message}}</p><p><a href="/">Back to the console</a></p></div>
    """#
}
