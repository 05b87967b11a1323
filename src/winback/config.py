"""Settings: one catalogue of every setting, read once at the entry point and passed down.

Each setting is declared here once, with its name, type, default, environment variable and help (zh and en).
`Settings.load()` is the only place in winback that reads a `WINBACK_*` environment variable; services receive
the `Settings` object (through the app object) and never look at the environment themselves.
`docs/settings.md` lists every setting; `tests/test_docs.py` fails when one is missing there.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from winback.errors import ConfigError
from winback.i18n import _, get_lang


def _help(s: Setting) -> str:
    """A setting's help in the current language (the catalogue keeps both as data)."""
    return s.help_zh if get_lang() == "zh" else s.help_en


@dataclass(frozen=True)
class Setting:
    """One entry of the catalogue: `name` is the `Settings` field, `env` the environment variable."""

    name: str
    type: type
    default: Any
    env: str
    help_zh: str
    help_en: str
    choices: tuple[str, ...] = ()

    def help(self, lang: str = "zh") -> str:
        return self.help_zh if lang == "zh" else self.help_en


CATALOGUE: tuple[Setting, ...] = (
    Setting("db_path", Path, Path("winback.duckdb"), "WINBACK_DB",
            "数据仓库文件(DuckDB)。命令行 --db 优先。",
            "The warehouse file (DuckDB). --db on the command line wins."),
    Setting("lang", str, "zh", "WINBACK_LANG",
            "界面语言:zh(默认)或 en。命令行 --lang 优先。",
            "Language of everything winback prints: zh (default) or en. --lang wins.", ("zh", "en")),
    Setting("tz", str, "Asia/Shanghai", "WINBACK_TZ",
            "品牌所在时区(IANA 名称);活动发布、发券、核销都按此时区的本地时间记录。",
            "The brand's time zone (IANA name); launch, coupon issue and redemption are stamped in its local time."),
    Setting("engine", str, "duckdb", "WINBACK_ENGINE",
            "快照计算引擎:duckdb(默认,嵌入式)或 spark。命令行 --engine 优先。",
            "Engine that runs the refresh's SQL: duckdb (default, embedded) or spark. --engine wins.",
            ("duckdb", "spark")),
    Setting("scenarios", Path, None, "WINBACK_SCENARIOS",
            "场景剧本文件(TOML);不设则用内置的 rules/scenarios.toml。",
            "The scenario playbook file (TOML); unset: the shipped rules/scenarios.toml."),
    Setting("import_memory", str, "2GB", "WINBACK_IMPORT_MEMORY",
            "导入时 DuckDB 的内存上限(如 4GB);仓库连接已有更低上限时保留更低者。",
            "DuckDB's memory limit while importing (e.g. 4GB); a lower limit already set is kept."),
    Setting("spark_master", str, "local[2]", "WINBACK_SPARK_MASTER",
            "Spark master(local[N] 或集群地址)。",
            "The Spark master (local[N] or a cluster URL)."),
    Setting("spark_driver_memory", str, "4g", "WINBACK_SPARK_DRIVER_MEMORY",
            "Spark driver 内存。",
            "Spark driver memory."),
    Setting("spark_orders_parquet", str, None, "WINBACK_SPARK_ORDERS_PARQUET",
            "Spark 从此 Parquet 路径/通配读取订单(数据湖),不从仓库导出。命令行 --orders-parquet 优先。",
            "Spark reads orders from this Parquet path/glob (your data lake) instead of the warehouse."),
    Setting("spark_members_parquet", str, None, "WINBACK_SPARK_MEMBERS_PARQUET",
            "Spark 从此 Parquet 路径/通配读取会员。命令行 --members-parquet 优先。",
            "Spark reads members from this Parquet path/glob instead of the warehouse."),
    Setting("spark_tmp", str, None, "WINBACK_SPARK_TMP",
            "Spark 临时目录(仓库导出与 spill);不设则用系统临时目录。",
            "Spark's scratch directory (warehouse export and spills); unset: the system temp directory."),
    Setting("refit_change", float, 0.05, "WINBACK_REFIT_CHANGE",
            "刷新时沿用上次模型拟合,直到拟合已满一周,或此后事实数据有变化的会员超过此比例(默认 5%)才重新拟合。",
            "A refresh reuses the last model fit until it is a week old or the members whose facts changed since "
            "exceed this share (default 5 %); then it refits."),
    Setting("lock_wait", float, 10.0, "WINBACK_LOCK_WAIT",
            "仓库文件被其他进程占用时最多等待的秒数(之后报错并说明谁占用)。",
            "Seconds to wait for the warehouse file while another process holds it (then an error says who)."),
    Setting("now", str, None, "WINBACK_NOW",
            "品牌的“现在”(YYYY-MM-DD 或 YYYY-MM-DD HH:MM,品牌时区本地时间;只给日期即当天 00:00);"
            "不设则用系统时钟。用于演示、回放与测试。",
            "The brand's 'now' (YYYY-MM-DD or YYYY-MM-DD HH:MM, local time in tz; a date alone is its 00:00); "
            "unset: the system clock. For demos, replays and tests."),
    Setting("channels", Path, None, "WINBACK_CHANNELS",
            "触达渠道配置文件(TOML:短信网关、企业微信、邮件、Webhook 的地址、密钥、签名、配额)。"
            "命令行 --channels 优先。",
            "The channels file (TOML: SMS gateway, WeCom, e-mail, webhook URLs, keys, signatures, quotas). "
            "--channels wins."),
    Setting("quiet_hours", str, "21:00-09:00", "WINBACK_QUIET_HOURS",
            "免打扰时段(品牌时区),此时段内不发短信、不打电话。",
            "Quiet hours in the brand's time zone: no SMS and no calls inside them."),
    Setting("web_host", str, "127.0.0.1", "WINBACK_WEB_HOST",
            "网页控制台监听地址。",
            "The address the web console listens on."),
    Setting("web_port", int, 8000, "WINBACK_WEB_PORT",
            "网页控制台端口。",
            "The web console's port."),
    Setting("web_secret", str, None, "WINBACK_WEB_SECRET",
            "网页会话签名密钥;不设则每次启动随机生成(重启后需重新登录)。从不打印。",
            "The key that signs web sessions; unset: a random one per start (log in again after a restart). "
            "Never printed."),
)  # fmt: skip

BY_NAME: dict[str, Setting] = {s.name: s for s in CATALOGUE}
BY_ENV: dict[str, Setting] = {s.env: s for s in CATALOGUE}
#: settings never printed or logged
SECRETS = frozenset({"web_secret"})


@dataclass(frozen=True)
class Settings:
    """Every setting's value for one run. Build it with `Settings.load(...)` at the entry point."""

    db_path: Path = BY_NAME["db_path"].default
    lang: str = BY_NAME["lang"].default
    tz: str = BY_NAME["tz"].default
    engine: str = BY_NAME["engine"].default
    scenarios: Path | None = BY_NAME["scenarios"].default
    import_memory: str = BY_NAME["import_memory"].default
    spark_master: str = BY_NAME["spark_master"].default
    spark_driver_memory: str = BY_NAME["spark_driver_memory"].default
    spark_orders_parquet: str | None = None
    spark_members_parquet: str | None = None
    spark_tmp: str | None = None
    refit_change: float = BY_NAME["refit_change"].default
    lock_wait: float = BY_NAME["lock_wait"].default
    now: str | None = None
    channels: Path | None = None
    quiet_hours: str = BY_NAME["quiet_hours"].default
    web_host: str = BY_NAME["web_host"].default
    web_port: int = BY_NAME["web_port"].default
    web_secret: str | None = None

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `WINBACK_*` variables from `environ` (default: the process environment), then the
        non-empty `overrides` (command-line options). Values are checked; a bad one is a ConfigError."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for s in CATALOGUE:
            raw = overrides.get(s.name)
            origin = "option"
            if raw is None or raw == "":
                raw, origin = env.get(s.env), s.env
            if raw is None or raw == "":
                continue
            values[s.name] = _coerce(s, raw, origin)
        unknown = set(overrides) - set(BY_NAME)
        if unknown:
            raise ValueError(f"not settings: {sorted(unknown)}")
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some values changed (checked like loaded ones)."""
        checked = {k: _coerce(BY_NAME[k], v, "option") if v is not None else None for k, v in changes.items()}
        return replace(self, **checked)

    def to_dict(self) -> dict[str, Any]:
        """Every value (secrets shown as "***")."""
        out = {f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v) for f in fields(self)}
        return {k: ("***" if k in SECRETS and v else v) for k, v in out.items()}

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"


def _coerce(s: Setting, raw: Any, origin: str) -> Any:
    if s.type is Path:
        return Path(raw)
    if s.type in (int, float):
        try:
            number = s.type(str(raw).strip())
        except ValueError:
            kind = _("a whole number") if s.type is int else _("a number")
            raise ConfigError(
                _("{origin}={raw!r}: {name} must be {kind}", origin=origin, raw=raw, name=s.name, kind=kind),
                hint=_help(s),
            ) from None
        if number < 0:
            raise ConfigError(
                _("{origin}={raw!r}: {name} cannot be negative", origin=origin, raw=raw, name=s.name),
                hint=_help(s),
            )
        return number
    value = str(raw).strip()
    if s.name == "lang":
        low = value.lower()
        value = "en" if low.startswith("en") else "zh" if low.startswith("zh") else value
    if s.name == "now":
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                _("{origin}={raw!r} is not a date or time", origin=origin, raw=raw),
                hint=_("Write it as 2026-11-21 or 2026-11-21 10:30."),
            ) from None
    if s.choices and value not in s.choices:
        raise ConfigError(
            _(
                "{origin}={raw!r}: {name} must be one of {choices}",
                origin=origin,
                raw=raw,
                name=s.name,
                choices=", ".join(s.choices),
            ),
            hint=_help(s),
        )
    return value
