"""Normalise systemd's printing of unit properties so intent and effect compare.

``systemctl show`` prints what systemd made of a directive, not what was written:
booleans as yes/no, sizes in bytes, time spans in its own units, capability names
in lower case, address keywords as prefixes, syscall groups expanded into names.
Each function here turns one kind of value into a canonical Python value, so the
comparison in :mod:`bisect_tui.host.readback` is plain equality.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TRUE_WORDS = frozenset({"yes", "true", "on", "1"})
FALSE_WORDS = frozenset({"no", "false", "off", "0"})

_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE_UNITS["P"] = 1 << 50
_SIZE_UNITS["E"] = 1 << 60

_TIME_UNITS_USEC = {
    "us": 1,
    "usec": 1,
    "ms": 1000,
    "msec": 1000,
    "s": 1_000_000,
    "sec": 1_000_000,
    "second": 1_000_000,
    "seconds": 1_000_000,
    "m": 60_000_000,
    "min": 60_000_000,
    "minute": 60_000_000,
    "minutes": 60_000_000,
    "h": 3_600_000_000,
    "hr": 3_600_000_000,
    "hour": 3_600_000_000,
    "hours": 3_600_000_000,
    "d": 86_400_000_000,
    "day": 86_400_000_000,
    "days": 86_400_000_000,
}

ADDRESS_KEYWORDS = {
    "any": ("0.0.0.0/0", "::/0"),
    "localhost": ("127.0.0.0/8", "::1/128"),
    "link-local": ("169.254.0.0/16", "fe80::/64"),
    "multicast": ("224.0.0.0/4", "ff00::/8"),
}
"""How systemd expands the address keywords of IPAddressAllow/Deny."""


def as_bool(value: str) -> bool | None:
    """``True``/``False`` for systemd's boolean words, else ``None``."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def as_bytes(value: str) -> int | None:
    """Bytes for ``2G``, ``1536M``, ``4096``; ``-1`` for ``infinity``; else None.

    Units are powers of 1024, as systemd reads them. Percentages depend on the
    host's memory and return ``None``.
    """
    text = value.strip()
    if text == "infinity":
        return -1
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGTPE]?)B?", text, re.IGNORECASE)
    if match is None:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])


def as_usec(value: str) -> int | None:
    """Microseconds for a systemd time span (``1min 30s``, ``90``, ``500ms``).

    A bare number counts as seconds; ``infinity`` is ``-1``.
    """
    text = value.strip()
    if text == "infinity":
        return -1
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return round(float(text) * 1_000_000)
    total = 0.0
    pos = 0
    for match in re.finditer(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)", text):
        if match.start() != pos or match.group(2) not in _TIME_UNITS_USEC:
            return None
        total += float(match.group(1)) * _TIME_UNITS_USEC[match.group(2)]
        pos = match.end()
    return round(total) if pos == len(text) and pos else None


def quota_usec(value: str) -> int | None:
    """``CPUQuota=300%`` as CPU time per second in microseconds (3 s)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)%\s*", value)
    return round(float(match.group(1)) * 10_000) if match else None


def as_octal(value: str) -> int | None:
    """The integer of an octal mode such as ``0027``."""
    try:
        return int(value.strip(), 8)
    except ValueError:
        return None


def tokens(values: Iterable[str]) -> frozenset[str]:
    """Every space-separated item of every value."""
    return frozenset(item for value in values for item in value.split())


def addresses(values: Iterable[str]) -> frozenset[str]:
    """IPAddressAllow/Deny items as systemd keeps them: the covering prefixes.

    Keywords are expanded and bare addresses get a host prefix. systemd then
    drops every prefix that another one in the list covers (``10.0.0.0/24`` is
    gone once ``0.0.0.0/0`` is allowed), so the same is done here.
    """
    networks: set[IPNetwork] = set()
    for item in tokens(values):
        for text in ADDRESS_KEYWORDS.get(item, (item,)):
            try:
                networks.add(ipaddress.ip_network(text, strict=False))
            except ValueError:
                return frozenset({f"unparsable: {text}"})
    kept = {
        net
        for net in networks
        if not any(
            other != net and other.version == net.version and net.subnet_of(other)  # type: ignore[arg-type]
            for other in networks
        )
    }
    return frozenset(str(net) for net in kept)


def capability_names(printed: str) -> frozenset[str]:
    """Capability names as ``systemctl show`` prints them, upper-cased."""
    return frozenset(name.upper() for name in printed.split())


def fold_filter(
    values: Sequence[str],
    expand: Callable[[str], frozenset[str]],
    implicit_allow: frozenset[str] = frozenset(),
) -> tuple[bool, frozenset[str]]:
    """Fold allow/deny filter assignments the way systemd does.

    The first assignment after a reset picks the mode: an allow-list (which
    starts from ``implicit_allow``; systemd puts ``@default`` there for syscall
    filters) or a deny-list (``~``). Later plain lines add to an allow-list and
    remove from a deny-list; ``~`` lines do the opposite.

    Args:
        values: The assignments in effect, in order.
        expand: Turns one item (a name or a ``@group``) into names.
        implicit_allow: Names an allow-list starts with.

    Returns:
        ``(is_allow_list, names)``; no filter at all is an empty deny-list.
    """
    allow: bool | None = None
    names: set[str] = set()
    for value in values:
        if not value:
            allow, names = None, set()
            continue
        inverted = value.startswith("~")
        items = set().union(*(expand(item) for item in value.lstrip("~").split()))
        if allow is None:
            allow = not inverted
            names = set(implicit_allow) if allow else set()
        if allow != inverted:
            names |= items
        else:
            names -= items
    return (False, frozenset()) if allow is None else (allow, frozenset(names))


def printed_filter(printed: str) -> tuple[bool, frozenset[str]]:
    """Read a filter as ``systemctl show`` prints it.

    ``~a b`` is a deny-list, ``a b`` an allow-list. A bare ``~`` denies nothing
    (no filter) and an empty value allows nothing (``RestrictAddressFamilies=none``).
    """
    text = printed.strip()
    inverted = text.startswith("~")
    return (not inverted, frozenset(text.lstrip("~").split()))
