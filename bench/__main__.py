"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import caller_time

if __name__ == "__main__":
    caller_time.main()
