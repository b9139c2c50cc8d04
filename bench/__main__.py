"""Run every benchmark: `python -m bench` (or `make bench`).

caller_time first; then capacity, latency and lookup_scaling, each about a minute and a
half; then autopay_run (100,000 members, one worker and four: the longest; try
`python -m bench.autopay_run --members 5000` first). `python -m bench.profile_webhooks` (not
run here) shows where a webhook's time goes.
"""

from bench import autopay_run, caller_time, capacity, latency, lookup_scaling

if __name__ == "__main__":
    caller_time.main()
    for benchmark in (capacity, latency, lookup_scaling, autopay_run):
        print()
        benchmark.main([])
