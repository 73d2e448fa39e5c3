"""Profiles: named sets of provider accounts, read with tomllib and written with tomli-w.

Two files live in the user config directory (`$TELEDECK_CONFIG_DIR`, else platformdirs'
`user_config_dir("teledeck")`):

* `config.toml`: profiles and their accounts' settings, and for each credential *where* it is:
  `"env:VARIABLE"` or `"secrets-file"`. Never a credential itself: `save_config` refuses any
  secret-looking key outside the `credentials` tables and any credential reference that is not
  one of those two forms, and `load_config` refuses a hand-written file that holds one.
* `secrets.toml`: `[profile.account-label] field = "value"`, created with mode 0600 and refused
  (with the `chmod 600` that fixes it) when group or others can read or write it.

`[ledger]` puts the ledger (bindings, calls, the shared audit) on a PostgreSQL server a team
shares: `url = "postgresql://user@host:5432/db"` (never with a password in it) and `password`,
a reference like every credential ("env:VARIABLE" or "secrets-file": `[ledger] password = ...`
in secrets.toml). Every configured profile uses it; the sandbox keeps its own file.

The built-in `sandbox` profile is always there, cannot be deleted or edited, and only its
read-only flag can be set (`[profiles.sandbox] read_only = true`). `resolve_profile` picks the
profile to start with: `--profile NAME`, else `$TELEDECK_PROFILE`, else `default_profile`, else
the sandbox.

This module imports no UI code, so the CLI can use it before Textual loads.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers import paths
from providers.cache import is_secret_field
from providers.endpoints import endpoint_problem
from providers.vendors import VendorDescriptor, by_kind

CONFIG_DIR_ENV = paths.CONFIG_DIR_ENV
PROFILE_ENV = "TELEDECK_PROFILE"
CONFIG_FILE = "config.toml"
SECRETS_FILE = "secrets.toml"
SANDBOX = "sandbox"
SECRETS_REF = "secrets-file"
ENV_PREFIX = "env:"

# ---- errors -----------------------------------------------------------------------------------


class ConfigError(Exception):
    """The config could not be read, or a profile asked for does not exist. `str()` says where."""

    def __init__(
        self, reason: str, *, path: Path | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.column = column
        where = str(path) if path is not None else ""
        if line is not None:
            where += f", line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {reason}" if where else reason)


class ConfigValidationError(ConfigError):
    """A config that would not be valid was about to be saved. `problems` maps field -> message."""

    def __init__(self, problems: Mapping[str, str], *, path: Path | None = None) -> None:
        self.problems = dict(problems)
        listed = "; ".join(f"{k}: {v}" for k, v in self.problems.items())
        super().__init__(f"invalid configuration ({listed})", path=path)


class SecretInConfigError(ConfigError):
    """A credential value was about to be written to (or was found in) config.toml."""


class BuiltinProfileError(ConfigError):
    """The built-in sandbox profile cannot be deleted, renamed or edited."""


class SecretsPermissionError(ConfigError):
    """The secrets file can be read or written by other users, so it is not used."""


class MissingCredentialError(ConfigError):
    """A credential a profile refers to is not where the config says it is."""


# ---- provider kinds ---------------------------------------------------------------------------

SETTINGS = ("endpoint", "region", "pool_key", "number_pool_no", "cust_space_id", "watch_x")


# A kind is a vendor descriptor (providers/vendors.py): its credential fields, settings, default
# endpoint and region, and the environment variables its vendor's tools use all come from there.
KindSpec = VendorDescriptor


class _Kinds(Mapping[str, KindSpec]):
    """Every account kind, read from the vendor registry each time (so the registry alone decides)."""

    def __getitem__(self, kind: str) -> KindSpec:
        return by_kind()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(by_kind())

    def __len__(self) -> int:
        return len(by_kind())


KINDS: Mapping[str, KindSpec] = _Kinds()


# Every name a credential field has, in any kind: none may appear in config.toml outside `credentials`.
def _is_credential_name(key: object) -> bool:
    return any(str(key) in spec.credential_fields for spec in KINDS.values())


# ---- the model --------------------------------------------------------------------------------


@dataclass
class AccountConfig:
    """One provider account of a profile. Settings a kind does not use stay empty."""

    kind: str
    label: str
    endpoint: str = ""  # endpoint / base URL override; "" = the kind's default
    region: str = ""
    pool_key: str = ""  # Alibaba Dypls PoolKey
    number_pool_no: str = ""  # Volcengine NumberPoolNo
    cust_space_id: str = ""  # Alibaba CAMS CustSpaceId
    watch_x: list[str] = field(default_factory=list)  # X numbers to watch
    # credential field -> "env:VARIABLE" or "secrets-file"
    credentials: dict[str, str] = field(default_factory=dict)
    # Keys this version does not know, kept so a save does not lose them.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> KindSpec | None:
        return KINDS.get(self.kind)

    @property
    def effective_endpoint(self) -> str:
        return self.endpoint or (self.spec.default_endpoint if self.spec else "")

    @property
    def effective_region(self) -> str:
        return self.region or (self.spec.default_region if self.spec else "")

    def env_var(self, credential: str) -> str | None:
        """The environment variable that holds `credential`, if the config says one does."""
        ref = self.credentials.get(credential, "")
        return ref[len(ENV_PREFIX) :] if ref.startswith(ENV_PREFIX) else None


@dataclass
class Profile:
    name: str
    read_only: bool = False
    accounts: list[AccountConfig] = field(default_factory=list)
    description: str = ""
    builtin: bool = False  # True only for the sandbox

    @property
    def is_sandbox(self) -> bool:
        return self.builtin and self.name == SANDBOX

    def account(self, label: str) -> AccountConfig | None:
        return next((a for a in self.accounts if a.label == label), None)

    def accounts_of(self, kind: str) -> list[AccountConfig]:
        return [a for a in self.accounts if a.kind == kind]


def sandbox_profile(*, read_only: bool = False) -> Profile:
    """The built-in profile: one account per kind, all served by the in-process sandbox.

    Its accounts carry no credential references: the sandbox session uses the emulators' own.
    """
    accounts = [AccountConfig(kind=kind, label=kind) for kind in KINDS]
    return Profile(
        SANDBOX, read_only=read_only, accounts=accounts, builtin=True, description="built-in sandbox (no network)"
    )


ENVIRONMENT = "env"


def environment_profile(environ: Mapping[str, str] | None = None) -> Profile | None:
    """The accounts the environment alone configures, as an unsaved profile named "env"; None
    when it configures none.

    A kind joins when every credential it requires is in the variable its vendor's own tools
    read (TELNYX_API_KEY, as the official Telnyx SDK does) and it needs no setting: so a user
    with nothing configured but that key gets the same console as the SDK would give them.
    """
    env = os.environ if environ is None else environ
    accounts = [
        AccountConfig(
            kind=kind,
            label=kind,
            credentials={name: ENV_PREFIX + spec.suggested_env[name] for name in spec.credentials},
        )
        for kind, spec in KINDS.items()
        if not spec.required and all(env.get(spec.suggested_env.get(name, ""), "").strip() for name in spec.credentials)
    ]
    if not accounts:
        return None
    return Profile(ENVIRONMENT, accounts=accounts, description="from the environment (not saved)")


@dataclass
class LedgerConfig:
    """`[ledger]`: the team's PostgreSQL ledger. `password` says where the password is
    ("env:VARIABLE", "secrets-file", or "" to leave it to libpq: ~/.pgpass, a certificate)."""

    url: str = ""
    password: str = ""

    def problems(self) -> dict[str, str]:
        from providers.ledger_store import url_problem

        problems: dict[str, str] = {}
        problem = url_problem(self.url) if self.url else "required: postgresql://user@host:5432/database"
        if problem:
            problems["ledger.url"] = problem
        if self.password:
            ref_problem = validate_credential_ref(self.password)
            if ref_problem:
                problems["ledger.password"] = ref_problem
        return problems


LEDGER_TABLE = "ledger"
LEDGER_KEYS = ("url", "password")
LEDGER_SECRETS = ""  # the secrets file's [ledger] strings, as the account "" of a profile "ledger"


@dataclass
class Config:
    """Every user profile (never the sandbox itself), the default, and the sandbox's read-only flag."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    sandbox_read_only: bool = False
    # [keymap]: binding id -> key(s), as written (tui/keymap.py checks ids, keys and clashes).
    keymap: dict[str, str] = field(default_factory=dict)
    # [ui]: `theme` (the command palette's choice, saved by the app) and keys this version does
    # not know, kept as they are.
    ui: dict[str, Any] = field(default_factory=dict)
    # Top-level keys this version does not know, kept so a save does not lose them.
    extra: dict[str, Any] = field(default_factory=dict)
    # [ledger]: the shared PostgreSQL ledger; None = each user's own file.
    ledger: LedgerConfig | None = None

    @property
    def theme(self) -> str | None:
        theme = self.ui.get("theme")
        return theme if isinstance(theme, str) and theme else None

    def names(self) -> list[str]:
        """Every profile name, the sandbox first."""
        return [SANDBOX, *sorted(self.profiles)]

    def get(self, name: str) -> Profile | None:
        if name == SANDBOX:
            return sandbox_profile(read_only=self.sandbox_read_only)
        return self.profiles.get(name)

    def upsert(self, profile: Profile, *, previous_name: str | None = None) -> None:
        """Add or replace a profile (renaming it when `previous_name` differs)."""
        if profile.name == SANDBOX or previous_name == SANDBOX or profile.builtin:
            raise BuiltinProfileError("the built-in sandbox profile cannot be edited; create a new profile instead")
        if previous_name and previous_name != profile.name:
            self.profiles.pop(previous_name, None)
            if self.default_profile == previous_name:
                self.default_profile = profile.name
        self.profiles[profile.name] = profile

    def remove(self, name: str) -> Profile:
        if name == SANDBOX:
            raise BuiltinProfileError("the built-in sandbox profile cannot be deleted")
        try:
            profile = self.profiles.pop(name)
        except KeyError:
            raise ConfigError(f"no profile named {name!r}") from None
        if self.default_profile == name:
            self.default_profile = None
        return profile


# ---- paths ------------------------------------------------------------------------------------


def config_dir() -> Path:
    return paths.config_dir()


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def secrets_path() -> Path:
    return config_dir() / SECRETS_FILE


# ---- validation -------------------------------------------------------------------------------

_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_NUMBER = re.compile(r"^\+?[0-9]{5,20}$")


def validate_profile_name(name: str) -> str | None:
    if name == SANDBOX:
        return "'sandbox' is the built-in profile; choose another name"
    if not _PROFILE_NAME.match(name):
        return "1–40 lower-case letters, digits, - or _, starting with a letter or digit"
    return None


def validate_label(label: str) -> str | None:
    if not _LABEL.match(label):
        return "1–63 letters, digits, '.', '-' or '_', starting with a letter or digit"
    return None


def validate_url(value: str) -> str | None:
    """An https URL, or http to a loopback host only (a local sandbox or proxy); no credentials in it."""
    return endpoint_problem(value)


def validate_env_name(name: str) -> str | None:
    if not _ENV_NAME.match(name):
        return "not an environment variable name (letters, digits and _, not starting with a digit)"
    return None


def validate_credential_ref(ref: str) -> str | None:
    if ref == SECRETS_REF:
        return None
    if ref.startswith(ENV_PREFIX):
        return validate_env_name(ref[len(ENV_PREFIX) :])
    return f'write "env:VARIABLE_NAME" or "{SECRETS_REF}"; never the credential itself'


def validate_account(account: AccountConfig) -> dict[str, str]:
    """Field -> message for everything wrong with one account ({} when it is fine)."""
    problems: dict[str, str] = {}
    spec = KINDS.get(account.kind)
    if spec is None:
        problems["kind"] = "one of " + ", ".join(KINDS)
    label_problem = validate_label(account.label)
    if label_problem:
        problems["label"] = label_problem
    if account.endpoint:
        url_problem = validate_url(account.endpoint)
        if url_problem:
            problems["endpoint"] = url_problem
    if account.region and not _REGION.match(account.region):
        problems["region"] = "a region id such as cn-north-1 or ap-southeast-1"
    bad = [n for n in account.watch_x if not _NUMBER.match(n.strip())]
    if bad:
        problems["watch_x"] = f"not phone numbers: {', '.join(bad)} (digits, optionally a leading +)"
    if spec is None:
        return problems
    for name in spec.required:
        if not str(getattr(account, name)).strip() and name not in problems:
            problems[name] = f"required for {spec.title}"
    for name in SETTINGS:
        if name not in spec.settings and getattr(account, name) and name not in problems:
            problems[name] = f"not used by {spec.title} accounts"
    for name in spec.credentials:
        if name not in account.credentials:
            hint = spec.suggested_env.get(name)
            problems[f"credentials.{name}"] = "required: say where it is, " + (
                f'e.g. "env:{hint}" or "{SECRETS_REF}"' if hint else f'"env:VARIABLE_NAME" or "{SECRETS_REF}"'
            )
    for name, ref in account.credentials.items():
        if name not in spec.credential_fields:
            problems[f"credentials.{name}"] = (
                f"not a {spec.title} credential (expected {', '.join(spec.credential_fields)})"
            )
            continue
        ref_problem = validate_credential_ref(ref) if isinstance(ref, str) else "must be a string"
        if ref_problem:
            problems[f"credentials.{name}"] = ref_problem
    return problems


def validate_profile(profile: Profile) -> dict[str, str]:
    """Field -> message for one profile; account fields are "accounts[i].field"."""
    if profile.builtin:
        return {}
    problems: dict[str, str] = {}
    name_problem = validate_profile_name(profile.name)
    if name_problem:
        problems["name"] = name_problem
    seen: set[str] = set()
    for index, account in enumerate(profile.accounts):
        for key, message in validate_account(account).items():
            problems[f"accounts[{index}].{key}"] = message
        if account.label in seen:
            problems.setdefault(
                f"accounts[{index}].label", f"another account of this profile is called {account.label!r}"
            )
        seen.add(account.label)
    return problems


def validate_config(config: Config) -> dict[str, str]:
    """Field -> message for the whole config; profile fields are "profiles.<name>.<field>"."""
    problems: dict[str, str] = {}
    for key, profile in config.profiles.items():
        if key != profile.name:
            problems[f"profiles.{key}.name"] = f"profile stored as {key!r} is named {profile.name!r}"
        for field_name, message in validate_profile(profile).items():
            problems[f"profiles.{key}.{field_name}"] = message
    if config.default_profile and config.get(config.default_profile) is None:
        problems["default_profile"] = f"no profile named {config.default_profile!r}"
    if config.ledger is not None:
        problems.update(config.ledger.problems())
    return problems


# ---- reading ----------------------------------------------------------------------------------

_DECODE_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")

# Both files are a few kilobytes; anything this large is not one of them.
MAX_FILE_BYTES = 1_000_000
# Profiles, accounts, credentials: a real file is four tables deep; a hostile one may be 10,000.
MAX_DEPTH = 16
_TOO_DEEP = f"nested more than {MAX_DEPTH} tables or arrays deep; this is not a teledeck file"
_FILE_TYPES = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symbolic link",
}


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kind = _FILE_TYPES.get(stat.S_IFMT(mode), "not a regular file")
    return f"it is {kind}, not a file: move it away (teledeck reads only a regular file here)"


def read_small_file(
    path: Path, *, follow_symlinks: bool, check: Callable[[Path, os.stat_result], None] | None = None
) -> bytes | None:
    """The bytes of the regular file at `path`, or None when nothing is there.

    Never blocks and never reads without bound: the path is stat'ed before it is opened, so a
    directory, FIFO, socket or device is refused without opening it; it is opened non-blocking
    (a FIFO swapped in after the stat cannot hang start-up) and checked again on the descriptor
    (`check` too: the secrets file's owner and mode); at most MAX_FILE_BYTES are read. Every
    failure (a symlink loop, no permission, `follow_symlinks=False` and a link) is a ConfigError.
    """
    try:
        st = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None
    problem = _not_regular(st.st_mode)
    if problem:
        raise ConfigError(problem, path=path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "rb") as fh:
        opened = os.fstat(fh.fileno())  # the file we opened, not whatever is there now
        problem = _not_regular(opened.st_mode)
        if problem:
            raise ConfigError(problem, path=path)
        if check is not None:
            check(path, opened)
        if opened.st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{opened.st_size:,} bytes: larger than any teledeck file can be", path=path)
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError("larger than any teledeck file can be", path=path)
    return data


def _check_depth(document: Mapping[str, Any], path: Path | None) -> None:
    """ConfigError when the parsed document nests deeper than MAX_DEPTH (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(_TOO_DEEP, path=path)
        if isinstance(value, Mapping):
            stack.extend((inner, depth + 1) for inner in value.values())
        elif isinstance(value, list):
            stack.extend((inner, depth + 1) for inner in value)


def load_config(path: Path | None = None) -> Config:
    """The config at `path` (default `config_path()`); a missing file is an empty config.

    A file that is not valid TOML, has the wrong shape or holds a credential raises
    `ConfigError` naming the file (and the line, for TOML syntax errors).
    """
    path = path or config_path()
    data = read_small_file(path, follow_symlinks=True)
    if data is None:
        return Config()
    import tomllib  # here: a start with no config file (the sandbox's first run) needs no TOML parser

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _DECODE_POSITION.search(message)
        line = column = None
        if match:
            line, column = int(match.group(1)), int(match.group(2))
            message = message[: match.start()]
        elif message.endswith("(at end of document)"):
            line = max(1, len(data.splitlines()))
            message = message[: -len("(at end of document)")].rstrip()
        raise ConfigError(f"not valid TOML: {message}", path=path, line=line, column=column) from None
    except RecursionError:
        raise ConfigError(_TOO_DEEP, path=path) from None
    _check_depth(document, path)
    return config_from_document(document, path=path)


def _expect(value: Any, kind: type, where: str, what: str, path: Path | None) -> Any:
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: expected {what}", path=path)
    return value


def config_from_document(document: Mapping[str, Any], *, path: Path | None = None) -> Config:
    """A Config from a parsed TOML document; `ConfigError` for a wrong shape or a stored credential."""
    _guard_no_secrets(document, path=path)
    profiles_doc = _expect(document.get("profiles", {}), dict, "profiles", "a table of profiles", path)
    default = document.get("default_profile")
    if default is not None:
        _expect(default, str, "default_profile", "a profile name (string)", path)
    keymap = _expect(document.get("keymap", {}), dict, "keymap", 'a table of binding id = "key"', path)
    for binding_id, keys in keymap.items():
        _expect(keys, str, f"keymap.{binding_id}", 'a key or comma-separated keys as a string, e.g. "f5"', path)
    ui = _expect(document.get("ui", {}), dict, "ui", "a table", path)
    if "theme" in ui:
        _expect(ui["theme"], str, "ui.theme", "a theme name (string)", path)
    config = Config(
        default_profile=default or None,
        keymap=dict(keymap),
        ui=dict(ui),
        extra={k: v for k, v in document.items() if k not in _TOP_KEYS},
        ledger=_ledger_from(document.get(LEDGER_TABLE), path),
    )
    for name, body in profiles_doc.items():
        where = f"profiles.{name}"
        _expect(body, dict, where, "a table", path)
        if name == SANDBOX:
            unknown = sorted(set(body) - {"read_only"})
            if unknown:
                raise ConfigError(
                    f"{where}: the built-in sandbox profile takes only read_only (found {', '.join(unknown)})",
                    path=path,
                )
            config.sandbox_read_only = _expect(
                body.get("read_only", False), bool, f"{where}.read_only", "true or false", path
            )
            continue
        accounts_doc = _expect(
            body.get("accounts", []), list, f"{where}.accounts", "an array of tables ([[...accounts]])", path
        )
        accounts = [_account_from(item, f"{where}.accounts[{i}]", path) for i, item in enumerate(accounts_doc)]
        config.profiles[name] = Profile(
            name=name,
            read_only=_expect(body.get("read_only", False), bool, f"{where}.read_only", "true or false", path),
            description=_expect(body.get("description", ""), str, f"{where}.description", "a string", path),
            accounts=accounts,
        )
    return config


_TOP_KEYS = {"profiles", "default_profile", "keymap", "ui", LEDGER_TABLE}


def _ledger_from(table: Any, path: Path | None) -> LedgerConfig | None:
    if table is None:
        return None
    _expect(table, dict, LEDGER_TABLE, 'a table: url = "postgresql://user@host:5432/database"', path)
    unknown = sorted(set(table) - set(LEDGER_KEYS))
    if unknown:
        raise ConfigError(f"ledger: unknown key {', '.join(unknown)} (it takes url and password)", path=path)
    values = {key: _expect(table.get(key, ""), str, f"ledger.{key}", "a string", path) for key in LEDGER_KEYS}
    ledger = LedgerConfig(**values)
    for where, message in ledger.problems().items():
        raise ConfigError(f"{where}: {message}", path=path)
    return ledger


_ACCOUNT_KEYS = {"kind", "label", "base_url", "credentials", *SETTINGS}


def _account_from(item: Any, where: str, path: Path | None) -> AccountConfig:
    _expect(item, dict, where, "a table", path)
    text = {}
    for key in ("kind", "label", "endpoint", "base_url", "region", "pool_key", "number_pool_no", "cust_space_id"):
        text[key] = _expect(item.get(key, ""), str, f"{where}.{key}", "a string", path)
    if not text["kind"]:
        raise ConfigError(f"{where}.kind: missing (one of {', '.join(KINDS)})", path=path)
    if not text["label"]:
        raise ConfigError(f"{where}.label: missing", path=path)
    watch = _expect(item.get("watch_x", []), list, f"{where}.watch_x", "a list of numbers (strings)", path)
    if not all(isinstance(n, str) for n in watch):
        raise ConfigError(f'{where}.watch_x: expected a list of numbers as strings, e.g. ["17100000001"]', path=path)
    credentials = _expect(item.get("credentials", {}), dict, f"{where}.credentials", "a table", path)
    if not all(isinstance(v, str) for v in credentials.values()):
        raise ConfigError(f'{where}.credentials: each value is "env:NAME" or "{SECRETS_REF}"', path=path)
    return AccountConfig(
        kind=text["kind"],
        label=text["label"],
        endpoint=text["endpoint"] or text["base_url"],
        region=text["region"],
        pool_key=text["pool_key"],
        number_pool_no=text["number_pool_no"],
        cust_space_id=text["cust_space_id"],
        watch_x=list(watch),
        credentials=dict(credentials),
        extra={k: v for k, v in item.items() if k not in _ACCOUNT_KEYS},
    )


# ---- writing ----------------------------------------------------------------------------------


def config_to_document(config: Config) -> dict[str, Any]:
    """The TOML document for a Config (empty settings left out)."""
    profiles: dict[str, Any] = {}
    if config.sandbox_read_only:
        profiles[SANDBOX] = {"read_only": True}
    for name in sorted(config.profiles):
        profile = config.profiles[name]
        if profile.builtin or name == SANDBOX:
            raise BuiltinProfileError("the built-in sandbox profile is not stored in config.toml")
        body: dict[str, Any] = {"read_only": profile.read_only}
        if profile.description:
            body["description"] = profile.description
        accounts = []
        for account in profile.accounts:
            item: dict[str, Any] = {"kind": account.kind, "label": account.label}
            for key in SETTINGS:
                value = getattr(account, key)
                if value:
                    item[key] = list(value) if key == "watch_x" else value
            item.update({k: v for k, v in account.extra.items() if k not in item})
            if account.credentials:
                item["credentials"] = dict(account.credentials)
            accounts.append(item)
        body["accounts"] = accounts
        profiles[name] = body
    document: dict[str, Any] = {k: v for k, v in config.extra.items() if k not in _TOP_KEYS}
    if config.default_profile:
        document["default_profile"] = config.default_profile
    document["profiles"] = profiles
    if config.keymap:
        document["keymap"] = dict(config.keymap)
    if config.ui:
        document["ui"] = dict(config.ui)
    if config.ledger is not None:
        values = {key: getattr(config.ledger, key) for key in LEDGER_KEYS}
        document[LEDGER_TABLE] = {key: value for key, value in values.items() if value}
    return document


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and (value == SECRETS_REF or value.startswith(ENV_PREFIX))


def _secret_key_error(where: str, path: Path | None) -> SecretInConfigError:
    return SecretInConfigError(
        f"{where}: credentials are never stored in config.toml; reference them from the account's "
        f'credentials table ("env:NAME" or "{SECRETS_REF}") and keep the value in an environment '
        f"variable or {SECRETS_FILE}",
        path=path,
    )


def _guard_keys(value: Any, where: str, path: Path | None) -> None:
    """No secret- or credential-named key anywhere in `value`."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            here = f"{where}.{key}"
            if is_secret_field(str(key)) or _is_credential_name(key):
                raise _secret_key_error(here, path)
            _guard_keys(inner, here, path)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _guard_keys(inner, f"{where}[{index}]", path)


def _guard_ledger(table: Mapping[str, Any], path: Path | None) -> None:
    """[ledger]: `password` only as a reference, and no password inside the URL."""
    from providers.ledger_store import url_problem

    ref = table.get("password")
    if ref not in (None, "") and not _is_reference(ref):  # "" (or none): libpq finds it
        raise SecretInConfigError(
            'ledger.password: config.toml holds only where the password is ("env:NAME" or '
            f'"{SECRETS_REF}"), never the password; put it in {SECRETS_FILE} ([ledger] password = "...") '
            "or an environment variable",
            path=path,
        )
    url = table.get("url")
    if isinstance(url, str) and "holds a password" in (url_problem(url) or ""):
        raise SecretInConfigError(f"ledger.url: {url_problem(url)}", path=path)
    for key, inner in table.items():
        if key not in ("password", "url"):
            if is_secret_field(str(key)) or _is_credential_name(key):
                raise _secret_key_error(f"ledger.{key}", path)
            _guard_keys(inner, f"ledger.{key}", path)


def _guard_no_secrets(document: Mapping[str, Any], *, path: Path | None = None) -> None:
    """Raise SecretInConfigError when a credential value is (about to be) in config.toml.

    Secret- or credential-named keys are allowed only inside an account's `credentials` table,
    and there only as references ("env:NAME" or "secrets-file"). Profile names and account
    labels are names, not fields, and are not judged by how they look.
    """
    for key, value in document.items():
        if key == "keymap" and isinstance(value, Mapping):
            # Its keys are binding ids ("resource.action.token" is a key, not a token) and its
            # values key names, each checked against the real bindings by tui/keymap.py.
            continue
        if key == LEDGER_TABLE and isinstance(value, Mapping):
            _guard_ledger(value, path)
            continue
        if key != "profiles":
            if is_secret_field(str(key)) or _is_credential_name(key):
                raise _secret_key_error(key, path)
            _guard_keys(value, key, path)
            continue
        if not isinstance(value, Mapping):
            continue
        for name, body in value.items():
            if not isinstance(body, Mapping):
                continue
            for pkey, pvalue in body.items():
                where = f"profiles.{name}.{pkey}"
                if pkey != "accounts":
                    if is_secret_field(str(pkey)) or _is_credential_name(pkey):
                        raise _secret_key_error(where, path)
                    _guard_keys(pvalue, where, path)
                    continue
                for index, account in enumerate(pvalue if isinstance(pvalue, list) else []):
                    if not isinstance(account, Mapping):
                        continue
                    for akey, avalue in account.items():
                        here = f"{where}[{index}].{akey}"
                        if akey == "credentials" and isinstance(avalue, Mapping):
                            for field_name, ref in avalue.items():
                                if not _is_reference(ref):
                                    raise SecretInConfigError(
                                        f"{here}.{field_name}: config.toml holds only where a credential is "
                                        f'("env:NAME" or "{SECRETS_REF}"), never its value; put the value in '
                                        f"{SECRETS_FILE} or an environment variable",
                                        path=path,
                                    )
                            continue
                        if is_secret_field(str(akey)) or _is_credential_name(akey):
                            raise _secret_key_error(here, path)
                        _guard_keys(avalue, here, path)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Validate `config` and write it atomically; return the path written.

    Raises ConfigValidationError (field -> message) for an invalid config and
    SecretInConfigError if anything in it looks like a credential value.
    """
    path = path or config_path()
    problems = validate_config(config)
    if problems:
        raise ConfigValidationError(problems, path=path)
    document = config_to_document(config)
    _guard_no_secrets(document, path=path)
    import tomli_w  # only a write needs it

    paths.atomic_write(path, tomli_w.dumps(document).encode("utf-8"), mode=0o600)
    return path


def save_theme(theme: str, path: Path | None = None) -> Config:
    """Set `[ui] theme` in the file as it is now on disk (everything else kept) and return the
    config written. ConfigError when the file cannot be read or written back as it is."""
    config = load_config(path)
    if config.theme == theme:
        return config
    config.ui["theme"] = theme
    save_config(config, path)
    return config


# ---- secrets ----------------------------------------------------------------------------------

Secrets = dict[str, dict[str, dict[str, str]]]  # profile -> account label -> field -> value


def _check_private(path: Path, st: os.stat_result) -> None:
    if os.name != "posix":
        return
    if st.st_mode & 0o077:
        raise SecretsPermissionError(
            f"other users can read or write it (mode {stat.S_IMODE(st.st_mode):04o}), so it is not used; "
            f"fix it with: chmod 600 {path}",
            path=path,
        )
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise SecretsPermissionError(
            f"it belongs to another user (uid {st.st_uid}), so it is not used; fix it with: "
            f"chown {os.getuid()} {path} && chmod 600 {path}",
            path=path,
        )


def load_secrets(path: Path | None = None) -> Secrets:
    """The secrets file as profile -> account -> field -> value; {} when there is none.

    Refuses (SecretsPermissionError) a file group or others can read or write, and one owned by
    someone else; ConfigError for a file that is not valid TOML or has the wrong shape (the
    message never quotes its content).
    """
    path = path or secrets_path()
    try:
        # Not through a symlink: the file itself must be ours and private.
        data = read_small_file(path, follow_symlinks=False, check=_check_private)
    except SecretsPermissionError:
        raise
    except ConfigError as error:
        raise ConfigError(f"the secrets file: {error.reason}", path=path) from None
    if data is None:
        return {}
    import tomllib

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        match = _DECODE_POSITION.search(str(exc))
        line = int(match.group(1)) if match else None
        raise ConfigError("the secrets file is not valid TOML", path=path, line=line) from None
    except RecursionError:
        raise ConfigError(f"the secrets file: {_TOO_DEEP}", path=path) from None
    secrets: Secrets = {}
    for profile, accounts in document.items():
        if not isinstance(accounts, dict):
            raise ConfigError(f"{profile}: expected a table of accounts ([{profile}.<account>])", path=path)
        for label, fields in accounts.items():
            if profile == LEDGER_TABLE and isinstance(fields, str):
                # [ledger] password = "...": the shared ledger's, kept as the account "" of a
                # profile "ledger" (no account has an empty label), so a rewrite keeps it.
                secrets.setdefault(profile, {}).setdefault(LEDGER_SECRETS, {})[label] = fields
                continue
            if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
                raise ConfigError(f'{profile}.{label}: expected field = "value" strings', path=path)
            secrets.setdefault(profile, {})[label] = dict(fields)
    return secrets


def _write_secrets(secrets: Secrets, path: Path) -> None:
    document: dict[str, dict[str, Any]] = {
        p: {a: dict(f) for a, f in accounts.items() if f and a != LEDGER_SECRETS} for p, accounts in secrets.items()
    }
    ledger = secrets.get(LEDGER_TABLE, {}).get(LEDGER_SECRETS, {})
    if ledger:
        document[LEDGER_TABLE] = {**ledger, **document.get(LEDGER_TABLE, {})}
    document = {p: accounts for p, accounts in document.items() if accounts}
    import tomli_w  # only a write needs it

    paths.atomic_write(path, tomli_w.dumps(document).encode("utf-8"), mode=0o600)


def save_secret(profile: str, account_label: str, field: str, value: str, *, path: Path | None = None) -> Path:
    """Store one credential in the secrets file (created 0600, rewritten atomically); return its path.

    Refuses to touch an existing file that others can read (its content may already have leaked:
    fix the mode first, and consider rotating the credential).
    """
    if not value:
        raise ValueError("an empty credential is not stored; use delete_secret to remove one")
    path = path or secrets_path()
    secrets = load_secrets(path)
    secrets.setdefault(profile, {}).setdefault(account_label, {})[field] = value
    _write_secrets(secrets, path)
    return path


def delete_secrets(
    profile: str, account_label: str | None = None, field: str | None = None, *, path: Path | None = None
) -> bool:
    """Remove one credential, one account's, or a whole profile's; True if anything was removed."""
    path = path or secrets_path()
    secrets = load_secrets(path)
    accounts = secrets.get(profile)
    if not accounts:
        return False
    if account_label is None:
        del secrets[profile]
    elif field is None:
        if accounts.pop(account_label, None) is None:
            return False
    else:
        if accounts.get(account_label, {}).pop(field, None) is None:
            return False
    _write_secrets(secrets, path)
    return True


def credentials_for(
    profile: Profile,
    account: AccountConfig,
    *,
    environ: Mapping[str, str] | None = None,
    secrets: Secrets | None = None,
) -> dict[str, str]:
    """Field -> value for every credential of `account` the config refers to.

    Raises MissingCredentialError naming the unset environment variable, or the secrets-file
    entry that is absent, or the required field the config does not refer to at all. The
    sandbox profile needs none ({}). `secrets` defaults to `load_secrets()` (read only when some
    field lives there).
    """
    if profile.builtin:
        return {}
    spec = KINDS.get(account.kind)
    if spec is None:
        raise ConfigError(f"profile {profile.name!r} account {account.label!r}: unknown kind {account.kind!r}")
    env = os.environ if environ is None else environ
    who = f"profile {profile.name!r} account {account.label!r}"
    values: dict[str, str] = {}
    for name in spec.credential_fields:
        ref = account.credentials.get(name)
        if ref is None:
            if name in spec.credentials:
                raise MissingCredentialError(
                    f'{who}: no {name} configured; add credentials.{name} = "env:VARIABLE" or "{SECRETS_REF}"'
                )
            continue
        if ref.startswith(ENV_PREFIX):
            variable = ref[len(ENV_PREFIX) :]
            value = env.get(variable, "").strip()
            if not value:
                raise MissingCredentialError(f"{who}: environment variable {variable} ({name}) is not set")
            values[name] = value
        elif ref == SECRETS_REF:
            if secrets is None:
                secrets = load_secrets()
            value = secrets.get(profile.name, {}).get(account.label, {}).get(name, "")
            if not value:
                raise MissingCredentialError(
                    f"{who}: {name} is not in the secrets file {secrets_path()} "
                    f"(expected [{profile.name}.{account.label}] {name} = ...)"
                )
            values[name] = value
        else:
            raise MissingCredentialError(f"{who}: credentials.{name}: {validate_credential_ref(ref)}")
    return values


def ledger_password(
    ledger: LedgerConfig, *, environ: Mapping[str, str] | None = None, secrets: Secrets | None = None
) -> str:
    """The shared ledger's password from where `[ledger] password` says ("" when it says
    nothing: libpq's own ~/.pgpass, PGPASSWORD or certificate). MissingCredentialError when it
    is not there."""
    ref = ledger.password
    if not ref:
        return ""
    if ref.startswith(ENV_PREFIX):
        variable = ref[len(ENV_PREFIX) :]
        value = (os.environ if environ is None else environ).get(variable, "").strip()
        if not value:
            raise MissingCredentialError(f"[ledger]: environment variable {variable} (password) is not set")
        return value
    if ref == SECRETS_REF:
        stored = (load_secrets() if secrets is None else secrets).get(LEDGER_TABLE, {}).get(LEDGER_SECRETS, {})
        password = stored.get("password", "")
        if not password:
            raise MissingCredentialError(
                f'[ledger]: password is not in the secrets file {secrets_path()} (expected [ledger] password = "...")'
            )
        return password
    raise MissingCredentialError(f"[ledger] password: {validate_credential_ref(ref)}")


# ---- choosing the profile ---------------------------------------------------------------------


def resolve_profile(
    name: str | None = None,
    *,
    config: Config | None = None,
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """The profile to use: `name` (from --profile), else $TELEDECK_PROFILE, else the config's
    default_profile, else the environment's accounts (`environment_profile`: TELNYX_API_KEY),
    else the sandbox. ConfigError listing the known names when a named one does not exist."""
    env = os.environ if environ is None else environ
    if config is None:
        config = load_config()
    wanted = (name or "").strip() or env.get(PROFILE_ENV, "").strip() or (config.default_profile or "")
    if not wanted:  # nothing chosen: what the environment configures, else the sandbox
        return environment_profile(env) or config.get(SANDBOX) or sandbox_profile()
    profile = config.get(wanted)
    if profile is None:
        source = (
            "--profile"
            if (name or "").strip()
            else PROFILE_ENV
            if env.get(PROFILE_ENV, "").strip()
            else "default_profile"
        )
        raise ConfigError(
            f"no profile named {wanted!r} ({source}); known profiles: {', '.join(config.names())}", path=config_path()
        )
    return profile
