# ops/bench/growth.sh: the "growth" section of ops/bench/run (issue 23 §5), sourced by it: how cost
# grows with the work. Each figure at size beside a small baseline measured in the same run:
#   tenants  GROWTH_TENANTS (10000) vs GROWTH_SMALL_TENANTS (10) in the registry: start-up, RSS,
#            reload, idle CPU, webhooks/s of the same tenants (gateway and worker)
#   backlog  GROWTH_BACKLOG (100000) webhooks published first, then one worker: RSS and events/s
#            of the first 10 % vs the last 10 %
#   parked   GROWTH_PARKED (10000) records on a retry tier, not due for 25 min: the worker's CPU
#            and RSS vs a worker whose tiers are empty, over the same GROWTH_PARKED_SECONDS (60)
#
#   GROWTH_TENANTS=500 GROWTH_BACKLOG=5000 GROWTH_PARKED=500 GROWTH_PARKED_SECONDS=10 ops/bench/run growth
#
# Uses what ops/bench/run defines: $BIN, $LAB, $OUT, $RUNS, pids, cleanup, ensure_packages, median,
# peak_mib, stat_ticks, wrk_figures. Ports 187xx.

# A tenants registry of N tenants (growth-00001 …) in DIR: tenants.yaml with the keys as files in
# DIR/keys (as the sandbox's registry writer and docker secrets have them), tenants-env.yaml the
# same with every key from the environment (GROWTH_AURORA_KEY, GROWTH_COPERNIQ_KEY), and
# tenants-plus.yaml with one more tenant, growth-new. Tenant i's webhook token is growth-token-<i>
# (growth-token-new), so registries of different sizes share their first tenants and tokens.
growth_registry() {
    local dir=$1 n=$2
    rm -rf "$dir"; mkdir -p "$dir/keys"
    perl -MDigest::SHA=sha256_hex -e '
        my ($dir, $n) = @ARGV;
        sub key { my ($path, $value) = @_; open(my $f, ">", $path) or die "$path: $!"; print $f "$value\n"; close($f); chmod(0600, $path); }
        my $head = "defaults:\n  auroraBaseURL: http://127.0.0.1:9\n  coperniqBaseURL: http://127.0.0.1:9/v1\n"
                 . "  auroraRequestsPerMinute: 0\n  coperniqRequestsPerSecond: 0\n  coperniqRequestsPerDay: 0\ntenants:\n";
        sub entry {
            my ($slug, $token) = @_;
            key("$dir/keys/$slug.aurora-key", "aurora-key-$slug"); key("$dir/keys/$slug.coperniq-key", "coperniq-key-$slug");
            return "  - slug: $slug\n    webhookTokenSHA256: " . sha256_hex($token) . "\n"
                 . "    aurora: { tenantID: \"tid-$slug\", apiKey: { file: \"$dir/keys/$slug.aurora-key\" } }\n"
                 . "    coperniq: { apiKey: { file: \"$dir/keys/$slug.coperniq-key\" }, workflowID: \"17\" }\n";
        }
        my $body = "";
        for my $i (1 .. $n) { $body .= entry(sprintf("growth-%05d", $i), "growth-token-$i"); }
        my $extra = entry("growth-new", "growth-token-new");
        sub write_file { my ($path, $text) = @_; open(my $f, ">", $path) or die "$path: $!"; print $f $text; close($f); }
        write_file("$dir/tenants.yaml", $head . $body);
        write_file("$dir/tenants-plus.yaml", $head . $body . $extra);
        (my $env = $body) =~ s/apiKey: \{ file: "[^"]*\.aurora-key" \}/apiKey: { env: GROWTH_AURORA_KEY }/g;
        $env =~ s/apiKey: \{ file: "[^"]*\.coperniq-key" \}/apiKey: { env: GROWTH_COPERNIQ_KEY }/g;
        write_file("$dir/tenants-env.yaml", $head . $env);
    ' "$dir" "$n"
}

# Polls URL until it answers 2xx (at most $2 seconds); prints the seconds since $3 (date +%s.%N).
growth_ready() {
    local url=$1 limit=$2 start=$3 deadline
    deadline=$(awk -v s="$start" -v l="$limit" 'BEGIN { printf "%d", s + l }')
    until curl -fs -o /dev/null "$url"; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "not ready within $limit s: $url" >&2; return 1; }
        sleep 0.02
    done
    awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'
}

# Stops one process this section started and forgets its pid (so cleanup never signals a reused one).
growth_stop() {
    local pid=$1 kept=() p
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    pids=("${kept[@]}")
}

growth_rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# Outcomes a worker settled (every worker_events_total but retries), from its /metrics.
growth_settled() {
    { curl -fs "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } | awk '/^worker_events_total/ && !/outcome="retry"/ { n += $NF } END { printf "%d", n }'
}

# A counter or gauge of a /metrics page (given as text), summed over its labels.
growth_metric() { awk -v name="$2" '$1 ~ "^" name "({|$)" { n += $NF } END { printf "%d", n }' <<<"$1"; }

# An embedded single-broker cluster in its own process with the given topics; sets $bootstrap and $cluster.
growth_cluster() {
    local name=$1 topics=$2
    rm -f "$OUT/growth/$name.bootstrap"
    "$BIN" kafka --brokers 1 --partitions 12 --replication 1 --topics "$topics" --bootstrap-file "$OUT/growth/$name.bootstrap" \
        --log-level warning >"$OUT/growth/$name-cluster.out" 2>&1 &
    cluster=$!; pids+=("$cluster")
    for _ in $(seq 1 300); do [ -s "$OUT/growth/$name.bootstrap" ] && break; sleep 0.1; done
    bootstrap=$(head -1 "$OUT/growth/$name.bootstrap")
}

bench_growth() {
    local tenants=${GROWTH_TENANTS:-10000} small=${GROWTH_SMALL_TENANTS:-10} backlog=${GROWTH_BACKLOG:-100000}
    local parked=${GROWTH_PARKED:-10000} idle_s=${GROWTH_IDLE_SECONDS:-30} parked_s=${GROWTH_PARKED_SECONDS:-60}
    local wrk_s=${GROWTH_WRK_SECONDS:-10} runs=${RUNS:-3} hz dir="$OUT/growth"
    ensure_packages perl  # Digest::SHA for the registries' token hashes
    hz=$(getconf CLK_TCK)
    rm -rf "$dir" && mkdir -p "$dir"
    local tiers=aurora.webhooks.retry.1,aurora.webhooks.retry.2,aurora.webhooks.retry.3,aurora.webhooks.dlq
    local bootstrap cluster run reg pid t

    # ---- 1. Tenants: the same processes with a small and a large registry. ----
    echo "growth: tenants registries of $small and $tenants tenants" >&2
    growth_registry "$dir/small" "$small"
    growth_registry "$dir/large" "$tenants"
    # The gateways publish to growth.webhooks, which no worker reads: the workers stay idle.
    growth_cluster tenants "aurora.webhooks,$tiers,coperniq.projects,growth.webhooks"
    export GROWTH_AURORA_KEY=growth-aurora-key GROWTH_COPERNIQ_KEY=growth-coperniq-key
    : >"$dir/startup.tsv"
    for run in $(seq 1 "$runs"); do
        for reg in small large; do
            echo "growth: run $run/$runs: gateway and worker start-up with the $reg registry" >&2
            t=$(date +%s.%N)
            "$BIN" gateway --brokers "$bootstrap" --tenants "$dir/$reg/tenants.yaml" --host 127.0.0.1 --port 18710 \
                --admin-host 127.0.0.1 --admin-port 18720 --tenant-rps 0 --topic growth.webhooks --log-level warning >"$dir/gateway-start-$reg.out" 2>&1 &
            pid=$!; pids+=("$pid")
            local gw_s gw_mib wk_s wk_mib
            gw_s=$(growth_ready http://127.0.0.1:18720/readyz 300 "$t"); gw_mib=$(growth_rss_mib "$pid")
            growth_stop "$pid"
            t=$(date +%s.%N)
            "$BIN" worker --brokers "$bootstrap" --tenants "$dir/$reg/tenants.yaml" --group "growth-start-$reg-$run" \
                --metrics-host 127.0.0.1 --metrics-port 18730 --log-level warning >"$dir/worker-start-$reg.out" 2>&1 &
            pid=$!; pids+=("$pid")
            wk_s=$(growth_ready http://127.0.0.1:18730/readyz 300 "$t"); wk_mib=$(growth_rss_mib "$pid")
            growth_stop "$pid"
            printf '%s\t%s\t%s\t%s\t%s\n' "$reg" "$gw_s" "$gw_mib" "$wk_s" "$wk_mib" >>"$dir/startup.tsv"
        done
    done
    startup() { awk -F'\t' -v r="$1" -v c="$2" '$1 == r { print $c }' "$dir/startup.tsv" | median; }

    # Then side by side over the same span: gateways and workers with each registry (the large one
    # twice for the gateway: keys in files, keys in the environment), idle, then under wrk.
    echo "growth: idle CPU for ${idle_s} s: gateways and workers with $small and $tenants tenants side by side" >&2
    local -A port admin gw wk
    port=([small]=18711 [large]=18712 [env]=18713); admin=([small]=18721 [large]=18722 [env]=18723)
    for reg in small large env; do
        local file="$dir/large/live.yaml"
        case $reg in small) file="$dir/small/live.yaml" ;; env) file="$dir/large/tenants-env.yaml" ;; esac
        [ "$reg" = env ] || cp "$dir/$reg/tenants.yaml" "$file"
        "$BIN" gateway --brokers "$bootstrap" --tenants "$file" --host 127.0.0.1 --port "${port[$reg]}" \
            --admin-host 127.0.0.1 --admin-port "${admin[$reg]}" --tenant-rps 0 --topic growth.webhooks --log-level warning >"$dir/gateway-$reg.out" 2>&1 &
        gw[$reg]=$!; pids+=("${gw[$reg]}")
        growth_ready "http://127.0.0.1:${admin[$reg]}/readyz" 300 "$(date +%s.%N)" >/dev/null
    done
    local index=0
    for reg in small large; do
        index=$((index + 1))
        "$BIN" worker --brokers "$bootstrap" --tenants "$dir/$reg/tenants.yaml" --group "growth-idle-$reg" \
            --metrics-host 127.0.0.1 --metrics-port $((18730 + index)) --log-level warning >"$dir/worker-$reg.out" 2>&1 &
        wk[$reg]=$!; pids+=("${wk[$reg]}")
        growth_ready "http://127.0.0.1:$((18730 + index))/readyz" 300 "$(date +%s.%N)" >/dev/null
    done
    sleep 3
    local -A before idle_cpu
    for pid in "${gw[@]}" "${wk[@]}"; do before[$pid]=$(stat_ticks "/proc/$pid"); done
    sleep "$idle_s"
    for pid in "${gw[@]}" "${wk[@]}"; do
        idle_cpu[$pid]=$(awk -v t="$(( $(stat_ticks "/proc/$pid") - before[$pid] ))" -v hz="$hz" -v s="$idle_s" 'BEGIN { printf "%.1f", t * 1000 / hz / s }')
    done
    local -A wk_peak
    for reg in small large; do wk_peak[$reg]=$(peak_mib "${wk[$reg]}"); growth_stop "${wk[$reg]}"; done

    echo "growth: wrk against the gateways, webhooks of the same $((small < 10 ? small : 10)) tenants" >&2
    {
        echo "local tokens = {}"
        for i in $(seq 1 $((small < 10 ? small : 10))); do printf 'tokens[%d] = { "growth-%05d", "growth-token-%d" }\n' "$i" "$i" "$i"; done
        cat <<'LUA'
local n = 0
request = function()
  n = n + 1
  local t = tokens[(n % #tokens) + 1]
  return wrk.format("GET", "/webhooks/aurora/" .. t[1] .. "?project_id=p" .. (n % 5000) .. "&agreement_id=a" .. n .. "&status=signed",
                    { ["X-Aurora-Webhook-Token"] = t[2] })
end
LUA
    } >"$dir/webhook.lua"
    for reg in small large; do wrk -t 2 -c 64 -d 3s -s "$dir/webhook.lua" "http://127.0.0.1:${port[$reg]}" >/dev/null 2>&1; done  # warm-up
    : >"$dir/wrk.tsv"
    for run in $(seq 1 "$runs"); do
        for reg in small large; do
            wrk -t 2 -c 64 -d "${wrk_s}s" --latency -s "$dir/webhook.lua" "http://127.0.0.1:${port[$reg]}" >"$dir/wrk-$reg-$run.txt"
        done
        echo "$(wrk_figures "$dir/wrk-small-$run.txt") $(wrk_figures "$dir/wrk-large-$run.txt")" >>"$dir/wrk.tsv"
    done
    wrkcol() { awk -v c="$1" '{ print $c }' "$dir/wrk.tsv" | median; }

    # Reload: the file replaced by one with a new tenant, then SIGHUP at once; the time until the new
    # tenant's webhook is accepted (the 2 s file watch, which sees the new file, can only start the
    # same reload later).
    echo "growth: reload on SIGHUP until a new tenant is accepted" >&2
    local -A reload_ms
    for reg in small large; do
        cp "$dir/$reg/tenants-plus.yaml" "$dir/$reg/live.new" && touch -r "$dir/$reg/live.yaml" "$dir/$reg/live.new"
        mv "$dir/$reg/live.new" "$dir/$reg/live.yaml"
        local url="http://127.0.0.1:${port[$reg]}/webhooks/aurora/growth-new?project_id=p1&agreement_id=a1&status=signed"
        t=$(date +%s.%N)
        kill -HUP "${gw[$reg]}"
        until [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Aurora-Webhook-Token: growth-token-new' "$url" || true)" = 200 ]; do
            kill -0 "${gw[$reg]}" 2>/dev/null || { echo "growth: the $reg gateway exited (see $dir/gateway-$reg.out)" >&2; exit 1; }
            [ "$(date +%s)" -lt $(( ${t%.*} + 120 )) ] || { echo "growth: the $reg gateway did not accept the new tenant within 120 s" >&2; break; }
        done
        reload_ms[$reg]=$(awk -v s="$t" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", (e - s) * 1000 }')
    done
    local -A gw_peak
    for reg in small large env; do gw_peak[$reg]=$(peak_mib "${gw[$reg]}"); done
    cleanup; pids=()

    # ---- 2. Backlog: N webhooks published first, then one worker over them. ----
    echo "growth: backlog of $backlog webhooks (sandbox: 500 tenants × 20 projects, 1–5 ms per call, no limits)" >&2
    growth_cluster backlog "aurora.webhooks:64,$tiers,coperniq.projects:64"
    "$BIN" sandbox --port 18740 --tenants 500 --projects 20 --latency-ms 1-5 --aurora-rpm 0 --coperniq-rps 0 --coperniq-rpd 0 \
        --extras off --tenants-out "$dir/sandbox-tenants.json" --registry-out "$dir/sandbox-registry" --log-level warning \
        >"$dir/sandbox.out" 2>&1 &
    local sandbox=$!; pids+=("$sandbox")
    for _ in $(seq 1 300); do [ -s "$dir/sandbox-registry/tenants.yaml" ] && break; sleep 0.1; done
    "$LAB" bench worker publish --bootstrap "$bootstrap" --sandbox-tenants "$dir/sandbox-tenants.json" --events "$backlog" \
        --log-level warning >&2
    "$BIN" worker --brokers "$bootstrap" --tenants "$dir/sandbox-registry/tenants.yaml" --group growth-backlog \
        --metrics-host 127.0.0.1 --metrics-port 18735 --log-level warning >"$dir/worker-backlog.out" 2>&1 &
    local worker=$!; pids+=("$worker")
    local started settled=0
    started=$(date +%s.%N)
    : >"$dir/backlog.samples"
    for _ in $(seq 1 "${GROWTH_BACKLOG_TIMEOUT:-3600}"); do
        kill -0 "$worker" 2>/dev/null || { echo "growth: the backlog worker exited (see $dir/worker-backlog.out)" >&2; break; }
        settled=$(growth_settled 18735); settled=${settled:-0}
        echo "$(date +%s.%N) $settled $(awk '/VmRSS/ { print $2 }' "/proc/$worker/status") $(stat_ticks "/proc/$worker") $(stat_ticks "/proc/$sandbox")" \
            "$(stat_ticks "/proc/$cluster") $(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)" \
            >>"$dir/backlog.samples"
        [ "$settled" -ge "$backlog" ] && break
        sleep 1
    done
    local backlog_peak dead worker_cpu sandbox_mib
    backlog_peak=$(peak_mib "$worker"); sandbox_mib=$(growth_rss_mib "$sandbox")
    worker_cpu=$(awk -v t="$(stat_ticks "/proc/$worker")" -v hz="$hz" 'BEGIN { printf "%.0f", t / hz }')
    dead=$({ curl -fs http://127.0.0.1:18735/metrics || true; } | awk '/^worker_events_total/ && /outcome="dead_letter"/ { n += $NF } END { printf "%d", n }')
    cleanup; pids=()
    # Per tenth of the backlog: when the count crossed it and the CPU ticks of the worker, the sandbox,
    # the cluster and the machine then (linear between samples), and the RSS at the first sample past
    # it. Line 0 is the first event.
    awk -v n="$backlog" -v started="$started" '
        { t[NR] = $1; c[NR] = $2; r[NR] = $3; w[NR] = $4; s[NR] = $5; k8[NR] = $6; m[NR] = $7 }
        END {
            for (k = 0; k <= 10; k++) {
                target = (k == 0) ? 1 : n * k / 10
                for (i = 1; i <= NR && c[i] < target; i++) {}
                if (i > NR) break
                f = (i == 1 || c[i] == c[i - 1]) ? 1 : (target - c[i - 1]) / (c[i] - c[i - 1])
                j = (i == 1) ? 1 : i - 1
                printf "%d %.3f %d %.1f %.1f %.1f %.1f %.1f\n", k, t[j] + (t[i] - t[j]) * f - started, target, r[i] / 1024,
                    w[j] + (w[i] - w[j]) * f, s[j] + (s[i] - s[j]) * f, k8[j] + (k8[i] - k8[j]) * f, m[j] + (m[i] - m[j]) * f
            }
        }' "$dir/backlog.samples" >"$dir/backlog.tenths"

    # ---- 3. Parked: N records on a retry tier, not due for 25 min, vs a worker whose tiers are empty. ----
    echo "growth: $parked records parked on aurora.webhooks.retry.3 vs empty tiers, ${parked_s} s" >&2
    growth_cluster parked "aurora.webhooks,$tiers,coperniq.projects,idle.webhooks,idle.webhooks.retry.1,idle.webhooks.retry.2,idle.webhooks.retry.3"
    local now due
    now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z); due=$(date -u -d '+25 minutes' +%Y-%m-%dT%H:%M:%S.000Z)
    awk -v n="$parked" -v now="$now" 'BEGIN {
        for (i = 0; i < n; i++) {
            tenant = sprintf("growth-%05d", i % 10 + 1)
            printf "%s/p%d\t{\"event\":\"agreement_status_changed\",\"id\":\"parked-%d\",\"params\":{\"agreement_id\":\"a%d\",\"project_id\":\"p%d\",\"status\":\"signed\"},\"receivedAt\":\"%s\",\"tenant\":\"%s\",\"v\":1}\n", tenant, i, i, i, i, now, tenant
        } }' >"$dir/parked.txt"
    kcat -P -b "$bootstrap" -t aurora.webhooks.retry.3 -K $'\t' -l \
        -H "attempt=3" -H "source-topic=aurora.webhooks" -H "source-partition=0" -H "source-offset=0" \
        -H "consumer-group=growth-parked" -H "error-class=aurora.server_error" -H "error-message=HTTP 503 (growth benchmark)" \
        -H "first-failed-at=$now" -H "next-attempt-at=$due" "$dir/parked.txt"
    local tier_records
    tier_records=$({ kcat -b "$bootstrap" -C -t aurora.webhooks.retry.3 -e -q -f '%p\n' 2>/dev/null || true; } | tee "$dir/parked.partitions" | wc -l)
    "$BIN" worker --brokers "$bootstrap" --tenants "$dir/small/tenants.yaml" --group growth-parked \
        --metrics-host 127.0.0.1 --metrics-port 18736 --log-level warning >"$dir/worker-parked.out" 2>&1 &
    local parked_worker=$!; pids+=("$parked_worker")
    "$BIN" worker --brokers "$bootstrap" --tenants "$dir/small/tenants.yaml" --group growth-idle --topic idle.webhooks \
        --metrics-host 127.0.0.1 --metrics-port 18737 --log-level warning >"$dir/worker-idle.out" 2>&1 &
    local idle_worker=$!; pids+=("$idle_worker")
    growth_ready http://127.0.0.1:18736/readyz 300 "$(date +%s.%N)" >/dev/null
    growth_ready http://127.0.0.1:18737/readyz 300 "$(date +%s.%N)" >/dev/null
    # Until the gate holds every partition of the tier that has records.
    local holding=0 partitions
    partitions=$(sort -u "$dir/parked.partitions" | wc -l)
    for _ in $(seq 1 120); do
        holding=$(growth_metric "$(curl -fs http://127.0.0.1:18736/metrics || true)" worker_retry_partitions_waiting)
        [ "${holding:-0}" -ge "$partitions" ] && break
        sleep 0.5
    done
    sleep 5
    local p0 i0 p_ticks i_ticks
    p0=$(stat_ticks "/proc/$parked_worker"); i0=$(stat_ticks "/proc/$idle_worker")
    sleep "$parked_s"
    p_ticks=$(( $(stat_ticks "/proc/$parked_worker") - p0 )); i_ticks=$(( $(stat_ticks "/proc/$idle_worker") - i0 ))
    local parked_metrics processed_while_parked parked_mib idle_mib
    parked_metrics=$(curl -fs http://127.0.0.1:18736/metrics || true)
    processed_while_parked=$(growth_metric "$parked_metrics" worker_events_total)
    holding=$(growth_metric "$parked_metrics" worker_retry_partitions_waiting)
    parked_mib=$(growth_rss_mib "$parked_worker"); idle_mib=$(growth_rss_mib "$idle_worker")
    cleanup; pids=()

    # ---- The section. ----
    local date; date=$(date -u +%Y-%m-%dT%H:%MZ)
    {
        echo "## Growth: tenants, backlog, parked retries"
        echo
        echo "Command: \`GROWTH_TENANTS=$tenants GROWTH_BACKLOG=$backlog GROWTH_PARKED=$parked RUNS=$runs ops/bench/run growth\`."
        echo "Each figure at size beside a small baseline measured in the same run; release binaries, single-broker embedded"
        echo "clusters (\`aurora-bridge kafka\`) in their own processes."
        echo "**Tenants**: generated registries of $small and $tenants tenants (the same first tenants and tokens; keys as"
        echo "files, two per tenant, as the sandbox's registry writer and docker secrets have them). Start-up = process start to"
        echo "\`/readyz\` 200 (the worker's includes joining its group), RSS then; medians of $runs alternating runs. Then a gateway"
        echo "and a worker with each registry, plus a gateway with the $tenants tenants' keys in \`env:\`, run side by side:"
        echo "idle CPU over the same ${idle_s} s (user + system, \`/proc/<pid>/stat\`); wrk (2 threads, 64 connections, ${wrk_s} s,"
        echo "median of $runs alternating runs) sends both gateways webhooks of the same $((small < 10 ? small : 10)) tenants; reload = SIGHUP"
        echo "at once after the file was replaced by one with another tenant, until that tenant's webhook is accepted."
        echo "**Backlog**: $backlog signed webhooks published first (\`aurora-bridge-lab bench worker publish\`, 64 partitions),"
        echo "then one \`aurora-bridge worker\` (concurrency 256) over them against the sandbox (500 tenants × 20 projects, every"
        echo "call answered after 1–5 ms, limits and extras off); its settled count (\`worker_events_total\`), its VmRSS and the"
        echo "CPU ticks of the worker, the sandbox, the cluster and the whole machine sampled every second; events/s and CPU per"
        echo "event of a tenth from the times the count crossed it."
        echo "**Parked**: $tier_records records on \`aurora.webhooks.retry.3\` ($partitions partitions) whose \`next-attempt-at\` is 25 min"
        echo "ahead (within the tier's 30 min: a record due later than its tier's delay + 60 s is taken at once), a worker on"
        echo "them once its gate holds the tier's partitions, beside a worker with empty tiers (\`--topic idle.webhooks\`), CPU"
        echo "over the same ${parked_s} s."
        echo
        echo "| what | baseline | at size | at size ÷ baseline |"
        echo "|---|---|---|---|"
        awk -v small="$small" -v n="$tenants" \
            -v gss="$(startup small 2)" -v gsl="$(startup large 2)" -v gms="$(startup small 3)" -v gml="$(startup large 3)" \
            -v wss="$(startup small 4)" -v wsl="$(startup large 4)" -v wms="$(startup small 5)" -v wml="$(startup large 5)" \
            -v rs="${reload_ms[small]}" -v rl="${reload_ms[large]}" \
            -v gis="${idle_cpu[${gw[small]}]}" -v gil="${idle_cpu[${gw[large]}]}" -v gie="${idle_cpu[${gw[env]}]}" \
            -v wis="${idle_cpu[${wk[small]}]}" -v wil="${idle_cpu[${wk[large]}]}" \
            -v gps="${gw_peak[small]}" -v gpl="${gw_peak[large]}" -v wps="${wk_peak[small]}" -v wpl="${wk_peak[large]}" \
            -v qs="$(wrkcol 1)" -v ps="$(wrkcol 2)" -v ql="$(wrkcol 5)" -v pl="$(wrkcol 6)" \
            -v qratio="$(awk '$1 > 0 { print $5 / $1 }' "$dir/wrk.tsv" | median)" \
            -v bad="$(awk '{ n += $3 + $4 + $7 + $8 } END { print n + 0 }' "$dir/wrk.tsv")" '
            function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "–" }
            BEGIN {
                t = small " → " n " tenants: "
                printf "| %sgateway start-up to ready | %.2f s | %.2f s | %s |\n", t, gss, gsl, ratio(gsl, gss)
                printf "| %sgateway RSS when ready | %d MiB | %d MiB | %s |\n", t, gms, gml, ratio(gml, gms)
                printf "| %sgateway peak RSS after idle, wrk and reload | %d MiB | %d MiB | %s |\n", t, gps, gpl, ratio(gpl, gps)
                printf "| %sgateway reload, SIGHUP → the new tenant accepted | %d ms | **%d ms** | %s |\n", t, rs, rl, ratio(rl, rs)
                printf "| %sgateway idle CPU (keys in files, watched every 2 s) | %.1f ms/s | **%.1f ms/s** | %s |\n", t, gis, gil, ratio(gil, gis)
                printf "| %sgateway idle CPU, the %d tenants'"'"' keys in `env:` instead | %.1f ms/s | %.1f ms/s | %s |\n", t, n, gis, gie, ratio(gie, gis)
                printf "| %sgateway webhooks/s, the same tenants (token lookup; ratio: median of the per-run ratios) | %.0f/s (p99 %.1f ms) | **%.0f/s** (p99 %.1f ms) | **%.2f** |\n", t, qs, ps, ql, pl, qratio
                printf "| %sworker start-up to ready (group join included) | %.2f s | %.2f s | %s |\n", t, wss, wsl, ratio(wsl, wss)
                printf "| %sworker RSS when ready | %d MiB | %d MiB | %s |\n", t, wms, wml, ratio(wml, wms)
                printf "| %sworker idle CPU (keys in files) | %.1f ms/s | **%.1f ms/s** | %s |\n", t, wis, wil, ratio(wil, wis)
            }'
        awk -v n="$backlog" -v peak="$backlog_peak" -v cpu="$worker_cpu" -v hz="$hz" '
            { at[$1] = $2; rss[$1] = $4; w[$1] = $5; sb[$1] = $6; last = $1 }
            function rate(k) { return (k == 0 ? n / 10 - 1 : n / 10) / (at[k + 1] - at[k]) }
            function used(x, k) { return x[k + 1] - x[k] }
            END {
                if (last < 10) { printf "| backlog of %d: did not finish (%d tenths) | | | |\n", n, last; exit }
                first = rate(0); final = rate(9)
                printf "| backlog of %d: events/s, first 10 %% → last 10 %% | %.0f/s | **%.0f/s** | **%.2f** |\n", n, first, final, final / first
                printf "| backlog of %d: worker RSS at 10 %% → 50 %% / end (peak) | %.0f MiB | %.0f MiB / **%.0f MiB** (%d MiB) | %.2f |\n", n, rss[1], rss[5], rss[10], peak, rss[10] / rss[1]
                # CPU per event over the second tenth (after start-up) and the last; ticks are sampled once a second.
                wf = used(w, 1) * 1000 / hz / (n / 10); wl = used(w, 9) * 1000 / hz / (n / 10)
                sf = used(sb, 1) * 1000 / hz / (n / 10); sl = used(sb, 9) * 1000 / hz / (n / 10)
                printf "| backlog of %d: worker CPU per event, second 10 %% → last 10 %% | %.2f ms | **%.2f ms** | %.2f |\n", n, wf, wl, (wf > 0 ? wl / wf : 0)
                printf "| backlog of %d: the sandbox'"'"'s CPU per event (not the bridge; beside it on the same cores) | %.2f ms | %.2f ms | %.2f |\n", n, sf, sl, (sf > 0 ? sl / sf : 0)
            }' "$dir/backlog.tenths"
        awk -v n="$tier_records" -v pt="$p_ticks" -v it="$i_ticks" -v s="$parked_s" -v hz="$hz" -v pm="$parked_mib" -v im="$idle_mib" '
            BEGIN {
                p = pt * 1000 / hz / s; i = it * 1000 / hz / s
                printf "| worker with empty tiers → %d records parked on a tier: CPU | %.1f ms/s | **%.1f ms/s** | %s |\n", n, i, p, (i > 0 ? sprintf("%.2f", p / i) : "–")
                printf "| worker with empty tiers → %d records parked on a tier: RSS | %d MiB | %d MiB | %.2f |\n", n, im, pm, pm / im
            }'
        echo
        awk -v n="$backlog" -v hz="$hz" '{ at[$1] = $2; w[$1] = $5; sb[$1] = $6; kc[$1] = $7; m[$1] = $8; last = $1 } END {
            if (last < 10) exit
            printf "Backlog events/s by tenth:"
            for (k = 0; k < 10; k++) printf "%s %.0f", (k ? "," : ""), (k == 0 ? n / 10 - 1 : n / 10) / (at[k + 1] - at[k])
            printf "; the worker'"'"'s CPU ms per event by tenth:"
            for (k = 0; k < 10; k++) printf "%s %.2f", (k ? "," : ""), (w[k + 1] - w[k]) * 1000 / hz / (n / 10)
            printf "; cores busy with other processes than the worker, the sandbox and the cluster (this machine is shared) by tenth:"
            for (k = 0; k < 10; k++) printf "%s %.2f", (k ? "," : ""), ((m[k + 1] - m[k]) - (w[k + 1] - w[k]) - (sb[k + 1] - sb[k]) - (kc[k + 1] - kc[k])) / hz / (at[k + 1] - at[k])
            printf "; all %d settled %.0f s after the worker started (its start-up and group join included).\n", n, at[10] }' "$dir/backlog.tenths"
        echo "The backlog worker used $worker_cpu s of CPU; $dead dead letter(s); the sandbox's RSS at the end $sandbox_mib MiB (it keeps a log of every request)."
        echo "Parked: the gate held $holding partition(s) at the end, $processed_while_parked event(s) processed meanwhile."
        echo "wrk non-2xx and socket errors over all runs: $(awk '{ n += $3 + $4 + $7 + $8 } END { print n + 0 }' "$dir/wrk.tsv")." \
            "wrk per run, requests/s with $small → $tenants tenants:$(awk '{ printf "%s %.0f → %.0f", (NR > 1 ? "," : ""), $1, $5 }' "$dir/wrk.tsv")."
        echo
        echo "Measured $date."
    } >"$OUT/section-growth.md"
    fresh+=(growth)
    cat "$OUT/section-growth.md" >&2
}
