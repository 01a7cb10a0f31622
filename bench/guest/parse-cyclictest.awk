# Reads the serial-console logs of one or more benchmark guests (see
# build-guest.sh) and prints one line of key=value pairs for all of them pooled:
#
#   runs=N complete=N samples=N min=US avg=US p50=US p99=US p999=US max=US overflows=N hist=US rc=...
#
# Only the text between "=== VFIO-BENCH START" and "=== VFIO-BENCH END" counts.
# The histogram rows ("000123 000045\t000002": bucket, then one count per
# cyclictest thread) are summed over threads and files; rows left out count as
# zero. A percentile is the smallest bucket whose cumulative count reaches
# ceil(q * N), N counting the overflows too; when it falls among the overflows
# (latency >= the histogram size) it is printed as ">=HIST". min and max come
# from cyclictest's "# Min/Max Latencies" lines (they include overflows), avg is
# cyclictest's per-thread average weighted by each thread's sample count.
# Works with mawk and busybox awk (no gawk extensions).
function ceil(x) { return (x == int(x)) ? x : int(x) + 1 }
function pct(q,    rank, b, cum) {
    if (n_all == 0) return "-"
    rank = ceil(q * n_all)
    cum = 0
    for (b = 0; b <= top; b++) {
        cum += hist[b]
        if (cum >= rank) return b
    }
    return ">=" hsize
}
FNR == 1 { inside = 0; nthreads = 0 }
{ sub(/\r$/, "") }
/=== VFIO-BENCH START/ {
    inside = 1; runs++
    if (match($0, /-h [0-9]+/)) hsize = substr($0, RSTART + 3, RLENGTH - 3) + 0
    next
}
/=== VFIO-BENCH END/ {
    if (inside) {
        complete++
        r = $0; sub(/.*rc=/, "", r); sub(/ .*/, "", r)
        rcs = rcs (rcs == "" ? "" : ",") r
    }
    inside = 0
    next
}
!inside { next }
/^[0-9][0-9][0-9][0-9][0-9][0-9]*[ \t]/ {
    b = $1 + 0
    for (i = 2; i <= NF; i++) { hist[b] += $i; n_hist += $i }
    if (b > top) top = b
    next
}
/^# Total:/ {
    nthreads = NF - 2
    for (i = 3; i <= NF; i++) tot[i - 2] = $i + 0
    next
}
/^# Min Latencies:/ {
    for (i = 4; i <= NF; i++) if (!have_min || $i + 0 < mn) { mn = $i + 0; have_min = 1 }
    next
}
/^# Avg Latencies:/ {
    for (i = 4; i <= NF; i++) av[i - 3] = $i + 0
    next
}
/^# Max Latencies:/ {
    for (i = 4; i <= NF; i++) if ($i + 0 > mx) mx = $i + 0
    next
}
/^# Histogram Overflows:/ {
    for (i = 4; i <= NF; i++) {
        t = i - 3
        ov = $i + 0
        n_over += ov
        w = tot[t] + ov
        sum_w += w
        sum_lat += av[t] * w
    }
    next
}
END {
    n_all = n_hist + n_over
    if (hsize == 0) hsize = top + 1
    printf "runs=%d complete=%d samples=%d min=%s avg=%s p50=%s p99=%s p999=%s max=%s overflows=%d hist=%d rc=%s\n", \
        runs, complete, n_all, (have_min ? mn : "-"), (sum_w > 0 ? sprintf("%.0f", sum_lat / sum_w) : "-"), \
        pct(0.50), pct(0.99), pct(0.999), (n_all > 0 ? mx : "-"), n_over, hsize, (rcs == "" ? "-" : rcs)
}
