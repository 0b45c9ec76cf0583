"""A process's resident memory, for the load and soak reports."""


def rss_kib(pid):
    """VmRSS of `pid` in KiB (0 if the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0
