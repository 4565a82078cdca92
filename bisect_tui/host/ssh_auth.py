"""Public-key authentication in OpenSSH's order: named keys, the agent, defaults.

Built on paramiko's ``AuthStrategy`` so each key is tried once, an encrypted key
can ask for its passphrase (on a terminal, before any UI draws), and a failure
can say exactly what was offered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
from paramiko.auth_strategy import AuthSource, AuthStrategy, InMemoryPrivateKey

from bisect_tui.host.ssh_config import SshTarget

log = logging.getLogger(__name__)

DEFAULT_KEYS: tuple[str, ...] = (
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_rsa",
)
"""The keys OpenSSH offers when no IdentityFile is configured."""

PassphrasePrompt = Callable[[str], str | None]
"""Asked for a key's passphrase with the key's path; ``None`` skips the key."""


class KeyAuthStrategy(AuthStrategy):
    """Offer the target's keys, then the agent's, then the default key files.

    Attributes:
        offered: What was offered, in order, for an error message.
    """

    def __init__(
        self, target: SshTarget, prompt: PassphrasePrompt | None = None
    ) -> None:
        """Create the strategy.

        Args:
            target: Whose identities and user to use.
            prompt: Asks for an encrypted key's passphrase; ``None`` skips such
                keys (the agent may still hold them).
        """
        super().__init__(ssh_config=paramiko.SSHConfig())
        self.target = target
        self.prompt = prompt
        self.offered: list[str] = []

    def get_sources(self) -> Iterator[AuthSource]:
        """Yield the keys to offer, in order."""
        user = self.target.user
        for path in self.target.identities:
            key = self._load(Path(path), explicit=True)
            if key is not None:
                self.offered.append(path)
                yield InMemoryPrivateKey(user, key)
        if self.target.identities_only:
            return
        for agent_key in _agent_keys():
            self.offered.append(f"agent key {agent_key.get_name()}")
            yield InMemoryPrivateKey(user, agent_key)
        if self.target.identities:
            return
        for name in DEFAULT_KEYS:
            default = Path(name).expanduser()
            key = self._load(default, explicit=False) if default.is_file() else None
            if key is not None:
                self.offered.append(str(default))
                yield InMemoryPrivateKey(user, key)

    def _load(self, path: Path, *, explicit: bool) -> paramiko.PKey | None:
        try:
            return paramiko.PKey.from_path(path)
        except paramiko.PasswordRequiredException:
            return self._load_encrypted(path)
        except (OSError, paramiko.SSHException, ValueError) as exc:
            level = logging.WARNING if explicit else logging.DEBUG
            log.log(level, "cannot use key %s: %s", path, exc)
            self.offered.append(f"{path} (unreadable: {exc})")
            return None

    def _load_encrypted(self, path: Path) -> paramiko.PKey | None:
        passphrase = self.prompt(str(path)) if self.prompt else None
        if passphrase is None:
            log.warning("key %s is encrypted; add it to ssh-agent to use it", path)
            self.offered.append(f"{path} (encrypted, skipped)")
            return None
        try:
            return paramiko.PKey.from_path(path, passphrase)
        except paramiko.SSHException as exc:
            self.offered.append(f"{path} (wrong passphrase)")
            log.warning("cannot unlock key %s: %s", path, exc)
            return None

    def describe_offered(self) -> str:
        """E.g. ``"/k/id (encrypted, skipped), agent key ssh-ed25519"``."""
        return ", ".join(self.offered) or "no key at all"


def _agent_keys() -> list[paramiko.AgentKey]:
    try:
        agent = paramiko.Agent()
        return list(agent.get_keys())
    except paramiko.SSHException as exc:
        log.debug("no usable ssh-agent: %s", exc)
        return []
